"""Specs for the load generator against a fake OpenAI server (httpx.MockTransport): records, faults, feed."""

from __future__ import annotations

import asyncio
import json
import math

import httpx
import pytest

from nanokit.bench.client import RequestOptions
from nanokit.bench.feed import LiveFeed
from nanokit.bench.runner import BenchmarkConfig, arun_benchmark, check_server
from nanokit.bench.workloads import BenchRequest, WorkloadSpec
from nanokit.errors import ConfigError, ServerError

BASE = "http://fake/v1"
METRICS = """# HELP vllm:num_requests_running x
vllm:num_requests_running{engine="0",model_name="m"} 3.0
vllm:num_requests_waiting{engine="0",model_name="m"} 1.0
vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.25
"""


def sse(obj) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


class FakeServer:
    """Streams `tokens` chunks per request with `gap` seconds between them; can die after `die_after` requests."""

    def __init__(self, tokens=5, gap=0.002, die_after=None, reasoning=0):
        self.tokens, self.gap, self.die_after, self.reasoning = tokens, gap, die_after, reasoning
        self.bodies: list[dict] = []
        self.active = self.peak = 0

    async def _stream(self, chat: bool, n: int):
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            for i in range(n):
                await asyncio.sleep(self.gap)
                if self.die_after is not None and len(self.bodies) > self.die_after and i == 2:
                    raise httpx.RemoteProtocolError("peer closed connection")
                if chat:
                    key = "reasoning" if i < self.reasoning else "content"
                    yield sse({"choices": [{"index": 0, "delta": {key: f"t{i}"}}]})
                else:
                    yield sse({"choices": [{"index": 0, "text": f"t{i}"}]})
            yield sse({"choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": n}})
            yield b"data: [DONE]\n\n"
        finally:
            self.active -= 1

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v1/models":
            return httpx.Response(200, json={"data": [{"id": "tiny"}]})
        if path == "/metrics":
            return httpx.Response(200, text=METRICS)
        body = json.loads(request.content)
        self.bodies.append(body)
        n = body.get("max_tokens") or body.get("max_completion_tokens")
        return httpx.Response(200, content=self._stream(path.endswith("chat/completions"), n))


def requests(n=6, out=5):
    return [BenchRequest(f"prompt {i}", 11, out) for i in range(n)]


def run(config, server, **kw):
    return asyncio.run(arun_benchmark(config, requests=kw.pop("reqs", requests()),
                                      transport=httpx.MockTransport(server), **kw))


def test_records_and_metrics_from_a_streaming_server():
    server = FakeServer(tokens=5)
    result = run(BenchmarkConfig(base_url=BASE, scrape_interval=0.01), server)
    m = result.metrics
    assert (m.completed, m.failed, m.total_output, m.total_input) == (6, 0, 30, 66)
    assert all(len(r.itl) == 4 and r.ttft > 0 and r.latency >= r.ttft for r in result.records)
    assert result.model == "tiny" and m.output_throughput > 0
    assert server.bodies[0]["ignore_eos"] is True and server.bodies[0]["max_tokens"] == 5
    assert server.bodies[0]["stream_options"] == {"include_usage": True}
    assert result.server_samples and result.server_samples[0].running == 3.0
    assert result.server_samples[0].kv_cache_usage == 0.25


def test_max_concurrency_bounds_requests_in_flight():
    server = FakeServer(tokens=4, gap=0.005)
    run(BenchmarkConfig(base_url=BASE, max_concurrency=2, scrape_interval=None), server, reqs=requests(8))
    assert server.peak == 2


def test_warmups_are_sent_but_not_recorded():
    server = FakeServer()
    result = run(BenchmarkConfig(base_url=BASE, num_warmups=3, scrape_interval=None), server)
    assert len(server.bodies) == 9 and len(result.records) == 6


def test_warmups_can_ask_for_fewer_tokens_than_the_measured_requests():
    server = FakeServer()
    run(BenchmarkConfig(base_url=BASE, num_warmups=2, warmup_output_len=1, scrape_interval=None), server)
    asked = [body["max_tokens"] for body in server.bodies]
    assert asked[:2] == [1, 1] and min(asked[2:]) > 1


def test_chat_separates_first_reasoning_and_first_answer():
    server = FakeServer(tokens=6, gap=0.003, reasoning=3)
    config = BenchmarkConfig(base_url=BASE, endpoint="chat", reasoning=True, scrape_interval=None)
    result = run(config, server)
    r = result.records[0]
    assert r.ttfr == pytest.approx(r.ttft) and r.ttfa > r.ttfr
    assert server.bodies[0]["chat_template_kwargs"] == {"enable_thinking": True}
    assert server.bodies[0]["messages"][0]["role"] == "user"
    assert result.metrics.ttfa.count == 6


def test_server_dying_mid_run_gives_failed_records_and_a_report():
    server = FakeServer(tokens=6, die_after=2)
    result = run(BenchmarkConfig(base_url=BASE, max_concurrency=1, scrape_interval=None), server)
    assert result.metrics.completed == 2 and result.metrics.failed == 4
    assert "RemoteProtocolError" in result.records[-1].error


def test_http_errors_become_records():
    async def handler(request):
        if request.url.path == "/v1/models":
            return httpx.Response(200, json={"data": [{"id": "tiny"}]})
        return httpx.Response(400, text="max_tokens is too large")
    result = run(BenchmarkConfig(base_url=BASE, scrape_interval=None), handler)
    assert result.metrics.failed == 6 and "HTTP 400" in result.records[0].error


def test_feed_sees_every_record_and_chunk():
    feed = LiveFeed()
    run(BenchmarkConfig(base_url=BASE, scrape_interval=None), FakeServer(tokens=5), feed=feed)
    snap = feed.snapshot()
    assert snap.done and snap.finished == 6 and snap.in_flight == 0 and snap.chunks_total == 30
    assert len(snap.new_records) == 6 and feed.snapshot().new_records == ()


def test_bad_model_fails_fast_with_the_served_names():
    transport = httpx.MockTransport(FakeServer())
    with pytest.raises(ConfigError, match="does not serve 'nope'; it serves tiny"):
        asyncio.run(check_server(BASE, "nope", transport=transport))


def test_unreachable_url_fails_fast_with_one_sentence():
    with pytest.raises(ServerError, match="Cannot reach http://127.0.0.1:9/v1"):
        asyncio.run(check_server("http://127.0.0.1:9/v1", timeout=2.0))


def test_config_rejects_impossible_combinations():
    with pytest.raises(ConfigError):
        BenchmarkConfig(base_url=BASE, max_concurrency=0)
    with pytest.raises(ConfigError, match="chat endpoint"):
        BenchmarkConfig(base_url=BASE, reasoning=False)
    with pytest.raises(ConfigError):
        BenchmarkConfig(base_url=BASE, request_rate=0)
    assert math.isinf(BenchmarkConfig(base_url=BASE).request_rate)


def test_completion_payload_matches_vllm_bench():
    body = RequestOptions(model="m").payload(BenchRequest("hi", 1, 7))
    assert body == {"model": "m", "stream": True, "stream_options": {"include_usage": True}, "prompt": "hi",
                    "max_tokens": 7, "repetition_penalty": 1.0, "ignore_eos": True}


def test_workload_is_built_with_the_given_tokenizer():
    class Chars:
        encode = staticmethod(lambda s: [ord(c) for c in s])
        decode = staticmethod(lambda ids: "".join(map(chr, ids)))
    config = BenchmarkConfig(base_url=BASE, workload=WorkloadSpec(num_prompts=3, input_len=20, output_len=4),
                             scrape_interval=None)
    result = asyncio.run(arun_benchmark(config, tokenizer=Chars(), transport=httpx.MockTransport(FakeServer())))
    assert len(result.records) == 3 and result.metrics.total_output == 12
