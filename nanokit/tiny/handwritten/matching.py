"""How a model's tool-call arguments are compared with a hand-written case's expected arguments.

The rules, also stated in README.md:

- numbers compare numerically, so 5 == 5.0; a boolean is never a number and a numeric string is never a number;
- strings compare exactly after trimming surrounding whitespace (case-sensitive, so "lisbon" != "Lisbon");
- booleans compare exactly; lists element by element; objects key by key with these same rules;
- a name in `optional_ok` may be missing; when present it must equal the expected value, or be any value where
  the case gives none (the question does not determine it);
- any other argument that is missing, or present but not expected, fails the match.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def arguments_match(expected: Mapping[str, Any], optional_ok: Iterable[str], actual: Any) -> bool:
    """True when `actual` (the parsed arguments of one call) satisfies `expected` under the rules above."""
    if not isinstance(actual, Mapping):
        return False
    optional = set(optional_ok)
    for name, value in actual.items():
        if name in expected:
            if not values_equal(expected[name], value):
                return False
        elif name not in optional:
            return False
    return all(name in actual or name in optional for name in expected)


def values_equal(expected: Any, actual: Any) -> bool:
    """One argument value against its expected value, recursing into lists and objects."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    if isinstance(expected, int | float):
        return isinstance(actual, int | float) and expected == actual
    if isinstance(expected, str):
        return isinstance(actual, str) and expected.strip() == actual.strip()
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(expected) == len(actual)
                and all(values_equal(e, a) for e, a in zip(expected, actual, strict=True)))
    if isinstance(expected, Mapping):
        return (isinstance(actual, Mapping) and expected.keys() == actual.keys()
                and all(values_equal(expected[k], actual[k]) for k in expected))
    return expected is None and actual is None
