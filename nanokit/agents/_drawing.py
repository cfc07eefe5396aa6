"""Pictures of an agent graph that need no network: Mermaid text and a plotly figure of nodes and edges.

LangGraph's PNG rendering calls the mermaid.ink web service; these do not.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import plotly.graph_objects as go
from langgraph.graph.state import CompiledStateGraph


@dataclass(frozen=True)
class GraphLayout:
    """Node positions (layer, slot) from the start node downwards, and the edges (source, target, conditional)."""

    positions: dict[str, tuple[float, float]]
    edges: tuple[tuple[str, str, bool], ...]


def mermaid(agent: CompiledStateGraph) -> str:
    """LangGraph's own Mermaid description of the graph (paste it into any Mermaid viewer)."""
    return agent.get_graph().draw_mermaid()


def graph_layout(agent: CompiledStateGraph) -> GraphLayout:
    """Layers by shortest distance from `__start__`; `__end__` always last; nodes in a layer side by side."""
    graph = agent.get_graph()
    edges = tuple((e.source, e.target, bool(e.conditional)) for e in graph.edges)
    children: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for source, target, _ in edges:
        children[source].append(target)
    first = graph.first_node()
    depth: dict[str, int] = {first.id: 0} if first else {}
    queue = deque(depth)
    while queue:
        node = queue.popleft()
        for child in children[node]:
            if child not in depth:
                depth[child] = depth[node] + 1
                queue.append(child)
    last = graph.last_node()
    bottom = max(depth.values(), default=0) + 1
    for node in graph.nodes:
        depth.setdefault(node, bottom - 1)
    if last is not None:
        depth[last.id] = bottom
    layers: dict[int, list[str]] = {}
    for node in graph.nodes:
        layers.setdefault(depth[node], []).append(node)
    positions = {
        node: (slot - (len(members) - 1) / 2, -layer)
        for layer, members in layers.items() for slot, node in enumerate(members)
    }
    return GraphLayout(positions=positions, edges=edges)


def graph_figure(agent: CompiledStateGraph) -> go.Figure:
    """A plotly drawing of the graph: solid edges always run, dotted ones are the model's choice."""
    layout = graph_layout(agent)
    figure = go.Figure()
    for style, conditional in (("solid", False), ("dot", True)):
        xs: list[float | None] = []
        ys: list[float | None] = []
        for source, target, cond in layout.edges:
            if cond == conditional:
                (x0, y0), (x1, y1) = layout.positions[source], layout.positions[target]
                xs += [x0, x1, None]
                ys += [y0, y1, None]
        figure.add_scatter(x=xs, y=ys, mode="lines", hoverinfo="skip", showlegend=False,
                           line={"dash": style, "color": "#888", "width": 1.5})
    names = list(layout.positions)
    figure.add_scatter(
        x=[layout.positions[n][0] for n in names], y=[layout.positions[n][1] for n in names],
        mode="markers+text", text=names, textposition="middle right", hoverinfo="text", showlegend=False,
        marker={"size": 22, "color": ["#76b900" if n.startswith("__") else "#d9d2ff" for n in names],
                "line": {"width": 1, "color": "#333"}},
    )
    figure.update_layout(height=110 + 70 * (1 + max((-y for _, y in layout.positions.values()), default=0)),
                         margin={"l": 10, "r": 10, "t": 10, "b": 10}, plot_bgcolor="white",
                         xaxis={"visible": False}, yaxis={"visible": False})
    return figure
