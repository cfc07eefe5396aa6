"""What the live dashboard costs the load: the same run with and without a LiveBenchmarkFigure attached.

    python -m nanokit.lab.overhead --base-url http://127.0.0.1:8000/v1 [--interval 0.5 --rounds 4]

Runs alternate (plain, dashboard, dashboard, plain, ...) on one prebuilt workload; the figure follows the
run's LiveFeed on its own thread at `--interval`, exactly as ThroughputDashboard does. Prints the median output
throughput of each and their ratio (target: the dashboard costs under 5%), and the client CPU per token.
Outside a notebook the widget has no front end to send to, so this counts the figure's own work (binning,
validation, serialisation), which is what competes with the load generator for the interpreter.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from contextlib import contextmanager
from dataclasses import replace

from nanokit.bench import (
    BenchmarkConfig,
    BenchmarkRun,
    LiveFeed,
    WorkloadSpec,
    build_requests,
    check_server,
    run_sweep,
    write_json_atomic,
)
from nanokit.plots import LiveBenchmarkFigure

TARGET = 0.05


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nanokit.lab.overhead", description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--model")
    parser.add_argument("--input-len", type=int, default=128)
    parser.add_argument("--output-len", type=int, default=128)
    parser.add_argument("--num-prompts", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--interval", type=float, default=0.5, help="Seconds between dashboard redraws.")
    parser.add_argument("--rounds", type=int, default=4, help="Pairs of runs (one plain, one with the dashboard).")
    parser.add_argument("--out", default="dashboard_overhead.json")
    args = parser.parse_args(argv)

    config = BenchmarkConfig(base_url=args.base_url, model=args.model, max_concurrency=args.concurrency,
                             num_warmups=1, scrape_interval=1.0,
                             workload=WorkloadSpec(num_prompts=args.num_prompts, input_len=args.input_len,
                                                   output_len=args.output_len))
    config = replace(config, model=asyncio.run(check_server(config.base_url, config.model)))
    requests = build_requests(config, config.model)
    figure = LiveBenchmarkFigure()
    # plain, dashboard, dashboard, plain, ...: ABBA cancels drift in a shared machine's load
    points = [replace(config, label="dashboard" if i % 4 in (1, 2) else "plain") for i in range(2 * args.rounds)]
    rows = []

    @contextmanager
    def watch(point: BenchmarkConfig):
        feed = LiveFeed()
        if point.label == "dashboard":
            figure.follow(feed, interval=args.interval)
        try:
            yield feed
        finally:
            figure.stop()

    def record(run: BenchmarkRun) -> None:
        attached = run.config.label == "dashboard"
        row = {"dashboard": attached, "output_throughput": run.metrics.output_throughput,
               "median_tpot_ms": run.metrics.tpot.median, "client_cpu_s": run.client_cpu_s,
               "cpu_us_per_token": 1e6 * run.client_cpu_s / max(run.metrics.total_output, 1),
               "redraws": figure.ticks if attached else 0, "failed": run.metrics.failed,
               "dashboard_cpu_s": figure.cpu_s if attached else 0.0, "duration_s": run.duration}
        rows.append(row)
        print(f"  {'dashboard' if attached else 'plain    '} out {row['output_throughput']:8.1f} tok/s  "
              f"med TPOT {row['median_tpot_ms']:6.2f} ms  client CPU {row['cpu_us_per_token']:6.1f} us/token  "
              f"redraws {row['redraws']} ({1000 * row['dashboard_cpu_s']:.0f} ms CPU)", flush=True)

    run_sweep(points, requests=requests, watch=watch, on_run=record)

    def median(attached: bool, key: str) -> float:
        return statistics.median(r[key] for r in rows if r["dashboard"] == attached)

    ratio = median(True, "output_throughput") / median(False, "output_throughput")
    summary = {"interval_s": args.interval, "plain_output_throughput": median(False, "output_throughput"),
               "dashboard_output_throughput": median(True, "output_throughput"), "throughput_ratio": ratio,
               "throughput_cost": 1 - ratio, "plain_cpu_us_per_token": median(False, "cpu_us_per_token"),
               "dashboard_cpu_us_per_token": median(True, "cpu_us_per_token"), "within_target": 1 - ratio <= TARGET}
    dashed = [r for r in rows if r["dashboard"]]
    summary["ms_cpu_per_redraw"] = 1000 * sum(r["dashboard_cpu_s"] for r in dashed) / max(sum(r["redraws"] for r in dashed), 1)
    summary["dashboard_core_share"] = sum(r["dashboard_cpu_s"] for r in dashed) / sum(r["duration_s"] for r in dashed)
    print(f"\nmedian out tok/s: plain {summary['plain_output_throughput']:.1f}, with dashboard "
          f"{summary['dashboard_output_throughput']:.1f} -> cost {100 * (1 - ratio):+.1f}% "
          f"({'within' if summary['within_target'] else 'OUTSIDE'} the 5% target); client CPU/token "
          f"{summary['plain_cpu_us_per_token']:.0f} -> {summary['dashboard_cpu_us_per_token']:.0f} us; "
          f"redraws cost {summary['ms_cpu_per_redraw']:.1f} ms CPU each, "
          f"{100 * summary['dashboard_core_share']:.1f}% of one core over the runs")
    write_json_atomic({"runs": rows, "summary": summary}, args.out)
    return 0 if summary["within_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
