"""The GPU check's `probe` step: the spec with other KV-cache dtypes and contexts (--probes kv:context,...), each
started only until vLLM logs its KV-cache capacity, then stopped; the planner against each."""

from __future__ import annotations

import argparse
import os
import threading
import time
from pathlib import Path

from nanokit import free_port
from nanokit.lab.gpu_check.report import Report
from nanokit.lab.gpu_check.serve import build_spec, make_server, planner_entry, print_planner
from nanokit.lab.vllm_log import StartupFigures, parse_startup_log
from nanokit.process import spawn

__all__ = ["probe", "probe_entry", "step_probe"]


def probe(spec, args: argparse.Namespace, log_file: Path) -> tuple[StartupFigures, float, str]:
    """Start the spec's server only until vLLM logs its KV-cache capacity; stop it; (figures, seconds, log)."""
    server = make_server(spec, args, log_file, port=free_port())
    lines: list[str] = []
    logged = threading.Event()

    def on_line(line: str) -> None:
        lines.append(line + "\n")
        if ("KV cache size" in line or "Maximum concurrency" in line) and parse_startup_log("".join(lines)).complete:
            logged.set()

    log_file.unlink(missing_ok=True)
    t0 = time.monotonic()
    child = spawn(server.command(str(args.model)), name="vLLM", env={**os.environ, **server.env, "PYTHONUNBUFFERED": "1"},
                  on_line=on_line, log_file=log_file)
    try:
        while not logged.wait(0.5) and child.is_alive() and time.monotonic() - t0 < args.start_timeout:
            pass
    finally:
        seconds = time.monotonic() - t0
        child.stop(grace=30)
    return parse_startup_log("".join(lines)), seconds, "".join(lines)


def probe_entry(spec, args: argparse.Namespace, label: str) -> tuple[dict, StartupFigures]:
    """Probe `spec`, its planner entry (with the probe's seconds, and the log's tail when vLLM logged too little),
    and its log appended to OUT/probes.log (one file comes back from a GPU box, not one per probe)."""
    log = args.out / f"probe-{label}.log"
    figures, seconds, text = probe(spec, args, log)
    entry = planner_entry(spec, args, figures, text) | {"probe_s": round(seconds, 1)}
    if not figures.complete:
        entry["log_tail"] = text.splitlines()[-40:]
    with (args.out / "probes.log").open("a") as combined:
        combined.write(f"===== {log.name}\n{text}")
    log.unlink(missing_ok=True)
    return entry, figures


def step_probe(args: argparse.Namespace, report: Report) -> None:
    entries = report.data.setdefault("planner", [])
    done = {(e["kv_cache_dtype"], e["context"]) for e in entries}
    for kv, context in args.probes:
        if (kv, context) in done:
            continue
        if report.left() < args.probe_budget:
            report.skip(f"probe kv={kv} context={context}", f"{report.left():.0f} s left")
            continue
        print(f"probe kv={kv} context={context}", flush=True)
        entry, _ = probe_entry(build_spec(args, kv_cache_dtype=kv, context=context), args, f"{kv}-{context}")
        entries.append(entry)
        print_planner(entry)
        report.save()
