"""Unit tests of nanokit.agents' graph wiring, with LangChain's fake chat model standing in for the server."""

from __future__ import annotations

import json
import socket
from typing import Any

import httpx
import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from nanokit.agents import (
    AgentRun,
    Specialist,
    as_langchain_tool,
    build_coordinator,
    build_tool_agent,
    chat_model,
    failing_tool,
    graph_figure,
    graph_layout,
    memory,
    mermaid,
    message_steps,
    run_agent,
    stream_agent,
)
from nanokit.endpoint import Endpoint
from nanokit.errors import ConfigError, NanokitError, ServerError
from nanokit.example_tools import EXAMPLE_TOOLS, calculate_tip, get_weather
from nanokit.toolkit import tool_schema


class ScriptedModel(GenericFakeChatModel):
    """Answers with the scripted messages in order; records what it was shown and which tools were bound."""

    seen: list[list[Any]] = Field(default_factory=list)
    bound: list[list[str]] = Field(default_factory=list)

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedModel:
        self.bound.append([convert_to_openai_tool(t)["function"]["name"] for t in tools])
        return self

    def _generate(self, messages: Any, *args: Any, **kwargs: Any) -> Any:
        self.seen.append(list(messages))
        return super()._generate(messages, *args, **kwargs)


def scripted(*replies: AIMessage | str) -> ScriptedModel:
    return ScriptedModel(messages=iter([AIMessage(r) if isinstance(r, str) else r for r in replies]))


def call(name: str, call_id: str = "c1", **args: Any) -> AIMessage:
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": call_id, "type": "tool_call"}])


def steps_before_error(steps: Any, error: type[Exception], match: str) -> list[Any]:
    """The steps a stream yielded before it raised `error` (which it must)."""
    seen: list[Any] = []
    with pytest.raises(error, match=match):
        seen.extend(steps)
    return seen


def texts(messages: list[Any], kind: type) -> list[str]:
    return [m.text for m in messages if isinstance(m, kind)]


# --- tools -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fn", EXAMPLE_TOOLS, ids=lambda f: f.__name__)
def test_langchain_tool_advertises_exactly_the_nanokit_schema(fn):
    # Key order included: the embedded model was trained on prompts rendered from tool_schema.
    assert json.dumps(convert_to_openai_tool(as_langchain_tool(fn))) == json.dumps(tool_schema(fn))


def test_langchain_tool_coerces_arguments_by_type_hint():
    assert as_langchain_tool(calculate_tip).invoke({"bill_total": "80", "tip_percentage": 15}) == "12.0"


# --- the ReAct agent ----------------------------------------------------------------------------


def test_tool_agent_calls_the_tool_and_answers_from_its_result():
    model = scripted(call("calculate_tip", bill_total=80, tip_percentage=15), "The tip is $12.00.")
    run = run_agent(build_tool_agent(model), "What is a 15% tip on $80?")
    assert run.tools_called() == ["calculate_tip"]
    assert [(s.node, s.kind) for s in run.steps] == [("agent", "tool_call"), ("tools", "tool_result"),
                                                     ("agent", "message")]
    assert run.steps[1].text == "12.0"
    assert run.answer == "The tip is $12.00."
    assert texts(model.seen[1], ToolMessage) == ["12.0"]  # the model's second turn saw the result
    assert model.bound == [["calculate_tip", "get_weather", "calculator"]]


def test_tool_exception_becomes_an_error_message_the_model_sees():
    model = scripted(call("calculator", expression="1/0"), "I cannot divide by zero.")
    run = run_agent(build_tool_agent(model), "What is 1/0?")
    error = next(s for s in run.steps if s.kind == "tool_error")
    assert error.tool == "calculator"
    assert "ZeroDivisionError" in error.text
    assert any("ZeroDivisionError" in t for t in texts(model.seen[1], ToolMessage))
    assert run.answer == "I cannot divide by zero."


def test_failing_tool_keeps_the_schema_and_raises_its_sentence():
    broken = failing_tool(get_weather, "The weather service is down.")
    assert tool_schema(broken) == tool_schema(get_weather)
    model = scripted(call("get_weather", city="Oslo"), "The weather service is down, sorry.")
    run = run_agent(build_tool_agent(model, [broken]), "Weather in Oslo?")
    error = next(s for s in run.steps if s.kind == "tool_error")
    assert error.text == "Error: ToolError: The weather service is down."


def test_invalid_arguments_and_unknown_tools_become_error_messages():
    model = scripted(call("calculate_tip", bill_total="lots", tip_percentage=15),
                     call("book_flight", "c2", to="Paris"), "Sorry.")
    run = run_agent(build_tool_agent(model), "Tip on lots?")
    errors = [s for s in run.steps if s.kind == "tool_error"]
    assert errors[0].text.startswith("Error: Invalid arguments:") and "bill_total" in errors[0].text
    assert "book_flight" in errors[1].text and "not a valid tool" in errors[1].text
    assert run.answer == "Sorry."


def test_malformed_tool_call_is_reported_in_the_transcript():
    bad = AIMessage("", invalid_tool_calls=[{"name": "get_weather", "args": "{city: Paris", "id": "c1",
                                             "error": "arguments are not JSON", "type": "invalid_tool_call"}])
    run = run_agent(build_tool_agent(scripted(bad)), "Weather?")
    assert [s.kind for s in run.steps] == ["malformed_call"]
    assert "arguments are not JSON" in run.steps[0].text


def test_step_limit_stops_a_model_that_never_stops_calling_tools():
    model = scripted(*[call("get_weather", f"c{i}", city="Oslo") for i in range(50)])
    run = run_agent(build_tool_agent(model), "Weather?", step_limit=6)
    assert len(run.tools_called()) <= 3
    assert "more steps" in run.answer  # LangGraph's ReAct agent ends politely at its limit


# --- memory -----------------------------------------------------------------------------------


def test_memory_keeps_a_thread_and_separates_threads():
    model = scripted("Hello Ada.", "Your name is Ada.", "I do not know your name.")
    agent = build_tool_agent(model, checkpointer=memory())
    run_agent(agent, "My name is Ada.", thread_id="one")
    run_agent(agent, "What is my name?", thread_id="one")
    run_agent(agent, "What is my name?", thread_id="two")
    assert texts(model.seen[1], HumanMessage) == ["My name is Ada.", "What is my name?"]
    assert "Hello Ada." in texts(model.seen[1], AIMessage)
    assert texts(model.seen[2], HumanMessage) == ["What is my name?"]


def test_sqlite_memory_survives_rebuilding_the_agent(tmp_path):
    path = tmp_path / "memory.sqlite"
    run_agent(build_tool_agent(scripted("Hello Ada."), checkpointer=memory(path)), "My name is Ada.", thread_id="t")
    model = scripted("Ada.")  # a new model, agent and connection: as after a kernel restart
    run_agent(build_tool_agent(model, checkpointer=memory(path)), "What is my name?", thread_id="t")
    assert texts(model.seen[0], HumanMessage) == ["My name is Ada.", "What is my name?"]


def test_sqlite_memory_in_a_missing_folder_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        memory(tmp_path / "nope" / "memory.sqlite")


# --- the coordinator ----------------------------------------------------------------------------


def routes(agent, thread_id: str) -> list[str]:
    return agent.get_state({"configurable": {"thread_id": thread_id}}).values["routes"]


def test_coordinator_routes_by_the_supervisors_tool_call_and_composes():
    model = scripted(call("get_weather", "s1", city="Paris"),      # supervisor picks the weather tool
                     call("get_weather", "w1", city="Paris"),      # weather specialist calls it for real
                     "It is 18 degrees celsius in Paris.",          # weather specialist answers
                     "Paris: 18 degrees celsius.")                  # supervisor composes
    agent = build_coordinator(model, checkpointer=memory())
    run = run_agent(agent, "What is the weather in Paris?", thread_id="t")
    assert routes(agent, "t") == ["weather"]
    assert [(s.path, s.node, s.kind) for s in run.steps] == [
        ((), "supervisor", "tool_call"),
        (("weather",), "agent", "tool_call"), (("weather",), "tools", "tool_result"),
        (("weather",), "agent", "message"),
        ((), "weather", "tool_result"),
        ((), "supervisor", "message"),
    ]
    assert run.answer == "Paris: 18 degrees celsius."
    # the supervisor composes from the specialist's findings: what its tool returned
    assert texts(model.seen[-1], ToolMessage) == ["18 degrees celsius in Paris"]
    # the supervisor sees every specialist's tools; each specialist only its own
    assert model.bound == [["calculate_tip", "calculator", "get_weather"], ["calculate_tip", "calculator"],
                           ["get_weather"]]


def test_coordinator_sends_two_calls_to_two_specialists():
    both = AIMessage("", tool_calls=[
        {"name": "get_weather", "args": {"city": "Oslo"}, "id": "s1", "type": "tool_call"},
        {"name": "calculate_tip", "args": {"bill_total": 80, "tip_percentage": 15}, "id": "s2", "type": "tool_call"},
    ])
    model = scripted(both, "Specialist answer one.", "Specialist answer two.", "Both answered.")
    agent = build_coordinator(model, checkpointer=memory())
    run = run_agent(agent, "Weather in Oslo, and a 15% tip on $80?", thread_id="t")
    assert sorted(routes(agent, "t")) == ["calculator", "weather"]
    assert run.answer == "Both answered."
    # specialists that used no tool report their answers
    assert sorted(texts(model.seen[-1], ToolMessage)) == ["Specialist answer one.", "Specialist answer two."]


def test_coordinator_passes_a_specialists_tool_error_to_the_supervisor():
    broken = Specialist("weather", (failing_tool(get_weather, "The weather service is down."),))
    model = scripted(call("get_weather", "s1", city="Oslo"), call("get_weather", "w1", city="Oslo"),
                     "Sorry, no weather.", "The weather service is down.")
    run = run_agent(build_coordinator(model, [broken]), "Weather in Oslo?")
    reported = [s for s in run.steps if s.node == "weather" and not s.path]
    assert [(s.kind, s.text) for s in reported] == [("tool_error", "Error: ToolError: The weather service is down.")]
    assert run.answer == "The weather service is down."


def test_coordinator_answers_directly_when_no_tool_is_needed():
    agent = build_coordinator(scripted("Hello!"), checkpointer=memory())
    assert run_agent(agent, "Hi", thread_id="t").answer == "Hello!"
    assert routes(agent, "t") == []


def test_coordinator_reports_a_call_no_specialist_owns():
    model = scripted(call("book_flight", to="Rome"), "I cannot book flights.")
    run = run_agent(build_coordinator(model), "Book me a flight")
    error = next(s for s in run.steps if s.kind == "tool_error")
    assert "no specialist for the tool 'book_flight'" in error.text
    assert run.answer == "I cannot book flights."


def test_coordinator_step_limit_raises_a_sentence():
    model = scripted(*[call("book_flight", f"c{i}") for i in range(50)])
    steps = steps_before_error(stream_agent(build_coordinator(model), "Loop", step_limit=4), NanokitError,
                               match="stopped after 4 steps")
    assert steps[-1].kind == "error"


def test_a_tool_owned_by_two_specialists_is_a_config_error():
    with pytest.raises(ConfigError, match="belongs to both"):
        build_coordinator(scripted(), [Specialist("a", (get_weather,)), Specialist("b", (get_weather,))])


# --- the served model ---------------------------------------------------------------------------


def endpoint_at(base_url: str) -> Endpoint:
    return Endpoint(base_url, model_name="tiny")


def test_chat_model_passes_reasoning_per_node():
    on, off = chat_model(endpoint_at("http://127.0.0.1:1/v1"), reasoning=True), chat_model(endpoint_at("http://x/v1"))
    assert on.extra_body == {"chat_template_kwargs": {"enable_thinking": True}}
    assert off.extra_body == {"chat_template_kwargs": {"enable_thinking": False}}
    assert on.model_name == "tiny"


def test_reasoning_the_server_split_off_is_kept_and_shown():
    response = {"model": "tiny", "choices": [{"index": 0, "finish_reason": "stop", "message": {
        "role": "assistant", "content": "18 degrees.", "reasoning": "The tool said 18."}}]}
    result = chat_model(endpoint_at("http://x/v1"), reasoning=True)._create_chat_result(response)
    message = result.generations[0].message
    assert message.additional_kwargs["reasoning_content"] == "The tool said 18."
    assert [(s.kind, s.text) for s in message_steps("agent", message)] == [
        ("reasoning", "The tool said 18."), ("message", "18 degrees.")]


def test_server_gone_is_a_server_error_in_the_transcript():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    agent = build_tool_agent(chat_model(endpoint_at(f"http://127.0.0.1:{port}/v1"), timeout=5, max_retries=0))
    steps = steps_before_error(stream_agent(agent, "Weather in Paris?"), ServerError,
                               match="could not reach the model server")
    assert steps[-1].kind == "error" and f"127.0.0.1:{port}" in steps[-1].text


# --- drawing and the widget --------------------------------------------------------------------


def test_graph_layout_puts_start_on_top_and_end_at_the_bottom():
    layout = graph_layout(build_coordinator(scripted()))
    ys = {node: y for node, (_, y) in layout.positions.items()}
    assert ys["__start__"] > ys["supervisor"] > ys["weather"] == ys["calculator"] > ys["__end__"]
    assert ("supervisor", "weather", True) in layout.edges


def test_graph_figure_and_mermaid_name_every_node():
    agent = build_tool_agent(scripted())
    names = set(graph_figure(agent).data[-1].text)
    assert {"agent", "tools"} <= names
    assert "agent -.-> tools" in mermaid(agent)


def test_agent_trace_streams_steps_into_its_log():
    from widgets.agent_trace import AgentTrace

    trace = AgentTrace(build_tool_agent(scripted(call("get_weather", city="Tokyo"), "22 degrees in Tokyo."),
                                        checkpointer=memory()))
    trace.question.value = "Weather in Tokyo?"
    trace.run_button.click()
    run = trace.runs[-1]
    assert isinstance(run, AgentRun) and run.answer == "22 degrees in Tokyo."
    assert "calls get_weather(city=&#x27;Tokyo&#x27;)" in trace.transcript.value
    assert "get_weather returned: 22 degrees celsius in Tokyo" in trace.transcript.value
    assert not trace.run_button.disabled


def test_agent_trace_shows_a_failed_run_as_a_sentence():
    from widgets.agent_trace import AgentTrace

    trace = AgentTrace(build_coordinator(scripted(*[call("book_flight", f"c{i}") for i in range(50)])),
                       step_limit=4)
    run = trace.run("Loop")
    assert run.answer == "" and run.steps[-1].kind == "error"
    assert "stopped after 4 steps" in trace.transcript.value


# --- reasoning carried back to the server -------------------------------------------------------


class ChatCompletionsServer:
    """Non-streamed /v1/chat/completions answers in order, like vLLM with its parsers; records the requests."""

    def __init__(self, *messages: dict) -> None:
        self.messages, self.requests = list(messages), []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(json.loads(request.content))
        message = self.messages[min(len(self.requests), len(self.messages)) - 1]
        return httpx.Response(200, json={
            "id": "x", "object": "chat.completion", "created": 0, "model": "tiny",
            "choices": [{"index": 0, "message": {"role": "assistant", **message},
                         "finish_reason": "tool_calls" if "tool_calls" in message else "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})


WEATHER_TURNS = (
    {"content": None, "reasoning": "I need the weather tool.", "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
    {"content": "It is 18 degrees.", "reasoning": "The tool said 18."},
)


@pytest.mark.parametrize("carry", [True, False])
def test_agent_sends_the_calls_reasoning_back_on_the_next_request(carry):
    server = ChatCompletionsServer(*WEATHER_TURNS)
    endpoint = Endpoint("http://vllm.test/v1", model_name="tiny", transport=httpx.MockTransport(server))
    run = run_agent(build_tool_agent(chat_model(endpoint, carry_reasoning=carry)), "Weather in Paris?")
    assert run.answer == "It is 18 degrees." and run.tools_called() == ["get_weather"]
    sent = [m for m in server.requests[1]["messages"] if m["role"] == "assistant"]
    assert len(sent) == 1 and sent[0]["tool_calls"][0]["id"] == "call_1"
    assert sent[0].get("reasoning") == ("I need the weather tool." if carry else None)
