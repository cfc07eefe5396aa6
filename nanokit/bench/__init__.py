"""Throughput benchmarks that measure what `vllm bench serve` measures, and draw it while it runs.

    workloads.py    WorkloadSpec: random prompts of exact token length, the built-in chat set, JSONL
    arrival.py      arrival_offsets: Poisson/gamma schedules or all at once
    client.py       send_request: one streamed request -> RequestRecord (never raises)
    records.py      RequestRecord
    metrics.py      calculate_metrics(records, duration): pure, vLLM's definitions
    feed.py         LiveFeed: counters and queues that live views poll
    server_view.py  vLLM's Prometheus gauges and GPU utilisation/memory
    runner.py       BenchmarkConfig, build_requests, run_benchmark / arun_benchmark -> BenchmarkRun
    sweep.py        run_sweep (the one loop over runs), sweep_configs, pareto_front
    results.py      JSON results (vLLM field names), atomic writes, comparison table

This package is a library: it imports nothing above it (no plots, widgets, cli or lab). The checks that hold it
against vLLM's own client (`python -m nanokit.lab.validate`, `nanokit.lab.gpu_check`, ...) live in nanokit.lab.
"""

from nanokit.bench.client import AiohttpStreams, RequestOptions, send_request
from nanokit.bench.feed import LiveFeed
from nanokit.bench.metrics import SLO, BenchmarkMetrics, LatencyStats, calculate_metrics, timeline
from nanokit.bench.records import RequestRecord, failed_record
from nanokit.bench.replicas import format_replica_load, replica_load
from nanokit.bench.results import (
    comparison_rows,
    comparison_table,
    format_report,
    load_result,
    run_to_dict,
    save_run,
    write_json_atomic,
)
from nanokit.bench.runner import (
    BenchmarkConfig,
    BenchmarkRun,
    arun_benchmark,
    build_requests,
    check_server,
    run_benchmark,
)
from nanokit.bench.sweep import pareto_front, run_sweep, sweep_configs
from nanokit.bench.workloads import BenchRequest, ServerTokenizer, WorkloadSpec

__all__ = [
    "SLO",
    "AiohttpStreams",
    "BenchRequest",
    "BenchmarkConfig",
    "BenchmarkMetrics",
    "BenchmarkRun",
    "LatencyStats",
    "LiveFeed",
    "RequestOptions",
    "RequestRecord",
    "ServerTokenizer",
    "WorkloadSpec",
    "arun_benchmark",
    "build_requests",
    "calculate_metrics",
    "check_server",
    "comparison_rows",
    "comparison_table",
    "failed_record",
    "format_replica_load",
    "format_report",
    "load_result",
    "pareto_front",
    "replica_load",
    "run_benchmark",
    "run_sweep",
    "run_to_dict",
    "save_run",
    "send_request",
    "sweep_configs",
    "timeline",
    "write_json_atomic",
]
