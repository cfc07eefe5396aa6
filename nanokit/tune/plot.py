"""The tune's Pareto chart: every measured point (output tok/s against median TPOT), filling in as the tune runs.

It is a `nanokit.plots.ParetoFigure` (two traces: the runs and their front) with the chosen setting marked by an
annotation, which leaves the traces as ParetoFigure keeps them; pass `add_point` as the tune's on_point
callback. The figure is a FigureWidget updated in place, never rebuilt per point.
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

    def add_point(self, point: dict[str, Any]) -> None:
        """One tune point (the dict `tune` hands on_point), labelled trial.rung and client concurrency."""
        metrics = point["metrics"]
        label = f"t{point['trial']}.{point['rung']} c={point['concurrency']}"
        self.pareto.add_point(metrics["median_tpot_ms"], metrics["output_throughput"], label)

    def mark_chosen(self, chosen: dict[str, Any] | None) -> None:
        """Point an arrow at the chosen run (the tune's `chosen`); None clears it."""
        if chosen is None:
            self.figure.layout.annotations = ()
            return
        metrics = chosen["metrics"]
        self.figure.layout.annotations = (go.layout.Annotation(
            x=metrics["median_tpot_ms"], y=metrics["output_throughput"], text=f"chosen: c={chosen['concurrency']}",
            showarrow=True, arrowhead=2, ax=40, ay=-40, font={"color": "#d62728"}),)
