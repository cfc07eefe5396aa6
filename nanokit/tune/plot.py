"""The tune's Pareto chart: every measured point (output tok/s against median TPOT), filling in as the tune runs.

It is a `nanokit.plots.ParetoFigure` with one more trace, a star on the chosen setting; pass `add_point` as the
tune's on_point callback. The figure is a FigureWidget updated in place, never rebuilt per point.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from nanokit.plots import ParetoFigure

__all__ = ["TuneFigure"]


class TuneFigure:
    def __init__(self, *, title: str = "Tune: throughput vs latency, one point per run", height: int = 420) -> None:
        self.pareto = ParetoFigure(title=title, height=height)
        self.figure = self.pareto.figure
        self.figure.add_trace(go.Scatter(name="chosen", mode="markers",
                                         marker={"symbol": "star", "size": 18, "color": "#d62728"}))

    def add_point(self, point: dict[str, Any]) -> None:
        """One tune point (the dict `tune` hands on_point), labelled trial.rung and client concurrency."""
        metrics = point["metrics"]
        label = f"t{point['trial']}.{point['rung']} c={point['concurrency']}"
        self.pareto.add_point(metrics["median_tpot_ms"], metrics["output_throughput"], label)

    def mark_chosen(self, chosen: dict[str, Any] | None) -> None:
        star = self.figure.data[2]
        if chosen is None:
            star.x, star.y = [], []
            return
        star.x, star.y = [chosen["metrics"]["median_tpot_ms"]], [chosen["metrics"]["output_throughput"]]
