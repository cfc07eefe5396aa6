"""The errors nanokit raises.

Every message is one sentence that says what went wrong and what to do about it.

    NanokitError                 base class; catch this to catch everything nanokit raises
    ├── ConfigError              a launch spec, CLI option or argument that cannot work
    ├── ServerError              a vLLM server that could not start, died, or cannot be reached
    │   ├── PortInUseError       the requested port is taken by another process
    │   └── StartCancelled       stop() was called while the server was still starting
    ├── ModelNotFoundError       a model path or hub id that is not available (offline, missing, no disk)
    └── ToolError                a tool call that could not be run (unknown tool, bad arguments)
"""

from __future__ import annotations


class NanokitError(Exception):
    """Base class for every error nanokit raises on purpose."""


class ConfigError(NanokitError, ValueError):
    """A combination of options that cannot work; the message names the fix."""


class ServerError(NanokitError, RuntimeError):
    """A server that could not start, died, or cannot be reached."""

    def __init__(self, message: str, *, returncode: int | None = None, log_tail: str = "") -> None:
        super().__init__(message)
        self.returncode = returncode
        self.log_tail = log_tail

    def __str__(self) -> str:
        base = super().__str__()
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
