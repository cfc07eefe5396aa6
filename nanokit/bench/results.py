"""Results files: one JSON object per run, with `vllm bench serve`'s field names where they overlap.

Files are written atomically (a temporary file in the same folder, then a rename), so a reader, or a crash
mid-write, never sees half a result. `comparison_table` lines up any number of runs, ours or vLLM's own
result files, by the fields they share.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from nanokit.bench.replicas import format_replica_load, replica_load
from nanokit.bench.runner import BenchmarkRun

# The columns a comparison shows, as (heading, result field, digits).
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("ok", "completed", 0),
    ("failed", "failed", 0),
    ("req/s", "request_throughput", 2),
    ("out tok/s", "output_throughput", 1),
    ("peak out tok/s", "max_output_tokens_per_s", 0),
    ("med TTFT ms", "median_ttft_ms", 1),
    ("med TPOT ms", "median_tpot_ms", 2),
    ("p99 ITL ms", "p99_itl_ms", 2),
    ("med E2E ms", "median_e2el_ms", 0),
)


def run_to_dict(run: BenchmarkRun, *, per_request: bool = True) -> dict[str, Any]:
    """The run as a JSON-ready dict: vLLM's top-level fields, the metrics, then nanokit's additions."""
    config = run.config
    out: dict[str, Any] = {
        "date": run.date,
        "endpoint_type": "openai-chat" if config.endpoint == "chat" else "openai",
        "backend": "openai-chat" if config.endpoint == "chat" else "openai",
        "label": config.label or None,
        "model_id": run.model,
        "num_prompts": len(run.records),
        "request_rate": config.request_rate if not math.isinf(config.request_rate) else "inf",
        "burstiness": config.burstiness,
        "max_concurrency": config.max_concurrency,
    }
    out.update(run.metrics.to_dict())
    if config.slo.is_empty():
        out["request_goodput"] = None
    if per_request:
        records = run.records
        out.update(
            input_lens=[r.prompt_tokens for r in records],
            output_lens=[r.output_tokens if r.success else 0 for r in records],
            ttfts=[r.ttft for r in records],
            itls=[list(r.itl) for r in records],
            latencies=[r.latency for r in records],
            start_times=[r.start_time - run.origin for r in records],
            queue_times=[r.client_queue_time for r in records],
            errors=[r.error for r in records],
            ttfrs=[r.ttfr for r in records],
            ttfas=[r.ttfa for r in records],
        )
    out["nanokit"] = {
        "workload": asdict(config.workload),
        "endpoint": config.endpoint,
        "reasoning": config.reasoning,
        "ignore_eos": config.ignore_eos,
        "num_warmups": config.num_warmups,
        "client_cpu_s": run.client_cpu_s,
        "server_samples": [{k: (v - run.origin if k == "time" else v) for k, v in asdict(s).items()}
                           for s in run.server_samples],
    }
    return out


def write_json_atomic(data: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Write `data` as JSON to `path` through a temporary file and a rename; returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def save_run(run: BenchmarkRun, path: str | os.PathLike, *, per_request: bool = True) -> Path:
    return write_json_atomic(run_to_dict(run, per_request=per_request), path)


def load_result(path: str | os.PathLike) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def _label(result: Mapping[str, Any], index: int) -> str:
    if result.get("label"):
        return str(result["label"])
    parts = []
    if result.get("max_concurrency") is not None:
        parts.append(f"c={result['max_concurrency']}")
    if result.get("request_rate") not in (None, "inf"):
        parts.append(f"rate={result['request_rate']}")
    return " ".join(parts) or f"run {index + 1}"


def comparison_rows(results: Iterable[BenchmarkRun | Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per run (a BenchmarkRun, a result dict, ours or vLLM's) with the comparison columns."""
    rows = []
    for i, result in enumerate(results):
        data = run_to_dict(result, per_request=False) if isinstance(result, BenchmarkRun) else result
        row: dict[str, Any] = {"run": _label(data, i)}
        for heading, key, digits in COLUMNS:
            value = data.get(key)
            row[heading] = round(value, digits) if isinstance(value, (int, float)) else value
        rows.append(row)
    return rows


def comparison_table(results: Iterable[BenchmarkRun | Mapping[str, Any]]) -> str:
    """A plain-text table of `comparison_rows`, for terminals and notebook output alike."""
    rows = comparison_rows(results)
    if not rows:
        return "(no runs)"
    headings = list(rows[0])
    cells = [[("" if row[h] is None else str(row[h])) for h in headings] for row in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headings)]
    line = lambda values: "  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths)))
    return "\n".join([line(headings), line(["-" * w for w in widths]), *(line(c) for c in cells)])


def format_report(run: BenchmarkRun) -> str:
    """The run in `vllm bench serve`'s printed layout, plus first-reasoning/first-answer times when present."""
    m, c = run.metrics, run.config
    lines = ["{:=^60}".format(" Serving Benchmark Result ")]
    rows: list[tuple[str, object]] = [
        ("Successful requests:", m.completed), ("Failed requests:", m.failed),
        ("Maximum request concurrency:", c.max_concurrency),
        ("Request rate configured (RPS):", None if math.isinf(c.request_rate) else c.request_rate),
        ("Benchmark duration (s):", m.duration), ("Total input tokens:", m.total_input),
        ("Total generated tokens:", m.total_output), ("Request throughput (req/s):", m.request_throughput),
        ("Request goodput (req/s):", None if c.slo.is_empty() else m.request_goodput),
        ("Output token throughput (tok/s):", m.output_throughput),
        ("Peak output token throughput (tok/s):", m.max_output_tokens_per_s),
        ("Peak concurrent requests:", m.max_concurrent_requests),
        ("Total token throughput (tok/s):", m.total_token_throughput),
    ]
    lines += [f"{k:<44}{v:.2f}" if isinstance(v, float) else f"{k:<44}{v}" for k, v in rows if v is not None]
    sections = [("ttft", "TTFT", "Time to First Token"), ("tpot", "TPOT", "Time per Output Token (excl. 1st token)"),
                ("itl", "ITL", "Inter-token Latency"), ("e2el", "E2EL", "End-to-end Latency"),
                ("ttfr", "TTFR", "Time to First Reasoning Token"), ("ttfa", "TTFA", "Time to First Answer Token")]
    for attr, short, header in sections:
        stats = getattr(m, attr)
        if attr in ("ttfr", "ttfa") and stats.count == 0:
            continue
        lines.append(f"{header:-^60}")
        lines.append(f"{'Mean ' + short + ' (ms):':<44}{stats.mean:.2f}")
        lines.append(f"{'Median ' + short + ' (ms):':<44}{stats.median:.2f}")
        lines += [f"{f'P{p:g} {short} (ms):':<44}{v:.2f}" for p, v in stats.percentiles if p != 50.0]
    errors = sorted({r.error.splitlines()[0][:120] for r in run.records if not r.success and r.error})
    if errors:
        lines.append("{:-^60}".format(" Errors (distinct) "))
        lines += errors[:5]
    replicas = format_replica_load(replica_load(run.server_samples))
    if replicas:  # a data-parallel server: each engine's share, from /metrics' engine labels
        lines += ["{:-^60}".format(" Per-replica load (/metrics engine label) "), replicas]
    lines.append("=" * 60)
    return "\n".join(lines)
