"""The tool loop's conversation: what goes back to the server after each step (canned server streams)."""

from __future__ import annotations

from test_chat import PARSED, CannedEndpoint

from nanokit import EXAMPLE_TOOLS, run_tool_loop
from widgets.chat_panel import ChatPanel
from widgets.tool_trace import ToolTrace

WEATHER_CALL = {"tool_calls": [{"index": 0, "id": "call_w", "type": "function",
                                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]}
TWO_STEPS = ([{"reasoning": "I need the weather."}, WEATHER_CALL],
             [{"reasoning": "The tool said 18."}, {"content": "It is 18 degrees."}])


def canned(*scripts) -> CannedEndpoint:
    return CannedEndpoint(scripts[0], then=list(scripts[1:]), features=PARSED)


def assistant_turns(request: dict) -> list[dict]:
    return [m for m in request["messages"] if m["role"] == "assistant"]


def test_the_second_step_sends_the_first_steps_reasoning_with_its_call():
    endpoint = canned(*TWO_STEPS)
    loop = run_tool_loop(endpoint, "Weather in Paris?", tools=EXAMPLE_TOOLS)
    assert loop.stopped == "answer" and loop.answer == "It is 18 degrees."
    (turn,) = assistant_turns(endpoint.requests[1])
    assert turn["reasoning"] == "I need the weather." and turn["tool_calls"][0]["id"] == "call_w"
    assert endpoint.requests[1]["messages"][-1]["role"] == "tool"
    assert loop.messages[-1] == {"role": "assistant", "content": "It is 18 degrees.",
                                 "reasoning": "The tool said 18."}


def test_carry_reasoning_off_sends_none():
    endpoint = canned(*TWO_STEPS)
    loop = run_tool_loop(endpoint, "Weather in Paris?", EXAMPLE_TOOLS, carry_reasoning=False)
    assert "reasoning" not in assistant_turns(endpoint.requests[1])[0]
    assert all("reasoning" not in m for m in loop.messages)


def test_tool_trace_carries_reasoning_and_can_be_told_not_to():
    on, off = canned(*TWO_STEPS), canned(*TWO_STEPS)
    ToolTrace(on).run("Weather in Paris?")
    ToolTrace(off, carry_reasoning=False).run("Weather in Paris?")
    assert assistant_turns(on.requests[1])[0]["reasoning"] == "I need the weather."
    assert "reasoning" not in assistant_turns(off.requests[1])[0]


def test_chat_panel_history_sends_earlier_answers_with_their_reasoning():
    """Earlier turns go back with their reasoning too: the released template truncates it there itself."""
    endpoint = canned([{"reasoning": "Adding."}, {"content": "4"}], [{"content": "6"}])
    panel = ChatPanel(endpoint)
    panel.send("2+2?")
    panel.send("3+3?")
    assert assistant_turns(endpoint.requests[1]) == [{"role": "assistant", "content": "4", "reasoning": "Adding."}]
    quiet = canned([{"reasoning": "Adding."}, {"content": "4"}], [{"content": "6"}])
    panel = ChatPanel(quiet, carry_reasoning=False)
    panel.send("2+2?")
    panel.send("3+3?")
    assert assistant_turns(quiet.requests[1]) == [{"role": "assistant", "content": "4"}]
