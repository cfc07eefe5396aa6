"""Throughput benchmarks that measure what `vllm bench serve` measures, and draw it while it runs.

    workloads.py    WorkloadSpec: random prompts of exact token length, the built-in chat set, JSONL
    arrival.py      arrival_offsets: Poisson/gamma schedules or all at once
    client.py       send_request: one streamed request -> RequestRecord (never raises)
    records.py      RequestRecord
    metrics.py      calculate_metrics(records, duration): pure, vLLM's definitions
    feed.py         LiveFeed: counters and queues that live views poll
    server_view.py  vLLM's Prometheus gauges and GPU utilisation/memory
    runner.py       BenchmarkConfig, run_benchmark / arun_benchmark -> BenchmarkRun
    sweep.py        run_sweep over concurrencies or request rates, pareto_front
    results.py      JSON results (vLLM field names), atomic writes, comparison table
    validate.py     `python -m nanokit.bench.validate`: agreement with `vllm bench serve`
"""

from nanokit.bench.feed import LiveFeed
from nanokit.bench.metrics import SLO, BenchmarkMetrics, LatencyStats, calculate_metrics, timeline
from nanokit.bench.records import RequestRecord, failed_record
from nanokit.bench.results import comparison_table, format_report, load_result, run_to_dict, save_run
from nanokit.bench.runner import BenchmarkConfig, BenchmarkRun, arun_benchmark, check_server, run_benchmark
from nanokit.bench.sweep import pareto_front, run_sweep
from nanokit.bench.workloads import BenchRequest, ServerTokenizer, WorkloadSpec

__all__ = [
    "SLO",
    "BenchRequest",
    "BenchmarkConfig",
    "BenchmarkMetrics",
    "BenchmarkRun",
    "LatencyStats",
    "LiveFeed",
    "RequestRecord",
    "ServerTokenizer",
    "WorkloadSpec",
    "arun_benchmark",
    "calculate_metrics",
    "check_server",
    "comparison_table",
    "failed_record",
    "format_report",
    "load_result",
    "pareto_front",
    "run_benchmark",
    "run_sweep",
    "run_to_dict",
    "save_run",
    "timeline",
]
