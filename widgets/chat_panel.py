"""ChatPanel: talk to the served model with thinking on/off, a reasoning budget and a sampling preset.

Reasoning streams live into a collapsible pane above the answer; a status line shows token counts and
the time to the first reasoning token and to the first answer token. Enter in the message box sends
(Shift+Enter is a new line); Tab moves from the box to Send and on through the controls in reading order.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as W

from nanokit.chat import PRESETS, ChatResult, Done, stream_chat
from nanokit.endpoint import Endpoint, HasEndpoint
from nanokit.errors import NanokitError
from nanokit.parsing import ContentDelta, ReasoningDelta, ToolCallDelta
from widgets.page_widgets import ChatInput


class ChatPanel(W.VBox):
    """A chat box bound to an endpoint (`VLLMServer` or `attach(...)`); keeps the conversation."""

    def __init__(self, endpoint: Endpoint | HasEndpoint | None = None, *, max_tokens: int = 512,
                 budget_max: int = 1024, carry_reasoning: bool = True) -> None:
        self.endpoint = endpoint
        self.carry_reasoning = carry_reasoning  # send each answer's reasoning back with the history
        self.history: list[dict[str, Any]] = []
        self.last_result: ChatResult | None = None

        self.message = ChatInput()
        self.send_button = W.Button(description="Send", button_style="primary", icon="paper-plane")
        self.clear_button = W.Button(description="New chat", icon="eraser")
        self.thinking = W.ToggleButton(value=True, description="Thinking", icon="lightbulb-o")
        self.budget = W.IntSlider(value=0, min=0, max=budget_max, step=16, description="Budget",
                                  tooltip="Reasoning budget in tokens; 0 means none")
        self.preset = W.Dropdown(options=list(PRESETS), value="reasoning", description="Preset")
        self.max_tokens = W.BoundedIntText(value=max_tokens, min=16, max=32768, description="Max tokens")
        self.reasoning = W.HTML()
        self.reasoning_pane = W.Accordion(children=[self.reasoning], titles=("Reasoning",), selected_index=0)
        self.answer = W.HTML()
        self.status = W.HTML()
        self.transcript = W.HTML()
        self.errors = W.Output()

        self.send_button.on_click(lambda _: self.send())
        self.message.observe(lambda _: self.send(), names="submits")
        self.clear_button.on_click(lambda _: self.clear())
        self.thinking.observe(self._on_thinking, names="value")
        self.preset.observe(self._on_preset, names="value")

        super().__init__(children=[
            self.transcript,
            self.message,
            W.HBox([self.send_button, self.clear_button, self.thinking, self.preset]),
            W.HBox([self.budget, self.max_tokens]),
            self.reasoning_pane,
            self.answer,
            self.status,
            self.errors,
        ])

    # --- reactions ---------------------------------------------------------------------------

    def _on_thinking(self, change: dict) -> None:
        self.budget.disabled = not change["new"]
        self.reasoning_pane.layout.display = None if change["new"] else "none"
        if self.preset.value in ("reasoning", "plain"):  # follow the model card unless tools were chosen
            self.preset.value = "reasoning" if change["new"] else "plain"

    def _on_preset(self, change: dict) -> None:
        self.status.value = f"<small>preset {change['new']}: temperature {PRESETS[change['new']].temperature}, " \
                            f"top_p {PRESETS[change['new']].top_p}</small>"

    # --- actions -----------------------------------------------------------------------------

    def clear(self) -> None:
        self.history.clear()
        self.transcript.value = self.reasoning.value = self.answer.value = self.status.value = ""

    def send(self, message: str | None = None) -> ChatResult | None:
        """Send the box's text (or `message`) and stream the reply into the panel."""
        text = (message if message is not None else self.message.value).strip()
        if not text:
            return None
        self.errors.clear_output()
        if self.endpoint is None:
            self.status.value = "<b>No server yet</b>: start one (ServerPanel) or pass an endpoint."
            return None
        self.send_button.disabled = self.message.disabled = True
        reasoning: list[str] = []
        answer: list[str] = []
        try:
            with self.errors:
                self.reasoning.value = self.answer.value = ""
                self.status.value = "<i>generating…</i>"
                budget = self.budget.value if self.thinking.value and self.budget.value else None
                for event in stream_chat(self.endpoint, [*self.history, {"role": "user", "content": text}],
                                         thinking=self.thinking.value, reasoning_budget=budget,
                                         preset=self.preset.value, max_tokens=self.max_tokens.value):
                    if isinstance(event, ReasoningDelta):
                        reasoning.append(event.text)
                        self.reasoning.value = _pre("".join(reasoning), muted=True)
                    elif isinstance(event, ContentDelta):
                        answer.append(event.text)
                        self.answer.value = _pre("".join(answer))
                    elif isinstance(event, ToolCallDelta) and event.name:
                        answer.append(f"\n[tool call: {event.name}]")
                        self.answer.value = _pre("".join(answer))
                    elif isinstance(event, Done):
                        self._finish(text, event.result)
        except NanokitError as exc:
            self.status.value = f"<b>Error:</b> {html.escape(str(exc))}"
        finally:
            self.send_button.disabled = self.message.disabled = False
        return self.last_result

    def _finish(self, text: str, result: ChatResult) -> None:
        self.last_result = result
        self.history += [{"role": "user", "content": text},
                         result.assistant_message(carry_reasoning=self.carry_reasoning)]
        self.message.value = ""
        self.status.value = f"<small>{html.escape(result.describe())}</small>"
        self.transcript.value = "".join(
            f"<div><b>{html.escape(m['role'])}:</b> {html.escape(m.get('content') or '')}</div>"
            for m in self.history[:-1]  # the newest answer is shown below, with its reasoning
        )


def _pre(text: str, *, muted: bool = False) -> str:
    style = "white-space:pre-wrap;margin:0;" + ("color:var(--jp-ui-font-color2,#6b7280);" if muted else "")
    return f"<div style='{style}'>{html.escape(text)}</div>"
