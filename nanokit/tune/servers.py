"""Measuring one point of a tune on a real server: keep the server of the current setting, restart on a new one.

`VLLMEvaluator.measure(setting, concurrency, num_prompts)` starts `nanokit.VLLMServer(spec=setting.apply(base))`
when the setting differs from the running server's (stopping the old one first: one server at a time, since
each holds the GPU or, on CPU, about 2.4 GB), then runs one benchmark through `nanokit.bench.run_sweep` and
returns the metrics as vLLM's field names. A server that will not start raises SettingFailed with the reason,
so the tune marks that setting failed and goes on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any, Protocol

from nanokit.bench import BenchmarkConfig, WorkloadSpec, run_sweep
from nanokit.errors import NanokitError
from nanokit.launch import LaunchSpec
from nanokit.server import VLLMServer
from nanokit.tune.space import ServerSetting

__all__ = ["Evaluator", "SettingFailed", "VLLMEvaluator"]

PERCENTILES = (50.0, 90.0, 99.0)


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

    def __post_init__(self) -> None:
        self.start_seconds: list[float] = []
        self._server: VLLMServer | None = None
        self._setting: ServerSetting | None = None
        self._fresh = False

    def _server_for(self, setting: ServerSetting) -> VLLMServer:
        if self._server is not None and self._setting == setting and self._server.is_alive():
            return self._server
        self.close()
        log = None if self.log_dir is None else f"{self.log_dir}/server-{len(self.start_seconds) + 1}.log"
        server = VLLMServer(spec=setting.apply(self.base), log_file=log)
        began = time.monotonic()
        try:
            server.start(timeout=self.start_timeout)
        except NanokitError as exc:
            server.stop()
            raise SettingFailed(f"The server did not start with {setting.to_dict()}: {exc}") from exc
        self.start_seconds.append(time.monotonic() - began)
        self._server, self._setting, self._fresh = server, setting, True
        return server

    def measure(self, setting: ServerSetting, concurrency: int, num_prompts: int) -> dict[str, Any]:
        server = self._server_for(setting)
        config = BenchmarkConfig(
            base_url=server.base_url, model=server.model_name, api_key=server.api_key,
            workload=replace(self.workload, num_prompts=num_prompts), max_concurrency=concurrency,
            # the first run after a start is slower at a new batch shape (nanokit/REFERENCE.md, 'Start-up times')
            num_warmups=min(concurrency, 4) if self._fresh else 0,
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
