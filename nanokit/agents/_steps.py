"""Running a compiled agent graph and reading what it did, step by step.

`stream_agent` is the one place a graph runs: it turns LangGraph's update stream into `AgentStep`s
(the model's messages, tool calls with their arguments, tool results and errors, from the top graph and
from the specialist sub-agents inside a coordinator) and turns the ways a run can fail into
full-sentence nanokit errors. `run_agent` collects the steps and the final answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import openai
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langgraph.errors import GraphRecursionError
from langgraph.graph.state import CompiledStateGraph

from nanokit.errors import NanokitError, ServerError

DEFAULT_STEP_LIMIT = 12
"""LangGraph's recursion limit for one run: each model call and each tool round counts as a step."""

StepKind = Literal["reasoning", "message", "tool_call", "tool_result", "tool_error", "malformed_call", "error"]


@dataclass(frozen=True)
class AgentStep:
    """One thing that happened in a run, in the order it happened.

    `node` is the graph node that produced it (`agent`, `tools`, `supervisor`, a specialist's name);
    `path` is the chain of sub-agents it ran inside, outermost first (empty for the top graph).
    """

    node: str
    kind: StepKind
    text: str = ""
    tool: str = ""
    args: Mapping[str, Any] = field(default_factory=dict)
    path: tuple[str, ...] = ()

    def describe(self) -> str:
        """One transcript line: where it happened, then what (a call with its arguments, a result, text)."""
        where = " > ".join((*self.path, self.node)) or "run"
        if self.kind == "tool_call":
            args = ", ".join(f"{k}={v!r}" for k, v in self.args.items())
            return f"[{where}] calls {self.tool}({args})"
        if self.kind in ("tool_result", "tool_error"):
            return f"[{where}] {self.tool} returned: {self.text}"
        if self.kind == "reasoning":
            return f"[{where}] (thinking) {self.text}"
        return f"[{where}] {self.text}"


@dataclass(frozen=True)
class AgentRun:
    """The outcome of `run_agent`: the final answer, every step, and the thread it ran in."""

    answer: str
    steps: tuple[AgentStep, ...]
    thread_id: str

    @classmethod
    def from_steps(cls, steps: Iterable[AgentStep], thread_id: str) -> AgentRun:
        """The run these steps make up; the answer is the top graph's last AI text ("" if none)."""
        steps = tuple(steps)
        answers = [s.text for s in steps if s.kind == "message" and not s.path]
        return cls(answer=answers[-1] if answers else "", steps=steps, thread_id=thread_id)

    def tools_called(self) -> list[str]:
        """Names of the tools the run called, in order (specialists' calls included)."""
        return [s.tool for s in self.steps if s.kind == "tool_call"]


def message_steps(node: str, message: BaseMessage, path: tuple[str, ...] = ()) -> list[AgentStep]:
    """The steps one message stands for: an AI turn's text and each of its (possibly malformed) tool calls."""
    if isinstance(message, ToolMessage):
        kind = "tool_error" if message.status == "error" else "tool_result"
        return [AgentStep(node, kind, _text(message), tool=message.name or "", path=path)]
    if isinstance(message, AIMessage):
        reasoning = str(message.additional_kwargs.get("reasoning_content") or "").strip()
        steps = [AgentStep(node, "reasoning", reasoning, path=path)] if reasoning else []
        steps += [AgentStep(node, "message", _text(message), path=path)] if _text(message) else []
        steps += [AgentStep(node, "tool_call", tool=c["name"], args=c["args"], path=path) for c in message.tool_calls]
        steps += [
            AgentStep(node, "malformed_call", f"Unreadable tool call: {c.get('error') or c.get('args')!s}",
                      tool=c.get("name") or "", path=path)
            for c in message.invalid_tool_calls
        ]
        return steps
    return []  # the human turn: the caller already knows it


def stream_agent(
    agent: CompiledStateGraph,
    message: str,
    *,
    thread_id: str | None = None,
    step_limit: int = DEFAULT_STEP_LIMIT,
) -> Iterator[AgentStep]:
    """Run `agent` on one user message and yield its steps as they happen.

    `thread_id` selects the conversation when the agent has a checkpointer (a fresh one when None).
    A run that fails ends with an `error` step and then raises: `ServerError` when the model server
    cannot be reached or refuses the request, `NanokitError` when the run hits `step_limit`.
    """
    config = {"configurable": {"thread_id": thread_id or str(uuid.uuid4())}, "recursion_limit": step_limit}
    updates = agent.stream({"messages": [HumanMessage(message)]}, config, stream_mode="updates", subgraphs=True)
    try:
        for namespace, update in updates:
            path = tuple(part.split(":")[0] for part in namespace)
            for node, values in (update or {}).items():
                if isinstance(values, Mapping):  # a node may also return None or a bare Command
                    for msg in values.get("messages", []):
                        yield from message_steps(node, msg, path)
    except openai.APIConnectionError as e:  # APITimeoutError is one of these
        error: NanokitError = ServerError(
            f"The agent could not reach the model server at {e.request.url} ({e.message}); "
            "check that the server is running and that base_url is right."
        )
    except openai.APIStatusError as e:
        error = ServerError(
            f"The model server refused the agent's request with HTTP {e.status_code} ({_detail(e)}); "
            "check the model name and the request size."
        )
    except GraphRecursionError:
        error = NanokitError(
            f"The agent stopped after {step_limit} steps without a final answer; "
            "raise step_limit or ask something simpler."
        )
    else:
        return
    yield AgentStep("", "error", str(error))
    raise error from None


def run_agent(
    agent: CompiledStateGraph,
    message: str,
    *,
    thread_id: str | None = None,
    step_limit: int = DEFAULT_STEP_LIMIT,
) -> AgentRun:
    """Run `agent` on one user message to the end and return what it answered and did."""
    thread_id = thread_id or str(uuid.uuid4())
    return AgentRun.from_steps(stream_agent(agent, message, thread_id=thread_id, step_limit=step_limit), thread_id)


def _text(message: BaseMessage) -> str:
    return message.text if isinstance(message.text, str) else message.text()


def _detail(error: openai.APIStatusError) -> str:
    body = error.body
    if isinstance(body, Mapping):
        return str(body.get("message") or body)
    return error.message
