"""Tools a user declares: parsing the form and JSON Schema text, the one-sentence errors, the file they live in."""

from __future__ import annotations

import json

import pytest

from nanokit.declared_tools import (
    BY_HAND,
    DeclarationStore,
    declared_tool,
    parse_declaration,
    parse_parameters,
)
from nanokit.errors import ConfigError
from nanokit.parsing import ToolCall
from nanokit.toolkit import execute_tool_call


def test_form_lines_become_a_schema_with_choices_optional_and_descriptions():
    schema = parse_parameters("symbol: string  # the ticker, e.g. NVDA\ncurrency?: USD|EUR, days: integer")
    assert schema == {"type": "object", "required": ["symbol", "days"], "properties": {
        "symbol": {"type": "string", "description": "the ticker, e.g. NVDA"},
        "currency": {"type": "string", "enum": ["USD", "EUR"]},
        "days": {"type": "integer"}}}


def test_json_schema_text_is_read_as_data():
    text = '{"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}'
    assert parse_parameters(text) == json.loads(text)
    assert parse_parameters("") == {"type": "object", "properties": {}, "required": []}


@pytest.mark.parametrize(("name", "description", "parameters", "fix"), [
    ("get price", "d", "", "letters, digits, underscores or dashes"),
    ("f", "  ", "", "Describe what f does"),
    ("f", "d", "city string", "is not `name: type`"),
    ("f", "d", "city: text-ish", "use one of string, integer"),
    ("f", "d", '{"type": "object", "properties": {"a": 1}}', "map each parameter name"),
    ("f", "d", '{"type": "object", "properties": {}, "required": ["a"]}', "which \"properties\" does not declare"),
    ("f", "d", '{"type": "object",', "not valid JSON"),
    ("f", "d", '__import__("os").system("x")', "is not `name: type`"),
])
def test_bad_declarations_get_one_sentence_naming_the_fix(name, description, parameters, fix):
    with pytest.raises(ConfigError, match=fix.replace("(", r"\(")) as caught:
        parse_declaration(name, description, parameters)
    assert str(caught.value).endswith(".")


def test_a_hand_answered_tool_returns_what_the_person_typed_after_coercing_arguments():
    asked = []
    declaration = parse_declaration("get_stock_price", "Latest price of a stock.", "symbol: string\ndays: integer")
    tool = declared_tool(declaration, lambda name, arguments: asked.append((name, arguments)) or "123.45")
    run = execute_tool_call(ToolCall("get_stock_price", {"symbol": "NVDA", "days": "3"}), {tool.name: tool})
    assert run.ok and run.output == "123.45"
    assert asked == [("get_stock_price", {"symbol": "NVDA", "days": 3})]
    assert tool.schema["function"]["parameters"]["required"] == ["symbol", "days"]


def test_a_hand_answered_tool_sees_calls_whose_arguments_miss_the_schema_and_an_example_one_does_not():
    asked = []
    declaration = parse_declaration("get_stock_price", "Latest price of a stock.", "symbol: string")
    tool = declared_tool(declaration, lambda name, arguments: asked.append(arguments) or "123.45")
    run = execute_tool_call(ToolCall("get_stock_price", {"ticker": "NVDA"}), {tool.name: tool})
    assert run.ok and run.output == "123.45" and asked == [{"ticker": "NVDA"}]  # the person decides
    example = declared_tool(parse_declaration("tip", "Work out a tip.", "bill_total: integer\ntip_percentage: integer",
                                              answered_by="calculate_tip"))
    refused = execute_tool_call(ToolCall("tip", {"bill": 80}), {"tip": example})
    assert not refused.ok and refused.output.startswith("Error: Invalid arguments")


def test_an_example_implementation_answers_with_the_users_declaration_shown():
    declaration = parse_declaration("tip", "Work out a tip.", "bill_total: integer\ntip_percentage: integer",
                                    answered_by="calculate_tip")
    tool = declared_tool(declaration)
    run = execute_tool_call(ToolCall("tip", {"bill_total": 80, "tip_percentage": 15}), {"tip": tool})
    assert run.output == "12.0" and tool.name == "tip"
    with pytest.raises(ConfigError, match="not an example implementation"):
        parse_declaration("f", "d", "", answered_by="os.system")
    with pytest.raises(ConfigError, match="answered by hand"):
        declared_tool(parse_declaration("f", "d", ""))


def test_the_store_round_trips_and_writes_atomically(tmp_path, monkeypatch):
    monkeypatch.setenv("NANOKIT_CONFIG_DIR", str(tmp_path / "cfg"))
    store = DeclarationStore()
    assert store.path == tmp_path / "cfg" / "tools.json" and store.load() == []
    first = parse_declaration("a", "First.", "x: number")
    second = parse_declaration("b", "Second.", "", answered_by="calculator")
    store.save([first, second])
    assert DeclarationStore().load() == [first, second]
    assert [p.name for p in (tmp_path / "cfg").iterdir()] == ["tools.json"]  # no temporary file left behind
    assert first.answered_by == BY_HAND


def test_an_unreadable_store_says_which_file_to_fix(tmp_path):
    path = tmp_path / "tools.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="fix or delete the file"):
        DeclarationStore(path).load()
