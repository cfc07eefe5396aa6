"""Run a benchmark: check the server, build the workload, send it on schedule, collect records, compute metrics.

The shape is `vllm bench serve`'s `benchmark()`: warm-up requests first (not measured), then requests released
by the arrival schedule through an optional concurrency limit; the duration runs from the first release to the
last record. Live views get a `LiveFeed` to poll; the request loop never calls into them.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from nanokit.bench.arrival import arrival_offsets
from nanokit.bench.client import AiohttpStreams, Endpoint, RequestOptions, send_request
from nanokit.bench.feed import LiveFeed
from nanokit.bench.metrics import DEFAULT_PERCENTILES, SLO, BenchmarkMetrics, calculate_metrics
from nanokit.bench.records import RequestRecord
from nanokit.bench.server_view import ServerSample, ServerScraper
from nanokit.bench.workloads import BenchRequest, ServerTokenizer, Tokenizer, WorkloadSpec
from nanokit.errors import ConfigError, ServerError


@dataclass(frozen=True, kw_only=True)
class BenchmarkConfig:
    """One benchmark run against an OpenAI-compatible server (`base_url` ends in /v1)."""

    base_url: str
    model: str | None = None  # None: the first model the server lists
    api_key: str | None = None
    workload: WorkloadSpec = field(default_factory=WorkloadSpec)
    endpoint: Endpoint = "completions"
    request_rate: float = math.inf
    burstiness: float = 1.0
    max_concurrency: int | None = None
    num_warmups: int = 0
    ignore_eos: bool = True
    reasoning: bool | None = None
    temperature: float | None = None
    request_timeout: float = 60.0  # seconds the server may stay silent before a request fails
    slo: SLO = field(default_factory=SLO)
    percentiles: tuple[float, ...] = DEFAULT_PERCENTILES
    scrape_interval: float | None = 1.0  # seconds between /metrics reads; None turns the server view off
    seed: int = 0
    label: str = ""

    def __post_init__(self) -> None:
        if self.endpoint not in ("completions", "chat"):
            raise ConfigError(f"endpoint must be 'completions' or 'chat', got {self.endpoint!r}.")
        if self.max_concurrency is not None and self.max_concurrency < 1:
            raise ConfigError(f"max_concurrency must be at least 1 (or None), got {self.max_concurrency}.")
        if self.request_rate <= 0 or self.burstiness <= 0:
            raise ConfigError("request_rate and burstiness must be positive (request_rate may be inf).")
        if self.reasoning is not None and self.endpoint != "chat":
            raise ConfigError("Reasoning on/off applies to the chat endpoint only; pass endpoint='chat'.")


@dataclass(frozen=True)
class BenchmarkRun:
    """The outcome of one run: its config, the served model, every record, the metrics and the server view."""

    config: BenchmarkConfig
    model: str
    records: tuple[RequestRecord, ...]
    duration: float
    metrics: BenchmarkMetrics
    server_samples: tuple[ServerSample, ...] = ()
    origin: float = 0.0  # perf_counter time of the first release; timelines start here
    date: str = ""
    client_cpu_s: float = 0.0  # CPU time this process spent from the first release to the last record


def _headers(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


async def check_server(base_url: str, model: str | None = None, *, api_key: str | None = None,
                       timeout: float = 5.0, transport: httpx.AsyncBaseTransport | None = None) -> str:
    """The served model's name, after checking /v1/models; one-sentence errors for a bad URL or model."""
    url = base_url.rstrip("/") + "/models"
    try:
        async with httpx.AsyncClient(timeout=timeout, headers=_headers(api_key), transport=transport) as http:
            response = await http.get(url)
    except httpx.HTTPError as exc:
        raise ServerError(f"No OpenAI-compatible server answered at {base_url} ({type(exc).__name__}); "
                          "check the URL (it should end in /v1) and that the server is running.") from None
    if response.status_code != 200:
        raise ServerError(f"{url} answered HTTP {response.status_code}; check the URL (it should end in /v1) "
                          "and the API key.")
    try:
        served = [m["id"] for m in response.json()["data"]]
    except (ValueError, KeyError, TypeError):
        raise ServerError(f"{url} did not return a model list; is {base_url} an OpenAI-compatible API?") from None
    if not served:
        raise ServerError(f"The server at {base_url} serves no models.")
    if model is None:
        return served[0]
    if model not in served:
        raise ConfigError(f"The server at {base_url} does not serve {model!r}; it serves {', '.join(served)}.")
    return model


async def arun_benchmark(config: BenchmarkConfig, *, feed: LiveFeed | None = None,
                         tokenizer: Tokenizer | None = None,
                         requests: Sequence[BenchRequest] | None = None,
                         transport: httpx.AsyncBaseTransport | None = None) -> BenchmarkRun:
    """Run the benchmark in the current event loop (use `run_benchmark` from synchronous code).

    `transport` replaces the network (httpx.MockTransport in unit tests).
    """
    model = await check_server(config.base_url, config.model, api_key=config.api_key, transport=transport)
    if requests is None:
        requests = await asyncio.to_thread(build_requests, config, model, tokenizer)
    feed = feed or LiveFeed()
    options = RequestOptions(model=model, endpoint=config.endpoint, ignore_eos=config.ignore_eos,
                             reasoning=config.reasoning, temperature=config.temperature)
    timeout = httpx.Timeout(config.request_timeout, connect=min(config.request_timeout, 10.0), pool=None)
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=config.max_concurrency or 1000)
    # Requests stream over aiohttp (cheaper per chunk, see client.AiohttpStreams); a given transport (unit tests'
    # MockTransport) or a missing aiohttp means httpx. The /metrics scraper always uses httpx.
    streams = AiohttpStreams(config.base_url, headers=_headers(config.api_key), timeout=config.request_timeout,
                             limit=config.max_concurrency) if transport is None and _has_aiohttp() else None
    async with httpx.AsyncClient(base_url=config.base_url.rstrip("/"), timeout=timeout, limits=limits,
                                 headers=_headers(config.api_key), transport=transport) as http:
        sender = streams or http
        gate = asyncio.Semaphore(config.max_concurrency) if config.max_concurrency else contextlib.nullcontext()
        if config.num_warmups:
            async def warm() -> RequestRecord:
                async with gate:
                    return await send_request(sender, options, requests[0])
            await asyncio.gather(*(warm() for _ in range(config.num_warmups)))

        async def one(request: BenchRequest, arrival: float) -> RequestRecord:
            async with gate:
                feed.sent()
                record = await send_request(sender, options, request, on_chunk=feed.chunk, arrival=arrival)
            feed.finish(record)
            return record

        offsets = arrival_offsets(len(requests), config.request_rate, config.burstiness, seed=config.seed)
        samples: list[ServerSample] = []
        stop = asyncio.Event()
        scraper = None
        if config.scrape_interval:
            scraper = asyncio.create_task(_scrape(ServerScraper(config.base_url, api_key=config.api_key), http,
                                                  config.scrape_interval, stop, samples, feed))
        date = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        feed.begin(len(requests))
        # As vllm bench serve does: move what exists now out of the collector's sight, so collections during
        # the run only walk the run's own objects (thawed again below; nothing is kept alive by this).
        gc.collect()
        gc.freeze()
        cpu0, origin = time.process_time(), time.perf_counter()
        tasks = []
        try:
            for request, offset in zip(requests, offsets):
                delay = origin + offset - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(request, time.perf_counter())))
            records = await asyncio.gather(*tasks)
        finally:
            duration = time.perf_counter() - origin
            client_cpu = time.process_time() - cpu0
            gc.unfreeze()
            for task in tasks:
                task.cancel()
            stop.set()
            if scraper is not None:
                await asyncio.gather(scraper, return_exceptions=True)
            if streams is not None:
                await streams.close()
            feed.end()
    metrics = calculate_metrics(records, duration, slo=config.slo, percentiles=config.percentiles)
    return BenchmarkRun(config=config, model=model, records=tuple(records), duration=duration, metrics=metrics,
                        server_samples=tuple(samples), origin=origin, date=date, client_cpu_s=client_cpu)


def _has_aiohttp() -> bool:
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        return False
    return True


def build_requests(config: BenchmarkConfig, model: str, tokenizer: Tokenizer | None = None) -> list[BenchRequest]:
    """The config's workload as requests, measured with `tokenizer` or else with the server's own /tokenize.

    Build once and pass the list to several runs (`run_sweep(..., requests=...)`) to send the same prompts.
    """
    if tokenizer is not None:
        return config.workload.build(tokenizer)
    server_tokenizer = ServerTokenizer(config.base_url, model, api_key=config.api_key)
    try:
        return config.workload.build(server_tokenizer)
    finally:
        server_tokenizer.close()


async def _scrape(scraper: ServerScraper, http: httpx.AsyncClient, interval: float, stop: asyncio.Event,
                  samples: list[ServerSample], feed: LiveFeed) -> None:
    while not stop.is_set():
        sample = await scraper.sample(http)
        samples.append(sample)
        feed.server_sample(sample)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


def run_benchmark(config: BenchmarkConfig, *, feed: LiveFeed | None = None, tokenizer: Tokenizer | None = None,
                  requests: Sequence[BenchRequest] | None = None) -> BenchmarkRun:
    """Run the benchmark and wait for it; inside a running event loop (Jupyter) it runs on a worker thread."""
    coro = arun_benchmark(config, feed=feed, tokenizer=tokenizer, requests=requests)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="nanokit-bench") as pool:
        return pool.submit(asyncio.run, coro).result()
