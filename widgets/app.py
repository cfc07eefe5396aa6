"""NanokitApp: the whole cookbook as one widget (the Voila app): a header and six tabs around one ServerPanel.

Generate needs no server. Server owns the one in-kernel VLLMServer (or an attached endpoint) and tells the
other tabs through `ServerPanel.on_change`; Chat, Tools, Agents and Throughput are built for that endpoint
when it appears and wait with a sentence until then. A tab that fails to build says so in its own place; the
rest of the app keeps working. "Launch here" in Generate goes to the Server tab's `ServerPanel.launch(spec)`. An invisible `PageTheme`
reports the page's light or dark theme; the Throughput plots follow it.
"""

from __future__ import annotations

import html
import threading
import traceback
from collections.abc import Callable

import ipywidgets as W

from nanokit import Endpoint, LaunchSpec, NanokitError, VLLMServer
from widgets.chat_panel import ChatPanel
from widgets.command_generator import CommandGenerator
from widgets.page_widgets import PageTheme
from widgets.server_panel import ServerPanel
from widgets.throughput import ThroughputDashboard
from widgets.tool_trace import ToolTrace

__all__ = ["TAB_TITLES", "EndpointTab", "NanokitApp"]

TAB_TITLES = ("Generate", "Server", "Chat", "Tools", "Agents", "Throughput")
_WAITING = "Start the server (or attach to one) in the <b>Server</b> tab; this tab fills in once it is running."
_STOPPED = "The server stopped. Start it again (or attach to another) in the <b>Server</b> tab."


def _notice(text: str, color: str = "var(--jp-ui-font-color1,#374151)") -> W.HTML:
    return W.HTML(f"<div class='nanokit-notice' style='color:{color};padding:12px 4px'>{text}</div>")


def _failure(what: str, exc: BaseException) -> W.HTML:
    """A tab's failure, shown in the tab: a sentence for nanokit errors, the traceback for anything else."""
    if isinstance(exc, NanokitError):
        detail = html.escape(str(exc))
    else:
        detail = html.escape("".join(traceback.format_exception(exc)))
    return W.HTML(f"<div class='nanokit-error' style='color:#b91c1c'><b>{html.escape(what)} is unavailable.</b>"
                  f"<pre style='white-space:pre-wrap'>{detail}</pre></div>")


class EndpointTab(W.VBox):
    """A tab whose content is built from the current endpoint by `factory(endpoint)`.

    Until an endpoint exists it shows a sentence saying where to start one; a new endpoint rebuilds the
    content (a chat about one server makes no sense on another); a stopped server brings the sentence back.
    """

    def __init__(self, title: str, factory: Callable[[Endpoint], W.Widget]) -> None:
        self.title = title
        self.factory = factory
        self.endpoint: Endpoint | None = None
        self.content: W.Widget | None = None
        self._lock = threading.Lock()
        super().__init__(children=[_notice(_WAITING)])
        self.add_class("nanokit-tab")

    def set_endpoint(self, endpoint: Endpoint | None) -> None:
        with self._lock:
            if endpoint is None:
                self.endpoint, self.content = None, None
                self.children = [_notice(_STOPPED)]
                return
            if endpoint is self.endpoint and self.content is not None:
                return
            self.endpoint = endpoint
            self.children = [_notice(f"Building the {html.escape(self.title)} view…")]
            try:
                self.content = self.factory(endpoint)
            except Exception as exc:  # noqa: BLE001  (shown in the tab, where the user is looking)
                self.content = None
                self.children = [_failure(f"The {self.title} tab", exc)]
            else:
                self.children = [self.content]


def _tag(view: W.Widget, **classes: str) -> W.Widget:
    """Give a view's parts stable CSS classes (`attribute="nanokit-..."`) for the browser test and styling."""
    for attribute, css_class in classes.items():
        part = getattr(view, attribute, None)
        if isinstance(part, W.DOMWidget):
            part.add_class(css_class)
    return view


def _chat(endpoint: Endpoint) -> W.Widget:
    return _tag(ChatPanel(endpoint), message="nanokit-chat-input",
                send_button="nanokit-chat-send", answer="nanokit-chat-answer", status="nanokit-chat-status",
                reasoning_pane="nanokit-chat-reasoning", reasoning="nanokit-chat-reasoning-text")


def _tools(endpoint: Endpoint) -> W.Widget:
    trace = ToolTrace(endpoint)
    _tag(trace.form, name="nanokit-toolform-name", description="nanokit-toolform-description",
         parameters="nanokit-toolform-parameters", add_button="nanokit-toolform-add", message="nanokit-toolform-message")
    return _tag(trace, prompt="nanokit-tools-input", first_call="nanokit-tools-first-call",
                call_box="nanokit-tools-callbox", call_result="nanokit-tools-result", call_send="nanokit-tools-send-result",
                run_button="nanokit-tools-run", steps="nanokit-tools-steps", status="nanokit-tools-status")


def _agents(endpoint: Endpoint) -> W.Widget:
    # Imported here, not above: LangGraph takes seconds to import and only this tab needs it.
    from nanokit.agents import build_tool_agent, chat_model, memory
    from widgets.agent_trace import AgentTrace

    agent = build_tool_agent(chat_model(endpoint), checkpointer=memory())
    trace = AgentTrace(agent)
    # Tabs are built from the server panel's thread, where AgentTrace's `with output: display(...)` draws
    # nothing; setting the Output's outputs (append_display_data) works from any thread and replaces
    # whatever the frontend captured. A FigureWidget needs no plotly mime renderer in Voila.
    import plotly.graph_objects as go

    from nanokit.agents import graph_figure

    trace.graph.outputs = ()
    trace.graph.append_display_data(go.FigureWidget(graph_figure(agent)))
    return _tag(trace, question="nanokit-agents-input", run_button="nanokit-agents-run",
                transcript="nanokit-agents-transcript")


def _throughput(endpoint: Endpoint) -> W.Widget:
    # Small defaults: on the embedded CPU model a run of 16 short prompts takes a few seconds.
    dashboard = ThroughputDashboard(endpoint, num_prompts=16, input_len=64, output_len=32, concurrency=4)
    return _tag(dashboard, run_button="nanokit-bench-run", sweep_button="nanokit-bench-sweep",
                save_button="nanokit-bench-save", saved="nanokit-bench-saved",
                status="nanokit-bench-status")


_ENDPOINT_TABS: dict[str, Callable[[Endpoint], W.Widget]] = {
    "Chat": _chat, "Tools": _tools, "Agents": _agents, "Throughput": _throughput,
}


class NanokitApp(W.VBox):
    """Header, tabs and the one shared server.

    `app.server_panel` is the ServerPanel (pass `server=` to use a VLLMServer you configured, or `panel=` for a
    whole panel); `app.tab_for(title)` is a tab's content; `app.select(title)` switches tabs. `factories`
    replaces how the endpoint tabs are built (tests), keyed by tab title.
    """

    def __init__(self, server: VLLMServer | None = None, *, panel: ServerPanel | None = None,
                 factories: dict[str, Callable[[Endpoint], W.Widget]] | None = None) -> None:
        self.header = W.HTML(  # colours from the page theme: readable under light and dark

            "<div style='display:flex;align-items:baseline;gap:12px'>"
            "<h2 style='margin:4px 0'>nanokit</h2>"
            "<span style='color:var(--jp-ui-font-color2,#4b5563)'>Launch, chat with, and measure NVIDIA Nemotron-3-Nano-30B-A3B"
            " &mdash; or the embedded tiny model on a CPU.</span></div>"
        )
        self.endpoint_line = W.HTML()
        self.server_panel = panel if panel is not None else self._build("Server", lambda: ServerPanel(server))
        # the working panel; None when it failed to build (its tab then says why)
        self._panel = self.server_panel if panel is not None or isinstance(self.server_panel, ServerPanel) else None
        self.generator = self._build("Generate", lambda: CommandGenerator(on_launch=self.launch_spec))
        _tag(self.server_panel, start_button="nanokit-start", stop_button="nanokit-stop",
             message="nanokit-server-message", log_view="nanokit-server-log")
        _tag(self.generator, engine="nanokit-engine", gpu="nanokit-gpu", variant="nanokit-variant",
             command="nanokit-command", launch_button="nanokit-launch", message="nanokit-generate-message")
        factories = {**_ENDPOINT_TABS, **(factories or {})}
        self.endpoint_tabs = {title: EndpointTab(title, factories[title]) for title in TAB_TITLES[2:]}
        pages = {"Generate": self.generator, "Server": self.server_panel, **self.endpoint_tabs}
        for title, page in pages.items():
            page.add_class(f"nanokit-tab-{title.lower()}")
        self.tabs = W.Tab(children=[pages[t] for t in TAB_TITLES], titles=TAB_TITLES)
        self.tabs.add_class("nanokit-tabs")
        if self._panel is not None:
            self._panel.on_change(self._on_endpoint)
        self._on_endpoint(self._panel.endpoint if self._panel is not None else None)
        self.theme = PageTheme()
        self.theme.observe(lambda _: self._follow_theme(), names=["dark", "width"])
        super().__init__(children=[self.header, self.endpoint_line, self.tabs, self.theme])
        self.add_class("nanokit-app")

    @staticmethod
    def _build(title: str, make: Callable[[], W.Widget]) -> W.Widget:
        try:
            return make()
        except Exception as exc:  # noqa: BLE001  (the other tabs still work)
            return W.VBox([_failure(f"The {title} tab", exc)])

    # --- wiring -------------------------------------------------------------------------------

    def _on_endpoint(self, endpoint: Endpoint | None) -> None:
        if endpoint is None:
            self.endpoint_line.value = "<span style='color:var(--jp-ui-font-color2,#6b7280)'>No server yet: open the Server tab.</span>"
        else:
            self.endpoint_line.value = (f"<span style='color:#15803d'>Talking to <code>"
                                        f"{html.escape(endpoint.model_name)}</code> at <code>"
                                        f"{html.escape(endpoint.base_url)}</code></span>")
        for tab in self.endpoint_tabs.values():
            tab.set_endpoint(endpoint)
        self._follow_theme()

    def _follow_theme(self) -> None:
        dashboard = self.endpoint_tabs["Throughput"].content
        if hasattr(self, "theme") and hasattr(dashboard, "set_theme"):
            dashboard.set_theme(self.theme.dark)
            dashboard.set_width(self.theme.width)

    def launch_spec(self, spec: LaunchSpec) -> None:
        """The Generate tab's "Launch here": show the Server tab and serve `spec` with its panel."""
        self.select("Server")
        if self._panel is not None:
            self._panel.launch(spec)

    # --- navigation ---------------------------------------------------------------------------

    def select(self, title: str) -> None:
        self.tabs.selected_index = TAB_TITLES.index(title)

    def tab_for(self, title: str) -> W.Widget | None:
        """The live widget behind a tab (None while an endpoint tab waits for a server)."""
        if title in self.endpoint_tabs:
            return self.endpoint_tabs[title].content
        return {"Generate": self.generator, "Server": self.server_panel}[title]
