"""`nanokit tiny eval`'s scoring: which metric each kind of case counts towards, the two-step tool loop,
a failing server giving failed records (never an exception), and `score` as a pure function of them.
The client here is a scripted stand-in (pure logic); tests/test_tiny_integration.py asks a real server."""

from __future__ import annotations

import json
from types import SimpleNamespace

from nanokit.tiny.evaluate import (
    TARGETS,
    Case,
    CaseResult,
    Reply,
    arguments_match,
    checks,
    format_table,
    generated_cases,
    meets_targets,
    missed,
    run_case,
    score,
)

TOOLS = ({"type": "function", "function": {"name": "find_flat", "description": "Find a flat to rent.", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}, "rooms": {"type": "integer"}}, "required": ["city"]}}},)


def _case(kind, expect, thinking=False, messages=({"role": "user", "content": "hi"},)):
    return Case("c", kind, thinking, TOOLS, tuple(messages), expect)


def _message(content="", calls=(), reasoning=""):
    tool_calls = [SimpleNamespace(function=SimpleNamespace(name=n, arguments=json.dumps(a))) for n, a in calls]
    return SimpleNamespace(content=content, tool_calls=tool_calls or None, model_extra={"reasoning": reasoning})


class Scripted:
    """A client answering each non-streamed request with the next scripted message."""

    def __init__(self, *messages, fail=False):
        self.messages, self.fail, self.requests = list(messages), fail, []
        self.chat = SimpleNamespace(completions=SimpleNamespace(create=self.create))

    def create(self, **request):
        self.requests.append(json.loads(json.dumps(request)))
        if self.fail:
            raise ConnectionError("server gone")
        return SimpleNamespace(choices=[SimpleNamespace(message=self.messages.pop(0))])


def test_a_tool_call_counts_exact_arguments_and_false_refusals():
    case = _case("tool_call", {"call": {"name": "find_flat", "arguments": {"city": "Porto", "rooms": 2}}})
    right = Reply(tool_calls=(("find_flat", {"city": "Porto", "rooms": 2.0}),))
    wrong = Reply(tool_calls=(("find_flat", {"city": "Port", "rooms": 2}),))
    silent = Reply(content="I can't do that.")
    assert checks(case, [right], None, arguments_match) == {"thinking_off": True, "tool_call": True, "false_refusal": False}
    assert checks(case, [wrong], None, arguments_match)["tool_call"] is False
    assert checks(case, [silent], None, arguments_match) == {"thinking_off": True, "tool_call": False, "false_refusal": True}
    # a failure listing names what went the wrong way: a right call is no failure, a silence two of them
    assert missed(checks(case, [right], None, arguments_match)) == []
    assert missed(checks(case, [wrong], None, arguments_match)) == ["tool_call"]
    assert missed(checks(case, [silent], None, arguments_match)) == ["tool_call", "false_refusal"]


def test_thinking_on_needs_closed_reasoning_and_an_answer():
    case = _case("greeting", {"contains": ["Ana"]}, thinking=True)
    assert checks(case, [Reply(reasoning="r", content="Hi Ana!")], None, arguments_match) == {"thinking_on": True, "greeting": True}
    assert checks(case, [Reply(reasoning="r")], None, arguments_match)["thinking_on"] is False  # never answered


def test_refusals_results_and_stream_match():
    refusal = _case("no_tool", {"no_call": True})
    assert checks(refusal, [Reply(content="No tool for that.")], Reply(content="No tool for that."), arguments_match) == {
        "thinking_off": True, "refusal": True, "stream_match": True}
    assert checks(refusal, [Reply(tool_calls=(("find_flat", {}),))], Reply(), arguments_match)["refusal"] is False
    result = _case("tool_result", {"contains": ["17.5 degrees and cloudy"]})
    assert checks(result, [Reply(content="It's 17.5 degrees and cloudy.")], None, arguments_match)["tool_result"]
    assert not checks(result, [Reply(content="It's 17 degrees celsius.")], None, arguments_match)["tool_result"]


def test_the_two_step_loop_feeds_results_back_and_needs_both_calls_and_the_answer():
    steps = [{"call": {"name": "find_flat", "arguments": {"city": "Porto"}}, "result": "3 flats"},
             {"call": {"name": "find_flat", "arguments": {"city": "Faro"}}, "result": "1 flat, id QX12"}]
    case = _case("two_step", {"steps": steps, "contains": ["QX12"]}, thinking=True)
    client = Scripted(_message(calls=[("find_flat", {"city": "Porto"})], reasoning="first"),
                      _message(calls=[("find_flat", {"city": "Faro"})], reasoning="second"),
                      _message(content="Porto has 3, Faro has QX12.", reasoning="done"))
    result = run_case(client, case, "m")
    assert result.checks == {"thinking_on": True, "two_step": True}
    last = client.requests[-1]["messages"]
    assert [m["role"] for m in last] == ["user", "assistant", "tool", "assistant", "tool"]
    assert last[2]["content"] == "3 flats" and last[1]["reasoning"] == "first"
    assert last[1]["tool_calls"][0]["id"] == last[2]["tool_call_id"]
    stray = Scripted(_message(calls=[("find_flat", {"city": "Lisbon"})], reasoning="x"))
    assert run_case(stray, case, "m").checks["two_step"] is False  # a wrong first call ends the loop


def test_a_failing_server_gives_failed_records_not_exceptions():
    case = _case("tool_call", {"call": {"name": "find_flat", "arguments": {"city": "Porto"}}})
    result = run_case(Scripted(fail=True), case, "m", stream_too=True)
    assert result.replies[0].error.startswith("ConnectionError")
    assert result.checks["tool_call"] is False and result.checks["thinking_off"] is False
    broken = _case("tool_result", {})  # an expect without its key still gives a record, of its kind's metric
    assert run_case(Scripted(_message(content="x")), broken, "m").checks == {"tool_result": False}


def test_score_is_a_pure_count_and_the_targets_read_it():
    records = [CaseResult(None, (), None, {"tool_call": True, "false_refusal": False}),
               CaseResult(None, (), None, {"tool_call": False, "false_refusal": True})]
    assert score(records) == score(list(records)) == {"tool_call": (1, 2), "false_refusal": (1, 2)}
    assert not meets_targets(score(records))
    assert meets_targets({"tool_call": (9, 10), "false_refusal": (0, 50)})
    assert not meets_targets({"false_refusal": (2, 50)})  # 4% is over the 3% ceiling
    table = format_table({"generated": {"tool_call": (9, 10)}, "handwritten": {"tool_call": (17, 20)}})
    assert "90.0%" in table and "85.0%" in table and table.count(" ok") == 2
    assert set(TARGETS) >= {"tool_call", "tool_result", "thinking_on", "thinking_off", "stream_match", "memory",
                            "refusal", "false_refusal", "two_step"}


def test_the_generated_set_is_held_out_and_its_two_step_cases_stop_at_the_question():
    cases = generated_cases(60)
    assert cases == generated_cases(60) and len({c.id for c in cases}) == 60
    for case in cases:
        if case.kind == "two_step":
            assert case.messages[-1]["role"] == "user" and len(case.expect["steps"]) == 2
