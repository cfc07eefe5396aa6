"""Sweeps: the same workload at several concurrencies or request rates, one run each, and their Pareto front."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from nanokit.bench.feed import LiveFeed
from nanokit.bench.runner import BenchmarkConfig, BenchmarkRun, run_benchmark
from nanokit.bench.workloads import BenchRequest, Tokenizer
from nanokit.errors import ConfigError


def sweep_configs(config: BenchmarkConfig, *, concurrencies: Sequence[int] = (),
                  rates: Sequence[float] = ()) -> list[BenchmarkConfig]:
    """One config per concurrency (at an infinite rate) or per request rate; exactly one of the two."""
    if bool(concurrencies) == bool(rates):
        raise ConfigError("Sweep over either concurrencies or request rates, not both and not neither.")
    if concurrencies:
        return [replace(config, max_concurrency=c, label=f"c={c}") for c in concurrencies]
    return [replace(config, request_rate=r, label=f"rate={r:g}") for r in rates]


def run_sweep(config: BenchmarkConfig, *, concurrencies: Sequence[int] = (), rates: Sequence[float] = (),
              tokenizer: Tokenizer | None = None, requests: Sequence[BenchRequest] | None = None,
              feed_for: Callable[[BenchmarkConfig], LiveFeed | None] | None = None,
              on_run: Callable[[BenchmarkRun], None] | None = None) -> list[BenchmarkRun]:
    """Run each point in turn; `on_run` sees each run as it finishes (a chart adds its point there)."""
    runs = []
    for point in sweep_configs(config, concurrencies=concurrencies, rates=rates):
        run = run_benchmark(point, feed=feed_for(point) if feed_for else None, tokenizer=tokenizer,
                            requests=requests)
        runs.append(run)
        if on_run is not None:
            on_run(run)
    return runs


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of points not dominated when lower x (latency) and higher y (throughput) are both better."""
    front = []
    for i, (x, y) in enumerate(points):
        dominated = any((x2 <= x and y2 >= y) and (x2 < x or y2 > y) for j, (x2, y2) in enumerate(points) if j != i)
        if not dominated:
            front.append(i)
    return sorted(front, key=lambda i: points[i][0])
