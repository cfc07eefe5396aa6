"""What a doctor rule returns: a Finding (severity, the rule's name, one sentence with the fix).

Severity: "error" (it will not start or not work), "warning" (it works but probably not as meant), "note"
(nanokit changed something for you).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from nanokit.launch import LaunchSpec
from nanokit.planner import MemoryPlan

__all__ = ["Finding", "Rule"]


@dataclass(frozen=True)
class Finding:
    severity: str  # "error", "warning" or "note"
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


Rule = Callable[[LaunchSpec, MemoryPlan], "Finding | None"]
