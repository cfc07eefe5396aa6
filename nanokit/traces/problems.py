"""A problem set: one JSON object per line, each a prompt and what its verifier needs.

    {"id": "add-17", "prompt": "What is 17 + 25?", "verifier": {"kind": "numeric", "answer": 42}}
    {"id": "t1", "messages": [{"role": "system", ...}, {"role": "user", ...}], "tools": [...],
     "verifier": {...}, "meta": {...}}

`id` must be unique; `prompt` is short for one user message. The verifier kinds are in verify.py.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nanokit.errors import ConfigError


@dataclass(frozen=True)
class Problem:
    id: str
    messages: tuple[Mapping[str, Any], ...]
    verifier: Mapping[str, Any] = field(default_factory=lambda: {"kind": "none"})
    tools: tuple[Mapping[str, Any], ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "problem") -> Problem:
        if not isinstance(data, Mapping) or not isinstance(data.get("id"), str | int):
            raise ConfigError(f"{where} needs an \"id\" (a string); add one to each line.")
        if ("messages" in data) == ("prompt" in data):
            raise ConfigError(f"{where} ({data['id']}) needs exactly one of \"messages\" or \"prompt\".")
        messages = data.get("messages") or [{"role": "user", "content": data["prompt"]}]
        if not isinstance(messages, list) or not all(isinstance(m, Mapping) and "role" in m for m in messages):
            raise ConfigError(f"{where} ({data['id']}): \"messages\" must be a list of {{role, content}} objects.")
        verifier = data.get("verifier", {"kind": "none"})
        if not isinstance(verifier, Mapping) or "kind" not in verifier:
            raise ConfigError(f"{where} ({data['id']}): \"verifier\" must be an object with a \"kind\".")
        return cls(str(data["id"]), tuple(messages), verifier, tuple(data.get("tools") or ()),
                   data.get("meta") or {})

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "messages": [dict(m) for m in self.messages],
                                "verifier": dict(self.verifier)}
        if self.tools:
            data["tools"] = [dict(t) for t in self.tools]
        if self.meta:
            data["meta"] = dict(self.meta)
        return data


def load_problems(path: str | os.PathLike) -> list[Problem]:
    """The problems of a JSONL file, checked (unique ids, a prompt each, a verifier kind each)."""
    problems, seen = [], set()
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path} line {number}"
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{where} is not JSON ({exc.msg}); each line must be one problem object.") from None
            problem = Problem.from_dict(data, where)
            if problem.id in seen:
                raise ConfigError(f"{where}: id {problem.id!r} appears twice; problem ids must be unique.")
            seen.add(problem.id)
            problems.append(problem)
    if not problems:
        raise ConfigError(f"{path} holds no problems; write one JSON object per line.")
    return problems


def save_problems(problems: Iterable[Problem], path: str | os.PathLike) -> Path:
    """Write problems as JSONL (via a temporary file, so a reader never sees half a set)."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text("".join(json.dumps(p.to_dict(), ensure_ascii=False) + "\n" for p in problems))
    os.replace(temporary, path)
    return path
