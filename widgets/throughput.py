"""ThroughputDashboard: run a benchmark or a concurrency sweep against a server and watch it fill in live."""

from __future__ import annotations

import html
from contextlib import contextmanager
from dataclasses import replace

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
from nanokit.plots import LiveBenchmarkFigure, ParetoFigure


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
                 concurrency: int = 8, sweep: str = "1,4,16", interval: float = 0.5) -> None:
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
        self.status = W.HTML()
        self.live = LiveBenchmarkFigure(title="Live run")
        self.pareto = ParetoFigure()
        self.table = W.HTML()
        self.errors = W.Output()
        self.run_button.on_click(lambda _: self.run())
        self.sweep_button.on_click(lambda _: self.sweep())
        for box in (self.num_prompts, self.input_len, self.output_len, self.concurrency):
            box.layout = W.Layout(width="170px")
        super().__init__(children=[
            W.HBox([self.dataset, self.num_prompts, self.input_len, self.output_len]),
            W.HBox([self.concurrency, self.run_button, self.sweep_points, self.sweep_button]),
            self.status, self.live.figure, self.pareto.figure, self.table, self.errors,
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
