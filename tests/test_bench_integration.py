"""The benchmark against the real embedded server: exact lengths, reasoning split, faults, CLI and widget."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest
from typer.testing import CliRunner

from nanokit.bench import BenchmarkConfig, LiveFeed, WorkloadSpec, run_benchmark
from nanokit.bench.runner import check_server
from nanokit.errors import ConfigError, ServerError

pytestmark = pytest.mark.integration


class Proxy:
    """A TCP relay in front of the shared server, so a test can 'kill' or 'freeze' the server it sees."""

    def __init__(self, port: int) -> None:
        self.target_port = port
        self.loop = asyncio.new_event_loop()
        self.writers: list[asyncio.StreamWriter] = []
        self.frozen = False
        ready = threading.Event()
        threading.Thread(target=self._serve, args=(ready,), daemon=True).start()
        ready.wait(10)

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = self.server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    async def _client(self, reader, writer) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.writers += [writer, up_writer]

        async def pipe(src, dst):
            try:
                while data := await src.read(65536):
                    while self.frozen:
                        await asyncio.sleep(0.05)
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def kill(self) -> None:
        def _kill():
            self.server.close()
            for w in self.writers:
                w.transport.abort()
        self.loop.call_soon_threadsafe(_kill)

    def freeze(self) -> None:
        self.frozen = True


def _port(server) -> int:
    return int(server.base_url.rsplit(":", 1)[1].split("/")[0])


def config(server, **kw) -> BenchmarkConfig:
    kw.setdefault("workload", WorkloadSpec(num_prompts=8, input_len=48, output_len=24))
    return BenchmarkConfig(base_url=server.base_url, model=server.model_name, max_concurrency=4, **kw)


def test_random_prompts_reach_the_server_at_exact_length(server):
    run = run_benchmark(config(server, num_warmups=1))
    m = run.metrics
    assert m.failed == 0 and m.completed == 8
    assert {r.prompt_tokens for r in run.records} == {48} and {r.output_tokens for r in run.records} == {24}
    assert m.output_throughput > 0 and m.tpot.median > 0 and m.ttft.median > 0
    assert run.server_samples and any(s.running is not None for s in run.server_samples)


def test_chat_with_reasoning_records_first_reasoning_or_answer(server):
    run = run_benchmark(config(server, endpoint="chat", reasoning=True, ignore_eos=False,
                               workload=WorkloadSpec(kind="chat", num_prompts=4, output_len=48)))
    assert run.metrics.failed == 0
    assert all(r.ttfr is not None or r.ttfa is not None for r in run.records)
    assert all(r.ttfr is None or r.ttfr >= r.ttft for r in run.records)


def test_bad_model_and_bad_url_fail_fast(server):
    t0 = time.monotonic()
    with pytest.raises(ConfigError, match="does not serve 'no-such-model'"):
        asyncio.run(check_server(server.base_url, "no-such-model"))
    root = server.base_url.removesuffix("/v1")
    assert asyncio.run(check_server(root)) == server.model_name  # the server root is taken as vllm bench's is
    with pytest.raises(ServerError, match="check the URL"):
        asyncio.run(check_server(f"{root}/not-the-api"))
    assert time.monotonic() - t0 < 10


def test_server_dying_mid_run_gives_failed_records_and_a_report(server):
    proxy = Proxy(_port(server))
    url = f"http://127.0.0.1:{proxy.port}/v1"
    cfg = BenchmarkConfig(base_url=url, model=server.model_name, max_concurrency=2, request_timeout=10,
                          workload=WorkloadSpec(num_prompts=12, input_len=32, output_len=200))
    feed = LiveFeed()

    def kill_when_streaming():
        while feed.finished < 1 and not feed.done:
            time.sleep(0.01)
        proxy.kill()
    threading.Thread(target=kill_when_streaming, daemon=True).start()
    t0 = time.monotonic()
    run = run_benchmark(cfg, feed=feed)
    assert time.monotonic() - t0 < 60
    assert run.metrics.completed >= 1 and run.metrics.failed >= 1
    assert run.metrics.completed + run.metrics.failed == 12
    assert all(r.error for r in run.records if not r.success)


def test_frozen_server_times_out_instead_of_hanging(server):
    proxy = Proxy(_port(server))
    url = f"http://127.0.0.1:{proxy.port}/v1"
    cfg = BenchmarkConfig(base_url=url, model=server.model_name, max_concurrency=2, request_timeout=2,
                          scrape_interval=None, workload=WorkloadSpec(num_prompts=4, input_len=16, output_len=400))
    feed = LiveFeed()

    def freeze_when_streaming():
        while feed.chunks < 5:
            time.sleep(0.01)
        proxy.freeze()
    threading.Thread(target=freeze_when_streaming, daemon=True).start()
    t0 = time.monotonic()
    run = run_benchmark(cfg, feed=feed)
    assert time.monotonic() - t0 < 30
    assert run.metrics.failed >= 2 and "Timeout" in next(r.error for r in run.records if not r.success)


def test_cli_writes_vllm_compatible_json(server, tmp_path):
    from nanokit.cli import app

    out = tmp_path / "run.json"
    result = CliRunner().invoke(app, ["bench", "--base-url", server.base_url, "--model", server.model_name,
                                      "--input-len", "32", "--output-len", "16", "--num-prompts", "6",
                                      "--sweep", "1,3", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "Serving Benchmark Result" in result.output and "c=3" in result.output
    data = json.loads((tmp_path / "run-c3.json").read_text())
    assert data["max_concurrency"] == 3 and data["completed"] == 6 and data["total_output_tokens"] == 96


def test_cli_bad_model_is_one_sentence(server):
    from nanokit.cli import app

    result = CliRunner().invoke(app, ["bench", "--base-url", server.base_url, "--model", "nope"])
    assert result.exit_code == 1 and "does not serve 'nope'" in result.output


def test_dashboard_runs_and_sweeps_headlessly(server):
    from widgets.throughput import ThroughputDashboard

    dash = ThroughputDashboard(server, num_prompts=6, input_len=32, output_len=16, concurrency=2, interval=0.1)
    run = dash.run()
    assert run is not None and run.metrics.completed == 6
    assert dash.live.ticks >= 1 and sum(dash.live.figure.data[0].y) > 0
    dash.sweep_points.value = "1,2"
    dash.sweep_button.click()
    assert len(dash.runs) == 3 and len(dash.pareto.figure.data[0].x) == 3
    assert "c=2" in dash.table.value and not dash.run_button.disabled
