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
