"""The aiohttp streaming path against a local aiohttp.web fake server (no vLLM): records and failures."""

from __future__ import annotations

import asyncio
import json

import pytest

aiohttp_web = pytest.importorskip("aiohttp.web")

from nanokit.bench.client import AiohttpStreams, RequestOptions, send_request
from nanokit.bench.workloads import BenchRequest


async def completions(request):
    body = await request.json()
    response = aiohttp_web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for i in range(body["max_tokens"]):
        await asyncio.sleep(0.001)
        await response.write(b"data: " + json.dumps({"choices": [{"text": f"t{i}"}]}).encode() + b"\n\n")
    usage = {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": body["max_tokens"]}}
    await response.write(b"data: " + json.dumps(usage).encode() + b"\n\ndata: [DONE]\n\n")
    return response


async def stalls(request):
    response = aiohttp_web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for i in range(2):
        await response.write(b"data: " + json.dumps({"choices": [{"text": f"t{i}"}]}).encode() + b"\n\n")
    await asyncio.sleep(3)  # the stream would then end cleanly: only a working watchdog fails it
    return response


async def bad(request):
    return aiohttp_web.Response(status=400, text="no such model")


async def run_against_fake(path: str, max_tokens: int = 6, timeout: float = 5.0, cancel_after: float | None = None):
    app = aiohttp_web.Application()
    app.router.add_post("/v1/completions", completions)
    app.router.add_post("/bad/v1/completions", bad)
    app.router.add_post("/stall/v1/completions", stalls)
    runner = aiohttp_web.AppRunner(app)
    await runner.setup()
    site = aiohttp_web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    streams = AiohttpStreams(f"http://127.0.0.1:{port}{path}", headers={}, timeout=timeout, limit=2)
    try:
        chunks = []
        task = asyncio.create_task(send_request(streams, RequestOptions(model="m"), BenchRequest("hi", 3, max_tokens),
                                                on_chunk=lambda: chunks.append(1)))
        if cancel_after is not None:
            await asyncio.sleep(cancel_after)
            task.cancel()
        return await task, len(chunks)
    finally:
        await streams.close()
        await runner.cleanup()


def test_aiohttp_stream_gives_a_full_record():
    record, chunks = asyncio.run(run_against_fake("/v1"))
    assert record.success and record.output_tokens == 6 and record.prompt_tokens == 3
    assert chunks == 6 and len(record.itl) == 5 and record.latency >= record.ttft > 0


def test_aiohttp_http_error_becomes_a_record():
    record, _ = asyncio.run(run_against_fake("/bad/v1"))
    assert not record.success and record.error.startswith("HTTP 400: no such model")


def test_aiohttp_unreachable_server_becomes_a_record():
    async def go():
        streams = AiohttpStreams("http://127.0.0.1:9/v1", headers={}, timeout=2.0, limit=None)
        try:
            return await send_request(streams, RequestOptions(model="m"), BenchRequest("hi", 1, 2))
        finally:
            await streams.close()
    record = asyncio.run(go())
    assert not record.success and "Connect" in record.error


def test_aiohttp_silent_server_times_out_with_what_arrived():
    record, chunks = asyncio.run(run_against_fake("/stall/v1", timeout=0.5))
    assert not record.success and record.error.startswith("Timeout: the server sent nothing for 0.5 s")
    assert chunks == 2 and record.output_tokens == 2


def test_aiohttp_cancelling_a_request_still_cancels_it():
    # The watchdog's cancellation becomes a record; anybody else's (a run being torn down) must propagate.
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(run_against_fake("/stall/v1", timeout=20.0, cancel_after=0.3))
