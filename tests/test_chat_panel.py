"""ChatPanel and ToolTrace driven headlessly: set values, click, read what they show."""

from __future__ import annotations

from test_chat import PARSED, CannedEndpoint

from widgets.chat_panel import ChatPanel
from widgets.tool_trace import ToolTrace

WEATHER_CALL = {"tool_calls": [{"index": 0, "id": "call_w", "type": "function",
                                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]}


def canned(*scripts):
    return CannedEndpoint(scripts[0], then=list(scripts[1:]), features=PARSED)  # what the probe would find


def test_panel_streams_reasoning_above_the_answer_and_reports_tokens():
    panel = ChatPanel(canned([{"reasoning": "Adding."}, {"content": "4"}]))
    panel.message.value = "2+2?"
    panel.send_button.click()
    assert "Adding." in panel.reasoning.value and "4" in panel.answer.value
    assert panel.children.index(panel.reasoning_pane) < panel.children.index(panel.answer)
    assert "5 prompt" in panel.status.value and "first answer" in panel.status.value
    assert panel.history[-1] == {"role": "assistant", "content": "4", "reasoning": "Adding."}
    assert not panel.send_button.disabled and panel.message.value == ""


def test_thinking_toggle_sets_the_request_and_hides_the_pane():
    endpoint = canned([{"content": "4"}])
    panel = ChatPanel(endpoint)
    panel.thinking.value = False
    assert panel.budget.disabled and panel.reasoning_pane.layout.display == "none"
    assert panel.preset.value == "plain"
    panel.send("2+2?")
    assert endpoint.requests[0]["chat_template_kwargs"] == {"enable_thinking": False}
    assert endpoint.requests[0]["temperature"] == 0.0


def test_budget_slider_reaches_the_server():
    endpoint = canned([{"reasoning": "r"}, {"content": "a"}])
    panel = ChatPanel(endpoint)
    panel.budget.value = 64
    panel.send("q")
    assert endpoint.requests[0]["thinking_token_budget"] == 64


def test_panel_without_endpoint_says_so():
    panel = ChatPanel()
    panel.send("hello")
    assert "No server" in panel.status.value


def test_tool_trace_shows_call_arguments_result_and_next_move():
    endpoint = canned([{"reasoning": "Need weather."}, WEATHER_CALL],
                      [{"reasoning": "Got it."}, {"content": "It is 18 degrees."}])
    trace = ToolTrace(endpoint)
    trace.run_button.click()
    html = trace.steps.value
    assert "get_weather" in html and "&quot;city&quot;: &quot;Paris&quot;" in html
    assert "18 degrees celsius in Paris" in html and "It is 18 degrees." in html
    assert "Answered after 2 model turns and 1 tool calls." in trace.status.value
    tool_message = endpoint.requests[1]["messages"][-1]
    assert tool_message["role"] == "tool" and tool_message["tool_call_id"] == "call_w"


def test_tool_trace_stops_at_the_step_limit():
    trace = ToolTrace(canned([WEATHER_CALL]), max_steps=2)
    loop = trace.run("weather?")
    assert loop.stopped == "step_limit" and len(loop.steps) == 2
    assert "step limit" in trace.status.value

