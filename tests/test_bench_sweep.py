"""run_sweep, the one loop over benchmark runs, against a local aiohttp fake OpenAI server (no vLLM)."""

from __future__ import annotations

import asyncio
import json
import threading
from contextlib import contextmanager
from dataclasses import replace

import pytest

aiohttp_web = pytest.importorskip("aiohttp.web")

from nanokit.bench import BenchmarkConfig, BenchRequest, LiveFeed, WorkloadSpec, run_sweep, sweep_configs
from nanokit.errors import ConfigError


class FakeServer:
    """/v1/models and streamed /v1/completions on a loopback port, in its own thread; remembers each prompt."""

    def __init__(self) -> None:
        self.prompts: list[str] = []
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait(10)
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        app = aiohttp_web.Application()
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/completions", self._completions)
        self.runner = aiohttp_web.AppRunner(app)
        self.loop.run_until_complete(self.runner.setup())
        site = aiohttp_web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    async def _models(self, request):
        return aiohttp_web.json_response({"data": [{"id": "fake"}]})

    async def _completions(self, request):
        body = await request.json()
        self.prompts.append(body["prompt"])
        response = aiohttp_web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for i in range(body["max_tokens"]):
            await response.write(b"data: " + json.dumps({"choices": [{"text": f"t{i}"}]}).encode() + b"\n\n")
        usage = {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": body["max_tokens"]}}
        await response.write(b"data: " + json.dumps(usage).encode() + b"\n\ndata: [DONE]\n\n")
        return response

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture()
def fake():
    server = FakeServer()
    yield server
    server.close()


def base(fake, num_prompts=4) -> BenchmarkConfig:
    return BenchmarkConfig(base_url=fake.base_url, model="fake", scrape_interval=None,
                           workload=WorkloadSpec(num_prompts=num_prompts, output_len=3))


def prompts(n: int) -> list[BenchRequest]:
    return [BenchRequest(f"prompt {i}", 3, 3) for i in range(n)]


def test_each_point_runs_in_order_and_is_reported_as_it_finishes(fake):
    seen = []
    runs = run_sweep(sweep_configs(base(fake), concurrencies=[1, 2]), requests=prompts(4),
                     on_run=lambda run: seen.append(run.config.label))
    assert [r.config.max_concurrency for r in runs] == [1, 2] and seen == ["c=1", "c=2"]
    assert [r.metrics.completed for r in runs] == [4, 4] and all(r.metrics.total_output == 12 for r in runs)


def test_shared_requests_are_cut_to_each_points_prompt_count(fake):
    points = [replace(base(fake), workload=replace(base(fake).workload, num_prompts=n), label=f"n={n}")
              for n in (1, 3)]
    runs = run_sweep(points, requests=prompts(3))
    assert [len(r.records) for r in runs] == [1, 3]
    assert fake.prompts == ["prompt 0", "prompt 0", "prompt 1", "prompt 2"]


def test_too_few_shared_requests_is_one_sentence(fake):
    with pytest.raises(ConfigError, match="hold 2 prompts but c=1 sends 4; build them for the largest point"):
        run_sweep(sweep_configs(base(fake), concurrencies=[1]), requests=prompts(2))


def test_points_are_read_one_at_a_time(fake):
    """A generator decides the next point after the previous run, as the GPU check's deadline does."""
    done = []

    def due():
        for config in sweep_configs(base(fake), concurrencies=[1, 2, 4]):
            if len(done) < 2:
                yield config

    run_sweep(due(), requests=prompts(4), on_run=done.append)
    assert [r.config.max_concurrency for r in done] == [1, 2]


def test_watch_wraps_every_run_and_its_feed_is_filled_even_when_a_run_fails(fake):
    events = []

    @contextmanager
    def watch(point):
        feed = LiveFeed()
        events.append(("enter", point.label))
        try:
            yield feed
        finally:
            events.append(("exit", point.label, feed.snapshot().finished))

    good, bad = base(fake, num_prompts=2), replace(base(fake), model="missing", label="bad")
    with pytest.raises(ConfigError, match="does not serve 'missing'"):
        run_sweep([replace(good, label="good"), bad], watch=watch, requests=prompts(4))
    assert events == [("enter", "good"), ("exit", "good", 2), ("enter", "bad"), ("exit", "bad", 0)]
