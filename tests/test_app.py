"""The app object, headless: tabs, placeholders, endpoint hand-over, failure isolation; `nanokit app` wiring."""

from __future__ import annotations

import time

import ipywidgets as W
import pytest

from nanokit import Endpoint, NanokitError
from widgets.app import TAB_TITLES, EndpointTab, NanokitApp


class FakePanel(W.VBox):
    """Stands in for the ServerPanel's public contract (endpoint, on_change, launch) without a server."""

    def __init__(self) -> None:
        super().__init__()
        self.endpoint = None
        self.callbacks = []
        self.launched = []

    def on_change(self, callback) -> None:
        self.callbacks.append(callback)

    def launch(self, spec) -> bool:
        self.launched.append(spec)
        return True

    def announce(self, endpoint) -> None:
        self.endpoint = endpoint
        for callback in self.callbacks:
            callback(endpoint)


@pytest.fixture
def endpoint() -> Endpoint:
    return Endpoint("http://127.0.0.1:9/v1", model_name="tiny")


def make_app(factories=None) -> tuple[NanokitApp, FakePanel]:
    panel = FakePanel()
    return NanokitApp(panel=panel, factories=factories), panel


def test_the_app_has_six_tabs_in_order_and_a_header():
    app = NanokitApp()
    assert app.tabs.titles == TAB_TITLES
    assert "nanokit" in app.header.value
    assert "nanokit-app" in app._dom_classes
    assert app.server_panel.server.state.value == "new"  # nothing starts until the user asks
    assert app.tab_for("Generate").spec is not None  # the command generator renders a command at once


def test_endpoint_tabs_wait_with_a_sentence_until_a_server_runs(endpoint):
    built = []
    app, panel = make_app({t: (lambda e, t=t: built.append((t, e)) or W.Label(t)) for t in TAB_TITLES[2:]})
    for title in TAB_TITLES[2:]:
        assert app.tab_for(title) is None
        assert "Server" in app.endpoint_tabs[title].children[0].value
    panel.announce(endpoint)
    assert [t for t, _ in built] == list(TAB_TITLES[2:])
    assert all(e is endpoint for _, e in built)
    assert app.tab_for("Chat").value == "Chat"
    assert "127.0.0.1:9" in app.endpoint_line.value
    panel.announce(endpoint)  # the same endpoint again: nothing is rebuilt
    assert len(built) == 4
    panel.announce(None)
    assert app.tab_for("Throughput") is None
    assert "stopped" in app.endpoint_tabs["Throughput"].children[0].value


def test_a_tab_that_fails_to_build_says_why_and_the_others_still_work(endpoint):
    def broken(_):
        raise NanokitError("The tool view needs a server with --enable-auto-tool-choice.")

    def buggy(_):
        raise KeyError("reasoning_pane")

    app, panel = make_app({"Tools": broken, "Chat": buggy, "Agents": lambda e: W.Label("ok"),
                           "Throughput": lambda e: W.Label("ok")})
    panel.announce(endpoint)
    assert "--enable-auto-tool-choice" in app.endpoint_tabs["Tools"].children[0].value
    chat = app.endpoint_tabs["Chat"].children[0].value
    assert "The Chat tab is unavailable" in chat and "Traceback" in chat and "reasoning_pane" in chat
    assert app.tab_for("Agents").value == "ok"


@pytest.mark.parametrize("title, view, part, css_class", [
    ("Chat", "ChatPanel", "send_button", "nanokit-chat-send"),
    ("Tools", "ToolTrace", "run_button", "nanokit-tools-run"),
    ("Agents", "AgentTrace", "run_button", "nanokit-agents-run"),
    ("Throughput", "ThroughputDashboard", "run_button", "nanokit-bench-run"),
])
def test_the_real_views_build_against_an_endpoint_with_stable_classes(endpoint, title, view, part, css_class):
    from widgets.app import _ENDPOINT_TABS

    tab = EndpointTab(title, _ENDPOINT_TABS[title])
    tab.set_endpoint(endpoint)  # building must not contact the server (it is not there)
    assert type(tab.content).__name__ == view, tab.children[0]
    if css_class:
        assert css_class in getattr(tab.content, part)._dom_classes


def test_launch_here_hands_the_spec_to_the_server_tab():
    from nanokit.launch import LaunchSpec

    app, panel = make_app()
    app.select("Chat")
    spec = LaunchSpec(context=8192)
    app.launch_spec(spec)
    assert panel.launched == [spec]
    assert app.tabs.selected_index == TAB_TITLES.index("Server")


def test_launch_here_goes_through_the_real_panel(monkeypatch):
    """The app's own ServerPanel: launch_spec replaces its server with the spec's and starts it."""
    from nanokit.launch import LaunchSpec

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the hub id is not in the cache: the start fails at once, offline
    app = NanokitApp()
    app.launch_spec(LaunchSpec(context=8192))
    server = app.server_panel.server
    assert server.model == LaunchSpec().model_id and server.max_model_len == 8192
    assert app.tabs.selected_index == TAB_TITLES.index("Server")
    deadline = time.monotonic() + 20
    while "offline" not in app.server_panel.message.value and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "not in the local Hugging Face cache" in app.server_panel.message.value
    assert app.tab_for("Chat") is None  # nothing started, so the endpoint tabs still wait


def test_nanokit_app_serves_the_repository_notebook_on_loopback():
    from nanokit.cli.webapp import app_notebook, voila_argv

    notebook = app_notebook()
    assert notebook.name == "app.ipynb" and notebook.is_file()
    argv = voila_argv(notebook, 8899)
    assert argv[1:3] == ["-m", "voila"] and "--Voila.ip=127.0.0.1" in argv and "--port=8899" in argv


def test_nanokit_app_says_so_when_the_port_is_taken():
    import socket

    from typer.testing import CliRunner

    from nanokit.cli import app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        result = CliRunner().invoke(app, ["app", "--port", str(sock.getsockname()[1]), "--no-browser"])
    assert result.exit_code == 1
    assert "already in use" in result.output


def test_the_app_notebook_only_displays_the_app():
    import nbformat

    from nanokit.cli.webapp import app_notebook

    notebook = nbformat.read(app_notebook(), as_version=4)
    code = [c.source for c in notebook.cells if c.cell_type == "code"]
    assert len(code) == 1 and code[0].strip().endswith("NanokitApp()")
