"""Conversation memory: a LangGraph checkpointer, keyed by the `thread_id` each run passes.

In memory by default (gone with the kernel); with a path, a SQLite file that survives a restart.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver

from nanokit.errors import ConfigError


def memory(path: str | Path | None = None) -> BaseCheckpointSaver:
    """A checkpointer: InMemorySaver when `path` is None, else a SqliteSaver writing to `path`."""
    if path is None:
        return InMemorySaver()
    path = Path(path).expanduser()
    if not path.parent.is_dir():
        raise ConfigError(f"The folder {path.parent} for the agent memory file does not exist; create it first.")
    # Widgets run agents from callback threads, so the connection must be usable off the creating thread.
    saver = SqliteSaver(sqlite3.connect(path, check_same_thread=False))
    saver.setup()
    return saver
