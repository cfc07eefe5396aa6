"""ChatPanel and ToolTrace driven headlessly: set values, click, read what they show."""

from __future__ import annotations

import pytest
from test_chat import PARSED, CannedEndpoint

from nanokit.declared_tools import DeclarationStore, parse_declaration
from widgets.chat_panel import ChatPanel
from widgets.tool_trace import ToolTrace

WEATHER_CALL = {"tool_calls": [{"index": 0, "id": "call_w", "type": "function",
                                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]}


STOCK_CALL = {"tool_calls": [{"index": 0, "id": "call_s", "type": "function",
                               "function": {"name": "get_stock_price", "arguments": '{"symbol": "NVDA"}'}}]}


@pytest.fixture(autouse=True)
def config_dir(tmp_path, monkeypatch):
    """Declared tools go to a scratch folder, never the user's config."""
    monkeypatch.setenv("NANOKIT_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "config"


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
    trace.run_button.click()  # runs on a thread, so the kernel can take answers meanwhile
    assert trace.wait(30) is not None and not trace.run_button.disabled
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



def wait_for(condition, timeout=30.0):
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_declared_tool_is_offered_and_its_call_answered_by_hand(config_dir):
    endpoint = canned([STOCK_CALL], [{"content": "NVDA is at 123.45."}])
    trace = ToolTrace(endpoint)
    form = trace.form
    form.name.value, form.description.value = "get_stock_price", "Get the latest price of a stock."
    form.parameters.value = "symbol: string"
    form.add_button.click()
    assert "get_stock_price" in trace.tool_list.value and "get_stock_price" in trace.first_call.options
    trace.first_call.value = "get_stock_price"
    trace.run_button.click()
    wait_for(lambda: trace.call_box.layout.display is None)
    assert "get_stock_price({&quot;symbol&quot;: &quot;NVDA&quot;})" in trace.call_prompt.value
    trace.call_result.value = "123.45"
    trace.call_send.click()
    loop = trace.wait(30)
    assert loop.stopped == "answer" and loop.answer == "NVDA is at 123.45."
    assert trace.call_box.layout.display == "none"
    first, second = endpoint.requests
    assert first["tool_choice"] == {"type": "function", "function": {"name": "get_stock_price"}}
    assert second["tool_choice"] == "auto"  # forced once, then the model chooses
    assert second["messages"][-1] == {"role": "tool", "tool_call_id": "call_s", "name": "get_stock_price",
                                      "content": "123.45"}
    assert any(t["function"]["name"] == "get_stock_price" for t in first["tools"])
    # the declaration survives a reload: a new trace reads it from the config folder
    assert [d.name for d in ToolTrace(endpoint).form.declarations] == ["get_stock_price"]
    assert (config_dir / "tools.json").exists()


def test_an_unanswered_call_tells_the_model_after_the_timeout():
    trace = ToolTrace(canned([STOCK_CALL], [{"content": "No price."}]), answer_timeout=0.2)
    trace.declare(parse_declaration("get_stock_price", "Price.", "symbol: string"))
    loop = trace.run("price?")
    assert loop.steps[0].executions[0].output == "Error: TimeoutError: no result was typed within 0 s"


def test_the_form_refuses_a_bad_declaration_in_one_sentence(config_dir):
    trace = ToolTrace(canned([{"content": "x"}]))
    trace.form.name.value, trace.form.description.value = "bad name", "x"
    trace.form.add_button.click()
    assert "letters, digits, underscores or dashes" in trace.form.message.value
    assert trace.form.declarations == [] and not (config_dir / "tools.json").exists()
    DeclarationStore(config_dir / "tools.json").save([parse_declaration("f", "F.", "", "calculator")])
    assert "f <i>(calculator)</i>" in ToolTrace(canned([{"content": "x"}])).tool_list.value


def test_enter_in_the_message_box_sends():
    endpoint = canned([{"content": "4"}])
    panel = ChatPanel(endpoint)
    panel.message.value = "2+2?"
    panel.message.submits += 1  # what the browser side does on Enter (Shift+Enter only adds a line)
    assert "4" in panel.answer.value and len(endpoint.requests) == 1 and not panel.message.disabled
