"""The hand-written evaluation set for the embedded model: conversations written by hand, never trained on.

`load_cases()` returns the validated cases; `arguments_match()` decides whether a model's call arguments count
as exactly right. `nanokit tiny eval --set handwritten` (nanokit.tiny.evaluate) runs the set against a served
model and scores it beside the generated held-out split. README.md in this folder states the rule that keeps
the set honest, the format, the counts and the results so far.
"""

from nanokit.tiny.handwritten.loader import (
    KINDS,
    HandwrittenCase,
    HandwrittenCaseError,
    load_cases,
    parse_cases,
)
from nanokit.tiny.handwritten.matching import arguments_match, values_equal

__all__ = [
    "KINDS",
    "HandwrittenCase",
    "HandwrittenCaseError",
    "arguments_match",
    "load_cases",
    "parse_cases",
    "values_equal",
]
