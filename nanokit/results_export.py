"""Save what a dashboard measured: every run's records and summary as JSON and CSV, the figures as HTML (and PNG).

One folder per save: `runs.json` (each run as `nanokit.bench.results.run_to_dict` writes it, per-request
fields included), `summary.csv` (one row per run: `comparison_rows`' columns), `records.csv` (one row per
request, with its run's label), and `NAME.html` for each figure (self-contained but for plotly.js, which
loads from its CDN). PNGs need kaleido, which nanokit does not install; they are written only when
kaleido is importable, and the result says so when they are not.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import plotly.graph_objects as go

from nanokit.bench.results import comparison_rows, run_to_dict, write_json_atomic
from nanokit.bench.runner import BenchmarkRun
from nanokit.errors import ConfigError

RECORD_COLUMNS = ("run", "success", "error", "start_s", "ttft_ms", "ttfr_ms", "ttfa_ms", "latency_ms",
                  "prompt_tokens", "output_tokens", "itl_count", "median_itl_ms")


@dataclass(frozen=True)
class SavedResults:
    folder: Path
    files: tuple[Path, ...]
    png_skipped: bool  # kaleido is not installed

    def describe(self) -> str:
        names = ", ".join(p.name for p in self.files)
        tail = " (no PNG: kaleido is not installed; pip install kaleido for PNGs)" if self.png_skipped else ""
        return f"Saved {names} in {self.folder}{tail}."


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def _record_rows(runs: Iterable[BenchmarkRun]) -> Iterable[dict]:
    for index, run in enumerate(runs, 1):
        for r in run.records:
            gaps = sorted(r.itl)
            yield {"run": run.config.label or f"run {index}", "success": r.success, "error": r.error,
                   "start_s": round(r.start_time - run.origin, 4), "ttft_ms": _ms(r.ttft), "ttfr_ms": _ms(r.ttfr),
                   "ttfa_ms": _ms(r.ttfa), "latency_ms": _ms(r.latency), "prompt_tokens": r.prompt_tokens,
                   "output_tokens": r.output_tokens, "itl_count": len(gaps),
                   "median_itl_ms": _ms(gaps[len(gaps) // 2]) if gaps else None}


def _write_text(path: Path, text: str) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)  # a reader never sees half a file
    return path


def _csv(rows: list[dict], columns: Iterable[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def save_results(folder: str | os.PathLike, runs: Iterable[BenchmarkRun],
                 figures: Mapping[str, go.Figure] | None = None) -> SavedResults:
    """Write the runs and figures into `folder` (created); a `ConfigError` when there is nothing to save."""
    runs = list(runs)
    if not runs:
        raise ConfigError("There are no finished runs to save yet; press Run (or Sweep) first.")
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    files = [write_json_atomic({"runs": [run_to_dict(run) for run in runs]}, target / "runs.json")]
    summary = comparison_rows(runs)
    files.append(_write_text(target / "summary.csv", _csv(summary, summary[0])))
    files.append(_write_text(target / "records.csv", _csv(list(_record_rows(runs)), RECORD_COLUMNS)))
    png = importlib.util.find_spec("kaleido") is not None
    for name, figure in (figures or {}).items():
        static = go.Figure(figure)  # a FigureWidget's current state, detached from the widget
        files.append(_write_text(target / f"{name}.html", static.to_html(include_plotlyjs="cdn", full_html=True)))
        if png:
            static.write_image(target / f"{name}.png")
            files.append(target / f"{name}.png")
    return SavedResults(target, tuple(files), png_skipped=bool(figures) and not png)
