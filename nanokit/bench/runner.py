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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import httpx

from nanokit.bench.arrival import arrival_offsets
from nanokit.bench.client import AiohttpStreams, ApiKind, RequestOptions, send_request
from nanokit.bench.feed import LiveFeed
from nanokit.bench.metrics import DEFAULT_PERCENTILES, SLO, BenchmarkMetrics, calculate_metrics
from nanokit.bench.records import RequestRecord
from nanokit.bench.server_view import ServerSample, ServerScraper
from nanokit.bench.workloads import BenchRequest, ServerTokenizer, Tokenizer, WorkloadSpec
from nanokit.endpoint import (
    Endpoint,
    HasEndpoint,
    api_root,
    auth_headers,
    endpoint_of,
    pick_model,
    served_models,
    unreachable,
)
from nanokit.errors import ConfigError, argument


@dataclass(frozen=True, kw_only=True)
class BenchmarkConfig:
    """One benchmark run against an OpenAI-compatible server (`base_url`: its root or its /v1 API root)."""

    base_url: str
    model: str | None = None  # None: the first model the server lists
    api_key: str | None = None
    workload: WorkloadSpec = field(default_factory=WorkloadSpec)
    endpoint: ApiKind = "completions"
    request_rate: float = math.inf
    burstiness: float = 1.0
    max_concurrency: int | None = None
    num_warmups: int = 0
    warmup_output_len: int | None = None  # tokens each warm-up request asks for; None: the workload's own
    ignore_eos: bool = True
    reasoning: bool | None = None
    temperature: float | None = None
    request_timeout: float = 60.0  # seconds the server may stay silent before a request fails
    slo: SLO = field(default_factory=SLO)
    percentiles: tuple[float, ...] = DEFAULT_PERCENTILES
    scrape_interval: float | None = 1.0  # seconds between /metrics reads; None turns the server view off
    seed: int = 0
    label: str = ""

    @classmethod
    def against(cls, target: Endpoint | HasEndpoint, **options: object) -> BenchmarkConfig:
        """A config for the server behind `target` (an `Endpoint` or a `VLLMServer`): its URL, model and key."""
        endpoint = endpoint_of(target)
        return cls(base_url=endpoint.base_url, model=endpoint.model_name, api_key=endpoint.api_key, **options)

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", api_root(self.base_url))  # frozen: normalised once, here
        if self.endpoint not in ("completions", "chat"):
            raise ConfigError(f"{argument('endpoint')} must be 'completions' or 'chat', not {self.endpoint!r}.")
        if self.max_concurrency is not None and self.max_concurrency < 1:
            raise ConfigError(f"{argument('max_concurrency')} must be at least 1 (or left unset for no limit), "
                              f"not {self.max_concurrency}.")
        for name in ("request_rate", "burstiness"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{argument(name)} must be positive, not {getattr(self, name)} "
                                  "(request_rate may be inf).")
        if self.reasoning is not None and self.endpoint != "chat":
            raise ConfigError(f"Reasoning on/off applies to the chat endpoint only; pass {argument('endpoint', 'chat')}.")


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


async def check_server(base_url: str, model: str | None = None, *, api_key: str | None = None,
                       timeout: float = 5.0, transport: httpx.AsyncBaseTransport | None = None) -> str:
    """The served model's name, after checking /v1/models (the same sentences as `Endpoint.models`)."""
    base_url = api_root(base_url)
    try:
        async with httpx.AsyncClient(timeout=timeout, headers=auth_headers(api_key), transport=transport) as http:
            response = await http.get(f"{base_url}/models")
    except httpx.HTTPError as exc:
        raise unreachable(base_url, exc) from None
    return pick_model(served_models(response, base_url), model, base_url)


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
    streams = AiohttpStreams(config.base_url, headers=auth_headers(config.api_key), timeout=config.request_timeout,
                             limit=config.max_concurrency) if transport is None and _has_aiohttp() else None
    async with httpx.AsyncClient(base_url=config.base_url.rstrip("/"), timeout=timeout, limits=limits,
                                 headers=auth_headers(config.api_key), transport=transport) as http:
        sender = streams or http
        gate = asyncio.Semaphore(config.max_concurrency) if config.max_concurrency else contextlib.nullcontext()
        if config.num_warmups:
            first = requests[0]
            warm_request = replace(first, output_len=min(first.output_len, config.warmup_output_len or first.output_len))

            async def warm() -> RequestRecord:
                async with gate:
                    return await send_request(sender, options, warm_request)
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
    return config.workload.build(ServerTokenizer(Endpoint(config.base_url, api_key=config.api_key, model_name=model)))


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
