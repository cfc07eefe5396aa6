"""nanokit's TTFT and vLLM's `vllm bench serve` TTFT follow one rule on the same stream.

Both start the clock just before the POST and stop it at the first server-sent event that carries a choice:
a role-only chat chunk or an empty completion text counts, and so does a reasoning delta (vLLM reads only
`content`, but times the chunk whatever it holds). nanokit keeps the first reasoning and first answer chunk
apart as well (ttfr, ttfa). So a difference between the two clients' median TTFT on one server is not in
how a request is timed; nanokit/lab/validate.py's docstring says where it comes from instead. Here both
clients' real request functions read one stream from a loopback aiohttp server with known delays.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from nanokit.bench.client import AiohttpStreams, RequestOptions, send_request
from nanokit.bench.workloads import BenchRequest

ROLE_AT, REASONING_AT, ANSWER_AT = 0.3, 0.6, 0.9
EVENTS = [
    (ROLE_AT, {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}),
    (REASONING_AT - ROLE_AT, {"choices": [{"index": 0, "delta": {"reasoning": "Let me think."}}]}),
    (ANSWER_AT - REASONING_AT, {"choices": [{"index": 0, "delta": {"content": "Hello"}}]}),
    (0.0, {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2}}),
]


async def _stream(request: web.Request) -> web.StreamResponse:
    await request.read()
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for delay, event in EVENTS:
        await asyncio.sleep(delay)
        await response.write(f"data: {json.dumps(event)}\n\n".encode())
    await response.write(b"data: [DONE]\n\n")
    return response


async def _both_clients() -> tuple:
    from vllm.benchmarks.lib.endpoint_request_func import (
        RequestFuncInput,
        async_request_openai_chat_completions,
    )

    app = web.Application()
    app.router.add_post("/v1/chat/completions", _stream)
    async with TestServer(app, host="127.0.0.1") as server:
        base = str(server.make_url("/v1"))
        async with aiohttp.ClientSession() as session:
            theirs = await async_request_openai_chat_completions(
                RequestFuncInput(prompt="Hi", api_url=base + "/chat/completions", prompt_len=1, output_len=2,
                                 model="m"), session)
        streams = AiohttpStreams(base, headers={}, timeout=10.0, limit=None)
        try:
            ours = await send_request(streams, RequestOptions(model="m", endpoint="chat"),
                                      BenchRequest(prompt="Hi", prompt_len=1, output_len=2))
        finally:
            await streams.close()
    return theirs, ours


def test_role_only_first_chunk_is_the_first_token_for_both_clients():
    theirs, ours = asyncio.run(_both_clients())
    assert theirs.success and ours.success
    assert theirs.ttft == pytest.approx(ROLE_AT, abs=0.1)
    assert ours.ttft == pytest.approx(theirs.ttft, abs=0.05)
    assert ours.ttfr == pytest.approx(REASONING_AT, abs=0.1)  # the reasoning delta, kept apart
    assert ours.ttfa == pytest.approx(ANSWER_AT, abs=0.1)  # the first answer text
    assert len(ours.itl) == len(theirs.itl) == 2  # the usage event is no token for either
