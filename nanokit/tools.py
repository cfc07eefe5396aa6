"""Tools declared from typed Python functions, the tool loop, and the cookbook's safe example tools.

A tool is an ordinary function with type hints and a docstring; `tool_schema` turns it into the
OpenAI `tools=[...]` entry that vLLM renders into the system turn (Nemotron's chat template shows
them there, and the model answers with a Qwen3-Coder XML call).
"""

from __future__ import annotations

import ast
import inspect
import json
import operator
import time
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from nanokit.chat import ChatEvent, ChatResult, Done, stream_chat
from nanokit.errors import ConfigError, ToolError
from nanokit.parsing import ToolCall, coerce_arguments

_JSON_TYPES: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _param_schema(annotation: Any) -> dict[str, Any]:
    origin = typing.get_origin(annotation)
    if origin is Literal:
        values = list(typing.get_args(annotation))
        return {"type": _JSON_TYPES[type(values[0])], "enum": values}
    if origin in (list, tuple):
        (item,) = typing.get_args(annotation)[:1] or (str,)
        return {"type": "array", "items": _param_schema(item)}
    if annotation in _JSON_TYPES:
        return {"type": _JSON_TYPES[annotation]}
    raise TypeError(f"Tool parameters must be str, int, float, bool, Literal or list; got {annotation!r}.")


def _docstring_parts(fn: Callable[..., Any]) -> tuple[str, dict[str, str]]:
    """Split a docstring into its summary and `name: description` lines under 'Args:'."""
    doc = inspect.getdoc(fn) or ""
    summary, _, rest = doc.partition("\nArgs:")
    described: dict[str, str] = {}
    for line in rest.splitlines():
        name, sep, text = line.strip().partition(":")
        if sep and name.isidentifier():
            described[name] = text.strip()
    return " ".join(summary.split()), described


def tool_schema(fn: Callable[..., Any]) -> dict[str, Any]:
    """The OpenAI function-tool schema of a typed function (name, docstring summary, hinted parameters)."""
    hints = typing.get_type_hints(fn)
    summary, described = _docstring_parts(fn)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, param in inspect.signature(fn).parameters.items():
        prop = _param_schema(hints[name])
        if name in described:
            prop["description"] = described[name]
        properties[name] = prop
        if param.default is inspect.Parameter.empty:
            required.append(name)
    return {
        "type": "function",
        "function": {
            "name": fn.__name__,
            "description": summary,
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }


# --- the cookbook's example tools -------------------------------------------------------------

_WEATHER = {  # a fixed, synthetic world: the embedded model is trained on the same table
    "paris": 18, "london": 14, "tokyo": 22, "new york": 16, "berlin": 12, "madrid": 25, "rome": 21,
    "sydney": 24, "cairo": 31, "oslo": 6, "lima": 19, "toronto": 9, "mumbai": 30, "seoul": 15,
}


def calculate_tip(bill_total: int, tip_percentage: int) -> float:
    """Calculate the tip amount for a restaurant bill.

    Args:
        bill_total: The total bill amount in dollars.
        tip_percentage: The tip percentage, e.g. 15 for 15%.
    """
    return round(bill_total * tip_percentage / 100, 2)


def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    """Get the current temperature in a city.

    Args:
        city: The city name, e.g. Paris.
        unit: The temperature unit.
    """
    celsius = _WEATHER.get(city.strip().lower())
    if celsius is None:
        celsius = sum(map(ord, city.strip().lower())) % 30  # any city gets a stable, made-up reading
    if unit == "fahrenheit":
        return f"{round(celsius * 9 / 5 + 32)} degrees fahrenheit in {city}"
    return f"{celsius} degrees celsius in {city}"


_OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
    ast.USub: operator.neg, ast.UAdd: operator.pos,
}


def _evaluate(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > 100:
            raise ValueError("exponents above 100 are not allowed")
        return _OPERATORS[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_evaluate(node.operand))
    raise ValueError(f"unsupported expression element {type(node).__name__}")


def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression with + - * / // % ** and parentheses.

    Args:
        expression: The arithmetic expression, e.g. (3 + 4) * 2.
    """
    # Parsed with ast and evaluated node by node: names, calls and attributes are rejected, never eval'd.
    value = _evaluate(ast.parse(expression, mode="eval"))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(round(value, 6) if isinstance(value, float) else value)


EXAMPLE_TOOLS: tuple[Callable[..., Any], ...] = (calculate_tip, get_weather, calculator)


# --- tools as objects, and the tool loop ----------------------------------------------------------


@dataclass(frozen=True)
class Tool:
    """A callable the model may use, with the OpenAI schema it is shown as."""

    fn: Callable[..., Any]
    schema: dict[str, Any]

    @classmethod
    def from_function(cls, fn: Callable[..., Any]) -> Tool:
        return cls(fn, tool_schema(fn))

    @property
    def name(self) -> str:
        return self.schema["function"]["name"]

    @property
    def parameters(self) -> dict[str, Any]:
        return self.schema["function"].get("parameters", {})

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)


def as_tool(tool: Tool | Callable[..., Any]) -> Tool:
    return tool if isinstance(tool, Tool) else Tool.from_function(tool)


@dataclass(frozen=True)
class ToolExecution:
    """One call run (or refused): the arguments after coercion and what goes back to the model."""

    call: ToolCall
    arguments: dict[str, Any]
    output: str
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    def tool_message(self) -> dict[str, Any]:
        return {"role": "tool", "tool_call_id": self.call.id, "name": self.call.name, "content": self.output}


def _render_output(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def execute_tool_call(call: ToolCall, tools: Mapping[str, Tool]) -> ToolExecution:
    """Run one call; unknown tools, bad arguments and exceptions become an error output, never a raise."""
    started = time.perf_counter()
    tool = tools.get(call.name)
    if tool is None:
        error = f"Unknown tool {call.name!r}; the available tools are {', '.join(sorted(tools)) or 'none'}."
        return ToolExecution(call, dict(call.arguments), f"Error: {error}", error)
    coerced = coerce_arguments(call.arguments, tool.parameters)
    if coerced.problems:
        error = "Invalid arguments: " + " ".join(coerced.problems)
        return ToolExecution(call, coerced.values, f"Error: {error}", error)
    try:
        output = _render_output(tool(**coerced.values))
    except Exception as exc:  # noqa: BLE001 -- a tool failure is information for the model, not a crash
        error = f"{type(exc).__name__}: {exc}"
        return ToolExecution(call, coerced.values, f"Error: {error}", error, time.perf_counter() - started)
    return ToolExecution(call, coerced.values, output, None, time.perf_counter() - started)


def execute_tool_calls(calls: Sequence[ToolCall], tools: Mapping[str, Tool]) -> tuple[ToolExecution, ...]:
    """Run a turn's calls; parallel calls run concurrently, results keep the model's order."""
    if len(calls) <= 1:
        return tuple(execute_tool_call(call, tools) for call in calls)
    with ThreadPoolExecutor(max_workers=min(8, len(calls))) as pool:
        return tuple(pool.map(lambda call: execute_tool_call(call, tools), calls))


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
    endpoint: Any,
    messages: str | Sequence[Mapping[str, Any]],
    tools: Iterable[Tool | Callable[..., Any]],
    *,
    max_steps: int = 5,
    preset: str = "tools",
    **chat_options: Any,
) -> Iterator[ToolLoopEvent]:
    """Model -> tool calls -> execute -> tool messages -> model, streamed: chat events as they arrive,
    a `ToolStep` after each model turn, and the `ToolLoopResult` last. Stops at an answer without
    calls or after `max_steps` model turns."""
    if max_steps < 1:
        raise ConfigError(f"max_steps must be at least 1; got {max_steps}.")
    by_name = {tool.name: tool for tool in map(as_tool, tools)}
    history = [{"role": "user", "content": messages}] if isinstance(messages, str) else [dict(m) for m in messages]
    steps: list[ToolStep] = []
    for number in range(1, max_steps + 1):
        result = None
        for event in stream_chat(endpoint, history, tools=list(by_name.values()), preset=preset, **chat_options):
            if isinstance(event, Done):
                result = event.result
            yield event
        assert result is not None  # stream_chat always ends with Done
        executions = execute_tool_calls(result.tool_calls, by_name)
        step = ToolStep(number, result, executions)
        steps.append(step)
        yield step
        history.append(result.assistant_message())
        history += [execution.tool_message() for execution in executions]
        if step.is_final:
            yield ToolLoopResult(tuple(steps), tuple(history), "answer")
            return
    yield ToolLoopResult(tuple(steps), tuple(history), "step_limit")


def run_tool_loop(
    endpoint: Any,
    messages: str | Sequence[Mapping[str, Any]],
    tools: Iterable[Tool | Callable[..., Any]],
    **options: Any,
) -> ToolLoopResult:
    """The whole tool loop (see `iter_tool_loop`), returning its steps, final history and answer."""
    for event in iter_tool_loop(endpoint, messages, tools, **options):
        if isinstance(event, ToolLoopResult):
            return event
    raise ToolError("The tool loop ended without a result.")
