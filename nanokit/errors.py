"""The errors nanokit raises.

Every message is one sentence that says what went wrong and what to do about it.

A message that tells the reader what to pass names the parameter with `argument(name, value)`. The Python
reader sees `api_key=...`; the `nanokit` command shows the same error as `--api-key ...`
(`error.render(cli_spelling)`), so each surface names what its reader can type.

    NanokitError                 base class; catch this to catch everything nanokit raises
    ├── ConfigError              a launch spec, CLI option or argument that cannot work
    ├── ServerError              a vLLM server that could not start, died, or cannot be reached
    │   ├── PortInUseError       the requested port is taken by another process
    │   └── StartCancelled       stop() was called while the server was still starting
    ├── ModelNotFoundError       a model path or hub id that is not available (offline, missing, no disk)
    └── ToolError                a tool call that could not be run (unknown tool, bad arguments)
"""

from __future__ import annotations

import re
from collections.abc import Callable

_MARK, _SEP = "\x1f", "\x1e"  # unit and record separators: never part of a message's own text
_ARGUMENT = re.compile(f"{_MARK}([^{_SEP}{_MARK}]*){_SEP}([^{_SEP}{_MARK}]*){_SEP}([^{_SEP}{_MARK}]*){_MARK}")
_NO_VALUE = object()

Spelling = Callable[[str, str, str], str]  # (name, Python value text, CLI value text) -> the words shown


def argument(name: str, value: object = _NO_VALUE) -> str:
    """A parameter named in a message: `name` or `name=value` in Python, `--name` or `--name value` at the CLI.

    `value=...` stands for "a value" (written `...` in both).
    """
    if value is _NO_VALUE:
        python, cli = "", ""
    elif value is Ellipsis:
        python, cli = "...", "..."
    else:
        python, cli = repr(value), str(value)
    return f"{_MARK}{name}{_SEP}{python}{_SEP}{cli}{_MARK}"


def python_spelling(name: str, python: str, cli: str) -> str:
    return f"{name}={python}" if python else name


def cli_spelling(name: str, python: str, cli: str, *, options: dict[str, str] | None = None) -> str:
    """`--name value`; `options` maps a Python name to the option that sets it where they differ."""
    flag = (options or {}).get(name) or "--" + name.replace("_", "-")
    return f"{flag} {cli}" if cli else flag


def spell(text: str, spelling: Spelling = python_spelling) -> str:
    """`text` with every `argument(...)` in it written the way `spelling` writes parameters."""
    return _ARGUMENT.sub(lambda match: spelling(*match.groups()), text)


class NanokitError(Exception):
    """Base class for every error nanokit raises on purpose."""

    def render(self, spelling: Spelling = python_spelling) -> str:
        """The message with its parameters named by `spelling` (`cli_spelling` at the command line)."""
        return spell(super().__str__(), spelling)

    def __str__(self) -> str:
        return self.render()


class ConfigError(NanokitError, ValueError):
    """A combination of options that cannot work; the message names the fix."""


class ServerError(NanokitError, RuntimeError):
    """A server that could not start, died, or cannot be reached."""

    def __init__(self, message: str, *, returncode: int | None = None, log_tail: str = "") -> None:
        super().__init__(message)
        self.returncode = returncode
        self.log_tail = log_tail

    def render(self, spelling: Spelling = python_spelling) -> str:
        base = super().render(spelling)
        if self.log_tail:
            return f"{base}\n--- last log lines ---\n{self.log_tail}"
        return base


class PortInUseError(ServerError):
    """The port asked for is already taken."""


class StartCancelled(ServerError):
    """stop() ended a server that was still starting."""


class ModelNotFoundError(NanokitError, FileNotFoundError):
    """The model is neither a local directory nor available from the hub cache."""


class ToolError(NanokitError):
    """A tool call that could not be executed."""
