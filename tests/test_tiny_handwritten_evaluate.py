"""The hand-written set's runner against the real embedded server: records are well-formed and nothing raises.

No accuracy threshold here: the weights are being retrained (issue 18); the rates are measured and reported
by `python -m nanokit.tiny.handwritten.evaluate`.
"""

from __future__ import annotations

import json

import pytest

from nanokit.tiny.handwritten import load_cases
from nanokit.tiny.handwritten.evaluate import _follow_up, ask, chat_request, evaluate, report
from nanokit.tiny.handwritten.scoring import TARGETS, Call, Reply, checks

pytestmark = pytest.mark.integration


def _sample():
    """Ten cases: every kind, both thinking settings, the two_step cases first so their loop runs."""
    cases = load_cases()
    chosen = [next(c for c in cases if c.kind == "two_step" and c.enable_thinking is t) for t in (True, False)]
    for kind in ("tool_call", "tool_result", "no_tool", "greeting", "memory"):
        chosen += [c for c in cases if c.kind == kind][:1 + (kind in ("tool_call", "tool_result", "no_tool"))]
    return chosen[:10]


def test_ten_cases_through_the_real_server_give_well_formed_records(server):
    cases = _sample()
    seen = []
    records = evaluate(server.client(), server.model_name, cases, stream_every=2, workers=4, on_record=seen.append)
    assert [r.case.id for r in records] == [c.id for c in cases] and len(seen) == len(cases)
    for record in records:
        assert record.replies and all(isinstance(r, Reply) for r in record.replies)
        assert not any(r.error for r in record.replies), record.replies
        first = record.replies[0]
        assert first.finish_reason in ("stop", "tool_calls", "length") and first.completion_tokens > 0
        for call in first.tool_calls:
            assert call.name and (call.arguments is None or isinstance(call.arguments, dict))
        if record.case.kind == "two_step":
            # The loop continues only past a right call, so 1 reply means step 1 missed; 3 means it reached the end.
            assert 1 <= len(record.replies) <= 3
        else:
            assert len(record.replies) == 1
        result = checks(record.case, record)
        assert set(result) <= set(TARGETS) and all(isinstance(v, bool) for v in result.values())
        assert ("thinking_on" in result) is record.case.enable_thinking
    assert sum(r.streamed is not None for r in records) == 5
    assert "thinking_on" in report(records, show_failures=3)


def test_the_server_accepts_a_two_step_follow_up_with_reasoning_and_a_tool_result(server):
    """The continuation run_case sends after a right call (the shipped weights rarely get that far)."""
    case = next(c for c in load_cases() if c.kind == "two_step" and c.enable_thinking)
    step = case.expect["steps"][0]
    made = Reply(reasoning="The first tool fits.", tool_calls=(
        Call(step["call"]["name"], step["call"]["arguments"], json.dumps(step["call"]["arguments"]), ""),))
    messages = [dict(m) for m in case.messages] + _follow_up(made, step["result"], 1)
    assert messages[-2]["tool_calls"][0]["id"] == messages[-1]["tool_call_id"] == "call_1"
    reply = ask(server.client(), chat_request(case, messages, server.model_name))
    assert not reply.error, reply.error
    assert reply.finish_reason in ("stop", "tool_calls", "length") and reply.completion_tokens > 0
