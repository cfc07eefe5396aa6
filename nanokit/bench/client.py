"""One streamed request (aiohttp, or httpx where a transport is injected) turned into a RequestRecord; never raises.

Timing follows vLLM's request functions: the clock starts just before the request is sent; every
server-sent event that carries a choice is a chunk (its arrival is timestamped when parsed); the usage event
gives the token counts. For chat, a chunk whose delta carries `reasoning` (or the older `reasoning_content`)
counts toward the first reasoning time and one with `content` toward the first answer time.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from nanokit.bench.records import RequestRecord
from nanokit.bench.workloads import BenchRequest

ApiKind = Literal["completions", "chat"]
"""Which OpenAI API a run sends its requests to."""


@dataclass(frozen=True, kw_only=True)
class RequestOptions:
    """How every request of a run is shaped."""

    model: str
    endpoint: ApiKind = "completions"
    ignore_eos: bool = True
    reasoning: bool | None = None  # None: the server's default; chat only
    temperature: float | None = None
    extra_body: dict[str, Any] | None = None

    def payload(self, request: BenchRequest) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "stream": True, "stream_options": {"include_usage": True}}
        if self.endpoint == "chat":
            body["messages"] = request.messages()
            body["max_completion_tokens"] = request.output_len
            if self.reasoning is not None:
                body["chat_template_kwargs"] = {"enable_thinking": self.reasoning}
        else:
            body["prompt"] = request.text()
            body["max_tokens"] = request.output_len
            body["repetition_penalty"] = 1.0
        if self.ignore_eos:
            body["ignore_eos"] = True
        if self.temperature is not None:
            body["temperature"] = self.temperature
        body.update(self.extra_body or {})
        return body

    @property
    def path(self) -> str:
        return "/chat/completions" if self.endpoint == "chat" else "/completions"


class _Stream:
    """Mutable state of one request while it streams; frozen into a RequestRecord at the end."""

    def __init__(self, start: float, prompt_len: int) -> None:
        self.start = start
        self.last = start
        self.ttft = 0.0
        self.ttfr: float | None = None
        self.ttfa: float | None = None
        self.itl: list[float] = []
        self.chunks = 0
        self.prompt_tokens = prompt_len
        self.output_tokens = 0
        self.silent = False  # set by the watchdog when the server went quiet for too long

    def event(self, data: dict, now: float) -> bool:
        """Account one parsed event; True when it carried a token chunk."""
        choices = data.get("choices")
        if choices:
            if self.chunks == 0:
                self.ttft = now - self.start
            else:
                self.itl.append(now - self.last)
            self.last = now
            self.chunks += 1
            delta = choices[0].get("delta")
            if delta is not None:
                if self.ttfr is None and (delta.get("reasoning") or delta.get("reasoning_content")):
                    self.ttfr = now - self.start
                if self.ttfa is None and delta.get("content"):
                    self.ttfa = now - self.start
            return True
        usage = data.get("usage")
        if usage:
            self.output_tokens = usage.get("completion_tokens") or 0
            self.prompt_tokens = usage.get("prompt_tokens") or self.prompt_tokens
        return False

    def record(self, queued: float) -> RequestRecord:
        if self.chunks == 0:
            return self.failed("The stream ended without a single token chunk.", queued)
        return RequestRecord(success=True, start_time=self.start, ttft=self.ttft, ttfr=self.ttfr, ttfa=self.ttfa,
                             itl=tuple(self.itl), latency=self.last - self.start, prompt_tokens=self.prompt_tokens,
                             output_tokens=self.output_tokens or self.chunks, client_queue_time=queued)

    def failed(self, error: str, queued: float) -> RequestRecord:
        return RequestRecord(success=False, error=error, start_time=self.start, prompt_tokens=self.prompt_tokens,
                             output_tokens=self.chunks, client_queue_time=queued, ttft=self.ttft,
                             itl=tuple(self.itl), latency=self.last - self.start)


class AiohttpStreams:
    """aiohttp session for the streaming requests themselves.

    Its C-accelerated HTTP parser costs about half of httpx's CPU per streamed chunk (measured on the embedded
    model: ~50 vs ~100 us per token); on a small machine where the server's OpenMP threads share the cores with
    the client, that difference alone moved output throughput by 20-30%. vLLM's own client uses aiohttp too.

    `timeout` (seconds without data) is enforced by one watchdog per request, not by aiohttp's `sock_read`,
    which re-arms a timer on every socket read: that cost ~20% more client CPU per token at 256 streams.
    """

    def __init__(self, base_url: str, *, headers: dict[str, str], timeout: float, limit: int | None) -> None:
        import aiohttp

        self.base_url = base_url.rstrip("/")
        self.silence = timeout
        self._session = aiohttp.ClientSession(
            headers=headers, trust_env=False,
            connector=aiohttp.TCPConnector(limit=limit or 0, limit_per_host=limit or 0, keepalive_timeout=60),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=min(timeout, 10.0)))

    async def close(self) -> None:
        await self._session.close()


async def _watchdog(task: asyncio.Task, stream: _Stream, silence: float, clock: Callable[[], float]) -> None:
    """Cancel `task` once `stream` has gone `silence` seconds without a chunk; wakes about once per `silence`."""
    while True:
        left = stream.last + silence - clock()
        if left <= 0:
            stream.silent = True
            task.cancel()
            return
        await asyncio.sleep(left)


async def _consume(chunks: AsyncIterator[bytes], stream: _Stream, clock: Callable[[], float],
                   on_chunk: Callable[[], None] | None) -> None:
    """Split server-sent events out of raw byte chunks and account each one."""
    buffer = b""
    async for raw in chunks:
        buffer += raw
        while b"\n\n" in buffer:
            message, buffer = buffer.split(b"\n\n", 1)
            if not message.startswith(b"data: "):
                continue
            payload = message[6:].strip()
            if payload == b"[DONE]":
                continue
            if stream.event(json.loads(payload), clock()) and on_chunk is not None:
                on_chunk()


async def send_request(http: httpx.AsyncClient | AiohttpStreams, options: RequestOptions, request: BenchRequest, *,
                       on_chunk: Callable[[], None] | None = None, arrival: float | None = None,
                       clock: Callable[[], float] = time.perf_counter) -> RequestRecord:
    """Stream one request and return its record; failures (HTTP, network, timeouts, bad data) become records."""
    start = clock()
    stream = _Stream(start, request.prompt_len)
    queued = start - arrival if arrival is not None else 0.0
    try:
        if isinstance(http, AiohttpStreams):
            return await _send_aiohttp(http, options, request, stream, queued, clock, on_chunk)
        async with http.stream("POST", options.path, json=options.payload(request)) as response:
            if response.status_code != 200:
                body = (await response.aread()).decode(errors="replace")[:300]
                return stream.failed(f"HTTP {response.status_code}: {body}", queued)
            await _consume(response.aiter_raw(), stream, clock, on_chunk)
    except Exception as exc:  # noqa: BLE001 - a record must never raise; the error is kept as text
        message = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
        return stream.failed(message, queued)
    return stream.record(queued)


async def _send_aiohttp(http: AiohttpStreams, options: RequestOptions, request: BenchRequest, stream: _Stream,
                        queued: float, clock: Callable[[], float], on_chunk: Callable[[], None] | None) -> RequestRecord:
    task = asyncio.current_task()
    assert task is not None
    watchdog = asyncio.create_task(_watchdog(task, stream, http.silence, clock))
    try:
        async with http._session.post(http.base_url + options.path, json=options.payload(request)) as response:
            if response.status != 200:
                body = (await response.read()).decode(errors="replace")[:300]
                return stream.failed(f"HTTP {response.status}: {body}", queued)
            await _consume(response.content.iter_any(), stream, clock, on_chunk)
    except asyncio.CancelledError:
        if not stream.silent:
            raise
        task.uncancel()
        return stream.failed(f"Timeout: the server sent nothing for {http.silence:g} s.", queued)
    finally:
        watchdog.cancel()
    return stream.record(queued)
