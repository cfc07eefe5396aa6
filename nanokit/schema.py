"""Tool arguments coerced to the JSON schema of a tool's parameters: the one place it is done.

Nemotron writes every argument as text inside `<parameter=NAME>...</parameter>`, and the chat template
renders earlier calls with Python's `str()` (so the model copies `True`, `None`, `{'a': 1}`). A server's
parser hands JSON arguments over that may still be strings. `coerce_arguments` turns both into the
types the schema asks for and never raises: a value that cannot be converted stays as it came and one
sentence about it goes into `CoercedArguments.problems`.

What a schema may say, as tools write it in practice:

- `"type"` as a string or a list (`["integer", "null"]`), `"nullable": true` (OpenAPI), and the type
  names some tools use instead of JSON Schema's (`int`, `float`, `bool`, `dict`, `list`, `str`);
- `anyOf` / `oneOf` (Pydantic and LangChain write `Optional[int]` as
  `{"anyOf": [{"type": "integer"}, {"type": "null"}], "default": null}`), `allOf`, local `$ref`s into
  `$defs` / `definitions` (Pydantic's nested models), `enum` and `const`;
- numbers in any JSON notation (`1e3` is the integer 1000, `20.0` the integer 20), booleans in JSON or
  Python spelling, `null`/`None` where null is allowed, arrays and objects as JSON or as Python literals
  (read with `ast.literal_eval`, which evaluates literals only and never runs code), with their items
  and properties coerced by their own schemas.

A value that is already of an allowed type is kept as it is (`"10"` stays a string for
`anyOf: [string, integer]`), the way Pydantic's "smart" unions choose; otherwise the alternatives are
tried in the order the schema lists them. The one exception: the text `null` or `None` becomes null
wherever null is allowed, and wherever a string is not (a model that writes `null` for an integer
means "no value", and the template renders a null argument as `None`).
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

# Type names seen in tool declarations that are not JSON Schema's own.
_TYPE_ALIASES = {
    "int": "integer", "long": "integer", "float": "number", "double": "number", "decimal": "number",
    "bool": "boolean", "dict": "object", "map": "object", "list": "array", "tuple": "array",
    "str": "string", "text": "string", "none": "null",
}
_KNOWN = ("null", "boolean", "integer", "number", "object", "array", "string")
_EXPECTED = {"integer": "an integer", "number": "a number", "boolean": "true or false", "null": "null",
             "array": "a JSON array", "object": "a JSON object", "string": "a string"}
_JSON_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NULL_WORDS = ("null", "none")


@dataclass(frozen=True)
class CoercedArguments:
    """The arguments after coercion, and one sentence per argument that could not be coerced."""

    values: dict[str, Any]
    problems: tuple[str, ...] = ()


class _Unconvertible(Exception):
    """A value that does not fit a schema; the message completes "Argument 'x' ..."."""


# --- reading schemas ------------------------------------------------------------------------------


def _types(schema: Mapping[str, Any]) -> list[str]:
    """The JSON types a schema allows, in its own order; [] when it does not say."""
    declared = schema.get("type")
    names = declared if isinstance(declared, list) else [declared] if declared is not None else []
    types = []
    for name in names:
        name = _TYPE_ALIASES.get(str(name).lower(), str(name).lower())
        if name in _KNOWN and name not in types:
            types.append(name)
    if schema.get("nullable") is True and "null" not in types:
        types.append("null")
    if not types and isinstance(schema.get("properties"), Mapping):
        types.append("object")
    if not types and isinstance(schema.get("items"), Mapping):
        types.append("array")
    return types


def _resolve(schema: Any, root: Mapping[str, Any], depth: int = 0) -> Mapping[str, Any]:
    """`schema` with a local `$ref` (`#/$defs/Name`) followed; anything unreadable becomes {}."""
    if not isinstance(schema, Mapping):
        return {}
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/") or depth > 20:
        return schema
    target: Any = root
    for part in ref[2:].split("/"):
        target = target.get(part) if isinstance(target, Mapping) else None
    siblings = {k: v for k, v in schema.items() if k != "$ref"}
    return {**_resolve(target, root, depth + 1), **siblings}


def _branches(schema: Mapping[str, Any], root: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The alternatives of an anyOf/oneOf (or a single-entry allOf), each resolved; [] if none."""
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return [_resolve(branch, root) for branch in schema[key]]
    if isinstance(schema.get("allOf"), list) and len(schema["allOf"]) == 1:
        return [_resolve(schema["allOf"][0], root)]
    return []


def _allows_null(schema: Mapping[str, Any], root: Mapping[str, Any]) -> bool:
    branches = _branches(schema, root)
    if branches:
        return any(_allows_null(branch, root) for branch in branches)
    return "null" in _types(schema) or (isinstance(schema.get("enum"), list) and None in schema["enum"])


def _describe(schema: Mapping[str, Any], root: Mapping[str, Any]) -> str:
    branches = _branches(schema, root)
    kinds = [k for b in branches for k in _types(b)] if branches else _types(schema)
    kinds = list(dict.fromkeys(kinds))
    return " or ".join(_EXPECTED[k] for k in kinds) if kinds else "a valid value"


# --- converting one value to one type -------------------------------------------------------------


def _literal(text: str) -> Any:
    """JSON text, else a Python literal (`{'a': 1}`, `[True, None]`); raises _Unconvertible."""
    try:
        return json.loads(text, parse_constant=_refuse)  # NaN and Infinity are no JSON values
    except (ValueError, RecursionError):
        pass
    try:
        return _jsonable(ast.literal_eval(text.strip()))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as error:
        raise _Unconvertible from error


def _refuse(name: str) -> Any:
    raise ValueError(name)


def _jsonable(value: Any) -> Any:
    """A literal_eval result as JSON data (tuples become lists); sets, bytes, complex are refused."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {key: _jsonable(item) for key, item in value.items()}
    raise ValueError


def _number(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise _Unconvertible
    if isinstance(value, int | float):
        value = repr(value)
    if not isinstance(value, str) or not _JSON_NUMBER.fullmatch(value.strip()):
        raise _Unconvertible
    try:
        number = Decimal(value.strip())
    except InvalidOperation as error:
        raise _Unconvertible from error
    if not number.is_finite() or abs(number.adjusted()) > 400:  # 1e999999 would take forever to expand
        raise _Unconvertible
    return number


def _to(kind: str, value: Any) -> Any:
    """`value` converted to the JSON type `kind`, or _Unconvertible."""
    if kind == "null":
        if value is None or (isinstance(value, str) and value.strip().lower() in _NULL_WORDS):
            return None
    elif kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
            return value.strip().lower() in ("true", "1")
    elif kind == "integer":
        number = _number(value)
        if number == number.to_integral_value():
            return int(number)
    elif kind == "number":
        number = _number(value)
        if isinstance(value, int | float):
            return value
        text = value.strip()
        return int(number) if re.fullmatch(r"[+-]?\d+", text) else float(number)
    elif kind in ("array", "object"):
        found = _literal(value) if isinstance(value, str) else value
        if isinstance(found, list if kind == "array" else dict):
            return found
    elif kind == "string":
        if isinstance(value, str):
            return value
        return json.dumps(value, ensure_ascii=False)
    raise _Unconvertible


def _fits(kind: str, value: Any) -> bool:
    """Whether `value` already is of JSON type `kind`, with nothing to convert."""
    checks = {"null": value is None, "boolean": isinstance(value, bool), "string": isinstance(value, str),
              "integer": isinstance(value, int) and not isinstance(value, bool),
              "number": isinstance(value, int | float) and not isinstance(value, bool),
              "array": isinstance(value, list), "object": isinstance(value, dict)}
    return checks[kind]


# --- coercing against a schema --------------------------------------------------------------------


def _coerce(value: Any, schema: Mapping[str, Any], root: Mapping[str, Any], depth: int = 0) -> Any:
    """`value` coerced to `schema`; raises _Unconvertible with the reason."""
    if depth > 50:
        return value
    branches = _branches(schema, root)
    if branches:
        return _coerce_union(value, schema, branches, root, depth)
    types = _types(schema)
    if _null_meant(value, types):
        value = None
    elif types and not any(_fits(kind, value) for kind in types):
        for kind in types:
            try:
                value = _to(kind, value)
                break
            except _Unconvertible:
                continue
        else:
            raise _Unconvertible(f"should be {_describe(schema, root)}")
    value = _coerce_inside(value, schema, root, depth)
    return _check_enum(value, schema)


def _null_meant(value: Any, types: list[str]) -> bool:
    """The text null/None where null is allowed, or where no string is (a non-nullable integer)."""
    if not isinstance(value, str) or value.strip().lower() not in _NULL_WORDS:
        return False
    return "null" in types or bool(types) and "string" not in types


def _coerce_union(value: Any, schema: Mapping[str, Any], branches: list[Mapping[str, Any]],
                  root: Mapping[str, Any], depth: int) -> Any:
    kinds = [kind for branch in branches for kind in _types(branch)]
    if _null_meant(value, ["null"] if _allows_null(schema, root) else kinds):
        return None
    # A branch the value already fits wins, then the branches in the order the schema lists them.
    ordered = [b for b in branches if any(_fits(k, value) for k in _types(b))]
    ordered += [b for b in branches if b not in ordered]
    for branch in ordered:
        try:
            return _check_enum(_coerce(value, branch, root, depth + 1), schema)
        except _Unconvertible:
            continue
    raise _Unconvertible(f"should be {_describe(schema, root)}")


def _coerce_inside(value: Any, schema: Mapping[str, Any], root: Mapping[str, Any], depth: int) -> Any:
    """Items of an array and properties of an object, by their own schemas."""
    if isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, Mapping):
            out = []
            for item in value:
                try:
                    out.append(_coerce(item, _resolve(items, root), root, depth + 1))
                except _Unconvertible as error:
                    raise _Unconvertible(f"has an item that {error}") from error
            return out
    if isinstance(value, dict):
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        out = {}
        for key, item in value.items():
            sub = properties.get(key) if isinstance(properties, Mapping) else None
            sub = sub if sub is not None else extra if isinstance(extra, Mapping) else None
            try:
                out[key] = _coerce(item, _resolve(sub, root), root, depth + 1) if sub is not None else item
            except _Unconvertible as error:
                raise _Unconvertible(f"has a property {key!r} that {error}") from error
        return out
    return value


def _check_enum(value: Any, schema: Mapping[str, Any]) -> Any:
    allowed = schema.get("enum")
    if "const" in schema:
        allowed = [schema["const"]]
    if not isinstance(allowed, list) or _member(value, allowed):
        return value
    if isinstance(value, str):  # an enum of numbers or booleans, written as text
        try:
            found = _literal(value)
        except _Unconvertible:
            found = value
        if _member(found, allowed):
            return found
    raise _Unconvertible(f"should be one of {', '.join(map(repr, allowed))}")


def _member(value: Any, allowed: list[Any]) -> bool:
    # True == 1 in Python; an enum of integers must not accept a boolean (nor the other way round).
    return any(value == a and isinstance(value, bool) == isinstance(a, bool) for a in allowed)


def coerce_value(value: Any, schema: Mapping[str, Any] | None, *,
                 root: Mapping[str, Any] | None = None) -> tuple[Any, str | None]:
    """`(value, None)` coerced to `schema`, or `(value unchanged, why not)`; never raises.

    `root` is the schema that `$ref`s point into (the tool's whole `parameters`); by default `schema`.
    """
    if not isinstance(schema, Mapping) or not schema:
        return value, None
    root = root if isinstance(root, Mapping) else schema
    try:
        return _coerce(value, _resolve(schema, root), root), None
    except _Unconvertible as error:
        return value, str(error) or f"should be {_describe(schema, root)}"
    except (TypeError, ValueError, AttributeError, RecursionError):  # a schema no validator would accept
        return value, "has a schema that could not be read"


def coerce_arguments(arguments: Mapping[str, Any], parameters: Mapping[str, Any] | None) -> CoercedArguments:
    """Arguments converted to the types in a JSON-schema `parameters` object, with what could not be.

    `"15"` becomes 15 for an integer, `"True"` becomes true for a boolean, `"null"` becomes null for
    `Optional[int]`; a name with stray spaces (`" city "`) is read as the parameter it names. Values
    that cannot be converted are kept as they came and named in `problems`, one sentence each, so a
    tool loop can tell the model what to fix instead of crashing.
    """
    if not isinstance(parameters, Mapping) or not parameters:
        return CoercedArguments(dict(arguments))
    properties = parameters.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in arguments.items():
        if name not in properties and isinstance(name, str) and name.strip() in properties:
            name = name.strip()
        if name not in properties:
            problems.append(f"Argument {name!r} is not a parameter of this tool.")
            values[name] = value
            continue
        values[name], problem = coerce_value(value, properties[name], root=parameters)
        if problem:
            problems.append(f"Argument {name!r} {problem}; got {value!r}.")
    required = parameters.get("required")
    for name in required if isinstance(required, list) else []:
        if name not in values:
            problems.append(f"Argument {name!r} is required but missing.")
    return CoercedArguments(values, tuple(problems))


def tool_parameters(tools: Iterable[Any] | None) -> dict[str, Mapping[str, Any]]:
    """Each tool's `parameters` schema by name, from OpenAI tool entries.

    Accepts `{"type": "function", "function": {...}}` (Chat Completions), the flat
    `{"type": "function", "name": ..., "parameters": ...}` (Responses API), and objects with such an
    entry as their `.schema` (nanokit's `Tool`). Entries without a name are skipped; a tool without
    parameters maps to {}.
    """
    found: dict[str, Mapping[str, Any]] = {}
    for tool in tools or ():
        entry = getattr(tool, "schema", tool)
        if not isinstance(entry, Mapping):
            continue
        function = entry.get("function", entry)
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            parameters = function.get("parameters")
            found[function["name"]] = parameters if isinstance(parameters, Mapping) else {}
    return found
