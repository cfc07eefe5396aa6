"""ThroughputDashboard: run a benchmark or a concurrency sweep against a server and watch it fill in live."""

from __future__ import annotations

import html
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import ipywidgets as W

from nanokit import NanokitError
from nanokit.bench import (
    BenchmarkConfig,
    BenchmarkRun,
    LiveFeed,
    WorkloadSpec,
    comparison_rows,
    run_sweep,
    sweep_configs,
)
from nanokit.plots import LiveBenchmarkFigure, ParetoFigure, apply_theme
from nanokit.results_export import SavedResults, save_results

_WRAP = W.Layout(flex_flow="row wrap", align_items="center")  # controls flow onto a second line on a narrow page


def rows_html(rows: list[dict]) -> str:
    if not rows:
        return ""
    head = "".join(f"<th style='padding:2px 8px'>{html.escape(str(k))}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(f"<td style='padding:2px 8px;text-align:right'>{html.escape(str(v))}</td>"
                                    for v in row.values()) + "</tr>" for row in rows)
    return f"<table style='font-family:monospace;font-size:12px'><tr>{head}</tr>{body}</table>"


class ThroughputDashboard(W.VBox):
    """Controls, a live six-panel figure, a Pareto chart for sweeps and a table of every run so far.

    `endpoint` is an `Endpoint` or anything that has one (a VLLMServer).
    `dash.run()` and `dash.sweep([1, 4, 16])` do from code what the buttons do and return the runs.
    """

    def __init__(self, endpoint, *, num_prompts: int = 32, input_len: int = 128, output_len: int = 128,
                 concurrency: int = 8, sweep: str = "1,4,16", interval: float = 0.5,
                 save_to: str = "~/nanokit-results") -> None:
        self.endpoint = endpoint
        self.interval = interval
        self.runs: list[BenchmarkRun] = []
        style = {"description_width": "initial"}
        self.num_prompts = W.BoundedIntText(value=num_prompts, min=1, max=100_000, description="prompts", style=style)
        self.input_len = W.BoundedIntText(value=input_len, min=1, max=1_000_000, description="input len", style=style)
        self.output_len = W.BoundedIntText(value=output_len, min=1, max=1_000_000, description="output len",
                                           style=style)
        self.concurrency = W.BoundedIntText(value=concurrency, min=1, max=100_000, description="concurrency",
                                            style=style)
        self.dataset = W.Dropdown(options=["random", "chat"], value="random", description="prompts from",
                                  style=style)
        self.sweep_points = W.Text(value=sweep, description="sweep", style=style, layout=W.Layout(width="180px"))
        self.run_button = W.Button(description="Run", button_style="primary", icon="play")
        self.sweep_button = W.Button(description="Sweep", icon="line-chart")
        self.save_folder = W.Text(value=save_to, description="save to", style=style, layout=W.Layout(width="220px"),
                                  tooltip="Each save makes a new dated folder inside this one")
        self.save_button = W.Button(description="Save results", icon="save", disabled=True)
        self.saved = W.HTML()
        self.status = W.HTML()
        self.live = LiveBenchmarkFigure(title="Live run")
        self.pareto = ParetoFigure()
        self.table = W.HTML()
        self.errors = W.Output()
        self.run_button.on_click(lambda _: self.run())
        self.sweep_button.on_click(lambda _: self.sweep())
        self.save_button.on_click(lambda _: self.save())
        for box in (self.num_prompts, self.input_len, self.output_len, self.concurrency):
            box.layout = W.Layout(width="170px")
        super().__init__(children=[
            W.HBox([self.dataset, self.num_prompts, self.input_len, self.output_len], layout=_WRAP),
            W.HBox([self.concurrency, self.run_button, self.sweep_points, self.sweep_button], layout=_WRAP),
            self.status, self.live.figure, self.pareto.figure, self.table,
            W.HBox([self.save_folder, self.save_button, self.saved], layout=_WRAP), self.errors,
        ])

    def config(self) -> BenchmarkConfig:
        """The run the controls describe."""
        workload = WorkloadSpec(kind=self.dataset.value, num_prompts=self.num_prompts.value,
                                input_len=self.input_len.value, output_len=self.output_len.value)
        return BenchmarkConfig.against(self.endpoint, workload=workload, max_concurrency=self.concurrency.value,
                                       num_warmups=1, label=f"c={self.concurrency.value}")

    @contextmanager
    def _watch(self, config: BenchmarkConfig):
        """Follow one run's feed on the live figure; stop following when it ends, also when it fails."""
        self.status.value = f"<b>running {html.escape(config.label)}</b> …"
        feed = LiveFeed()
        self.live.follow(feed, interval=self.interval)
        try:
            yield feed
        finally:
            self.live.stop()
        self.live.update(feed.snapshot())  # the last partial tick

    def _execute(self, configs: list[BenchmarkConfig]) -> list[BenchmarkRun]:
        done: list[BenchmarkRun] = []

        def add(run: BenchmarkRun) -> None:
            done.append(run)
            self.runs.append(run)
            self.pareto.add_run(run)
            self.table.value = rows_html(comparison_rows(self.runs))
            self.save_button.disabled = False

        self.run_button.disabled = self.sweep_button.disabled = True
        try:
            with self.errors:
                try:
                    run_sweep(configs, watch=self._watch, on_run=add)
                    self.status.value = f"finished {len(done)} run(s)."
                except NanokitError as exc:
                    self.status.value = f"<span style='color:#b91c1c'>{html.escape(str(exc))}</span>"
        finally:
            self.run_button.disabled = self.sweep_button.disabled = False
        return done

    def run(self, **overrides) -> BenchmarkRun | None:
        """One run with the controls' settings (keyword overrides replace BenchmarkConfig fields)."""
        runs = self._execute([replace(self.config(), **overrides)])
        return runs[0] if runs else None

    def sweep(self, concurrencies: list[int] | None = None) -> list[BenchmarkRun]:
        """One run per concurrency (default: the sweep box), each added to the Pareto chart as it finishes."""
        if concurrencies is None:
            try:
                concurrencies = [int(x) for x in self.sweep_points.value.split(",") if x.strip()]
            except ValueError:
                self.status.value = "<span style='color:#b91c1c'>The sweep box takes numbers like 1,4,16.</span>"
                return []
        return self._execute(sweep_configs(self.config(), concurrencies=concurrencies))

    def save(self, folder: str | Path | None = None) -> SavedResults | None:
        """Records and summary (JSON, CSV) and the two figures (HTML, PNG with kaleido) in a new dated folder."""
        target = Path(folder) if folder is not None else Path(self.save_folder.value).expanduser() / time.strftime(
            "dashboard-%Y%m%d-%H%M%S")
        try:
            saved = save_results(target, self.runs, {"live": self.live.figure, "pareto": self.pareto.figure})
        except (NanokitError, OSError) as exc:
            self.saved.value = f"<span style='color:#b91c1c'>{html.escape(str(exc))}</span>"
            return None
        self.saved.value = f"<small>{html.escape(saved.describe())}</small>"
        return saved

    def set_theme(self, dark: bool) -> None:
        """Follow the page's light or dark theme (the app calls this from its PageTheme probe)."""
        apply_theme([self.live.figure, self.pareto.figure], dark=dark)

    def set_width(self, page_px: int) -> None:
        """Size the plots to the page: a plot drawn in a hidden tab cannot measure its container itself."""
        if page_px <= 0:
            return
        width = max(page_px - 60, 720)  # the tab's border and padding; three panels a row need ~720 px
        with self.live.figure.batch_update():
            self.live.figure.layout.width = width
        with self.pareto.figure.batch_update():
            self.pareto.figure.layout.width = min(width, 900)  # one chart: wider reads no better
