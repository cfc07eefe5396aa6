"""Every parser case (nanokit/lab/parser_cases.py), whole and streamed at every chunk boundary.

Cases where vLLM 0.32's own parsers answer differently carry the reason in `case.vllm`; here nanokit's
answer is checked, and tests/test_parser_conformance.py checks that the difference is real.
"""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nanokit.lab.parser_cases import CASES, ParserCase
from nanokit.parsing import CompletionParser, ContentDelta, ReasoningDelta, ToolCallDelta, parse_completion

BY_ID = {case.id: case for case in CASES}


def case_id(case: ParserCase) -> str:
    """The test id says where vLLM answers otherwise (the reason is in the case's `vllm`)."""
    return f"{case.id}-vllm-differs" if case.vllm else case.id


def split(result):
    return result.reasoning, result.content, tuple((c.name, c.arguments) for c in result.tool_calls)


def streamed(case: ParserCase, cuts):
    parser = CompletionParser(thinking=case.thinking, tools=case.tools)
    bounds = [0, *sorted(set(cuts)), len(case.text)]
    events = []
    for start, end in itertools.pairwise(bounds):
        events += parser.feed(case.text[start:end])
    return events + parser.finish(), parser.result()


def rebuilt(events):
    """What a consumer that only reads the events puts together."""
    calls: dict[int, dict] = {}
    for event in events:
        if isinstance(event, ToolCallDelta):
            entry = calls.setdefault(event.index, {"name": "", "arguments": ""})
            entry["name"] += event.name or ""
            entry["arguments"] += event.arguments
    return ("".join(e.text for e in events if isinstance(e, ReasoningDelta)),
            "".join(e.text for e in events if isinstance(e, ContentDelta)),
            [(c["name"], c["arguments"]) for c in calls.values()])


def test_the_case_ids_are_unique_and_every_class_has_cases():
    assert len(BY_ID) == len(CASES) >= 70
    assert len({case.kind for case in CASES}) >= 15


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_whole_text(case):
    assert split(parse_completion(case.text, thinking=case.thinking, tools=case.tools)) == (
        case.reasoning, case.content, case.calls)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_every_single_cut_and_one_character_at_a_time(case):
    whole = parse_completion(case.text, thinking=case.thinking, tools=case.tools)
    for cuts in [[cut] for cut in range(len(case.text) + 1)] + [list(range(len(case.text)))]:
        events, result = streamed(case, cuts)
        assert result == whole, cuts
        assert rebuilt(events) == (whole.reasoning, whole.content,
                                   [(c.name, c.arguments_json) for c in whole.tool_calls]), cuts


@settings(max_examples=400, deadline=None)
@given(case=st.sampled_from(CASES), data=st.data())
def test_any_split_into_chunks_gives_the_whole_text_result(case, data):
    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=len(case.text)), max_size=20))
    events, result = streamed(case, cuts)
    whole = parse_completion(case.text, thinking=case.thinking, tools=case.tools)
    assert result == whole
    assert [c.notes for c in result.tool_calls] == [c.notes for c in whole.tool_calls]
    assert rebuilt(events)[:2] == (whole.reasoning, whole.content)


# --- what the cases mean, spelled out where the split alone does not show it ----------------------


def calls_of(case_id):
    case = BY_ID[case_id]
    return parse_completion(case.text, thinking=case.thinking, tools=case.tools).tool_calls


def test_a_close_marker_inside_a_value_does_not_end_the_call():
    (written,) = calls_of("tool-call-end-in-value")
    assert written.arguments["content"] == "Calls end with </tool_call> in Nemotron."
    assert BY_ID["tool-call-end-in-value"].content == ""  # nothing leaked into the answer


def test_unknown_tools_and_values_that_stay_text_are_reported_on_the_call():
    assert calls_of("unknown-tool")[0].notes == (
        "Tool 'get_time' is not one of the request's tools; its arguments are left as text.",)
    assert calls_of("not-an-integer")[0].notes == ("Argument 'count' should be an integer; got 'lots'.",)
    assert calls_of("enum-outside")[0].notes == (
        "Argument 'unit' should be one of 'celsius', 'fahrenheit'; got 'kelvin'.",)
    assert calls_of("unknown-parameter")[0].notes == ("Argument 'country' is not a parameter of this tool.",)
    assert calls_of("single-call")[0].notes == ()


def test_without_tools_in_the_request_arguments_stay_text_and_nothing_is_reported():
    (only,) = parse_completion(BY_ID["integer"].text).tool_calls
    assert only.arguments == {"count": "42"} and only.notes == ()


def test_names_of_streamed_calls_arrive_before_their_arguments():
    case = BY_ID["parallel-calls"]
    events, _ = streamed(case, list(range(len(case.text))))
    kinds = [(e.index, "name" if e.name else "arguments") for e in events if isinstance(e, ToolCallDelta)]
    assert kinds == [(0, "name"), (0, "arguments"), (1, "name"), (1, "arguments")]


def test_a_block_waits_for_what_decides_a_close_marker():
    """`</parameter>` then the end of the chunk: the value may still go on, so nothing is closed yet."""
    parser = CompletionParser(tools=BY_ID["single-call"].tools)
    parser.feed("x</think><tool_call>\n<function=write_file>\n<parameter=content>\nsay </tool_call>")
    assert parser.tool_calls == ()
    parser.feed(" twice\n</parameter>\n</function>\n</tool_call>\nok")
    assert parser.tool_calls[0].arguments == {"content": "say </tool_call> twice"}
    assert parser.finish() == [] and parser.result().content == "ok"


MARKUP = st.sampled_from(["</tool_call>", "</parameter>", "</function>", "<tool_call>", "<function=x>",
                          "<parameter=y>", "</think>", "<think>", "</", "<", ">", "\n", " ", "=", "a", "é", "{'k': 1}"])


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(MARKUP, max_size=12), cut=st.integers(min_value=0))
def test_a_string_value_comes_back_as_written_unless_a_marker_in_it_could_close_it(pieces, cut):
    value = "".join(pieces)
    # Where a quoted marker is followed by more markup, the text is ambiguous to any reader: left out.
    assume(not re.search(r"(</parameter>|</function>|</tool_call>)\s*(<|$)", value))
    assume("\n<parameter=" not in "\n" + value)
    text = "x\n</think>\n" + f"<tool_call>\n<function=write_file>\n<parameter=content>\n{value}\n</parameter>\n" \
        "</function>\n</tool_call>\nafter"
    tools = BY_ID["single-call"].tools
    whole = parse_completion(text, tools=tools)
    assert [c.arguments for c in whole.tool_calls] == [{"content": value}]
    assert whole.content == "after"
    parser = CompletionParser(tools=tools)
    cut %= len(text) + 1
    parser.feed(text[:cut])
    parser.feed(text[cut:])
    parser.finish()
    assert parser.result() == whole
