"""ServerPanel driven headlessly: buttons, status and errors shown in the panel."""

from __future__ import annotations

import socket
import time

from nanokit import VLLMServer
from widgets.server_panel import ServerPanel


def test_new_panel_shows_not_started_and_only_start_enabled():
    panel = ServerPanel(VLLMServer("/nowhere"))
    assert "not started" in panel.status.value
    assert not panel.start_button.disabled and panel.stop_button.disabled


def test_failed_start_is_shown_in_the_panel_and_buttons_come_back(tmp_path):
    panel = ServerPanel(VLLMServer(tmp_path / "missing"))
    panel.start_button.click()  # runs in a background thread
    deadline = time.monotonic() + 10
    while "does not exist" not in panel.message.value and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "does not exist" in panel.message.value
    assert "failed" in panel.status.value
    assert not panel.start_button.disabled


def test_attach_without_url_names_the_fix():
    panel = ServerPanel(VLLMServer("/nowhere"))
    panel.attach_button.click()
    assert "base URL" in panel.message.value


def test_attach_to_dead_url_reports_it():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    panel = ServerPanel(VLLMServer("/nowhere"))
    panel.attach_url.value = f"http://127.0.0.1:{port}/v1"
    panel.attach_button.click()
    assert "Cannot reach" in panel.message.value
    assert panel.endpoint is None


def test_stop_while_starting_cancels_and_brings_start_back(never_healthy_vllm):
    model, env = never_healthy_vllm
    panel = ServerPanel(VLLMServer(model, env=env))
    panel.start_button.click()
    assert panel.start_button.disabled and not panel.stop_button.disabled  # Stop is the way out of a slow start
    deadline = time.monotonic() + 20
    while "loading weights" not in panel.server.log_tail() and time.monotonic() < deadline:
        time.sleep(0.05)
    panel.stop_button.click()
    deadline = time.monotonic() + 10
    while panel.start_button.disabled and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not panel.start_button.disabled and panel.stop_button.disabled
    assert "stopped" in panel.status.value
    assert panel.server.pid is None and panel.endpoint is None


def test_launch_serves_the_spec_with_a_new_server(monkeypatch):
    from nanokit import LaunchSpec

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the hub id is not in the cache: the start fails at once, offline
    first = VLLMServer("/nowhere")
    panel = ServerPanel(first)
    assert panel.launch(LaunchSpec(context=8192, concurrency=16))
    server = panel.server
    assert server is not first and server.model == LaunchSpec().model_id and server.max_model_len == 8192
    argv = server.command()
    assert argv[argv.index("--max-num-seqs") + 1] == "16"
    deadline = time.monotonic() + 20
    while "offline" not in panel.message.value and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "not in the local Hugging Face cache" in panel.message.value and "failed" in panel.status.value
    assert not panel.start_button.disabled and panel.endpoint is None


def test_launch_is_refused_while_a_server_starts(never_healthy_vllm):
    from nanokit import LaunchSpec

    model, env = never_healthy_vllm
    panel = ServerPanel(VLLMServer(model, env=env))
    panel.start_button.click()
    running = panel.server
    assert not panel.launch(LaunchSpec())
    assert panel.server is running and "already running" in panel.message.value
    assert "starting" in panel.status.value  # refusing leaves the start alone
    panel.stop_button.click()
    deadline = time.monotonic() + 10
    while panel.start_button.disabled and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running.pid is None


def test_timeline_bar_has_one_segment_per_present_phase_and_names_the_absent():
    from pathlib import Path

    from nanokit import parse_startup_timeline
    from widgets.server_panel import timeline_html

    log = Path(__file__).parent / "data" / "vllm_logs" / "cpu-0.32" / "embedded-cold.log"
    timeline = parse_startup_timeline(log.read_text(encoding="utf-8"))
    bar = timeline_html(timeline)
    assert bar.count("class='nanokit-phase'") == len(timeline.present) == 6
    assert "data-phase='compile'" in bar and "data-phase='cuda_graphs'" not in bar
    assert "not in the log: CUDA graphs" in bar and "compile cache: miss" in bar
    assert timeline_html(parse_startup_timeline("")) == ""
