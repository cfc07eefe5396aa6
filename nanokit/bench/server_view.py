"""The server's side of a run: vLLM's Prometheus gauges and, where a GPU is visible, its utilisation and memory.

Gauge names are vLLM 0.32's (vllm/v1/metrics/loggers.py): `vllm:num_requests_running`,
`vllm:num_requests_waiting`, `vllm:kv_cache_usage_perc` (a 0-1 fraction despite the name). Older servers
called the last one `vllm:gpu_cache_usage_perc`; both are read. GPU figures come from nvidia-ml-py (pynvml)
and are simply absent when it or a GPU is missing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import httpx

from nanokit.endpoint import auth_headers

GAUGES = {
    "vllm:num_requests_running": "running",
    "vllm:num_requests_waiting": "waiting",
    "vllm:kv_cache_usage_perc": "kv_cache_usage",
    "vllm:gpu_cache_usage_perc": "kv_cache_usage",
}


@dataclass(frozen=True)
class ServerSample:
    """One look at the server at `time` (perf_counter clock); None where the figure was not available."""

    time: float
    running: float | None = None
    waiting: float | None = None
    kv_cache_usage: float | None = None
    gpu_util: float | None = None
    gpu_memory_used_gib: float | None = None
    # DP deployments: the same gauges per engine (vLLM's `engine` label, one per DP rank); see bench.replicas
    per_engine: dict[str, dict[str, float]] = field(default_factory=dict)


def parse_gauges(text: str) -> dict[str, float]:
    """Sum each known gauge over its label sets (one per engine/model) from Prometheus text exposition."""
    values: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name_end = min((i for i in (line.find("{"), line.find(" ")) if i >= 0), default=-1)
        if name_end < 0:
            continue
        field = GAUGES.get(line[:name_end])
        if field is None:
            continue
        try:
            value = float(line.rsplit(" ", 1)[1])
        except (IndexError, ValueError):
            continue
        values[field] = values.get(field, 0.0) + value
    return values


def engine_gauges(text: str) -> dict[str, dict[str, float]]:
    """The known gauges split by their `engine="N"` label (vLLM labels each DP rank's series); {} without one."""
    engines: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        name, brace, rest = line.partition("{")
        field_name = GAUGES.get(name)
        labels, _, value = rest.partition("} ")
        if not brace or field_name is None or 'engine="' not in labels:
            continue
        engine = labels.split('engine="', 1)[1].split('"', 1)[0]
        try:
            number = float(value.split()[0])
        except (IndexError, ValueError):
            continue
        gauges = engines.setdefault(engine, {})
        gauges[field_name] = gauges.get(field_name, 0.0) + number
    return engines


class GpuProbe:
    """GPU utilisation (%) and memory used (GiB) summed over visible GPUs; `available` False without one."""

    def __init__(self) -> None:
        self._handles: list = []
        try:
            import pynvml

            pynvml.nvmlInit()
            self._nvml = pynvml
            self._handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
        except Exception:  # noqa: BLE001 - no library, no driver or no GPU all mean: no GPU view
            self._handles = []

    @property
    def available(self) -> bool:
        return bool(self._handles)

    def read(self) -> tuple[float | None, float | None]:
        if not self._handles:
            return None, None
        try:
            util = [self._nvml.nvmlDeviceGetUtilizationRates(h).gpu for h in self._handles]
            used = [self._nvml.nvmlDeviceGetMemoryInfo(h).used for h in self._handles]
        except Exception:  # noqa: BLE001
            return None, None
        return sum(util) / len(util), sum(used) / 2**30


class ServerScraper:
    """Reads /metrics (at the server root) and the GPU probe; every failure gives a sample of Nones."""

    def __init__(self, base_url: str, *, api_key: str | None = None, timeout: float = 2.0,
                 gpu: GpuProbe | None = None) -> None:
        self.metrics_url = base_url.rstrip("/").removesuffix("/v1") + "/metrics"
        self._headers = auth_headers(api_key)
        self._timeout = timeout
        self._gpu = gpu if gpu is not None else GpuProbe()

    async def sample(self, http: httpx.AsyncClient) -> ServerSample:
        now = time.perf_counter()
        gauges: dict[str, float] = {}
        per_engine: dict[str, dict[str, float]] = {}
        try:
            response = await http.get(self.metrics_url, headers=self._headers, timeout=self._timeout)
            if response.status_code == 200:
                gauges = parse_gauges(response.text)
                per_engine = engine_gauges(response.text)
        except Exception:  # noqa: BLE001 - a missing or dead /metrics only leaves a gap in the plot
            gauges = {}  # this sample carries no server gauges; the GPU reading below still counts
        util, memory = self._gpu.read()
        return ServerSample(time=now, gpu_util=util, gpu_memory_used_gib=memory, per_engine=per_engine, **gauges)
