"""ThroughputDashboard without a server: controls map to a config, errors land in the status line."""

from __future__ import annotations

from nanokit import Endpoint
from widgets.throughput import ThroughputDashboard


def Unreachable() -> Endpoint:
    return Endpoint("http://127.0.0.1:9/v1", model_name="tiny")


def test_controls_describe_the_run():
    dash = ThroughputDashboard(Unreachable(), num_prompts=5, input_len=10, output_len=7, concurrency=3)
    dash.dataset.value = "chat"
    config = dash.config()
    assert (config.workload.kind, config.workload.num_prompts, config.workload.output_len) == ("chat", 5, 7)
    assert config.max_concurrency == 3 and config.label == "c=3" and config.model == "tiny"


def test_unreachable_server_shows_one_sentence_and_reenables_buttons():
    dash = ThroughputDashboard(Unreachable())
    dash.run_button.click()
    assert "Cannot reach" in dash.status.value
    assert not dash.run_button.disabled and dash.runs == []


def test_bad_sweep_text_is_reported():
    dash = ThroughputDashboard(Unreachable())
    dash.sweep_points.value = "1,x"
    assert dash.sweep() == [] and "numbers like 1,4,16" in dash.status.value


def fake_run(label: str, *, reasoning: bool):
    from nanokit.bench import BenchmarkConfig, BenchmarkRun
    from nanokit.bench.metrics import calculate_metrics
    from nanokit.bench.records import RequestRecord

    records = [RequestRecord(success=True, start_time=100.0 + i, ttft=0.05, ttfr=0.05 if reasoning else None, ttfa=0.08 if reasoning else None,
                             itl=(0.01, 0.02), latency=0.3, prompt_tokens=10, output_tokens=3) for i in range(3)]
    config = BenchmarkConfig.against(Unreachable(), label=label)
    return BenchmarkRun(config=config, model="tiny", records=tuple(records), duration=3.0,
                        metrics=calculate_metrics(records, 3.0), origin=100.0)


def test_save_writes_records_summary_and_figures(tmp_path):
    dash = ThroughputDashboard(Unreachable())
    assert dash.save_button.disabled  # nothing measured yet
    assert dash.save(tmp_path / "none") is None and "no finished runs" in dash.saved.value
    for run in (fake_run("c=1", reasoning=False), fake_run("c=4", reasoning=False)):
        dash.runs.append(run)
        dash.pareto.add_run(run)
    saved = dash.save(tmp_path / "out")
    names = {p.name for p in saved.files}
    assert {"runs.json", "summary.csv", "records.csv", "live.html", "pareto.html"} <= names
    records = (tmp_path / "out" / "records.csv").read_text().splitlines()
    assert records[0].startswith("run,success") and len(records) == 1 + 6 and records[1].startswith("c=1,True")
    assert "c=4" in (tmp_path / "out" / "summary.csv").read_text()
    assert "plotly" in (tmp_path / "out" / "pareto.html").read_text()
    assert "Saved runs.json" in dash.saved.value


def test_empty_panels_say_why_and_the_pareto_axes_start_at_zero():
    dash = ThroughputDashboard(Unreachable())
    dash.live.show_run(fake_run("c=1", reasoning=False))
    notes = [a.text for a in dash.live.figure.layout.annotations]
    assert any("No reasoning timings" in t for t in notes) and any("/metrics" in t for t in notes)
    titles = notes[:6]
    assert all(len(t) <= 24 for t in titles)  # short enough not to run into the next panel's title
    dash.live.show_run(fake_run("c=1", reasoning=True))
    assert not any("No reasoning" in a.text for a in dash.live.figure.layout.annotations)
    layout = dash.pareto.figure.layout
    assert layout.yaxis.rangemode == "tozero" and layout.xaxis.rangemode == "tozero"


def test_theme_switches_the_plot_template():
    dash = ThroughputDashboard(Unreachable())
    dash.set_theme(True)
    dark = dash.live.figure.layout.template.layout.paper_bgcolor
    assert dark == "rgba(0,0,0,0)"
    assert dash.live.figure.layout.template.layout.plot_bgcolor == "rgba(0,0,0,0)"
    assert dash.pareto.figure.layout.template.layout.font.color == "#f2f5fa"  # plotly_dark's text colour


def test_plots_take_the_page_width():
    dash = ThroughputDashboard(Unreachable())
    dash.set_width(0)  # unknown: plotly's own default stays
    assert dash.live.figure.layout.width is None
    dash.set_width(1400)
    assert dash.live.figure.layout.width == 1340 and dash.pareto.figure.layout.width == 900
    dash.set_width(300)
    assert dash.live.figure.layout.width == 720
