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

One module per part, run by `main` here (`python -m nanokit.lab.gpu_check` runs __main__.py):

    report.py   Report (OUT/gpu_check.json), the machine's facts, how long a run should take
    serve.py    the spec, its server on dummy weights, the planner against vLLM's start-up log (`serve`)
    bench.py    the ABBA rounds of the two clients (`bench`)
    sweep.py    the load generator's sweep and its plot (`sweep`)
    probes.py   start-until-capacity probes of other KV dtypes and contexts (`probe`)
    merge.py    one result out of several calls (`--merge`)
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from nanokit import tiny
from nanokit.bench import write_json_atomic
from nanokit.lab.gpu_check.bench import MIN_ROUNDS, step_bench
from nanokit.lab.gpu_check.merge import MERGEABLE, merge_results, read_merge_source
from nanokit.lab.gpu_check.probes import probe, step_probe
from nanokit.lab.gpu_check.report import Report, engine_version, estimate_seconds, machine_facts
from nanokit.lab.gpu_check.serve import (
    CPU_KV_BYTES,
    GPU_ENV,
    SERVED_NAME,
    build_spec,
    make_server,
    plan_for,
    planner_entry,
    print_planner,
    step_serve,
)
from nanokit.lab.gpu_check.sweep import step_sweep, sweep_point, write_plot

# Every name the one-module gpu_check had, importable from here as before (its private helpers are now public in
# the module that holds them: _estimate is report.estimate_seconds, _print_planner serve.print_planner,
# _read_merge_source merge.read_merge_source).
__all__ = ["CPU_KV_BYTES", "GPU_ENV", "MERGEABLE", "MIN_ROUNDS", "SERVED_NAME", "Report", "build_spec",
           "engine_version", "estimate_seconds", "machine_facts", "main", "make_server", "merge_results",
           "parse_args", "plan_for", "planner_entry", "print_planner", "probe", "read_merge_source", "step_bench",
           "step_probe", "step_serve", "step_sweep", "sweep_point", "write_plot"]


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _probes(text: str) -> list[tuple[str, int]]:
    pairs = []
    for item in (part.strip() for part in text.split(",") if part.strip()):
        kv, _, context = item.partition(":")
        pairs.append((kv, int(context)))
    return pairs


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


def main(argv: list[str] | None = None) -> int:
    started = time.monotonic()
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.merge:
        report = Report(args.out, started, None)
        report.data = merge_results([read_merge_source(item) for item in args.merge])
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
