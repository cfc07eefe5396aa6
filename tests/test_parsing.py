"""The reasoning / answer / tool-call split, whole and streamed with chunk boundaries anywhere."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nanokit.parsing import (
    CompletionParser,
    ContentDelta,
    ReasoningDelta,
    ToolCall,
    ToolCallDelta,
    coerce_arguments,
    parse_completion,
    parse_tool_calls,
    split_reasoning,
)
from nanokit.tools import EXAMPLE_TOOLS, tool_schema

TOOLS = [tool_schema(fn) for fn in EXAMPLE_TOOLS]

WEATHER_CALL = (
    "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n</function>\n</tool_call>"
)
TIP_CALL = (
    "<tool_call>\n<function=calculate_tip>\n<parameter=bill_total>\n50\n</parameter>\n"
    "<parameter=tip_percentage>\n15\n</parameter>\n</function>\n</tool_call>"
)

SAMPLES = [
    "The user greets me.\nI greet back.\n</think>\n\nHello there!",
    "no closing tag, the budget ran out",
    f"Need the weather.\n</think>\n\n{WEATHER_CALL}",
    f"Two things.\n</think>\n\nChecking both.\n{WEATHER_CALL}\n{TIP_CALL}<|im_end|>",
    f"A call inside the reasoning\n{WEATHER_CALL}",
    "<think>\nexplicit opener\n</think>\nanswer </think> with a stray tag",
    "x</think>\n\n<tool_call>\n<function=calculator>\n<parameter=expression>\n(3 + 4) * 2",
    "</think><function=calculator>\n<parameter=expression>\n1+1\n</parameter>\n</function> after",
    "tags split < / > think >< almost </thin but not quite </think> <tool_ca and <functio",
    "",
]


def stream(text: str, cuts: list[int], *, thinking: bool = True):
    """Feed `text` cut at `cuts`; return the events and the parser."""
    parser = CompletionParser(thinking=thinking, tools=TOOLS)
    bounds = [0, *sorted(set(cuts)), len(text)]
    events = []
    for start, end in itertools.pairwise(bounds):
        events += parser.feed(text[start:end])
    events += parser.finish()
    return events, parser


def rebuild(events):
    """What a consumer of the events alone would reconstruct."""
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    content = "".join(e.text for e in events if isinstance(e, ContentDelta))
    calls: dict[int, dict] = {}
    for e in events:
        if isinstance(e, ToolCallDelta):
            entry = calls.setdefault(e.index, {"name": "", "arguments": "", "id": None})
            entry["name"] += e.name or ""
            entry["arguments"] += e.arguments
            entry["id"] = entry["id"] or e.id
    return reasoning, content, calls


# --- whole completions ----------------------------------------------------------------------------


def test_reasoning_and_answer_split_at_think_end():
    assert split_reasoning(SAMPLES[0]) == ("The user greets me.\nI greet back.", "Hello there!")


def test_without_think_end_everything_is_reasoning():
    assert split_reasoning(SAMPLES[1]) == ("no closing tag, the budget ran out", "")


def test_thinking_off_means_everything_is_answer():
    assert split_reasoning("Just the answer.", thinking=False) == ("", "Just the answer.")
    assert split_reasoning("</think>\n\nJust the answer.", thinking=False) == ("", "Just the answer.")


def test_tool_call_is_parsed_and_types_follow_the_schema():
    parsed = parse_completion(f"think\n</think>\n\n{TIP_CALL}", tools=TOOLS)
    assert parsed.content == ""
    assert parsed.tool_calls == (ToolCall("calculate_tip", {"bill_total": 50, "tip_percentage": 15}),)


def test_parallel_calls_and_surrounding_text():
    parsed = parse_completion(SAMPLES[3], tools=TOOLS)
    assert parsed.content == "Checking both."
    assert [c.name for c in parsed.tool_calls] == ["get_weather", "calculate_tip"]
    assert parsed.tool_calls[0].arguments == {"city": "Paris"}


def test_tool_call_inside_reasoning_ends_the_reasoning_and_is_not_lost():
    parsed = parse_completion(SAMPLES[4], tools=TOOLS)
    assert parsed.reasoning == "A call inside the reasoning"
    assert parsed.tool_calls == (ToolCall("get_weather", {"city": "Paris"}),)


def test_stray_think_tags_are_dropped_from_the_answer():
    assert split_reasoning(SAMPLES[5]) == ("explicit opener", "answer  with a stray tag")


def test_unfinished_tool_call_is_reported_with_what_was_seen():
    parsed = parse_completion(SAMPLES[6], tools=TOOLS)
    assert parsed.tool_calls == (ToolCall("calculator", {"expression": "(3 + 4) * 2"}),)


def test_bare_function_without_tool_call_wrapper():
    parsed = parse_completion(SAMPLES[7], tools=TOOLS)
    assert parsed.tool_calls == (ToolCall("calculator", {"expression": "1+1"}),)
    assert parsed.content == "after"


def test_multiline_parameter_values_keep_inner_newlines():
    block = "<function=calculator>\n<parameter=expression>\n1 +\n2\n</parameter>\n</function>"
    assert parse_tool_calls(block)[0].arguments == {"expression": "1 +\n2"}


def test_unknown_tool_keeps_string_arguments():
    block = "<function=mystery>\n<parameter=n>\n15\n</parameter>\n</function>"
    assert parse_tool_calls(block, TOOLS)[0].arguments == {"n": "15"}


def test_tool_call_serialises_for_the_next_request():
    entry = ToolCall("calculator", {"expression": "1+1"}, id="call_1").to_message_entry()
    assert entry == {"id": "call_1", "type": "function",
                     "function": {"name": "calculator", "arguments": '{"expression": "1+1"}'}}


# --- server-labelled input ------------------------------------------------------------------------


def test_thinking_off_reasoning_from_server_becomes_answer():
    # vLLM and TRT-LLM have streamed a thinking-off answer as reasoning_content (REFERENCE.md, 'Chat protocol').
    parser = CompletionParser(thinking=False)
    events = parser.feed_reasoning("The answer") + parser.feed_reasoning(" is 4.") + parser.finish()
    assert all(isinstance(e, ContentDelta) for e in events)
    assert parser.result().content == "The answer is 4."


def test_server_content_ends_reasoning_without_a_tag():
    parser = CompletionParser(thinking=True, tools=TOOLS)
    parser.feed_reasoning("thinking <")  # a held-back '<' still belongs to the reasoning
    parser.feed_content("\n\nanswer ")
    parser.feed_content(WEATHER_CALL)
    parser.finish()
    result = parser.result()
    assert (result.reasoning, result.content) == ("thinking <", "answer")
    assert [c.name for c in result.tool_calls] == ["get_weather"]


# --- coercion -------------------------------------------------------------------------------------

TIP = TOOLS[0]["function"]["parameters"]
WEATHER = TOOLS[1]["function"]["parameters"]
FLAGS = {"type": "object", "properties": {"loud": {"type": "boolean"}, "ratio": {"type": "number"},
                                          "tags": {"type": "array", "items": {"type": "integer"}}}}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [({"loud": "True"}, True), ({"loud": "false"}, False), ({"loud": "1"}, True), ({"loud": True}, True)],
)
def test_booleans_in_python_or_json_spelling(raw, expected):
    assert coerce_arguments(raw, FLAGS).values == {"loud": expected}


def test_numbers_and_arrays_are_coerced():
    coerced = coerce_arguments({"ratio": "0.5", "tags": "[1, \"2\"]"}, FLAGS)
    assert coerced.values == {"ratio": 0.5, "tags": [1, 2]} and coerced.problems == ()
    assert coerce_arguments({"bill_total": "15", "tip_percentage": "20.0"}, TIP).values == {
        "bill_total": 15, "tip_percentage": 20}


def test_invalid_arguments_are_reported_not_raised():
    coerced = coerce_arguments({"bill_total": "lots", "extra": 1}, TIP)
    assert coerced.values["bill_total"] == "lots"
    assert coerced.problems == (
        "Argument 'bill_total' should be an integer; got 'lots'.",
        "Argument 'extra' is not a parameter of this tool.",
        "Argument 'tip_percentage' is required but missing.",
    )
    assert coerce_arguments({"city": "Oslo", "unit": "kelvin"}, WEATHER).problems == (
        "Argument 'unit' should be one of 'celsius', 'fahrenheit'; got 'kelvin'.",)
    assert coerce_arguments({"loud": "maybe"}, FLAGS).problems == (
        "Argument 'loud' should be true or false; got 'maybe'.",)


# --- streaming: every boundary, every sample ------------------------------------------------------


@pytest.mark.parametrize("text", SAMPLES)
@pytest.mark.parametrize("thinking", [True, False])
def test_every_single_cut_gives_the_whole_split(text, thinking):
    whole = parse_completion(text, thinking=thinking, tools=TOOLS)
    for cut in range(len(text) + 1):
        events, parser = stream(text, [cut], thinking=thinking)
        assert parser.result() == whole, cut
        reasoning, content, calls = rebuild(events)
        assert (reasoning, content) == (whole.reasoning, whole.content), cut
        assert [c["name"] for c in calls.values()] == [c.name for c in whole.tool_calls]


@pytest.mark.parametrize("text", SAMPLES)
def test_one_character_at_a_time(text):
    events, parser = stream(text, list(range(len(text))))
    whole = parse_completion(text, tools=TOOLS)
    assert parser.result() == whole
    reasoning, content, calls = rebuild(events)
    assert (reasoning, content) == (whole.reasoning, whole.content)
    assert [c["arguments"] for c in calls.values()] == [c.arguments_json for c in whole.tool_calls]
    assert all(c["id"] for c in calls.values())


PIECES = st.sampled_from(
    ["<think>", "</think>", "<tool_call>", "</tool_call>", "<function=get_weather>", "<function=calculator>",
     "<parameter=city>", "<parameter=expression>", "</parameter>", "</function>", "<|im_end|>", "\n", " ",
     "Paris", "2 + 2", "<", "</", ">", "think", "answer", "<function=", "True"]
)


@settings(max_examples=300, deadline=None)
@given(
    pieces=st.lists(PIECES, max_size=24),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12),
    thinking=st.booleans(),
)
def test_any_cut_of_any_tag_soup_matches_the_whole_parse(pieces, cuts, thinking):
    text = "".join(pieces)
    whole = parse_completion(text, thinking=thinking, tools=TOOLS)
    events, parser = stream(text, [c for c in cuts if c <= len(text)], thinking=thinking)
    assert parser.result() == whole
    reasoning, content, calls = rebuild(events)
    assert (reasoning, content) == (whole.reasoning, whole.content)
    assert [(c["name"], c["arguments"]) for c in calls.values()] == [
        (c.name, c.arguments_json) for c in whole.tool_calls]
    assert reasoning == reasoning.strip() and content == content.strip()


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet="<>/=_ abcdefghijklmnopqrstuvwxyz|\n", max_size=80), data=st.data())
def test_random_text_at_every_boundary(text, data):
    whole = parse_completion(text, tools=TOOLS)
    cut = data.draw(st.integers(min_value=0, max_value=len(text)))
    _, parser = stream(text, [cut])
    assert parser.result() == whole
