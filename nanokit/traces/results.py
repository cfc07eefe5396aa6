"""The results file: one JSON attempt per line, appended as each attempt finishes, never rewritten.

Why a killed run loses nothing finished: each attempt is one `os.write` of a whole line to a file opened
with O_APPEND (the kernel writes it at the end in one piece, and a signal cannot split a write to a
regular file that has started), followed by `fsync`, under a lock so threads never interleave. Opening
the file repairs a torn last line that a power cut could leave (it is cut off and counted in
`ResultsFile.repaired_bytes`). Re-running reads which attempts are done and skips them.

Attempt keys are (problem id, sample index). A request that failed is recorded with status "error" and is
tried again on resume; the newest record of a key is the one that counts (`latest`).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Self


def attempt_key(record: Mapping[str, Any]) -> tuple[str, int]:
    return str(record["problem_id"]), int(record["sample"])


def read_attempts(path: str | os.PathLike) -> Iterator[dict[str, Any]]:
    """Every whole record in a results file, oldest first; a torn last line is skipped."""
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.endswith("\n"):
                return
            if line.strip():
                yield json.loads(line)


def latest(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One record per attempt key, the newest, in first-seen order."""
    by_key: dict[tuple[str, int], dict[str, Any]] = {}
    for record in records:
        by_key[attempt_key(record)] = dict(record)
    return list(by_key.values())


class ResultsFile:
    """An append-only JSONL file of attempts, safe against a kill at any moment."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.repaired_bytes = self._repair()
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()

    def _repair(self) -> int:
        if not self.path.exists():
            return 0
        data = self.path.read_bytes()
        keep = data.rfind(b"\n") + 1
        if keep < len(data):
            with open(self.path, "r+b") as handle:
                handle.truncate(keep)
                os.fsync(handle.fileno())
        return len(data) - keep

    def done(self) -> set[tuple[str, int]]:
        """Keys of the attempts that finished with an answer (errors are retried)."""
        return {attempt_key(r) for r in latest(read_attempts(self.path)) if r.get("status") == "ok"}

    def append(self, record: Mapping[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            view = memoryview(line)
            while view:  # a short write (disk nearly full) continues where it stopped
                view = view[os.write(self._fd, view):]
            os.fsync(self._fd)

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
