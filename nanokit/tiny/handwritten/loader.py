"""Reading and checking the hand-written evaluation set (cases.jsonl, one case per line).

Every check raises HandwrittenCaseError with one sentence naming the case id (or the line number, when the line
has no readable id), so a typo in the data file points at the line to fix rather than at a failing evaluation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from nanokit.errors import NanokitError

KINDS = ("tool_call", "tool_result", "no_tool", "greeting", "memory", "two_step")
ROLES = ("system", "user", "assistant", "tool")
CASE_KEYS = {"id", "kind", "enable_thinking", "tools", "messages", "expect"}
EXPECT_KEYS = {
    "tool_call": ({"call"}, {"optional_ok"}),
    "tool_result": ({"contains"}, set()),
    "greeting": ({"contains"}, set()),
    "memory": ({"contains"}, set()),
    "no_tool": ({"no_call"}, set()),
    "two_step": ({"steps", "contains"}, set()),
}
# JSON-schema type name -> the Python types json.loads produces for it (bool is excluded from numbers below).
SCHEMA_TYPES = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
                "array": (list,), "object": (dict,)}


class HandwrittenCaseError(NanokitError, ValueError):
    """A line of the hand-written evaluation set that does not follow its format."""


@dataclass(frozen=True)
class HandwrittenCase:
    """One conversation to evaluate; `expect` keeps the shape documented in README.md for its kind."""

    id: str
    kind: str
    enable_thinking: bool
    tools: tuple[dict[str, Any], ...]
    messages: tuple[dict[str, Any], ...]
    expect: dict[str, Any]


def load_cases() -> list[HandwrittenCase]:
    """The shipped set, read from the package data and validated."""
    text = resources.files(__package__).joinpath("cases.jsonl").read_text(encoding="utf-8")
    return parse_cases(text)


def parse_cases(text: str) -> list[HandwrittenCase]:
    """Cases from JSONL text; raises HandwrittenCaseError naming the first bad case."""
    cases: list[HandwrittenCase] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        case = _parse_line(line, number)
        if case.id in seen:
            raise HandwrittenCaseError(f"Case {case.id} (line {number}) reuses an id; give it a new one.")
        seen.add(case.id)
        cases.append(case)
    return cases


def _parse_line(line: str, number: int) -> HandwrittenCase:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise HandwrittenCaseError(f"Line {number} is not valid JSON ({exc.msg}); fix its syntax.") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
        raise HandwrittenCaseError(f"Line {number} has no string 'id'; each line must be an object with an id.")
    label = f"Case {raw['id']} (line {number})"
    try:
        _check_case(raw)
    except _Bad as bad:
        raise HandwrittenCaseError(f"{label} {bad}.") from None
    return HandwrittenCase(id=raw["id"], kind=raw["kind"], enable_thinking=raw["enable_thinking"],
                           tools=tuple(raw["tools"]), messages=tuple(raw["messages"]), expect=raw["expect"])


class _Bad(Exception):
    """A problem found inside one case; _parse_line prefixes the case id and line."""


def _require(condition: bool, problem: str) -> None:
    if not condition:
        raise _Bad(problem)


def _check_case(raw: dict[str, Any]) -> None:
    _require(set(raw) == CASE_KEYS, f"must have exactly the keys {sorted(CASE_KEYS)}, not {sorted(raw)}")
    _require(raw["kind"] in KINDS, f"has kind {raw['kind']!r}; use one of {', '.join(KINDS)}")
    _require(isinstance(raw["enable_thinking"], bool), "needs enable_thinking true or false")
    _require(isinstance(raw["tools"], list), "needs 'tools' as a list (may be empty)")
    tools = {}
    for tool in raw["tools"]:
        name, parameters = _check_tool(tool)
        _require(name not in tools, f"declares the tool {name!r} twice")
        tools[name] = parameters
    _check_messages(raw["messages"], raw["kind"], tools)
    _check_expect(raw["expect"], raw["kind"], tools, raw["messages"])


def _check_tool(tool: Any) -> tuple[str, dict[str, Any]]:
    _require(isinstance(tool, dict) and tool.get("type") == "function" and isinstance(tool.get("function"), dict),
             'has a tool that is not {"type": "function", "function": {...}}')
    function = tool["function"]
    name = function.get("name")
    _require(isinstance(name, str) and name.isidentifier(), f"has a tool name {name!r} that is not an identifier")
    _require(isinstance(function.get("description"), str) and function["description"].strip() != "",
             f"gives tool {name} no description")
    parameters = function.get("parameters")
    _require(isinstance(parameters, dict) and parameters.get("type") == "object"
             and isinstance(parameters.get("properties"), dict),
             f"gives tool {name} parameters that are not a JSON-schema object with properties")
    for prop, schema in parameters["properties"].items():
        _require(isinstance(schema, dict) and schema.get("type") in SCHEMA_TYPES,
                 f"gives {name}.{prop} no JSON-schema type among {', '.join(SCHEMA_TYPES)}")
        if "enum" in schema:
            _require(isinstance(schema["enum"], list) and schema["enum"] != []
                     and all(_fits_type(schema["type"], v) for v in schema["enum"]),
                     f"gives {name}.{prop} an enum that is empty or of the wrong type")
        if "default" in schema:
            _require(_fits(schema, schema["default"]), f"gives {name}.{prop} a default that its schema rejects")
    required = parameters.get("required", [])
    _require(isinstance(required, list) and set(required) <= set(parameters["properties"]),
             f"lists required names for {name} that are not among its properties")
    return name, parameters


def _check_messages(messages: Any, kind: str, tools: dict[str, Any]) -> None:
    _require(isinstance(messages, list) and messages != [], "needs a non-empty 'messages' list")
    call_ids: set[str] = set()
    for message in messages:
        _require(isinstance(message, dict) and message.get("role") in ROLES,
                 f"has a message whose role is not one of {', '.join(ROLES)}")
        _require(isinstance(message.get("content"), str), f"has a {message['role']} message without string content")
        for call in message.get("tool_calls", []):
            _require(message["role"] == "assistant", "has tool_calls on a message that is not the assistant's")
            function = call.get("function", {})
            _require(function.get("name") in tools, f"calls {function.get('name')!r}, which no offered tool is")
            _require(isinstance(_json_object(function.get("arguments")), dict),
                     "has tool-call arguments that are not a JSON object string")
            call_ids.add(call.get("id"))
        if message["role"] == "tool":
            _require(message.get("tool_call_id") in call_ids, "has a tool result answering no earlier call id")
    last = "tool" if kind == "tool_result" else "user"
    _require(messages[-1]["role"] == last, f"is a {kind} case, so its last message must be the {last}'s")


def _check_expect(expect: Any, kind: str, tools: dict[str, Any], messages: list[dict[str, Any]]) -> None:
    needed, allowed = EXPECT_KEYS[kind]
    _require(isinstance(expect, dict) and needed <= set(expect) <= needed | allowed,
             f"needs 'expect' with the keys {sorted(needed)} (optional: {sorted(allowed) or 'none'})")
    if kind == "tool_call":
        _check_call(expect["call"], expect.get("optional_ok", []), tools)
    elif kind == "no_tool":
        _require(expect["no_call"] is True, "is a no_tool case, so expect.no_call must be true")
    if kind == "two_step":
        steps = expect["steps"]
        _require(isinstance(steps, list) and len(steps) >= 2, "is a two_step case but lists fewer than two steps")
        for step in steps:
            _require(isinstance(step, dict) and {"call", "result"} <= set(step) <= {"call", "result", "optional_ok"}
                     and isinstance(step["result"], str), "has a step that is not {call, result[, optional_ok]}")
            _check_call(step["call"], step.get("optional_ok", []), tools)
    if "contains" in expect:
        contains = expect["contains"]
        _require(isinstance(contains, list) and contains != []
                 and all(isinstance(s, str) and s.strip() for s in contains),
                 "needs expect.contains as a non-empty list of non-empty strings")
        # What the answer must restate has to be in the results it restates, written as the result writes it.
        if kind in ("tool_result", "two_step"):
            source = messages[-1]["content"] if kind == "tool_result" else " ".join(s["result"] for s in steps)
            missing = [s for s in contains if s.lower() not in source.lower()]
            _require(not missing, f"expects {missing} in the answer, but no tool result contains it")


def _check_call(call: Any, optional_ok: Any, tools: dict[str, Any]) -> None:
    _require(isinstance(call, dict) and set(call) == {"name", "arguments"} and isinstance(call["arguments"], dict),
             "needs each expected call as {name, arguments}")
    name = call["name"]
    _require(name in tools, f"expects a call to {name!r}, which is not among the offered tools")
    properties = tools[name]["properties"]
    for arg, value in call["arguments"].items():
        _require(arg in properties, f"expects argument {arg!r}, which {name}'s schema does not declare")
        _require(_fits(properties[arg], value), f"expects {name}.{arg} = {value!r}, which its schema rejects")
    missing = [r for r in tools[name].get("required", []) if r not in call["arguments"]]
    _require(not missing, f"expects a call to {name} without its required {missing}")
    _require(isinstance(optional_ok, list) and all(o in properties for o in optional_ok),
             f"lists optional_ok names that {name}'s schema does not declare")
    required_optional = [o for o in optional_ok if o in tools[name].get("required", [])]
    _require(not required_optional, f"lists required arguments {required_optional} of {name} as optional_ok")
    # Every property is accounted for, so "no argument outside expected and optional_ok" means "none beyond the schema".
    unlisted = [p for p in properties if p not in call["arguments"] and p not in optional_ok]
    _require(not unlisted, f"neither expects nor lists as optional_ok {name}'s properties {unlisted}")


def _json_object(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else None
    except json.JSONDecodeError:
        return None


def _fits(schema: dict[str, Any], value: Any) -> bool:
    return _fits_type(schema["type"], value) and ("enum" not in schema or value in schema["enum"])


def _fits_type(type_name: str, value: Any) -> bool:
    if isinstance(value, bool) and type_name != "boolean":
        return False
    return isinstance(value, SCHEMA_TYPES[type_name])
