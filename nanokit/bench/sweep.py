"""Sweeps: the same workload at several concurrencies or request rates, one run each, and their Pareto front.

`run_sweep` is the one loop over benchmark runs: `nanokit bench` (one run or `--sweep`), ThroughputDashboard's
Run and Sweep buttons and the scripts in nanokit.lab all go through it, each watching the runs its own way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace

from nanokit.bench.feed import LiveFeed
from nanokit.bench.runner import BenchmarkConfig, BenchmarkRun, run_benchmark
from nanokit.bench.workloads import BenchRequest, Tokenizer
from nanokit.errors import ConfigError

Watch = Callable[[BenchmarkConfig], AbstractContextManager[LiveFeed | None]]


def sweep_configs(config: BenchmarkConfig, *, concurrencies: Sequence[int] = (),
                  rates: Sequence[float] = ()) -> list[BenchmarkConfig]:
    """One config per concurrency (at an infinite rate) or per request rate; exactly one of the two."""
    if bool(concurrencies) == bool(rates):
        raise ConfigError("Sweep over either concurrencies or request rates, not both and not neither.")
    if concurrencies:
        return [replace(config, max_concurrency=c, label=f"c={c}") for c in concurrencies]
    return [replace(config, request_rate=r, label=f"rate={r:g}") for r in rates]


def run_sweep(points: Iterable[BenchmarkConfig], *, requests: Sequence[BenchRequest] | None = None,
              tokenizer: Tokenizer | None = None, watch: Watch | None = None,
              on_run: Callable[[BenchmarkRun], None] | None = None) -> list[BenchmarkRun]:
    """Run each point in turn and return the runs, in order.

    points    configs, usually `sweep_configs(base, concurrencies=[1, 4, 16])` or a single config in a list.
              They are read one at a time, so a generator may decide the next point from the runs so far
              (the GPU check skips points that would not finish before its deadline).
    requests  prompts built once (`build_requests`) and shared: each point sends the first
              `workload.num_prompts` of them. None: each point builds its own from its workload.
    watch     watch(point) is a context manager around that point's run, yielding the LiveFeed the run fills
              (or None); a view starts following the feed on entry and stops on exit, also when the run fails.
    on_run    called with each run as it finishes: a chart adds its point, a script saves its file.
    """
    runs = []
    for point in points:
        shared = None
        if requests is not None:
            wanted = point.workload.num_prompts
            if len(requests) < wanted:
                raise ConfigError(f"The shared requests hold {len(requests)} prompts but {point.label or 'a point'} "
                                  f"sends {wanted}; build them for the largest point.")
            shared = requests[:wanted]
        with (watch(point) if watch is not None else nullcontext()) as feed:
            run = run_benchmark(point, feed=feed, tokenizer=tokenizer, requests=shared)
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
