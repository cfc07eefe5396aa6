"""Plotly figures of a trace run: pass rate per problem (bars, with the attempt counts in the hover)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from nanokit.traces.dataset import ProblemStats, mean_pass_at

NVIDIA_GREEN = "#76b900"  # the colour nanokit/plots.py uses for the main series


def pass_rate_figure(stats: Sequence[ProblemStats], *, title: str = "Pass rate per problem",
                     height: int = 420) -> go.Figure:
    """One bar per problem (share of judged attempts a verifier passed); the mean as a dashed line."""
    ids = [s.problem_id for s in stats]
    rates = [s.pass_rate if s.pass_rate is not None else 0.0 for s in stats]
    text = [f"{s.passed}/{s.judged}" + (f" · {s.errors} errors" if s.errors else "") for s in stats]
    fig = go.Figure(go.Bar(x=ids, y=rates, text=text, textposition="outside", marker={"color": NVIDIA_GREEN},
                           hovertemplate="%{x}<br>pass rate %{y:.0%}<br>%{text}<extra></extra>",
                           name="pass rate"))
    mean = mean_pass_at(stats, 1)
    if mean is not None:
        fig.add_hline(y=mean, line_dash="dash", annotation_text=f"mean pass@1 {mean:.0%}")
    fig.update_layout(title=title, height=height, yaxis={"range": [0, 1.1], "tickformat": ".0%",
                      "title": "pass rate"}, xaxis={"title": "problem"}, margin={"t": 60, "b": 60, "l": 60, "r": 20})
    return fig
