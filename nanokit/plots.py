"""Plotly figures for benchmarks that update in place: the live run dashboard and the sweep's Pareto chart.

`LiveBenchmarkFigure` reads a `LiveFeed` on its own timer (`follow`, a daemon thread) and changes its
`FigureWidget` in one batch per tick; it never runs inside the request loop. Distributions are binned here and
sent as bars, so a tick costs the same whether the run has a hundred gaps or a million.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from nanokit.bench.feed import FeedSnapshot, LiveFeed
from nanokit.bench.metrics import timeline
from nanokit.bench.records import RequestRecord
from nanokit.bench.runner import BenchmarkRun
from nanokit.bench.server_view import ServerSample
from nanokit.bench.sweep import pareto_front

RATE_WINDOW_S = 1.0  # output tokens/s is averaged over the last second of chunks

# One colour per quantity, the same in the live panels and the sweep chart (NVIDIA green for output tokens/s).
COLOURS = {"out tok/s": "#76b900", "client in flight": "#3b82f6", "server running": "#8b5cf6",
           "server waiting": "#f59e0b", "KV cache %": "#ef4444", "GPU util %": "#14b8a6", "TTFT": "#3b82f6",
           "ITL": "#8b5cf6", "first reasoning (TTFR)": "#f59e0b", "first answer (TTFA)": "#76b900", "Pareto front": "#9ca3af"}
PANEL_TITLES = ("output tokens/s", "requests in flight", "KV cache, GPU util (%)",
                "TTFT (ms)", "ITL (ms)", "TTFR / TTFA (ms)")
# Where the empty-panel notes go: the panel's axes, and what the reader is told when it has nothing to show.
_NOTES = {"reasoning": ("x6", "y6", "No reasoning timings:<br>the completions endpoint<br>or thinking off"),
          "server": ("x3", "y3", "No /metrics samples<br>from the server")}
_AXES = {"reasoning": ("xaxis6", "yaxis6"), "server": ("xaxis3", "yaxis3")}


def theme_template(dark: bool) -> go.layout.Template:
    """Plotly's dark or white template with transparent backgrounds, so a figure sits on the page's own colour."""
    import plotly.io as pio

    template = go.layout.Template(pio.templates["plotly_dark" if dark else "plotly_white"])
    template.layout.paper_bgcolor = template.layout.plot_bgcolor = "rgba(0,0,0,0)"
    return template


def apply_theme(figures: Sequence[go.Figure], *, dark: bool) -> None:
    """Switch figures to the page's theme (what `widgets.page_theme.PageTheme` reports)."""
    for figure in figures:
        figure.layout.template = theme_template(dark)

# Trace order in the live figure (indices into fig.data).
OUT_RATE, IN_FLIGHT, RUNNING, WAITING, KV_CACHE, GPU_UTIL, TTFT_HIST, ITL_HIST, TTFR_HIST, TTFA_HIST = range(10)


def _histogram(values_ms: Sequence[float], bins: int = 40) -> tuple[list[float], list[int], float]:
    if not values_ms:
        return [], [], 1.0
    values = np.asarray(values_ms)
    hi = float(np.percentile(values, 99.5)) if len(values) > 20 else float(values.max())
    counts, edges = np.histogram(np.clip(values, 0, hi), bins=bins, range=(0, hi if hi > 0 else 1.0))
    width = float(edges[1] - edges[0])
    return ((edges[:-1] + edges[1:]) / 2).tolist(), counts.tolist(), width


class LiveBenchmarkFigure:
    """Six panels: out tok/s, requests in flight (client and server), KV cache and GPU, TTFT, ITL, TTFR/TTFA."""

    def __init__(self, *, title: str = "Benchmark", height: int = 680, dark: bool = False) -> None:
        # No fixed width: the figure fills its container, so it follows the page width; short panel titles
        # and wide gaps keep neighbouring titles apart down to ~700 px.
        fig = make_subplots(rows=2, cols=3, horizontal_spacing=0.09, vertical_spacing=0.2,
                            subplot_titles=PANEL_TITLES)
        add = fig.add_trace
        add(go.Scatter(name="out tok/s", mode="lines", line={"color": COLOURS["out tok/s"]}), row=1, col=1)
        add(go.Scatter(name="client in flight", mode="lines", line={"shape": "hv", "color": COLOURS["client in flight"]}),
            row=1, col=2)
        add(go.Scatter(name="server running", mode="lines", line={"dash": "dot", "color": COLOURS["server running"]}),
            row=1, col=2)
        add(go.Scatter(name="server waiting", mode="lines", line={"dash": "dash", "color": COLOURS["server waiting"]}),
            row=1, col=2)
        add(go.Scatter(name="KV cache %", mode="lines", line={"color": COLOURS["KV cache %"]}), row=1, col=3)
        add(go.Scatter(name="GPU util %", mode="lines", line={"color": COLOURS["GPU util %"]}), row=1, col=3)
        for name, col, row in (("TTFT", 1, 2), ("ITL", 2, 2), ("first reasoning (TTFR)", 3, 2), ("first answer (TTFA)", 3, 2)):
            add(go.Bar(name=name, opacity=0.75, marker={"color": COLOURS[name]}), row=row, col=col)
        fig.update_layout(title=title, height=height, barmode="overlay", margin={"t": 80, "b": 50, "l": 55, "r": 20},
                          legend={"orientation": "h", "y": -0.1}, template=theme_template(dark))
        fig.update_annotations(font_size=13)
        for col in (1, 2, 3):
            fig.update_xaxes(title_text="time (s)", row=1, col=col)
            fig.update_yaxes(rangemode="tozero", row=1, col=col)
            fig.update_yaxes(title_text="requests", rangemode="tozero", row=2, col=col)
        fig.update_yaxes(range=[0, 100], row=1, col=3)
        self._titles = tuple(fig.layout.annotations)
        self.figure = go.FigureWidget(fig)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.reset()

    # --- state ---
    def reset(self) -> None:
        self._t: list[float] = []
        self._rate: list[float] = []
        self._inflight: list[int] = []
        self._history: list[tuple[float, int]] = []
        self._server: list[ServerSample] = []
        self._origin: float | None = None
        self._ttft: list[float] = []
        self._itl: list[float] = []
        self._ttfr: list[float] = []
        self._ttfa: list[float] = []
        self.ticks = 0
        self.cpu_s = 0.0  # CPU the polling thread spent redrawing (what the dashboard costs the client)
        with self.figure.batch_update():
            for trace in self.figure.data:
                trace.x, trace.y = (), ()

    def _add_records(self, records: Sequence[RequestRecord]) -> None:
        for r in records:
            if r.success:
                self._ttft.append(r.ttft * 1000)
                self._itl.extend(g * 1000 for g in r.itl)
                if r.ttfr is not None:
                    self._ttfr.append(r.ttfr * 1000)
                if r.ttfa is not None:
                    self._ttfa.append(r.ttfa * 1000)

    def update(self, snap: FeedSnapshot) -> None:
        """Fold one feed snapshot in and redraw every panel in one batch."""
        if self._origin is None:
            self._origin = snap.time - snap.elapsed
        self._history.append((snap.time, snap.chunks_total))
        while len(self._history) > 2 and self._history[1][0] <= snap.time - RATE_WINDOW_S:
            self._history.pop(0)
        (t0, c0), (t1, c1) = self._history[0], self._history[-1]
        self._t.append(snap.elapsed)
        self._rate.append((c1 - c0) / (t1 - t0) if t1 > t0 else 0.0)
        self._inflight.append(snap.in_flight)
        self._server.extend(snap.new_server_samples)
        self._add_records(snap.new_records)
        self._draw()
        self.ticks += 1

    def _draw(self) -> None:
        data = self.figure.data
        origin = self._origin or 0.0
        st = [s.time - origin for s in self._server]
        pct = lambda v: None if v is None else 100 * v
        with self.figure.batch_update():
            data[OUT_RATE].x, data[OUT_RATE].y = self._t, self._rate
            data[IN_FLIGHT].x, data[IN_FLIGHT].y = self._t, self._inflight
            data[RUNNING].x, data[RUNNING].y = st, [s.running for s in self._server]
            data[WAITING].x, data[WAITING].y = st, [s.waiting for s in self._server]
            data[KV_CACHE].x, data[KV_CACHE].y = st, [pct(s.kv_cache_usage) for s in self._server]
            data[GPU_UTIL].x, data[GPU_UTIL].y = st, [s.gpu_util for s in self._server]
            for index, values in ((TTFT_HIST, self._ttft), (ITL_HIST, self._itl), (TTFR_HIST, self._ttfr),
                                  (TTFA_HIST, self._ttfa)):
                x, y, width = _histogram(values)
                data[index].x, data[index].y, data[index].width = x, y, width
            self.figure.layout.annotations = self._titles + tuple(self._notes())

    def _notes(self) -> list[dict]:
        """A sentence in each panel that has nothing to show once requests have finished (never an empty grid)."""
        finished = bool(self._ttft)
        empty = {"reasoning": finished and not (self._ttfr or self._ttfa), "server": finished and not self._server}
        for key, names in _AXES.items():  # an empty panel shows its sentence, not an empty grid
            for name in names:
                self.figure.layout[name].visible = not empty[key]
        return [{"text": text, "xref": f"{x} domain", "yref": f"{y} domain", "x": 0.5, "y": 0.5,
                 "showarrow": False, "font": {"size": 12, "color": "#9ca3af"}}
                for key, (x, y, text) in _NOTES.items() if empty[key]]

    def show_run(self, run: BenchmarkRun) -> None:
        """Redraw from a finished run's records: the exact per-second timeline replaces the live samples."""
        self.reset()
        tokens, active = timeline(run.records, origin=run.origin)
        self._origin = run.origin
        self._t = [i + 0.5 for i in range(len(tokens))]
        self._rate, self._inflight = [float(t) for t in tokens], active
        self._server = list(run.server_samples)
        self._add_records(run.records)
        self._draw()

    # --- following a feed on a timer ---
    def follow(self, feed: LiveFeed, *, interval: float = 0.5) -> None:
        """Poll `feed` every `interval` seconds on a daemon thread until the run ends or `stop()` is called."""
        self.stop()
        self.reset()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, args=(feed, interval, self._stop), daemon=True,
                                        name="nanokit-live-plot")
        self._thread.start()

    def _poll(self, feed: LiveFeed, interval: float, stop: threading.Event) -> None:
        while not stop.wait(interval):
            if feed.start is None:
                continue
            cpu = time.thread_time()
            self.update(feed.snapshot())
            self.cpu_s += time.thread_time() - cpu
            if feed.done:
                break

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._thread = None


class ParetoFigure:
    """Output throughput against median TPOT, one point per run, with the Pareto front drawn through them."""

    def __init__(self, *, title: str = "Throughput vs latency", height: int = 420, dark: bool = False) -> None:
        fig = go.Figure()
        fig.add_trace(go.Scatter(name="runs", mode="markers+text", textposition="top center",
                                 marker={"size": 10, "color": COLOURS["out tok/s"]}))
        fig.add_trace(go.Scatter(name="Pareto front", mode="lines",
                                 line={"dash": "dash", "color": COLOURS["Pareto front"]}))
        # Both axes from zero: one run's point would otherwise get an axis a few tokens/s wide (174.5-176).
        fig.update_layout(title=title, height=height, xaxis_title="median TPOT (ms/token, lower is better)",
                          yaxis_title="output tokens/s (higher is better)", template=theme_template(dark),
                          xaxis={"rangemode": "tozero"}, yaxis={"rangemode": "tozero"})
        self.figure = go.FigureWidget(fig)
        self.points: list[tuple[float, float]] = []
        self.labels: list[str] = []

    def add_run(self, run: BenchmarkRun) -> None:
        m = run.metrics
        self.add_point(m.tpot.median, m.output_throughput, run.config.label or f"run {len(self.points) + 1}")

    def add_point(self, latency_ms: float, throughput: float, label: str) -> None:
        self.points.append((latency_ms, throughput))
        self.labels.append(label)
        front = pareto_front(self.points)
        with self.figure.batch_update():
            runs, line = self.figure.data
            runs.x, runs.y, runs.text = [p[0] for p in self.points], [p[1] for p in self.points], self.labels
            line.x, line.y = [self.points[i][0] for i in front], [self.points[i][1] for i in front]

