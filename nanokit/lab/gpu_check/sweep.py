"""The GPU check's `sweep` step: nanokit's load generator over --sweep concurrencies on the same server, each point
kept in the result as it lands and drawn into OUT/sweep.svg."""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from nanokit import VLLMServer
from nanokit.bench import (
    BenchmarkConfig,
    BenchmarkRun,
    WorkloadSpec,
    build_requests,
    run_sweep,
    sweep_configs,
)
from nanokit.lab.gpu_check.report import Report, estimate_seconds
from nanokit.lab.sweep_svg import sweep_svg

__all__ = ["step_sweep", "sweep_point", "write_plot"]


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
            need = estimate_seconds(report, concurrency, prompts, args) + 5
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
