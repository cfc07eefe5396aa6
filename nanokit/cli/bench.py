"""`nanokit bench`: measure an OpenAI-compatible server the way `vllm bench serve` does, or sweep it."""

from __future__ import annotations

import math
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import typer

from nanokit.cli._app import app, fail, positive_ints
from nanokit.errors import ConfigError, NanokitError

# BenchmarkConfig's parameters whose option is named otherwise (the rest are the parameter with dashes)
BENCH_OPTIONS = {"max_concurrency": "--concurrency", "num_warmups": "--warmups", "request_timeout": "--timeout"}


def _int_list(text: str) -> list[int]:
    return positive_ints(text, "--sweep", "1,4,16")


def _float_list(text: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"--sweep-rates takes comma-separated request rates like 1,2.5,8, not {text!r}.") from None


def _progress(feed, stop: threading.Event) -> None:
    last, printed = (0.0, 0), False
    while not stop.wait(1.0):
        printed = True
        snap = feed.snapshot()
        rate = (snap.chunks_total - last[1]) / max(snap.elapsed - last[0], 1e-9)
        last = (snap.elapsed, snap.chunks_total)
        print(f"\r  {snap.finished}/{snap.total} done, {snap.in_flight} in flight, {rate:,.0f} chunks/s   ",
              end="", file=sys.stderr, flush=True)
    if printed:
        print(file=sys.stderr)


def _path_for(json_path: Path | None, label: str, sweeping: bool) -> Path | None:
    if json_path is None or not sweeping:
        return json_path
    tag = label.replace("=", "").replace(" ", "_")
    return json_path.with_name(f"{json_path.stem}-{tag}{json_path.suffix or '.json'}")


@app.command()
def bench(
    base_url: str = typer.Option(..., help="The server: its root (http://host:8000) or its API root (.../v1)."),
    model: str = typer.Option(None, help="Served model name; default: the first the server lists."),
    api_key: str = typer.Option(None, envvar="NANOKIT_API_KEY", show_envvar=True, help="API key, if the server wants one."),
    dataset: str = typer.Option("random", help="random (exact token lengths), chat (built-in set) or jsonl."),
    dataset_path: Path = typer.Option(None, help="JSONL file of {\"prompt\": ...} or {\"messages\": [...]} lines."),
    input_len: int = typer.Option(128, min=1, help="Prompt length in tokens (random dataset)."),
    output_len: int = typer.Option(128, min=1, help="Tokens to generate per request."),
    num_prompts: int = typer.Option(64, min=1, help="Requests per run."),
    concurrency: int = typer.Option(None, min=1, help="Most requests in flight at once; default: no limit."),
    request_rate: float = typer.Option(math.inf, min=0, help="Requests per second (Poisson); default: all at once."),
    burstiness: float = typer.Option(1.0, min=0, help="Gamma shape of arrival gaps: 1 Poisson, <1 burstier, >1 even."),
    sweep: str = typer.Option(None, help="Comma-separated concurrencies, one run each, e.g. 1,4,16."),
    sweep_rates: str = typer.Option(None, help="Comma-separated request rates, one run each, e.g. 1,2,4."),
    endpoint: str = typer.Option("completions", help="completions or chat."),
    reasoning: bool = typer.Option(None, "--reasoning/--no-reasoning", help="Chat only: thinking on or off."),
    ignore_eos: bool = typer.Option(True, "--ignore-eos/--no-ignore-eos", help="Always generate output-len tokens."),
    warmups: int = typer.Option(1, min=0, help="Unmeasured requests sent first."),
    slo_ttft_ms: float = typer.Option(None, min=0, help="Goodput: TTFT bound in ms."),
    slo_tpot_ms: float = typer.Option(None, min=0, help="Goodput: TPOT bound in ms."),
    slo_e2el_ms: float = typer.Option(None, min=0, help="Goodput: end-to-end bound in ms."),
    timeout: float = typer.Option(60.0, min=0, help="Seconds a request may see no data before it fails."),
    seed: int = typer.Option(0, min=0, help="Seed for prompts and arrival times."),
    no_metrics: bool = typer.Option(False, "--no-server-metrics", help="Do not scrape the server's /metrics."),
    json_path: Path = typer.Option(None, "--json", help="Write results here (one file per point when sweeping)."),
    label: str = typer.Option("", help="Name for this run in results and tables."),
) -> None:
    """Benchmark a server: throughput, TTFT, TPOT, ITL, E2E (vLLM's definitions), reasoning vs answer times.

    Example: nanokit bench --base-url http://127.0.0.1:8000 --num-prompts 32 --concurrency 4
    """
    from nanokit.bench import (
        SLO,
        BenchmarkConfig,
        BenchmarkRun,
        LiveFeed,
        WorkloadSpec,
        comparison_table,
        format_report,
        run_sweep,
        save_run,
        sweep_configs,
    )

    @contextmanager
    def progress(config: BenchmarkConfig):
        typer.echo(f"[nanokit] {config.label or 'run'}: {num_prompts} x {dataset} prompts -> {base_url}", err=True)
        feed, stop = LiveFeed(), threading.Event()
        ticker = threading.Thread(target=_progress, args=(feed, stop), daemon=True)
        ticker.start()
        try:
            yield feed
        finally:
            stop.set()
            ticker.join()

    def report(run: BenchmarkRun) -> None:
        typer.echo(format_report(run))
        path = _path_for(json_path, run.config.label, sweeping)
        if path is not None:
            typer.echo(f"[nanokit] results written to {save_run(run, path)}", err=True)

    try:
        if sweep and sweep_rates:
            raise ConfigError("Pass --sweep (concurrencies) or --sweep-rates, not both.")
        workload = WorkloadSpec(kind=dataset, num_prompts=num_prompts, input_len=input_len, output_len=output_len,
                                path=str(dataset_path) if dataset_path else None, seed=seed)
        base = BenchmarkConfig(
            base_url=base_url, model=model, api_key=api_key, workload=workload, endpoint=endpoint,
            request_rate=request_rate, burstiness=burstiness, max_concurrency=concurrency, num_warmups=warmups,
            ignore_eos=ignore_eos, reasoning=reasoning, request_timeout=timeout, seed=seed, label=label,
            slo=SLO(ttft_ms=slo_ttft_ms, tpot_ms=slo_tpot_ms, e2el_ms=slo_e2el_ms),
            scrape_interval=None if no_metrics else 1.0)
        sweeping = bool(sweep or sweep_rates)
        configs = (sweep_configs(base, concurrencies=_int_list(sweep) if sweep else (),
                                 rates=_float_list(sweep_rates) if sweep_rates else ()) if sweeping else [base])
        runs = run_sweep(configs, watch=progress, on_run=report)
        if sweeping:
            typer.echo(comparison_table(runs))
    except NanokitError as exc:
        fail(exc, options=BENCH_OPTIONS)
    except KeyboardInterrupt:
        typer.echo("[nanokit] interrupted.", err=True)
        raise typer.Exit(130) from None
