"""Tools declared with Pydantic models, enums, optional fields and LangChain's @tool: schema, call, coercion."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Literal

import pytest
from langchain_core.tools import StructuredTool, tool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, Field
from test_chat import PARSED, CannedEndpoint

import nanokit
from nanokit import ToolCall, as_tool, execute_tool_call, run_tool_loop, tool_schema
from nanokit.agents import as_langchain_tool

# nanokit.schema (the parser work) coerces anyOf/nullable values; before it lands they reach the tool as
# text and only the Pydantic validation in Tool.run converts them.
# (Looked up beside nanokit/__init__.py: an editable install elsewhere can put another checkout on the path.)
HAS_SCHEMA = (Path(nanokit.__file__).parent / "schema.py").exists()
needs_schema = pytest.mark.xfail(not HAS_SCHEMA, strict=True, reason="anyOf coercion is nanokit.schema's")


class Unit(str, enum.Enum):
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


class Place(BaseModel):
    city: str
    country: str | None = None


received: list[tuple] = []


def forecast(place: Place, days: int | None = None, unit: Unit = Unit.CELSIUS) -> str:
    """The forecast for a place.

    Args:
        place: Where.
        days: How many days ahead.
        unit: The temperature unit.
    """
    received.append((place, days, unit))
    return f"{place.city} in {days} days: 20 degrees {unit.value}"


def test_rich_parameters_get_pydantics_schema_with_references_inlined():
    parameters = tool_schema(forecast)["function"]["parameters"]
    assert parameters == {"type": "object", "required": ["place"], "properties": {
        "place": {"type": "object", "required": ["city"], "description": "Where.", "properties": {
            "city": {"type": "string"},
            "country": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}}},
        "days": {"anyOf": [{"type": "integer"}, {"type": "null"}], "description": "How many days ahead."},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "The temperature unit."},
    }}


def test_plain_schemas_keep_the_shape_the_embedded_model_was_trained_on():
    def plain(a: int, b: Literal["x", "y"] = "x", c: list[float] = ()) -> str:
        return ""

    assert tool_schema(plain)["function"]["parameters"]["properties"] == {
        "a": {"type": "integer"}, "b": {"type": "string", "enum": ["x", "y"]},
        "c": {"type": "array", "items": {"type": "number"}}}


def test_a_call_builds_the_model_the_enum_and_the_optional_number():
    received.clear()
    call = ToolCall("forecast", {"place": '{"city": "Paris", "country": "France"}', "days": "3", "unit": "fahrenheit"})
    execution = execute_tool_call(call, {"forecast": as_tool(forecast)})
    assert execution.ok, execution.error
    assert execution.output == "Paris in 3 days: 20 degrees fahrenheit"
    assert received == [(Place(city="Paris", country="France"), 3, Unit.FAHRENHEIT)]


@needs_schema
def test_optional_values_are_coerced_against_the_any_of():
    execution = execute_tool_call(ToolCall("forecast", {"place": {"city": "Oslo"}, "days": "2"}),
                                  {"forecast": as_tool(forecast)})
    assert execution.arguments["days"] == 2
    nothing = execute_tool_call(ToolCall("forecast", {"place": {"city": "Oslo"}, "days": "null"}),
                                {"forecast": as_tool(forecast)})
    assert nothing.ok and nothing.arguments["days"] is None


def test_a_bad_nested_value_goes_back_to_the_model_as_an_error():
    execution = execute_tool_call(ToolCall("forecast", {"place": {"country": "France"}}),
                                  {"forecast": as_tool(forecast)})
    assert not execution.ok and "city" in execution.output and execution.output.startswith("Error:")


@tool
def tip(bill_total: float, tip_percentage: int = 15, rounding: Literal["cent", "dollar"] | None = None) -> float:
    """Calculate the tip for a bill."""
    value = bill_total * tip_percentage / 100
    return round(value) if rounding == "dollar" else round(value, 2)


class Order(BaseModel):
    item: str = Field(description="What to order.")
    quantity: int = 1
    delivery: Place | None = None


def _order(item: str, quantity: int = 1, delivery: Place | None = None) -> str:
    where = f" to {delivery.city}" if delivery else ""
    return f"{quantity} x {item}{where}"


order = StructuredTool.from_function(_order, name="order", description="Order something.", args_schema=Order)


@pytest.mark.parametrize("lc_tool", [tip, order], ids=["@tool", "StructuredTool with a Pydantic model"])
def test_langchain_tools_advertise_langchains_own_schema(lc_tool):
    assert as_tool(lc_tool).schema == convert_to_openai_tool(lc_tool)


def test_langchain_tools_run_with_coerced_arguments():
    tools = {"tip": as_tool(tip), "order": as_tool(order)}
    assert execute_tool_call(ToolCall("tip", {"bill_total": "50", "tip_percentage": "20"}), tools).output == "10.0"
    execution = execute_tool_call(ToolCall("order", {"item": "tea", "quantity": "2", "delivery": {"city": "Rome"}}),
                                  tools)
    assert execution.arguments["quantity"] == 2 and execution.output == "2 x tea to Rome"


@needs_schema
def test_an_optional_nested_object_written_as_text_is_read_as_json():
    execution = execute_tool_call(ToolCall("order", {"item": "tea", "delivery": '{"city": "Rome"}'}),
                                  {"order": as_tool(order)})
    assert execution.arguments["delivery"] == {"city": "Rome"} and execution.output == "1 x tea to Rome"


def test_the_tool_loop_takes_langchain_and_pydantic_tools():
    received.clear()
    call = {"tool_calls": [{"index": 0, "id": "c1", "type": "function", "function": {
        "name": "forecast", "arguments": '{"place": {"city": "Lima"}, "days": 2, "unit": "celsius"}'}}]}
    endpoint = CannedEndpoint([call], then=[[{"content": "Warm."}]], features=PARSED)
    loop = run_tool_loop(endpoint, "Forecast for Lima?", tools=[forecast, tip, order])
    assert loop.answer == "Warm." and loop.steps[0].executions[0].output == "Lima in 2 days: 20 degrees celsius"
    assert received == [(Place(city="Lima"), 2, Unit.CELSIUS)]
    offered = {entry["function"]["name"]: entry for entry in endpoint.requests[0]["tools"]}
    assert offered["tip"] == convert_to_openai_tool(tip) and offered["forecast"] == tool_schema(forecast)


def test_agents_advertise_and_run_pydantic_typed_functions():
    lc_tool = as_langchain_tool(forecast)
    assert convert_to_openai_tool(lc_tool)["function"]["parameters"] == tool_schema(forecast)["function"]["parameters"]
    assert lc_tool.invoke({"place": {"city": "Rome"}, "days": 1}) == "Rome in 1 days: 20 degrees celsius"
    wrapped = as_langchain_tool(tip)  # LangChain tools keep their schema and get nanokit's coercion
    assert convert_to_openai_tool(wrapped) == convert_to_openai_tool(tip)
    assert wrapped.invoke({"bill_total": "50", "tip_percentage": "20"}) == "10.0"
