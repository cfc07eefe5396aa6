"""ToolTrace: run the tool loop and show each step: the call, its arguments, the result, the next move.

Besides the example tools it offers the user's own (declared in its `ToolForm`), and can force the first
turn to call one (`tool_choice` with a named function, which vLLM fulfils with guided decoding; on the
embedded model, measured 2026-12-01, a forced call's arguments fit an optional-parameter schema 4 times in
4 with thinking on and 0 in 4 with thinking off). A call to one answered by
hand pauses the loop: the trace shows the call and waits for the result typed into its answer box, then the
loop goes on with that text as the tool's output. The Run button runs the loop on a thread so the kernel
stays free to receive that answer; `run()` from code runs it on the caller's thread.
"""

from __future__ import annotations

import html
import json
import queue
import threading
from collections.abc import Iterable

import ipywidgets as W

from nanokit.declared_tools import DeclarationStore, ToolDeclaration, declared_tool
from nanokit.endpoint import Endpoint, HasEndpoint
from nanokit.errors import NanokitError
from nanokit.example_tools import EXAMPLE_TOOLS
from nanokit.toolkit import ToolLike, as_tool
from nanokit.tools import ToolLoopResult, ToolStep, iter_tool_loop
from widgets.tool_form import ToolForm

MODEL_DECIDES = "the model decides"


def render_step(step: ToolStep) -> str:
    """HTML for one model turn: reasoning, then each call with arguments and result, or the answer."""
    parts = [f"<div style='border-left:3px solid #76b900;padding-left:8px;margin:6px 0'><b>Step {step.number}</b>"]
    if step.result.reasoning:
        parts.append(f"<div style='color:var(--jp-ui-font-color2,#6b7280);white-space:pre-wrap'>{html.escape(step.result.reasoning)}</div>")
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
    """A prompt box, the tools on offer (the examples and your own), a live trace, and a box for hand answers.

    `store` is where declared tools are kept (default: the user's config folder); `answer_timeout` how long
    a hand-answered call waits before the model is told that no result came.
    """

    def __init__(self, endpoint: Endpoint | HasEndpoint | None = None, tools: Iterable[ToolLike] = EXAMPLE_TOOLS,
                 *, max_steps: int = 4, max_tokens: int = 512, carry_reasoning: bool = True,
                 store: DeclarationStore | None = None, answer_timeout: float = 600.0) -> None:
        self.endpoint = endpoint
        self.carry_reasoning = carry_reasoning
        self.builtin = [as_tool(t) for t in tools]
        self.answer_timeout = answer_timeout
        self.last_loop: ToolLoopResult | None = None
        self.thread: threading.Thread | None = None
        self._answers: queue.Queue[str] = queue.Queue()
        self.prompt = W.Text(value="What is the weather in Paris?", description="Ask:",
                             layout=W.Layout(width="100%"))
        self.run_button = W.Button(description="Run tools", button_style="primary", icon="wrench")
        self.max_steps = W.BoundedIntText(value=max_steps, min=1, max=20, description="Max steps")
        self.thinking = W.Checkbox(value=True, description="Thinking")
        self.first_call = W.Dropdown(description="First call", tooltip="Force the first turn to call this tool "
                                     "(tool_choice); later turns choose freely")
        self.max_tokens = max_tokens
        self.tool_list = W.HTML()
        self.form = ToolForm(store)
        self.call_prompt = W.HTML()
        self.call_result = W.Textarea(placeholder="The result your tool returns, e.g. 123.45",
                                      layout=W.Layout(width="100%", height="60px"))
        self.call_send = W.Button(description="Send result", button_style="success", icon="reply")
        self.call_box = W.VBox([self.call_prompt, self.call_result, self.call_send],
                               layout=W.Layout(display="none", border="1px solid #f59e0b", padding="6px"))
        self.steps = W.HTML()
        self.live = W.HTML()
        self.status = W.HTML()
        self.errors = W.Output()
        self.run_button.on_click(lambda _: self.start())
        self.call_send.on_click(lambda _: self.answer(self.call_result.value))
        self.form.on_change(lambda _: self._refresh_tools())
        self._refresh_tools()
        super().__init__(children=[
            self.prompt,
            W.HBox([self.run_button, self.max_steps, self.thinking, self.first_call],
                   layout=W.Layout(flex_flow="row wrap")),
            self.tool_list, self.call_box, self.steps, self.live, self.status, self.errors,
            W.Accordion(children=[self.form], titles=("Your own tools",), selected_index=0),
        ])

    # --- the tools on offer ------------------------------------------------------------------------

    @property
    def tools(self) -> list:
        """The example tools and the user's declared ones (a declared name replaces an example's)."""
        declared = [declared_tool(d, self._ask) for d in self.form.declarations]
        names = {t.name for t in declared}
        return [t for t in self.builtin if t.name not in names] + declared

    def _refresh_tools(self) -> None:
        tools = self.tools
        mine = {d.name: d for d in self.form.declarations}
        self.tool_list.value = "<small>Tools: " + ", ".join(
            html.escape(t.name) + (f" <i>({html.escape(mine[t.name].answered_by)})</i>" if t.name in mine else "")
            for t in tools) + "</small>"
        chosen = self.first_call.value
        self.first_call.options = [MODEL_DECIDES, *(t.name for t in tools)]
        self.first_call.value = chosen if chosen in self.first_call.options else MODEL_DECIDES

    def declare(self, declaration: ToolDeclaration) -> None:
        """Add a declaration from code (what the form's Add button does with its fields)."""
        self.form.declarations = [d for d in self.form.declarations if d.name != declaration.name] + [declaration]
        self.form._save()

    # --- answering calls by hand -------------------------------------------------------------------

    def _ask(self, name: str, arguments: dict) -> str:
        """A hand-answered tool's body: show the call, wait for `answer(...)`, give its text to the model."""
        shown = html.escape(json.dumps(arguments, ensure_ascii=False))
        self.call_prompt.value = (f"<div class='nanokit-tools-call'>The model calls <code>{html.escape(name)}"
                                  f"({shown})</code>. Type the result it should get and press <b>Send result</b>."
                                  "</div>")
        self.call_result.value = ""
        self.call_box.layout.display = None
        try:
            return self._answers.get(timeout=self.answer_timeout)
        except queue.Empty:
            raise TimeoutError(f"no result was typed within {self.answer_timeout:.0f} s") from None
        finally:
            self.call_box.layout.display = "none"
            self.call_prompt.value = ""

    def answer(self, text: str) -> None:
        """The result of the call the trace is waiting on (the Send result button)."""
        self._answers.put(text)

    # --- running -----------------------------------------------------------------------------------

    def show(self, loop: ToolLoopResult) -> None:
        """Render a finished loop (from `run_tool_loop`) without running anything."""
        self.last_loop = loop
        self.steps.value = "".join(render_step(step) for step in loop.steps)
        self.status.value = f"<small>{html.escape(describe_stop(loop))}</small>"

    def start(self, prompt: str | None = None) -> threading.Thread:
        """`run` on a thread (the Run button): the kernel stays free for the answers typed while it runs."""
        self.run_button.disabled = True
        self.thread = threading.Thread(target=self._run_reporting, args=(prompt,), daemon=True,
                                       name="nanokit-tool-loop")
        self.thread.start()
        return self.thread

    def _run_reporting(self, prompt: str | None) -> None:
        try:
            self.run(prompt)
        except Exception as exc:  # noqa: BLE001  (a thread's exception would otherwise vanish)
            self.status.value = f"<b>Error:</b> {html.escape(f'{type(exc).__name__}: {exc}')}"

    def wait(self, timeout: float | None = None) -> ToolLoopResult | None:
        if self.thread is not None:
            self.thread.join(timeout)
        return self.last_loop

    def run(self, prompt: str | None = None) -> ToolLoopResult | None:
        text = (prompt if prompt is not None else self.prompt.value).strip()
        if not text or self.endpoint is None:
            self.status.value = "Type a question and give the trace an endpoint."
            self.run_button.disabled = False
            return None
        self.errors.clear_output()
        self.run_button.disabled = True
        self.last_loop = None
        self.steps.value = self.live.value = ""
        self.status.value = "<i>running…</i>"
        while not self._answers.empty():  # an answer typed for an earlier run is not this run's
            self._answers.get_nowait()
        forced = self.first_call.value
        choice = None if forced == MODEL_DECIDES else {"type": "function", "function": {"name": forced}}
        try:
            with self.errors:
                rendered: list[str] = []
                streamed = ""
                for event in iter_tool_loop(self.endpoint, text, self.tools, max_steps=self.max_steps.value,
                                            thinking=self.thinking.value, max_tokens=self.max_tokens,
                                            carry_reasoning=self.carry_reasoning, first_tool_choice=choice):
                    if isinstance(event, ToolStep):
                        rendered.append(render_step(event))
                        self.steps.value = "".join(rendered)
                        self.live.value = streamed = ""
                    elif isinstance(event, ToolLoopResult):
                        self.show(event)
                    elif hasattr(event, "text"):  # reasoning or answer text of the turn in progress
                        streamed += event.text
                        self.live.value = f"<small style='color:var(--jp-ui-font-color2,#6b7280)'>…{html.escape(streamed[-160:])}</small>"
        except NanokitError as exc:
            self.status.value = f"<b>Error:</b> {html.escape(str(exc))}"
        finally:
            self.run_button.disabled = False
        return self.last_loop
