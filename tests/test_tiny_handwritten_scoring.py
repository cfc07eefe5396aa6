"""Scoring the hand-written set: checks() and score() as pure functions of hand-made records."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from nanokit.tiny.handwritten import load_cases
from nanokit.tiny.handwritten.evaluate import _follow_up, failed_metrics, report, run_case
from nanokit.tiny.handwritten.scoring import Call, CaseRecord, Reply, checks, format_table, score

CASES = load_cases()


def _first(kind: str, thinking: bool = True):
    return next(c for c in CASES if c.kind == kind and c.enable_thinking == thinking)


def _call(expected: dict) -> Call:
    return Call(expected["name"], dict(expected["arguments"]), json.dumps(expected["arguments"]), "call_x")


def _answer(text: str, thinking: bool = True) -> Reply:
    return Reply(reasoning="Let me see." if thinking else "", content=text, finish_reason="stop")


def _calling(expected: dict, thinking: bool = True) -> Reply:
    return Reply(reasoning="The tool fits." if thinking else "", tool_calls=(_call(expected),), finish_reason="tool_calls")


def _record(case, *replies: Reply, streamed: Reply | None = None) -> CaseRecord:
    return CaseRecord(case=case, replies=replies, streamed=streamed)


def test_tool_call_passes_on_the_expected_call_and_fails_on_a_wrong_value_or_a_second_call():
    case = _first("tool_call")
    right = _calling(case.expect["call"])
    assert checks(case, _record(case, right)) == {"tool_call": True, "false_refusal": False, "thinking_on": True}
    name, arguments = case.expect["call"]["name"], case.expect["call"]["arguments"]
    key = next(iter(arguments))
    wrong_value = {**arguments, key: "garbled" if isinstance(arguments[key], str) else arguments[key] + 1}
    wrong = replace(right, tool_calls=(Call(name, wrong_value),))
    assert checks(case, _record(case, wrong))["tool_call"] is False
    twice = replace(right, tool_calls=right.tool_calls * 2)
    assert checks(case, _record(case, twice))["tool_call"] is False
    other_name = replace(right, tool_calls=(Call(name + "_x", arguments),))
    assert checks(case, _record(case, other_name))["tool_call"] is False


def test_unparsable_arguments_fail_the_call():
    case = _first("tool_call")
    reply = replace(_calling(case.expect["call"]), tool_calls=(Call(case.expect["call"]["name"], None, "{oops"),))
    assert checks(case, _record(case, reply))["tool_call"] is False


def test_false_refusal_counts_an_answer_without_a_call_but_not_a_failed_request():
    case = _first("tool_call")
    refused = checks(case, _record(case, _answer("I don't have a tool for that.")))
    assert refused["false_refusal"] is True and refused["tool_call"] is False
    errored = checks(case, _record(case, Reply(error="APIConnectionError: refused")))
    assert errored["false_refusal"] is False and errored["tool_call"] is False


@pytest.mark.parametrize("kind", ["tool_result", "greeting", "memory"])
def test_answers_must_contain_every_string_case_insensitively_and_make_no_call(kind):
    case = _first(kind)
    needles = case.expect["contains"]
    good = _answer("Sure: " + " and ".join(n.upper() for n in needles) + ".")
    assert checks(case, _record(case, good))[kind] is True
    assert checks(case, _record(case, _answer("Sure, " + needles[0][:-1] + ".")))[kind] is False
    with_call = replace(good, tool_calls=(Call("anything", {}),))
    assert checks(case, _record(case, with_call))[kind] is False


def test_refusal_passes_without_a_call_and_fails_with_one_or_with_an_error():
    case = _first("no_tool")
    assert checks(case, _record(case, _answer("I can't do that with these tools.")))["refusal"] is True
    tool = case.tools[0]["function"]["name"] if case.tools else "made_up"
    assert checks(case, _record(case, replace(_answer(""), tool_calls=(Call(tool, {}),))))["refusal"] is False
    assert checks(case, _record(case, Reply(error="Timeout")))["refusal"] is False


def _two_step_replies(case):
    first, second = case.expect["steps"][:2]
    final = _answer("It is " + " ".join(case.expect["contains"]) + ".")
    return _calling(first["call"]), _calling(second["call"]), final


def test_two_step_needs_both_calls_and_the_final_answer():
    case = _first("two_step")
    first, second, final = _two_step_replies(case)
    assert checks(case, _record(case, first, second, final))["two_step"] is True
    # The run stops after a wrong call, so a record of one or two replies can never pass.
    assert checks(case, _record(case, first))["two_step"] is False
    assert checks(case, _record(case, first, second))["two_step"] is False
    swapped = checks(case, _record(case, second, first, final))
    assert swapped["two_step"] is False
    assert checks(case, _record(case, first, second, _answer("Done.")))["two_step"] is False


def test_thinking_on_needs_reasoning_and_an_answer_in_every_reply():
    case = _first("greeting", thinking=True)
    assert checks(case, _record(case, _answer("Hello!")))["thinking_on"] is True
    assert checks(case, _record(case, _answer("Hello!", thinking=False)))["thinking_on"] is False
    unclosed = Reply(reasoning="I should greet them and then", content="", finish_reason="length")
    assert checks(case, _record(case, unclosed))["thinking_on"] is False
    two_step = _first("two_step", thinking=True)
    first, second, final = _two_step_replies(two_step)
    assert checks(two_step, _record(two_step, first, second, final))["thinking_on"] is True
    silent_final = replace(final, reasoning="")
    assert checks(two_step, _record(two_step, first, second, silent_final))["thinking_on"] is False


def test_thinking_off_needs_no_reasoning_and_an_answer():
    case = _first("greeting", thinking=False)
    assert checks(case, _record(case, _answer("Hi.", thinking=False)))["thinking_off"] is True
    assert checks(case, _record(case, _answer("Hi.", thinking=True)))["thinking_off"] is False
    assert checks(case, _record(case, _answer("", thinking=False)))["thinking_off"] is False
    assert checks(case, _record(case, Reply(error="boom")))["thinking_off"] is False


def test_stream_match_compares_text_and_calls_but_not_call_ids_or_token_counts():
    case = _first("tool_call")
    reply = _calling(case.expect["call"])
    same = replace(reply, tool_calls=(replace(reply.tool_calls[0], id="other-id"),), completion_tokens=99)
    assert checks(case, _record(case, reply, streamed=same))["stream_match"] is True
    differs = replace(reply, reasoning=reply.reasoning + " More.")
    assert checks(case, _record(case, reply, streamed=differs))["stream_match"] is False
    assert "stream_match" not in checks(case, _record(case, reply))


def test_score_counts_each_metric_and_the_table_marks_misses():
    call_case, chat_case = _first("tool_call"), _first("greeting")
    records = [_record(call_case, _calling(call_case.expect["call"])),
               _record(call_case, _answer("No tool for that.")),
               _record(chat_case, _answer("Hello " + " ".join(chat_case.expect["contains"])))]
    rates = score(records)
    assert rates == {"tool_call": (1, 2), "false_refusal": (1, 2), "greeting": (1, 1), "thinking_on": (3, 3)}
    table = format_table(rates)
    assert "tool_call" in table and " 50.0%" in table
    lines = {line.split()[0]: line for line in table.splitlines()[2:]}
    assert lines["tool_call"].split()[4] == "BELOW"
    assert lines["false_refusal"].split()[4] == "BELOW"
    assert lines["thinking_on"].split()[4] == "ok"
    assert failed_metrics(records[1]) == ["tool_call", "false_refusal"]
    assert failed_metrics(records[0]) == []
    assert "failing cases: 1" in report(records, show_failures=5)


def test_a_follow_up_carries_the_reasoning_and_answers_the_call_id():
    case = _first("two_step")
    step = case.expect["steps"][0]
    assistant, tool = _follow_up(_calling(step["call"]), step["result"], 1)
    assert assistant["reasoning"] == "The tool fits."
    assert json.loads(assistant["tool_calls"][0]["function"]["arguments"]) == step["call"]["arguments"]
    assert tool == {"role": "tool", "tool_call_id": "call_x", "content": step["result"]}


class _BrokenClient:
    """A client whose every request fails the way an unreachable server does."""

    class chat:  # mirrors the openai client's attribute path
        class completions:
            @staticmethod
            def create(**_):
                raise ConnectionError("connection refused")


def test_run_case_turns_a_failed_request_into_a_failed_record():
    case = _first("two_step")
    record = run_case(_BrokenClient(), case, "m", stream_too=True)
    assert record.replies[0].error.startswith("ConnectionError") and record.streamed.error
    assert len(record.replies) == 1
    assert not any(checks(case, record)[m] for m in ("two_step", "thinking_on", "stream_match"))
