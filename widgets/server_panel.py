"""ServerPanel: start, stop or attach to a vLLM server, with its status, base URL and a live log tail.

`launch(spec)` serves a LaunchSpec (the command generator's "Launch here") with a fresh in-kernel server.
While the server starts and once it runs, a bar shows its start-up phases (`VLLMServer.startup_timeline()`).
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable

import ipywidgets as W

from nanokit import (
    Endpoint,
    LaunchSpec,
    NanokitError,
    ServerState,
    StartCancelled,
    StartupTimeline,
    VLLMServer,
    attach,
)

_STATUS_STYLE = {
    "new": ("#6b7280", "not started"),
    "starting": ("#b45309", "starting…"),
    "running": ("#15803d", "running"),
    "attached": ("#15803d", "attached"),
    "stopped": ("#6b7280", "stopped"),
    "failed": ("#b91c1c", "failed"),
}
_PHASE_COLOURS = {"process": "#9ca3af", "weights": "#2563eb", "compile": "#d97706", "warmup": "#7c3aed",
                  "kv_cache": "#059669", "cuda_graphs": "#db2777", "ready": "#0891b2", "health": "#d1d5db"}


def timeline_html(timeline: StartupTimeline) -> str:
    """The start-up phases as one horizontal bar (widths in proportion to seconds) with a legend below."""
    total = timeline.total_s if timeline.total_s is not None else timeline.accounted_s
    if total <= 0 or not timeline.present:
        return ""
    parts = [(p.name, p.label, p.seconds) for p in timeline.present]
    if timeline.total_s is not None and timeline.total_s > timeline.accounted_s:
        parts.append(("health", "until /health", timeline.total_s - timeline.accounted_s))
    segments = "".join(
        f"<div class='nanokit-phase' data-phase='{name}' title='{html.escape(label)}: {seconds:.1f} s' "
        f"style='width:{100 * seconds / total:.2f}%;background:{_PHASE_COLOURS[name]}'></div>"
        for name, label, seconds in parts)
    legend = " · ".join(f"<span style='color:{_PHASE_COLOURS[name]}'>■</span> {html.escape(label)} {seconds:.1f} s"
                        for name, label, seconds in parts)
    notes = []
    if timeline.absent:
        labels = [p.label for p in timeline.phases if not p.present]
        notes.append("not in the log: " + ", ".join(labels))
    if timeline.compile_cache:
        notes.append(f"compile cache: {timeline.compile_cache}")
    note = f"<br><span style='color:#6b7280'>{html.escape('; '.join(notes))}</span>" if notes else ""
    return (f"<div><b>Start-up:</b> {total:.1f} s"
            f"<div style='display:flex;height:14px;width:100%;max-width:640px;border-radius:3px;overflow:hidden'>"
            f"{segments}</div><small>{legend}{note}</small></div>")


class ServerPanel(W.VBox):
    """Start/stop the in-kernel server (or attach to one) and watch its logs.

    `panel.endpoint` is whatever the rest of the app should talk to (a VLLMServer or an attached Endpoint);
    `on_change(callback)` tells other views when it changes. Without `server` the panel serves the embedded
    model.
    """

    def __init__(self, server: VLLMServer | None = None, *, log_lines: int = 40, start_timeout: float = 600) -> None:
        self.server = server or VLLMServer()
        self.endpoint: Endpoint | None = None
        self.start_timeout = start_timeout
        self._log_lines = log_lines
        self._callbacks: list[Callable[[Endpoint | None], None]] = []
        self._unfollow: Callable[[], None] | None = None
        self._log_dirty = threading.Event()
        self._starter: threading.Thread | None = None

        self.status = W.HTML()
        self.url = W.HTML()
        self.message = W.HTML()
        self.timeline = W.HTML()
        self.start_button = W.Button(description="Start server", button_style="success", icon="play")
        self.stop_button = W.Button(description="Stop", button_style="danger", icon="stop", disabled=True)
        self.attach_url = W.Text(placeholder="http://127.0.0.1:8000/v1", description="Attach to:",
                                 layout=W.Layout(width="420px"))
        self.attach_key = W.Password(placeholder="API key (optional)", layout=W.Layout(width="200px"))
        self.attach_button = W.Button(description="Attach", icon="link")
        self.log_view = W.Textarea(layout=W.Layout(width="100%", height="220px"), disabled=True)
        self.log_box = W.Accordion(children=[self.log_view], titles=("Server log",), selected_index=0)

        self.start_button.on_click(lambda _: self.start(background=True))
        self.stop_button.on_click(lambda _: self.stop())
        self.attach_button.on_click(lambda _: self.attach(self.attach_url.value, self.attach_key.value or None))

        super().__init__(children=[
            W.HBox([self.status, self.url]),
            W.HBox([self.start_button, self.stop_button]),
            W.HBox([self.attach_url, self.attach_key, self.attach_button]),
            self.message,
            self.timeline,
            self.log_box,
        ])
        self._render_status(self.server.state.value)

    # --- actions -----------------------------------------------------------------------------

    def start(self, background: bool = False) -> None:
        """Start the server; with background=True the kernel stays free and the panel reports progress."""
        self.start_button.disabled = True
        self.attach_button.disabled = True
        self.stop_button.disabled = False  # Stop cancels a start that takes too long
        self.message.value = ""
        self._render_status("starting")
        if self._unfollow is None:
            self._unfollow = self.server.follow_logs(self._on_log_line)
        if background:
            self._starter = threading.Thread(target=self._start, daemon=True, name="nanokit-panel-start")
            self._starter.start()
        else:
            self._start()

    def _start(self) -> None:
        try:
            self.server.start(timeout=self.start_timeout, on_status=self._say)
        except StartCancelled:
            self._render_status("stopped")
            self._say("Stopped before it finished starting.")
            self.start_button.disabled = self.attach_button.disabled = False
        except NanokitError as exc:
            self._fail(exc)
        except Exception as exc:  # noqa: BLE001 - shown in the panel, where the user is looking, with its type
            self._fail(exc, unexpected=True)
        else:
            self._set_endpoint(self.server, "running")
            self._say(f"Started in {self.server.startup_seconds:.0f} s.")
        finally:
            self._flush_log()

    def launch(self, spec: LaunchSpec) -> bool:
        """Serve a vLLM `spec` with a new in-kernel server, started in the background; whether a start began.

        Refused, with the reason in the panel, while this panel's server runs or starts or an endpoint is
        attached: one server per panel, and Stop comes first.
        """
        if self.endpoint is not None or self.server.state is ServerState.STARTING:
            self.message.value = ("<span style='color:#b91c1c'>A server is already running here; press Stop "
                                  "before launching another.</span>")
            return False
        if self._unfollow is not None:  # the log view follows the server it was started with
            self._unfollow()
            self._unfollow = None
        self.server = VLLMServer(**spec.vllm_server_kwargs())
        self.start(background=True)
        return True

    def stop(self) -> None:
        self.stop_button.disabled = True
        try:
            if isinstance(self.endpoint, VLLMServer) or self.endpoint is None:
                self.server.stop()
            self._set_endpoint(None, "stopped")
            self._say("Stopped.")
        finally:
            # A start being cancelled re-enables them itself once it has wound down.
            if self._starter is None or not self._starter.is_alive():
                self.start_button.disabled = False
                self.attach_button.disabled = False

    def attach(self, base_url: str, api_key: str | None = None) -> None:
        """Use a server started elsewhere instead of the in-kernel one."""
        if not base_url.strip():
            self._fail(NanokitError("Type the server's base URL, e.g. http://127.0.0.1:8000/v1, then press Attach."))
            return
        self.attach_button.disabled = True
        try:
            endpoint = attach(base_url.strip(), api_key=api_key)
        except NanokitError as exc:
            self._fail(exc)
        else:
            self._set_endpoint(endpoint, "attached")
            self.start_button.disabled = True
            self._say(f"Attached; serving {endpoint.model_name}.")
        finally:
            self.attach_button.disabled = False

    def on_change(self, callback: Callable[[Endpoint | None], None]) -> None:
        """Call `callback(endpoint_or_None)` whenever the panel starts, attaches or stops."""
        self._callbacks.append(callback)

    # --- rendering ---------------------------------------------------------------------------

    def _set_endpoint(self, endpoint: Endpoint | None, state: str) -> None:
        self.endpoint = endpoint
        self._render_status(state)
        self.stop_button.disabled = endpoint is None
        for callback in list(self._callbacks):
            callback(endpoint)

    def _render_status(self, state: str) -> None:
        colour, label = _STATUS_STYLE.get(state, ("#6b7280", state))
        self.status.value = (f"<b>Server:</b> <span class='nanokit-status' style='color:{colour}'>"
                             f"<b>{label}</b></span>")
        if self.endpoint is not None:
            self.url.value = (f"&nbsp; <code>{html.escape(self.endpoint.base_url)}</code> · model "
                              f"<code>{html.escape(self.endpoint.model_name)}</code>")
        else:
            self.url.value = ""

    def _say(self, text: str) -> None:
        self.message.value = f"<span style='color:#374151'>{html.escape(text)}</span>"
        self._flush_log()

    def _fail(self, exc: BaseException, unexpected: bool = False) -> None:
        self._render_status("failed" if self.endpoint is None else self.status_state)
        prefix = f"{type(exc).__name__}: " if unexpected else ""
        self.message.value = (f"<pre style='color:#b91c1c;white-space:pre-wrap'>"
                              f"{html.escape(prefix + str(exc))}</pre>")
        self.stop_button.disabled = self.endpoint is None
        self.start_button.disabled = False
        self.attach_button.disabled = False

    @property
    def status_state(self) -> str:
        if self.endpoint is None:
            return self.server.state.value
        return "running" if isinstance(self.endpoint, VLLMServer) else "attached"

    def _on_log_line(self, _line: str) -> None:
        # The log reader thread calls this per line; repaint at most a few times a second.
        if not self._log_dirty.is_set():
            self._log_dirty.set()
            threading.Timer(0.3, self._flush_log).start()

    def _flush_log(self) -> None:
        self._log_dirty.clear()
        self.log_view.value = self.server.log_tail(self._log_lines)
        if isinstance(self.endpoint, VLLMServer) or self.server.state is ServerState.STARTING:
            self.timeline.value = timeline_html(self.server.startup_timeline())
