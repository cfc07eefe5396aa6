"""AgentTrace: ask a LangGraph agent something and watch its steps arrive, next to a drawing of its graph."""

from __future__ import annotations

import html

import ipywidgets as W
from IPython.display import display
from langgraph.graph.state import CompiledStateGraph

from nanokit.agents import DEFAULT_STEP_LIMIT, AgentRun, AgentStep, graph_figure, mermaid, stream_agent
from nanokit.errors import NanokitError

_COLORS = {
    "tool_call": "#1d4ed8", "tool_result": "#15803d", "tool_error": "#b91c1c",
    "malformed_call": "#b45309", "reasoning": "#6b7280", "error": "#b91c1c", "message": "#111827", "user": "#6b21a8",
}


def step_html(step: AgentStep) -> str:
    """One log line: the step's text, coloured by kind, indented by how deep in sub-agents it ran."""
    color = _COLORS.get(step.kind, "#111827")
    weight = "bold" if step.kind in ("error", "tool_error") else "normal"
    indent = 1.5 * len(step.path)
    return (f'<div style="margin-left:{indent}em;color:{color};font-weight:{weight};'
            f'font-family:monospace;white-space:pre-wrap">{html.escape(step.describe())}</div>')


class AgentTrace(W.VBox):
    """A question box, a thread id, a live step log and the agent's graph.

    `trace.run("...")` does from code what the Run button does; it returns the `AgentRun`
    (None never: a failed run returns the steps up to its error, with an empty answer).
    """

    def __init__(self, agent: CompiledStateGraph, *, thread_id: str = "default",
                 step_limit: int = DEFAULT_STEP_LIMIT) -> None:
        self.agent = agent
        self.step_limit = step_limit
        self.runs: list[AgentRun] = []

        self.question = W.Text(placeholder="Ask the agent…", layout=W.Layout(width="60%"))
        self.thread = W.Text(value=thread_id, description="thread:", layout=W.Layout(width="240px"))
        self.run_button = W.Button(description="Run", button_style="primary", icon="play")
        self.transcript = W.HTML()
        self.errors = W.Output()  # tracebacks from anything that is not a nanokit error
        self.graph = W.Output()
        self.mermaid = W.HTML(
            "<details><summary>Mermaid source</summary>"
            f"<pre>{html.escape(mermaid(agent))}</pre></details>"
        )
        self.run_button.on_click(lambda _: self.run())

        with self.graph:
            display(graph_figure(agent))
        super().__init__(children=[
            W.HBox([self.question, self.thread, self.run_button]),
            W.HBox([W.VBox([self.transcript], layout=W.Layout(width="62%")),
                    W.VBox([self.graph, self.mermaid], layout=W.Layout(width="38%"))]),
            self.errors,
        ])

    def run(self, question: str | None = None) -> AgentRun:
        """Run the agent on `question` (default: the text box) in the current thread, streaming the log."""
        if question is not None:
            self.question.value = question
        text, thread_id = self.question.value, self.thread.value or "default"
        steps: list[AgentStep] = []
        self.run_button.disabled = True
        self._append(AgentStep("user", "message", text).describe(), _COLORS["user"])
        try:
            with self.errors:  # in a kernel, shows the traceback of anything unexpected
                try:
                    for step in stream_agent(self.agent, text, thread_id=thread_id, step_limit=self.step_limit):
                        steps.append(step)
                        self.transcript.value += step_html(step)
                except NanokitError:
                    pass  # its sentence is already in the log, as the run's last (error) step
        finally:
            self.run_button.disabled = False
        run = AgentRun.from_steps(steps, thread_id)
        self.runs.append(run)
        return run

    def clear(self) -> None:
        """Empty the log (the agent's memory is untouched: use a new thread id to start afresh)."""
        self.transcript.value = ""
        self.errors.clear_output()

    def _append(self, line: str, color: str) -> None:
        self.transcript.value += f'<div style="color:{color};font-family:monospace">{html.escape(line)}</div>'
