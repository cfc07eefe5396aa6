"""The hand-written evaluation set: it ships, it validates, it is big enough, and its matcher means what it says."""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources

import pytest

from nanokit.tiny.handwritten import HandwrittenCaseError, arguments_match, load_cases, parse_cases

MINIMUMS = {"tool_call": 50, "tool_result": 25, "no_tool": 15, "greeting": 5, "memory": 8, "two_step": 8}


def _raw_lines() -> list[str]:
    text = resources.files("nanokit.tiny.handwritten").joinpath("cases.jsonl").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]


def test_the_shipped_set_loads_and_meets_the_minimums():
    cases = load_cases()
    counts = Counter(case.kind for case in cases)
    assert len(cases) >= 130
    for kind, minimum in MINIMUMS.items():
        assert counts[kind] >= minimum, f"{kind}: {counts[kind]} < {minimum}"
    assert len({case.id for case in cases}) == len(cases)


def test_thinking_is_split_about_sixty_forty():
    cases = load_cases()
    share_on = sum(case.enable_thinking for case in cases) / len(cases)
    assert 0.55 <= share_on <= 0.65
    for kind in MINIMUMS:
        assert {case.enable_thinking for case in cases if case.kind == kind} == {True, False}, kind


def test_every_conversation_is_short():
    for case in load_cases():
        size = len(json.dumps(list(case.messages))) + len(json.dumps(list(case.tools)))
        assert size < 1500, f"{case.id} is {size} characters"


def test_readme_counts_match_the_data():
    readme = resources.files("nanokit.tiny.handwritten").joinpath("README.md").read_text(encoding="utf-8")
    cases = load_cases()
    for kind in MINIMUMS:
        on = sum(1 for c in cases if c.kind == kind and c.enable_thinking)
        off = sum(1 for c in cases if c.kind == kind and not c.enable_thinking)
        assert f"| {kind} | {on + off} | {on} | {off} |" in readme, kind


def test_numbers_compare_numerically_and_strings_after_trimming():
    assert arguments_match({"total": 5, "city": "Porto"}, [], {"total": 5.0, "city": "  Porto "})
    assert not arguments_match({"total": 5}, [], {"total": 5.01})
    assert not arguments_match({"total": 5}, [], {"total": "5"})
    assert not arguments_match({"city": "Porto"}, [], {"city": "porto"})


def test_booleans_are_not_numbers():
    assert arguments_match({"urgent": True}, [], {"urgent": True})
    assert not arguments_match({"urgent": True}, [], {"urgent": 1})
    assert not arguments_match({"count": 1}, [], {"count": True})


def test_optional_arguments_may_be_missing_but_not_wrong():
    expected = {"city": "Lisbon", "urgent": False}
    assert arguments_match(expected, ["urgent"], {"city": "Lisbon"})
    assert arguments_match(expected, ["urgent"], {"city": "Lisbon", "urgent": False})
    assert not arguments_match(expected, ["urgent"], {"city": "Lisbon", "urgent": True})
    # An optional name the case gives no value for: the question does not determine it, so any value passes.
    assert arguments_match({"city": "Lisbon"}, ["units"], {"city": "Lisbon", "units": "imperial"})


def test_missing_and_extra_arguments_are_rejected():
    assert not arguments_match({"city": "Lisbon", "unit": "celsius"}, [], {"city": "Lisbon"})
    assert not arguments_match({"city": "Lisbon"}, [], {"city": "Lisbon", "country": "PT"})
    assert not arguments_match({"city": "Lisbon"}, [], "city=Lisbon")


def test_every_expected_call_matches_itself():
    for case in load_cases():
        calls = [case.expect] if case.kind == "tool_call" else case.expect.get("steps", [])
        for step in calls:
            arguments = step["call"]["arguments"]
            assert arguments_match(arguments, step.get("optional_ok", []), json.loads(json.dumps(arguments)))


def _broken(case_id: str, change) -> str:
    lines = _raw_lines()
    for index, line in enumerate(lines):
        raw = json.loads(line)
        if raw["id"] == case_id:
            change(raw)
            lines[index] = json.dumps(raw)
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("case_id", "change", "words"),
    [
        ("tc-001", lambda raw: raw["expect"]["call"].update(name="tip_calculator"), "not among the offered tools"),
        ("tc-006", lambda raw: raw["expect"]["call"]["arguments"].update(city="Lisbon"), "does not declare"),
        ("tc-003", lambda raw: raw["expect"]["call"]["arguments"].update(splitBetween=2.5), "schema rejects"),
        ("tr-002", lambda raw: raw["expect"].update(contains=["sunny"]), "no tool result contains"),
        ("nt-001", lambda raw: raw.update(kind="refusal"), "use one of"),
        ("ts-001", lambda raw: raw["expect"]["steps"].pop(), "fewer than two steps"),
        ("tc-010", lambda raw: raw["tools"][0]["function"]["parameters"].update(type="array"), "JSON-schema object"),
        ("tc-006", lambda raw: raw["expect"].update(optional_ok=[]), "neither expects nor lists"),
        ("mem-002", lambda raw: raw["messages"].pop(), "last message must be the user's"),
    ],
)
def test_a_bad_case_is_reported_with_its_id(case_id, change, words):
    with pytest.raises(HandwrittenCaseError) as caught:
        parse_cases(_broken(case_id, change))
    message = str(caught.value)
    assert message.startswith(f"Case {case_id} (line ") and words in message, message


def test_duplicate_ids_and_broken_json_are_reported():
    lines = _raw_lines()
    with pytest.raises(HandwrittenCaseError, match=r"Case tc-001 \(line 2\) reuses an id"):
        parse_cases("\n".join([lines[0], lines[0]]))
    with pytest.raises(HandwrittenCaseError, match=r"Line 2 is not valid JSON"):
        parse_cases("\n".join([lines[0], lines[1][:-1]]))
