"""The tool loop: model -> tool calls -> run them -> tool messages -> model, until an answer.

Declaring tools and running one call live in `nanokit.toolkit`; the cookbook's example tools in
`nanokit.example_tools`. This module only drives the conversation.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from nanokit.chat import ChatEvent, ChatResult, Done, stream_chat
from nanokit.endpoint import Endpoint, HasEndpoint
from nanokit.errors import ConfigError, ToolError

# EXAMPLE_TOOLS, Tool and tool_schema are still imported from here by tiny/data.py and other branches' tests;
# they live in nanokit.example_tools and nanokit.toolkit (drop these once nothing imports them from here).
from nanokit.example_tools import EXAMPLE_TOOLS  # noqa: F401
from nanokit.toolkit import Tool, ToolExecution, ToolLike, as_tool, execute_tool_calls, tool_schema  # noqa: F401


@dataclass(frozen=True)
class ToolStep:
    """One model turn of the loop: what it thought and said, the calls it made and their results."""

    number: int
    result: ChatResult
    executions: tuple[ToolExecution, ...] = ()

    @property
    def is_final(self) -> bool:
        return not self.executions


@dataclass(frozen=True)
class ToolLoopResult:
    steps: tuple[ToolStep, ...]
    messages: tuple[dict[str, Any], ...]
    stopped: Literal["answer", "step_limit"]

    @property
    def answer(self) -> str:
        return self.steps[-1].result.content if self.steps else ""


ToolLoopEvent = ChatEvent | ToolStep | ToolLoopResult


def iter_tool_loop(
    endpoint: Endpoint | HasEndpoint,
    messages: str | Sequence[Mapping[str, Any]],
    tools: Iterable[ToolLike],
    *,
    max_steps: int = 5,
    preset: str = "tools",
    carry_reasoning: bool = True,
    first_tool_choice: str | Mapping[str, Any] | None = None,
    **chat_options: Any,
) -> Iterator[ToolLoopEvent]:
    """Model -> tool calls -> execute -> tool messages -> model, streamed: chat events as they arrive,
    a `ToolStep` after each model turn, and the `ToolLoopResult` last. Stops at an answer without
    calls or after `max_steps` model turns.

    Each assistant turn goes back with its reasoning (`carry_reasoning`), as the released template
    expects for the turns after the last user message; it drops the reasoning of earlier turns itself.
    `first_tool_choice` is the first turn's `tool_choice` (a named function forces that call once; the
    turns after it choose freely, or the loop would never end).
    """
    if max_steps < 1:
        raise ConfigError(f"max_steps must be at least 1; got {max_steps}.")
    by_name = {tool.name: tool for tool in map(as_tool, tools)}
    history = [{"role": "user", "content": messages}] if isinstance(messages, str) else [dict(m) for m in messages]
    steps: list[ToolStep] = []
    for number in range(1, max_steps + 1):
        result = None
        choice = first_tool_choice if number == 1 else None
        for event in stream_chat(endpoint, history, tools=list(by_name.values()), preset=preset,
                                 tool_choice=choice, **chat_options):
            if isinstance(event, Done):
                result = event.result
            yield event
        assert result is not None  # stream_chat always ends with Done
        executions = execute_tool_calls(result.tool_calls, by_name)
        step = ToolStep(number, result, executions)
        steps.append(step)
        yield step
        history.append(result.assistant_message(carry_reasoning=carry_reasoning))
        history += [execution.tool_message() for execution in executions]
        if step.is_final:
            yield ToolLoopResult(tuple(steps), tuple(history), "answer")
            return
    yield ToolLoopResult(tuple(steps), tuple(history), "step_limit")


def run_tool_loop(
    endpoint: Endpoint | HasEndpoint,
    messages: str | Sequence[Mapping[str, Any]],
    tools: Iterable[ToolLike],
    **options: Any,
) -> ToolLoopResult:
    """The whole tool loop (see `iter_tool_loop`), returning its steps, final history and answer."""
    for event in iter_tool_loop(endpoint, messages, tools, **options):
        if isinstance(event, ToolLoopResult):
            return event
    raise ToolError("The tool loop ended without a result.")
