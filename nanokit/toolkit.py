"""Tools: what the model is shown (OpenAI `tools=[...]` entries) and what runs when it calls one.

A tool is a typed Python function with a docstring, a `Tool` (a callable with its schema), or a
LangChain tool (`@tool`, `StructuredTool`); `tool_entries` turns any of them, or a ready-made entry
dict, into the schema vLLM renders into the system turn. `execute_tool_call` runs one call: it coerces
the arguments against the tool's parameters (the one place nanokit does that, for server-parsed and
client-parsed calls alike), runs the function and words any failure as text for the model.

This module sits below `nanokit.chat` and the tool loop (`nanokit.tools`) and imports no client.

Schemas from type hints: str/int/float/bool, `Literal[...]` and `list[...]` are written by hand in the
shape the embedded model was trained on (its training data is generated from these schemas, so they
must not change); anything else (`int | None`, enums, Pydantic models, dicts, nested lists) gets
Pydantic's JSON schema with `$ref`s inlined, because a chat template prints the schema as text and a
model cannot follow a reference. Optional fields then read `anyOf: [{...}, {"type": "null"}]`, as in
Pydantic's `model_json_schema()` and LangChain's `convert_to_openai_tool`. Defaults of plain
functions stay out of the schema for the same training reason; Pydantic fields keep theirs.
"""

from __future__ import annotations

import inspect
import json
import sys
import time
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import pydantic

from nanokit.parsing import ToolCall
from nanokit.schema import CoercedArguments, coerce_arguments

_JSON_TYPES: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _inline_refs(schema: Any, definitions: Mapping[str, Any]) -> Any:
    """The schema with every `{"$ref": "#/$defs/X"}` replaced by X itself and Pydantic's titles dropped."""
    if isinstance(schema, list):
        return [_inline_refs(item, definitions) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    if "$ref" in schema:
        target = definitions[schema["$ref"].rsplit("/", 1)[-1]]
        return _inline_refs({**target, **{k: v for k, v in schema.items() if k != "$ref"}}, definitions)
    inlined: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("$defs", "title"):
            continue
        if key == "properties":  # property names are data, not schema keywords: keep a field called "title"
            inlined[key] = {name: _inline_refs(prop, definitions) for name, prop in value.items()}
        else:
            inlined[key] = _inline_refs(value, definitions)
    return inlined


def json_schema_of(annotation: Any) -> dict[str, Any]:
    """The JSON schema of one Python type (a Pydantic model, `int | None`, an enum...), references inlined."""
    schema = pydantic.TypeAdapter(annotation).json_schema()
    return _inline_refs(schema, schema.get("$defs", {}))


def _is_plain(annotation: Any) -> bool:
    """Whether the hand-written schema (the one the embedded model was trained on) covers the type."""
    origin = typing.get_origin(annotation)
    if origin is Literal:
        values = typing.get_args(annotation)
        return len({type(v) for v in values}) == 1 and type(values[0]) in _JSON_TYPES
    if origin in (list, tuple):
        args = typing.get_args(annotation)
        return origin is list and (not args or _is_plain(args[0]))
    return annotation in _JSON_TYPES


def _param_schema(annotation: Any) -> dict[str, Any]:
    if not _is_plain(annotation):
        return json_schema_of(annotation)
    origin = typing.get_origin(annotation)
    if origin is Literal:
        values = list(typing.get_args(annotation))
        return {"type": _JSON_TYPES[type(values[0])], "enum": values}
    if origin is list:
        (item,) = typing.get_args(annotation)[:1] or (str,)
        return {"type": "array", "items": _param_schema(item)}
    return {"type": _JSON_TYPES[annotation]}


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


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(fn)
    missing = [name for name in inspect.signature(fn).parameters if name not in hints]
    if missing:
        raise TypeError(f"Tool {fn.__name__} needs a type hint on every parameter; {', '.join(missing)} has none.")
    return hints


def tool_schema(fn: Callable[..., Any]) -> dict[str, Any]:
    """The OpenAI function-tool schema of a typed function (name, docstring summary, hinted parameters)."""
    hints = _hints(fn)
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


def _validators(fn: Callable[..., Any]) -> dict[str, pydantic.TypeAdapter]:
    """For parameters the JSON arguments cannot hold as-is (models, enums): the adapter that builds them."""
    return {name: pydantic.TypeAdapter(hint) for name, hint in _hints(fn).items()
            if name != "return" and not _is_plain(hint)}


@dataclass(frozen=True)
class Tool:
    """A callable the model may use, with the OpenAI schema it is shown as.

    `fn` receives the coerced arguments as keyword arguments; parameters typed with a Pydantic model,
    an enum or another rich type are validated into that type first. `checks_arguments=False` hands `fn`
    arguments that do not fit the schema too (coerced where they can be): a tool a person answers by hand
    sees every call the model makes and decides itself, as in the playgrounds users know.
    """

    fn: Callable[..., Any]
    schema: dict[str, Any]
    validators: Mapping[str, pydantic.TypeAdapter] = field(default_factory=dict, compare=False, repr=False)
    checks_arguments: bool = True

    @classmethod
    def from_function(cls, fn: Callable[..., Any]) -> Tool:
        return cls(fn, tool_schema(fn), _validators(fn))

    @property
    def name(self) -> str:
        return self.schema["function"]["name"]

    @property
    def parameters(self) -> dict[str, Any]:
        return self.schema["function"].get("parameters", {})

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def run(self, arguments: Mapping[str, Any]) -> Any:
        """Call the tool with JSON-shaped arguments, building rich parameter types on the way."""
        values = {name: self.validators[name].validate_python(value) if name in self.validators else value
                  for name, value in arguments.items()}
        return self.fn(**values)


ToolLike = Tool | Callable[..., Any]
"""What the tool loop and the agents accept: a `Tool`, a typed function or a LangChain tool."""


def _langchain_tool(tool: object) -> Tool | None:
    """A `Tool` for a LangChain tool, or None for anything else.

    A LangChain tool object exists only where langchain-core is imported already, so the check reads
    `sys.modules` instead of importing it (which would make every nanokit import pay for LangChain).
    """
    tools_module = sys.modules.get("langchain_core.tools")
    if tools_module is None or not isinstance(tool, tools_module.BaseTool):
        return None
    from langchain_core.utils.function_calling import convert_to_openai_tool  # present: see above

    return Tool(lambda **arguments: tool.invoke(arguments), convert_to_openai_tool(tool))


def as_tool(tool: ToolLike) -> Tool:
    """`tool` as a `Tool`: unchanged, a LangChain tool wrapped, or a typed function's schema built."""
    if isinstance(tool, Tool):
        return tool
    return _langchain_tool(tool) or Tool.from_function(tool)


def tool_entries(tools: Iterable[ToolLike | Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """OpenAI `tools=[...]` entries from typed functions, `Tool`s, LangChain tools or ready-made dicts."""
    return [dict(tool) if isinstance(tool, Mapping) else as_tool(tool).schema for tool in tools or ()]


def coerce_call(call: ToolCall, parameters: Mapping[str, Any] | None) -> CoercedArguments:
    """A call's arguments converted to its tool's parameter types, with what could not be (the one place)."""
    return coerce_arguments(call.arguments, parameters)


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
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump_json()
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def execute_tool_call(call: ToolCall, tools: Mapping[str, Tool]) -> ToolExecution:
    """Run one call; unknown tools, bad arguments and exceptions become an error output, never a raise."""
    started = time.perf_counter()
    tool = tools.get(call.name)
    if tool is None:
        error = f"Unknown tool {call.name!r}; the available tools are {', '.join(sorted(tools)) or 'none'}."
        return ToolExecution(call, dict(call.arguments), f"Error: {error}", error)
    coerced = coerce_call(call, tool.parameters)
    if coerced.problems and tool.checks_arguments:
        error = "Invalid arguments: " + " ".join(coerced.problems)
        return ToolExecution(call, coerced.values, f"Error: {error}", error)
    try:
        output = _render_output(tool.run(coerced.values))
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
