"""A verifier's answer about one attempt: passed or not, one sentence why, which verifier said it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Verdict:
    passed: bool
    detail: str
    kind: str
    verifier_error: bool = False  # the verifier could not judge (broken reference, Triton missing)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
