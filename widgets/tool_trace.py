"""ToolTrace: run the tool loop and show each step: the call, its arguments, the result, the next move."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable

import ipywidgets as W

from nanokit.endpoint import Endpoint, HasEndpoint
from nanokit.errors import NanokitError
from nanokit.example_tools import EXAMPLE_TOOLS
from nanokit.toolkit import ToolLike
from nanokit.tools import ToolLoopResult, ToolStep, iter_tool_loop


def render_step(step: ToolStep) -> str:
    """HTML for one model turn: reasoning, then each call with arguments and result, or the answer."""
    parts = [f"<div style='border-left:3px solid #76b900;padding-left:8px;margin:6px 0'><b>Step {step.number}</b>"]
    if step.result.reasoning:
        parts.append(f"<div style='color:#6b7280;white-space:pre-wrap'>{html.escape(step.result.reasoning)}</div>")
    if step.result.content:
        label = "Answer" if step.is_final else "Says"
        parts.append(f"<div><b>{label}:</b> {html.escape(step.result.content)}</div>")
    for run in step.executions:
        arguments = html.escape(json.dumps(run.arguments, ensure_ascii=False))
        colour = "#15803d" if run.ok else "#b91c1c"
        parts.append(
            f"<div>→ <code>{html.escape(run.call.name)}({arguments})</code>"
            f" ⇒ <span style='color:{colour}'>{html.escape(run.output)}</span></div>"
        )
    if step.is_final and not step.result.content:
        parts.append("<div><i>(no answer text)</i></div>")
    parts.append("</div>")
    return "".join(parts)


def describe_stop(loop: ToolLoopResult) -> str:
    if loop.stopped == "step_limit":
        return f"Stopped at the step limit after {len(loop.steps)} model turns, still asking for tools."
    calls = sum(len(step.executions) for step in loop.steps)
    return f"Answered after {len(loop.steps)} model turns and {calls} tool calls."


class ToolTrace(W.VBox):
    """A prompt box, the tools on offer and a live trace of the loop's steps."""

    def __init__(self, endpoint: Endpoint | HasEndpoint | None = None, tools: Iterable[ToolLike] = EXAMPLE_TOOLS,
                 *, max_steps: int = 4, max_tokens: int = 512, carry_reasoning: bool = True) -> None:
        self.endpoint = endpoint
        self.carry_reasoning = carry_reasoning
        self.tools = list(tools)
        self.last_loop: ToolLoopResult | None = None
        self.prompt = W.Text(value="What is the weather in Paris?", description="Ask:",
                             layout=W.Layout(width="100%"))
        self.run_button = W.Button(description="Run tools", button_style="primary", icon="wrench")
        self.max_steps = W.BoundedIntText(value=max_steps, min=1, max=20, description="Max steps")
        self.thinking = W.Checkbox(value=True, description="Thinking")
        self.max_tokens = max_tokens
        names = ", ".join(getattr(t, "name", getattr(t, "__name__", "?")) for t in self.tools)
        self.tool_list = W.HTML(f"<small>Tools: {html.escape(names)}</small>")
        self.steps = W.HTML()
        self.live = W.HTML()
        self.status = W.HTML()
        self.errors = W.Output()
        self.run_button.on_click(lambda _: self.run())
        super().__init__(children=[
            self.prompt, W.HBox([self.run_button, self.max_steps, self.thinking]), self.tool_list,
            self.steps, self.live, self.status, self.errors,
        ])

    def show(self, loop: ToolLoopResult) -> None:
        """Render a finished loop (from `run_tool_loop`) without running anything."""
        self.last_loop = loop
        self.steps.value = "".join(render_step(step) for step in loop.steps)
        self.status.value = f"<small>{html.escape(describe_stop(loop))}</small>"

    def run(self, prompt: str | None = None) -> ToolLoopResult | None:
        text = (prompt if prompt is not None else self.prompt.value).strip()
        if not text or self.endpoint is None:
            self.status.value = "Type a question and give the trace an endpoint."
            return None
        self.errors.clear_output()
        self.run_button.disabled = True
        self.steps.value = self.live.value = ""
        self.status.value = "<i>running…</i>"
        try:
            with self.errors:
                rendered: list[str] = []
                streamed = ""
                for event in iter_tool_loop(self.endpoint, text, self.tools, max_steps=self.max_steps.value,
                                            thinking=self.thinking.value, max_tokens=self.max_tokens,
                                            carry_reasoning=self.carry_reasoning):
                    if isinstance(event, ToolStep):
                        rendered.append(render_step(event))
                        self.steps.value = "".join(rendered)
                        self.live.value = streamed = ""
                    elif isinstance(event, ToolLoopResult):
                        self.show(event)
                    elif hasattr(event, "text"):  # reasoning or answer text of the turn in progress
                        streamed += event.text
                        self.live.value = f"<small style='color:#6b7280'>…{html.escape(streamed[-160:])}</small>"
        except NanokitError as exc:
            self.status.value = f"<b>Error:</b> {html.escape(str(exc))}"
        finally:
            self.run_button.disabled = False
        return self.last_loop
