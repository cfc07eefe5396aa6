"""The client's own CPU per streamed token: nanokit's request path next to vLLM's, on a local fake server.

    python -m nanokit.lab.client_cost [--concurrency 256 --num-prompts 512 --output-len 256 --rounds 3]

A benchmark client that spends too much CPU per token stops keeping up at high concurrency: its event loop
falls behind, timestamps arrive late, TTFT grows and throughput drops. This isolates that cost. A child process
(aiohttp.web) streams completions chunks shaped like vLLM's as fast as it can, so no model is involved; both
clients run in this process, alternating (ABBA), each over its own aiohttp session, and each run's process CPU
time divided by the tokens received is the figure. The reference is `vllm bench serve`'s own request function
with the session it builds (skipped where vLLM is not installed). Prints medians and the nanokit/vLLM ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass

from nanokit.bench import AiohttpStreams, BenchRequest, RequestOptions, send_request, write_json_atomic
from nanokit.process import free_port, is_listening, spawn

_CHUNK = {"id": "cmpl-0123456789abcdef0123456789abcdef", "object": "text_completion", "created": 1700000000,
          "model": "fake", "choices": [{"index": 0, "text": " word", "logprobs": None, "finish_reason": None,
                                        "stop_reason": None, "prompt_logprobs": None}], "usage": None}


def serve(port: int) -> None:
    """The fake server: every completion streams `max_tokens` chunks, then usage and [DONE]."""
    from aiohttp import web

    async def completions(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        n = int(body["max_tokens"])
        for i in range(n):
            _CHUNK["choices"][0]["text"] = f" w{i}"
            await response.write(b"data: " + json.dumps(_CHUNK).encode() + b"\n\n")
            await asyncio.sleep(0)  # one chunk per write, interleaved across streams, as a busy server sends them
        usage = {"choices": [], "usage": {"prompt_tokens": 8, "completion_tokens": n}}
        await response.write(b"data: " + json.dumps(usage).encode() + b"\n\ndata: [DONE]\n\n")
        return response

    app = web.Application()
    app.router.add_post("/v1/completions", completions)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


@dataclass(frozen=True)
class Run:
    client: str
    cpu_us_per_token: float
    tokens_per_s: float
    failed: int


async def _nanokit(url: str, concurrency: int, prompts: int, output_len: int) -> tuple[int, int]:
    streams = AiohttpStreams(url, headers={}, timeout=60.0, limit=concurrency)
    gate, options, counter = asyncio.Semaphore(concurrency), RequestOptions(model="fake"), [0]

    def on_chunk() -> None:  # what the live feed does per chunk
        counter[0] += 1

    async def one():
        async with gate:
            return await send_request(streams, options, BenchRequest("a b c d e f g h", 8, output_len),
                                      on_chunk=on_chunk)
    try:
        records = await asyncio.gather(*(one() for _ in range(prompts)))
    finally:
        await streams.close()
    return sum(r.output_tokens for r in records if r.success), sum(not r.success for r in records)


async def _vllm(url: str, concurrency: int, prompts: int, output_len: int) -> tuple[int, int]:
    import aiohttp
    from vllm.benchmarks.lib.endpoint_request_func import RequestFuncInput, async_request_openai_completions

    # The session vllm bench serve builds (vllm/benchmarks/serve.py, 0.26 to 0.32).
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency, ttl_dns_cache=300,
                                     use_dns_cache=True, keepalive_timeout=60, enable_cleanup_closed=True,
                                     force_close=False, ssl=False)
    session = aiohttp.ClientSession(connector=connector, trust_env=True,
                                    timeout=aiohttp.ClientTimeout(total=6 * 60 * 60))
    gate = asyncio.Semaphore(concurrency)

    async def one():
        async with gate:
            return await async_request_openai_completions(
                RequestFuncInput(prompt="a b c d e f g h", api_url=url + "/completions", prompt_len=8,
                                 output_len=output_len, model="fake", ignore_eos=True), session=session)
    try:
        outputs = await asyncio.gather(*(one() for _ in range(prompts)))
    finally:
        await session.close()
    return sum(o.output_tokens or 0 for o in outputs if o.success), sum(not o.success for o in outputs)


CLIENTS = {"nanokit": _nanokit, "vllm": _vllm}


def measure(client: str, url: str, concurrency: int, prompts: int, output_len: int) -> Run:
    cpu0, t0 = time.process_time(), time.perf_counter()
    tokens, failed = asyncio.run(CLIENTS[client](url, concurrency, prompts, output_len))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    return Run(client, 1e6 * cpu / max(tokens, 1), tokens / wall, failed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nanokit.lab.client_cost", description=__doc__.split("\n")[0])
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--num-prompts", type=int, default=512)
    parser.add_argument("--output-len", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3, help="Pairs of runs.")
    parser.add_argument("--out", default="client_cost.json")
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)  # the child's entry
    args = parser.parse_args(argv)
    if args.serve is not None:
        serve(args.serve)
        return 0

    clients = ["nanokit"]
    try:
        import vllm.benchmarks.lib.endpoint_request_func  # noqa: F401
        clients.append("vllm")
    except ImportError:
        print("vLLM is not installed here: measuring nanokit's client alone.", flush=True)
    port = free_port()
    server = spawn([sys.executable, "-m", "nanokit.lab.client_cost", "--serve", str(port)], name="The fake server",
                   env={**os.environ, "PYTHONUNBUFFERED": "1"}, capture=False)
    runs: list[Run] = []
    try:
        if not server.wait_ready(lambda: is_listening("127.0.0.1", port), timeout=30):
            raise RuntimeError(f"The fake server did not listen on port {port} within 30 s.")
        url = f"http://127.0.0.1:{port}/v1"
        print(f"fake server on {url}; {args.num_prompts} requests x {args.output_len} tokens at concurrency "
              f"{args.concurrency}", flush=True)
        for round_ in range(2 * args.rounds):
            for client in (clients if round_ % 2 == 0 else clients[::-1]):
                run = measure(client, url, args.concurrency, args.num_prompts, args.output_len)
                runs.append(run)
                print(f"  {client:8s} {run.cpu_us_per_token:6.1f} us CPU/token  {run.tokens_per_s:9.0f} tok/s  "
                      f"failed {run.failed}", flush=True)
    finally:
        server.stop()
    medians = {c: statistics.median(r.cpu_us_per_token for r in runs if r.client == c) for c in clients}
    summary = {"cpu_us_per_token": medians, "python": sys.version.split()[0]}
    line = "  ".join(f"{c} {v:.1f}" for c, v in medians.items())
    if "vllm" in medians:
        summary["ratio"] = medians["nanokit"] / medians["vllm"]
        line += f"  ratio nanokit/vllm {summary['ratio']:.2f}"
    print(f"\nmedian client CPU per token (us): {line}")
    write_json_atomic({"concurrency": args.concurrency, "num_prompts": args.num_prompts,
                       "output_len": args.output_len, "runs": [r.__dict__ for r in runs], "summary": summary},
                      args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
