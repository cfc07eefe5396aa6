"""Tools from typed functions, argument coercion, and executing calls without ever crashing the loop."""

from __future__ import annotations

import ast
import sys
import threading
import time
from pathlib import Path

import pytest

from nanokit.example_tools import EXAMPLE_TOOLS, calculate_tip, calculator, get_weather
from nanokit.parsing import ToolCall
from nanokit.toolkit import Tool, as_tool, execute_tool_call, execute_tool_calls, tool_schema

TOOLS = {tool.name: tool for tool in map(as_tool, EXAMPLE_TOOLS)}


def test_schema_from_type_hints_and_docstring():
    schema = tool_schema(calculate_tip)["function"]
    assert schema["name"] == "calculate_tip"
    assert schema["description"] == "Calculate the tip amount for a restaurant bill."
    assert schema["parameters"]["properties"]["bill_total"] == {
        "type": "integer", "description": "The total bill amount in dollars."}
    assert schema["parameters"]["required"] == ["bill_total", "tip_percentage"]
    assert tool_schema(get_weather)["function"]["parameters"]["properties"]["unit"]["enum"] == [
        "celsius", "fahrenheit"]


def test_example_tools_keep_their_results():
    # The embedded model is trained on these exact outputs.
    assert calculate_tip(50, 15) == 7.5
    assert get_weather("Paris") == "18 degrees celsius in Paris"
    assert get_weather("Paris", "fahrenheit") == "64 degrees fahrenheit in Paris"
    assert calculator("(3 + 4) * 2") == "14"


@pytest.mark.parametrize("expression", ["__import__('os').system('true')", "open('x')", "a + 1", "2 ** 1000"])
def test_calculator_never_evaluates_code(expression):
    with pytest.raises(ValueError):
        calculator(expression)


def test_string_arguments_are_coerced_before_the_call():
    run = execute_tool_call(ToolCall("calculate_tip", {"bill_total": "80", "tip_percentage": "15"}), TOOLS)
    assert run.ok and run.arguments == {"bill_total": 80, "tip_percentage": 15} and run.output == "12.0"


def test_invalid_arguments_go_back_to_the_model():
    run = execute_tool_call(ToolCall("calculate_tip", {"bill_total": "eighty", "tip_percentage": 15}), TOOLS)
    assert not run.ok
    assert run.output == "Error: Invalid arguments: Argument 'bill_total' should be an integer; got 'eighty'."
    assert run.tool_message() == {"role": "tool", "tool_call_id": run.call.id, "name": "calculate_tip",
                                  "content": run.output}


def test_python_style_booleans_are_accepted():
    def set_alarm(hour: int, loud: bool = False) -> str:
        """Set an alarm."""
        return f"alarm at {hour} {'loud' if loud else 'quiet'}"

    tools = {"set_alarm": Tool.from_function(set_alarm)}
    assert execute_tool_call(ToolCall("set_alarm", {"hour": "7", "loud": "True"}), tools).output == "alarm at 7 loud"


def test_tool_exceptions_become_tool_output():
    run = execute_tool_call(ToolCall("calculator", {"expression": "1 / 0"}), TOOLS)
    assert run.error == "ZeroDivisionError: division by zero"
    assert run.output.startswith("Error: ZeroDivisionError")


def test_unknown_tool_is_reported():
    run = execute_tool_call(ToolCall("launch_rocket", {}), TOOLS)
    assert run.error == "Unknown tool 'launch_rocket'; the available tools are calculate_tip, calculator, get_weather."


def test_parallel_calls_run_concurrently_and_keep_order():
    seen = []
    barrier = threading.Barrier(3, timeout=5)

    def slow(n: int) -> int:
        """Wait for the others, then answer."""
        barrier.wait()  # deadlocks (and times out) unless all three run at once
        seen.append(n)
        return n * 10

    tools = {"slow": Tool.from_function(slow)}
    started = time.perf_counter()
    runs = execute_tool_calls([ToolCall("slow", {"n": str(i)}) for i in range(3)], tools)
    assert [r.output for r in runs] == ["0", "10", "20"]
    assert time.perf_counter() - started < 5


def test_non_string_results_are_json():
    def listing(n: int) -> list:
        """List numbers."""
        return list(range(n))

    tools = {"listing": Tool(listing, {"type": "function", "function": {
        "name": "listing", "parameters": {"type": "object", "properties": {"n": {"type": "integer"}}}}})}
    assert execute_tool_call(ToolCall("listing", {"n": 3}), tools).output == "[0, 1, 2]"


def _imported_modules(module) -> set[str]:
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    found = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return found | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}


def test_example_tools_and_tool_declarations_sit_below_the_chat_client():
    """The training-data generator imports these: the example tools use the standard library only, and
    the declarations only the parser's types and Pydantic (no openai, httpx or nanokit.chat)."""
    import nanokit.example_tools
    import nanokit.toolkit

    assert {name.split(".")[0] for name in _imported_modules(nanokit.example_tools)} <= set(sys.stdlib_module_names)
    declared = _imported_modules(nanokit.toolkit)
    assert {name for name in declared if name.startswith("nanokit")} == {"nanokit.parsing", "nanokit.schema"}
    assert not declared & {"openai", "httpx", "nanokit.chat", "nanokit.tools"}
