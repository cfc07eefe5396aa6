"""`nanokit traces generate|stats|export|triton-problems`: verified reasoning traces from a served model."""

from __future__ import annotations

from pathlib import Path

import typer

from nanokit.cli._app import app, positive_ints
from nanokit.errors import ConfigError, NanokitError

traces_app = typer.Typer(help="Reasoning traces: generate attempts, verify them, export SFT data.",
                         no_args_is_help=True)
app.add_typer(traces_app, name="traces")


def _ks(text: str) -> list[int]:
    return positive_ints(text, "--k", "1,4")


@traces_app.command()
def generate(
    problems: Path = typer.Argument(..., help="Problem set, JSONL: id, prompt or messages, verifier."),
    out: Path = typer.Option(..., "--out", "-o", help="Results JSONL; attempts already in it are skipped."),
    base_url: str = typer.Option(None, help="OpenAI-compatible API root (/v1); default: serve the embedded model."),
    model: str = typer.Option(None, help="Served model name; default: the first the server lists."),
    api_key: str = typer.Option(None, envvar="NANOKIT_API_KEY", show_envvar=True, help="API key, if needed."),
    samples: int = typer.Option(4, "--samples", "-n", min=1, help="Attempts per problem."),
    concurrency: int = typer.Option(4, min=1, help="Most requests in flight at once."),
    max_tokens: int = typer.Option(8192, min=1, help="Cap on each attempt's tokens (reasoning and answer)."),
    reasoning: bool = typer.Option(True, "--reasoning/--no-reasoning", help="Thinking on (the default) or off."),
    reasoning_budget: int = typer.Option(None, min=1, help="Cap on reasoning tokens (the model card's two-call method)."),
    seed: int = typer.Option(None, min=0, help="Attempt i uses seed + i (same requests when resumed)."),
    no_verify: bool = typer.Option(False, "--no-verify", help="Record attempts without running verifiers."),
) -> None:
    """Run n attempts per problem; every finished attempt is appended to --out at once (resume by re-running).

    Example: nanokit traces generate --out results.jsonl --base-url http://127.0.0.1:8000 --samples 8 problems.jsonl
    """
    from nanokit.endpoint import attach
    from nanokit.traces import GenerationConfig, generate_traces, load_problems

    server = None
    try:
        config = GenerationConfig(samples=samples, concurrency=concurrency, max_tokens=max_tokens,
                                  thinking=reasoning, reasoning_budget=reasoning_budget, seed=seed,
                                  verify=not no_verify)
        problem_set = load_problems(problems)
        if base_url is None:
            from nanokit.server import VLLMServer

            typer.echo("[nanokit] no --base-url: starting the embedded model…", err=True)
            server = VLLMServer(model)
            server.start(timeout=600)
            target = server.endpoint
        else:
            target = attach(base_url, api_key, model)
        summary = generate_traces(target, problem_set, out, config)
        typer.echo(summary.describe())
    except NanokitError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        typer.echo(f"[nanokit] interrupted; finished attempts are in {out}; re-run to resume.", err=True)
        raise typer.Exit(130) from None
    finally:
        if server is not None:
            server.stop()


@traces_app.command()
def stats(
    results: Path = typer.Argument(..., help="Results JSONL from `nanokit traces generate`."),
    k: str = typer.Option("1", help="Comma-separated k for pass@k, e.g. 1,4."),
    plot: Path = typer.Option(None, help="Write the pass-rate-per-problem figure here (.html)."),
) -> None:
    """Per-problem pass rate, pass@k (unbiased estimator), tokens; optionally the figure as HTML.

    Example: nanokit traces stats --k 1,4 --plot pass_rate.html results.jsonl
    """
    from nanokit.traces import pass_rate_figure, problem_stats, read_attempts, stats_table

    try:
        per_problem = problem_stats(read_attempts(results))
        if not per_problem:
            raise ConfigError(f"{results} holds no attempts; run `nanokit traces generate` first.")
        typer.echo(stats_table(per_problem, _ks(k)))
        if plot is not None:
            pass_rate_figure(per_problem).write_html(plot, include_plotlyjs="cdn")
            typer.echo(f"[nanokit] figure written to {plot}", err=True)
    except NanokitError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


@traces_app.command()
def export(
    results: Path = typer.Argument(..., help="Results JSONL from `nanokit traces generate`."),
    out: Path = typer.Option(..., "--out", "-o", help="SFT JSONL to write (chat messages, reasoning kept)."),
    per_problem: int = typer.Option(None, min=1, help="Keep at most this many accepted attempts per problem."),
    max_pass_rate: float = typer.Option(None, min=0.0, max=1.0, help="Keep only problems whose attempts passed at "
                                        "most this share (0.99 drops those every attempt solved)."),
) -> None:
    """Write the verifier-accepted attempts as chat-format SFT data (reasoning_content in the assistant turn).

    Example: nanokit traces export --out sft.jsonl --per-problem 2 --max-pass-rate 0.99 results.jsonl
    """
    from nanokit.traces import export_sft

    count = export_sft(results, out, per_problem=per_problem, max_pass_rate=max_pass_rate)
    typer.echo(f"{count} accepted attempts written to {out}")


@traces_app.command("triton-problems")
def triton_problem_set(
    out: Path = typer.Option(..., "--out", "-o", help="Where to write the PyTorch -> Triton problem set (JSONL)."),
    cases: int = typer.Option(3, min=1, help="Generated inputs per problem."),
) -> None:
    """Write the built-in PyTorch -> Triton problems (verified with Triton's interpreter on CPU).

    Example: nanokit traces triton-problems --out triton.jsonl --cases 3
    """
    from nanokit.traces import save_problems, triton_problems

    problems = triton_problems(cases=cases)
    typer.echo(f"{len(problems)} problems written to {save_problems(problems, out)}")
