"""Tools a user declares in the app: a name, a description and parameters, answered by hand or by an example.

A declaration is data, never code: the parameters are JSON Schema text (read with `json.loads`) or a small
form of `name: type` lines (`city: string`, `days: integer`, `unit: celsius|fahrenheit` for a choice,
`?` after the name for an optional one). `parse_declaration` checks what the model will be shown and says in
one sentence what to fix. What answers a call is either a person (`BY_HAND`: the app shows the call and asks
for the result) or one of the cookbook's safe example tools (`nanokit.example_tools`), by name.

Names follow OpenAI's rule for function names (letters, digits, underscores and dashes, at most 64).
Declarations are kept in `tools.json` in the user's config directory (`platformdirs.user_config_dir`,
`$XDG_CONFIG_HOME/nanokit` on Linux; `NANOKIT_CONFIG_DIR` replaces the folder), written atomically so a
page reload or a crash mid-write never leaves half a file.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nanokit.errors import ConfigError
from nanokit.example_tools import EXAMPLE_TOOLS
from nanokit.toolkit import Tool

BY_HAND = "by hand"
EXAMPLE_IMPLEMENTATIONS: dict[str, Callable[..., Any]] = {fn.__name__: fn for fn in EXAMPLE_TOOLS}
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_FORM_TYPES = ("string", "integer", "number", "boolean", "array", "object")
_FORM_LINE = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<optional>\?)?\s*:\s*(?P<type>[^#]+?)"
                        r"(?:\s*#\s*(?P<description>.*))?")


@dataclass(frozen=True)
class ToolDeclaration:
    """One user-declared tool: what the model is shown, and who answers its calls (`BY_HAND` or an example's name)."""

    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    answered_by: str = BY_HAND

    @property
    def schema(self) -> dict[str, Any]:
        """The OpenAI `tools=[...]` entry."""
        return {"type": "function",
                "function": {"name": self.name, "description": self.description, "parameters": self.parameters}}

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _form_lines(text: str) -> list[str]:
    """One `name: type  # description` per entry: lines, and commas before a line's `#` (a description may hold commas)."""
    entries = []
    for line in text.splitlines():
        code, hash_sign, comment = line.partition("#")
        parts = [part.strip() for part in code.split(",")]
        parts[-1] = f"{parts[-1]} # {comment.strip()}" if hash_sign else parts[-1]
        entries += [part for part in parts if part.strip() and not part.strip().startswith("#")]
    return entries


def _form_parameters(text: str) -> dict[str, Any]:
    """Parameters from `name: type  # description` lines (or comma-separated), every one required unless `name?`."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for line in _form_lines(text):
        match = _FORM_LINE.fullmatch(line)
        if match is None:
            raise ConfigError(f"The parameter line {line!r} is not `name: type`; write e.g. `city: string` "
                              "or paste a JSON Schema object.")
        kind = match["type"].strip()
        if "|" in kind:
            prop: dict[str, Any] = {"type": "string", "enum": [v.strip() for v in kind.split("|") if v.strip()]}
        elif kind in _FORM_TYPES:
            prop = {"type": kind}
        else:
            raise ConfigError(f"The parameter {match['name']!r} has the type {kind!r}; use one of "
                              f"{', '.join(_FORM_TYPES)}, or choices like `celsius|fahrenheit`.")
        if match["description"]:
            prop["description"] = match["description"].strip()
        properties[match["name"]] = prop
        if not match["optional"]:
            required.append(match["name"])
    return {"type": "object", "properties": properties, "required": required}


def _check_schema(parameters: Any) -> dict[str, Any]:
    if not isinstance(parameters, dict) or parameters.get("type", "object") != "object":
        raise ConfigError('The parameters must be a JSON Schema object: {"type": "object", "properties": {...}}.')
    properties = parameters.get("properties", {})
    if not isinstance(properties, dict) or not all(isinstance(p, dict) for p in properties.values()):
        raise ConfigError('"properties" must map each parameter name to its schema, e.g. {"city": {"type": "string"}}.')
    required = parameters.get("required", [])
    missing = [name for name in required if name not in properties] if isinstance(required, list) else None
    if missing is None:
        raise ConfigError('"required" must be a list of parameter names, e.g. ["city"].')
    if missing:
        raise ConfigError(f'"required" names {", ".join(map(str, missing))}, which "properties" does not declare.')
    return {"type": "object", **parameters}


def parse_parameters(text: str) -> dict[str, Any]:
    """The JSON Schema of a tool's parameters from JSON text (starting with `{`) or `name: type` lines."""
    text = text.strip()
    if not text:
        return {"type": "object", "properties": {}, "required": []}
    if not text.startswith("{"):
        return _form_parameters(text)
    try:
        parameters = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"The parameters are not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
                          "fix the JSON or write `name: type` lines instead.") from None
    return _check_schema(parameters)


def parse_declaration(name: str, description: str, parameters: str | Mapping[str, Any],
                      answered_by: str = BY_HAND) -> ToolDeclaration:
    """A checked declaration, or a `ConfigError` whose one sentence says what to fix."""
    name, description = name.strip(), " ".join(description.split())
    if not _NAME.fullmatch(name):
        raise ConfigError(f"The tool name {name!r} must be 1-64 letters, digits, underscores or dashes, "
                          "e.g. get_stock_price.")
    if not description:
        raise ConfigError(f"Describe what {name} does in a sentence: the model reads it to decide when to call it.")
    if answered_by != BY_HAND and answered_by not in EXAMPLE_IMPLEMENTATIONS:
        raise ConfigError(f"{answered_by!r} is not an example implementation; choose {BY_HAND!r} or one of "
                          f"{', '.join(EXAMPLE_IMPLEMENTATIONS)}.")
    schema = parse_parameters(parameters) if isinstance(parameters, str) else _check_schema(dict(parameters))
    return ToolDeclaration(name, description, schema, answered_by)


def declared_tool(declaration: ToolDeclaration, answer: Callable[[str, dict[str, Any]], str] | None = None) -> Tool:
    """The `Tool` the loop runs: the example implementation, or `answer(name, arguments)` for one answered by hand."""
    if declaration.answered_by != BY_HAND:
        implementation = EXAMPLE_IMPLEMENTATIONS[declaration.answered_by]
        return Tool(lambda **arguments: implementation(**arguments), declaration.schema)
    if answer is None:
        raise ConfigError(f"{declaration.name} is answered by hand; pass answer=... (the app asks you for the result).")
    # The person answering sees whatever the model sent, arguments that miss the schema included.
    return Tool(lambda **arguments: answer(declaration.name, arguments), declaration.schema, checks_arguments=False)


def config_dir() -> Path:
    """Where nanokit keeps the user's settings: `$NANOKIT_CONFIG_DIR`, else the platform's user config folder."""
    if os.environ.get("NANOKIT_CONFIG_DIR"):
        return Path(os.environ["NANOKIT_CONFIG_DIR"])
    import platformdirs

    return Path(platformdirs.user_config_dir("nanokit", appauthor=False))


class DeclarationStore:
    """The user's declared tools on disk (`tools.json`), read on start and written atomically on every change."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path is not None else config_dir() / "tools.json"

    def load(self) -> list[ToolDeclaration]:
        """The saved declarations; an unreadable file raises a `ConfigError` naming it (it is never overwritten unread)."""
        if not self.path.exists():
            return []
        try:
            entries = json.loads(self.path.read_text())["tools"]
            return [parse_declaration(e["name"], e["description"], e["parameters"], e.get("answered_by", BY_HAND))
                    for e in entries]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"The saved tools in {self.path} cannot be read ({exc}); fix or delete the file.") from None

    def save(self, declarations: Iterable[ToolDeclaration]) -> Path:
        from nanokit.bench.results import write_json_atomic

        return write_json_atomic({"version": 1, "tools": [d.to_json() for d in declarations]}, self.path)
