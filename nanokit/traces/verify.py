"""Verifiers: does an attempt's answer pass the problem's check? Each returns a `Verdict` and never raises.

A problem's `verifier` (JSON) picks one by `kind`:

    {"kind": "exact", "answer": "Paris", "ignore_case": true}       the answer's last line, trimmed
    {"kind": "numeric", "answer": 42.5, "rel_tol": 1e-6, "abs_tol": 1e-9}   the last number in the answer
    {"kind": "json_schema", "schema": {...}}                         the answer parsed as JSON (fences allowed)
    {"kind": "code", ...}                                            see code_check.py (runs in the sandbox)
    {"kind": "tool_call", "name": "get_weather", "arguments": {"city": "Paris"}, "optional_ok": []}
                                                                     exactly one call, that name, those arguments
    {"kind": "none"}                                                 every attempt passes (keep everything)

An exact or numeric check may name `"pattern"`, a regular expression whose first group is the answer
(`"\\\\boxed\\{(.*?)\\}"`, say); without one the answer's last line (exact) or last number (numeric) is
taken. A tool call's arguments match under the embedded model's evaluation rule (nanokit.tiny's
`arguments_match`: strings trimmed, numbers by value, booleans strictly; names in `optional_ok` may be
left out or added). JSON Schema is checked with the `jsonschema` library (Draft 2020-12 unless `$schema` says otherwise).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import jsonschema

from nanokit.tiny.handwritten.matching import arguments_match
from nanokit.traces.code_check import check_code
from nanokit.traces.verdict import Verdict

_NUMBER = re.compile(r"[-+]?(?:\d[\d,]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_JSON_FENCE = re.compile(r"```(?:json)?[ \t]*\n(.*?)```", re.DOTALL)


def _picked(answer: str, spec: Mapping[str, Any]) -> str | None:
    pattern = spec.get("pattern")
    if pattern:
        matches = re.findall(pattern, answer, re.DOTALL)
        if not matches:
            return None
        last = matches[-1]
        return (last[0] if isinstance(last, tuple) else last).strip()
    return answer


def exact_match(answer: str, spec: Mapping[str, Any]) -> Verdict:
    picked = _picked(answer, spec)
    if picked is None:
        return Verdict(False, "the answer does not match the problem's pattern", "exact")
    if not spec.get("pattern"):
        lines = [line for line in picked.strip().splitlines() if line.strip()]
        picked = lines[-1].strip() if lines else ""
    expected = str(spec["answer"]).strip()
    fold = spec.get("ignore_case", True)
    same = picked.casefold() == expected.casefold() if fold else picked == expected
    return Verdict(same, f"answered {picked[:80]!r}, expected {expected[:80]!r}", "exact")


def numeric_match(answer: str, spec: Mapping[str, Any]) -> Verdict:
    picked = _picked(answer, spec)
    numbers = _NUMBER.findall(picked or "")
    if not numbers:
        return Verdict(False, "the answer holds no number", "numeric")
    try:
        value = float(numbers[-1].replace(",", ""))
    except ValueError:
        return Verdict(False, f"{numbers[-1]!r} is not a number", "numeric")
    expected = float(spec["answer"])
    same = math.isclose(value, expected, rel_tol=float(spec.get("rel_tol", 1e-6)),
                        abs_tol=float(spec.get("abs_tol", 1e-9)))
    return Verdict(same, f"answered {value:g}, expected {expected:g}", "numeric")


def json_schema_match(answer: str, spec: Mapping[str, Any]) -> Verdict:
    fenced = _JSON_FENCE.findall(answer)
    text = (fenced[-1] if fenced else answer).strip()
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return Verdict(False, f"the answer is not JSON ({exc.msg} at line {exc.lineno})", "json_schema")
    schema = spec["schema"]
    try:
        validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        validator_class.check_schema(schema)
    except jsonschema.SchemaError as exc:
        return Verdict(False, f"the problem's schema is invalid: {exc.message}", "json_schema", verifier_error=True)
    errors = sorted(validator_class(schema).iter_errors(document), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(p) for p in errors[0].path) or "(root)"
        return Verdict(False, f"{where}: {errors[0].message[:200]}", "json_schema")
    return Verdict(True, "the answer is valid JSON for the schema", "json_schema")


def tool_call_match(tool_calls: Sequence[Mapping[str, Any]], spec: Mapping[str, Any]) -> Verdict:
    """Exactly one call (OpenAI `tool_calls` entries), to `spec["name"]`, with `spec["arguments"]`."""
    if len(tool_calls) != 1:
        return Verdict(False, f"made {len(tool_calls)} tool calls, expected one call to {spec['name']}", "tool_call")
    function = tool_calls[0].get("function") or {}
    arguments = function.get("arguments")
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments or "{}")
        except json.JSONDecodeError:
            return Verdict(False, f"the call's arguments are not JSON: {arguments[:80]!r}", "tool_call")
    if function.get("name") != spec["name"]:
        return Verdict(False, f"called {function.get('name')!r}, expected {spec['name']!r}", "tool_call")
    if not arguments_match(spec["arguments"], spec.get("optional_ok", ()), arguments):
        return Verdict(False, f"arguments {json.dumps(arguments)[:120]}, expected {json.dumps(spec['arguments'])[:120]}",
                       "tool_call")
    return Verdict(True, f"called {spec['name']} with the expected arguments", "tool_call")


VERIFIERS = {"exact": exact_match, "numeric": numeric_match, "json_schema": json_schema_match, "code": check_code,
             "none": lambda answer, spec: Verdict(True, "no check", "none")}


def verify(answer: str, spec: Mapping[str, Any], tool_calls: Sequence[Mapping[str, Any]] = ()) -> Verdict:
    """The verdict of the verifier `spec["kind"]` names; a verifier error is a verdict too, never an exception.
    `tool_calls` are the attempt's calls (OpenAI entries), which the tool_call verifier reads."""
    kind = spec.get("kind", "none")
    check = (lambda _, s: tool_call_match(tool_calls, s)) if kind == "tool_call" else VERIFIERS.get(kind)
    if check is None:
        return Verdict(False, f"unknown verifier kind {kind!r}; use one of {', '.join(VERIFIERS)}, tool_call", str(kind),
                       verifier_error=True)
    try:
        return check(answer, spec)
    except Exception as exc:  # noqa: BLE001 -- a verifier bug must not end a generation run; it is recorded instead
        return Verdict(False, f"the {kind} verifier failed: {type(exc).__name__}: {exc}", kind, verifier_error=True)
