"""Specs for the in-place figures: they change their FigureWidget's data, never rebuild it."""

from __future__ import annotations

import time

from nanokit.bench.feed import LiveFeed
from nanokit.bench.metrics import calculate_metrics
from nanokit.bench.records import RequestRecord
from nanokit.bench.runner import BenchmarkConfig, BenchmarkRun
from nanokit.bench.server_view import ServerSample
from nanokit.plots import (
    IN_FLIGHT,
    ITL_HIST,
    KV_CACHE,
    OUT_RATE,
    TTFA_HIST,
    TTFT_HIST,
    LiveBenchmarkFigure,
    ParetoFigure,
)


def make_run(concurrency=4, tpot=0.01, label=""):
    records = tuple(RequestRecord(success=True, start_time=100.0 + i, ttft=0.1, itl=(tpot,) * 9,
                                  latency=0.1 + 9 * tpot, prompt_tokens=32, output_tokens=10) for i in range(4))
    config = BenchmarkConfig(base_url="http://h/v1", max_concurrency=concurrency, label=label)
    return BenchmarkRun(config=config, model="tiny", records=records, duration=5.0,
                        metrics=calculate_metrics(records, 5.0), origin=100.0)


def record(start, **kw):
    return RequestRecord(success=True, start_time=start, ttft=0.05, itl=(0.01,) * 4, latency=0.09,
                         prompt_tokens=8, output_tokens=5, **kw)


def test_live_figure_updates_in_place_from_feed_snapshots():
    fig = LiveBenchmarkFigure()
    widget = fig.figure
    feed = LiveFeed()
    feed.begin(total=3)
    for _ in range(3):
        feed.sent()
    for _ in range(10):
        feed.chunk()
    feed.server_sample(ServerSample(time=time.perf_counter(), running=3, waiting=0, kv_cache_usage=0.4))
    fig.update(feed.snapshot())
    time.sleep(0.02)
    feed.chunk()
    feed.finish(record(time.perf_counter(), ttfa=0.05))
    fig.update(feed.snapshot())
    assert fig.figure is widget and fig.ticks == 2
    data = widget.data
    assert list(data[IN_FLIGHT].y) == [3, 2]
    assert data[OUT_RATE].y[-1] > 0
    assert sum(data[TTFT_HIST].y) == 1 and sum(data[ITL_HIST].y) == 4 and sum(data[TTFA_HIST].y) == 1
    assert list(data[KV_CACHE].y) == [40.0]


def test_follow_polls_on_its_own_thread_and_stops_when_the_run_ends():
    fig = LiveBenchmarkFigure()
    feed = LiveFeed()
    fig.follow(feed, interval=0.01)
    feed.begin(total=1)
    feed.sent()
    feed.chunk()
    time.sleep(0.05)
    feed.finish(record(time.perf_counter()))
    feed.end()
    deadline = time.time() + 2
    while fig._thread is not None and fig._thread.is_alive() and time.time() < deadline:
        time.sleep(0.01)
    assert not fig._thread.is_alive()
    assert fig.ticks >= 2 and sum(fig.figure.data[TTFT_HIST].y) == 1
    fig.stop()


def test_show_run_draws_the_exact_timeline():
    fig = LiveBenchmarkFigure()
    fig.show_run(make_run())
    assert sum(fig.figure.data[OUT_RATE].y) == 40  # 4 requests x 10 chunks
    assert max(fig.figure.data[IN_FLIGHT].y) >= 1


def test_pareto_figure_adds_one_point_per_run():
    fig = ParetoFigure()
    widget = fig.figure
    fig.add_run(make_run(1, tpot=0.005, label="c=1"))
    fig.add_run(make_run(4, tpot=0.02, label="c=4"))
    assert fig.figure is widget
    assert list(widget.data[0].text) == ["c=1", "c=4"] and len(widget.data[0].x) == 2
