"""The hand-written evaluation set for the embedded model: conversations written by hand, never trained on.

`load_cases()` returns the validated cases; `arguments_match()` decides whether a model's call arguments count
as exactly right; `checks()` and `score()` turn a run's records into rates (scoring.py), and
`nanokit.tiny.handwritten.evaluate` runs the set against a server (`python -m` it; it is not imported here so
that running it as a module does not import it twice). README.md in this folder states the rule that keeps the
set honest, the format, the counts and the results so far.
"""

from nanokit.tiny.handwritten.loader import (
    KINDS,
    HandwrittenCase,
    HandwrittenCaseError,
    load_cases,
    parse_cases,
)
from nanokit.tiny.handwritten.matching import arguments_match, values_equal
from nanokit.tiny.handwritten.scoring import CaseRecord, Reply, checks, format_table, score

__all__ = [
    "KINDS",
    "CaseRecord",
    "HandwrittenCase",
    "HandwrittenCaseError",
    "Reply",
    "arguments_match",
    "checks",
    "format_table",
    "load_cases",
    "parse_cases",
    "score",
    "values_equal",
]
