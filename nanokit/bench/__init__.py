"""Throughput benchmarks that measure what `vllm bench serve` measures, and draw it while it runs.

    records.py     RequestRecord: one request's outcome, never an exception
    metrics.py     calculate_metrics(records, duration): pure, vLLM's definitions
"""

from nanokit.bench.metrics import SLO, BenchmarkMetrics, LatencyStats, calculate_metrics, timeline
from nanokit.bench.records import RequestRecord, failed_record

__all__ = [
    "SLO",
    "BenchmarkMetrics",
    "LatencyStats",
    "RequestRecord",
    "calculate_metrics",
    "failed_record",
    "timeline",
]
