"""Arguments coerced to a tool's JSON schema (nanokit.schema): never raising, reporting what stayed text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nanokit.schema import CoercedArguments, coerce_arguments, coerce_value, tool_parameters
from nanokit.tools import Tool

OPTIONAL_INT = {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None}  # Pydantic's Optional[int]


@pytest.mark.parametrize(("value", "schema", "expected"), [
    ("15", {"type": "integer"}, 15),
    ("1e3", {"type": "integer"}, 1000),
    ("-2E+2", {"type": "integer"}, -200),
    ("20.0", {"type": "integer"}, 20),
    ("0.5", {"type": "number"}, 0.5),
    ("10", {"type": "number"}, 10),
    ("3.5", {"type": "float"}, 3.5),
    ("7", {"type": "int"}, 7),
    ("TRUE", {"type": "bool"}, True),
    ("0", {"type": "boolean"}, False),
    ("5", {"type": ["integer", "null"]}, 5),
    ("null", {"type": ["integer", "null"]}, None),
    ("None", {"type": "string", "nullable": True}, None),
    ("null", {"type": "object"}, None),
    ("10", OPTIONAL_INT, 10),
    ("None", OPTIONAL_INT, None),
    ("true", {"oneOf": [{"type": "boolean"}, {"type": "null"}]}, True),
    ("10", {"anyOf": [{"type": "string"}, {"type": "integer"}]}, "10"),
    ("10", {"anyOf": [{"type": "boolean"}, {"type": "integer"}]}, 10),
    ("null", {"type": "string"}, "null"),
    ("{'a': (1, 2), 'b': None}", {"type": "dict"}, {"a": [1, 2], "b": None}),
    ("[True, False]", {"type": "array", "items": {"type": "boolean"}}, [True, False]),
    ('["1", "2"]', {"type": "array", "items": {"type": "integer"}}, [1, 2]),
    ("2", {"enum": [1, 2, 3]}, 2),
    ("true", {"const": True}, True),
    (42, {"type": "string"}, "42"),
    ({"a": 1}, {"type": "string"}, '{"a": 1}'),
    ("no schema here", {}, "no schema here"),
])
def test_values_take_the_type_the_schema_asks_for(value, schema, expected):
    coerced, problem = coerce_value(value, schema)
    assert problem is None
    assert coerced == expected and type(coerced) is type(expected)


@pytest.mark.parametrize(("value", "schema", "problem"), [
    ("lots", {"type": "integer"}, "should be an integer"),
    ("2.5", {"type": "integer"}, "should be an integer"),
    ("1e999999999", {"type": "number"}, "should be a number"),
    ("nan", {"type": "number"}, "should be a number"),
    ("maybe", OPTIONAL_INT, "should be an integer or null"),
    ("Paris", {"type": "array"}, "should be a JSON array"),
    ("{1, 2}", {"type": "array"}, "should be a JSON array"),  # a Python set is no JSON value
    ("[NaN]", {"type": "array"}, "should be a JSON array"),
    ("__import__('os')", {"type": "object"}, "should be a JSON object"),  # literal_eval runs nothing
    ("4", {"enum": [1, 2, 3]}, "should be one of 1, 2, 3"),
    ("true", {"enum": [1, 0]}, "should be one of 1, 0"),  # True == 1 in Python, not in JSON
    ('[1, "x"]', {"type": "array", "items": {"type": "integer"}}, "has an item that should be an integer"),
    ('{"depth": "deep"}', {"type": "object", "properties": {"depth": {"type": "integer"}}},
     "has a property 'depth' that should be an integer"),
])
def test_a_value_that_cannot_be_coerced_stays_as_it_came(value, schema, problem):
    assert coerce_value(value, schema) == (value, problem)


def test_refs_into_defs_are_followed_from_the_root():
    parameters = {"type": "object", "properties": {"owner": {"$ref": "#/$defs/Person"}},
                  "$defs": {"Person": {"type": "object", "properties": {"age": {"type": "integer"}}}}}
    assert coerce_arguments({"owner": '{"age": "36"}'}, parameters).values == {"owner": {"age": 36}}


def test_arguments_report_unknown_missing_and_wrong_in_one_sentence_each():
    parameters = {"type": "object", "required": ["city", "days"],
                  "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}}
    assert coerce_arguments({" city ": "Oslo", "days": "x", "extra": 1}, parameters) == CoercedArguments(
        {"city": "Oslo", "days": "x", "extra": 1},
        ("Argument 'days' should be an integer; got 'x'.", "Argument 'extra' is not a parameter of this tool."))
    assert coerce_arguments({}, parameters).problems == (
        "Argument 'city' is required but missing.", "Argument 'days' is required but missing.")
    assert coerce_arguments({"a": "1"}, None) == CoercedArguments({"a": "1"})


def test_parameters_are_found_in_every_shape_of_tool_entry():
    declared = Tool(print, {"type": "function", "function": {"name": "c", "parameters": {"type": "object"}}})
    tools = [{"type": "function", "function": {"name": "a", "parameters": {"type": "object", "properties": {}}}},
             {"type": "function", "name": "b", "parameters": {"type": "object"}},  # Responses API
             declared, {"type": "function", "function": {"name": "d"}}, {"no": "name"}, "junk"]
    assert tool_parameters(tools) == {"a": {"type": "object", "properties": {}}, "b": {"type": "object"},
                                      "c": {"type": "object"}, "d": {}}
    assert tool_parameters(None) == {}


SCHEMAS = st.recursive(
    st.fixed_dictionaries({}, optional={
        "type": st.one_of(st.sampled_from(["integer", "number", "string", "boolean", "array", "object", "null",
                                           "float", "junk", 5]),
                          st.lists(st.sampled_from(["integer", "null", "string"]), max_size=3)),
        "enum": st.lists(st.one_of(st.integers(), st.text(max_size=3), st.none()), max_size=3),
        "nullable": st.booleans(), "$ref": st.sampled_from(["#/$defs/X", "#/nowhere", "#"])}),
    lambda inner: st.one_of(
        st.fixed_dictionaries({"anyOf": st.lists(inner, max_size=3)}),
        st.fixed_dictionaries({"type": st.just("array"), "items": inner}),
        st.fixed_dictionaries({"type": st.just("object"), "properties": st.dictionaries(st.text(max_size=2), inner,
                                                                                         max_size=2)})),
    max_leaves=6)
VALUES = st.one_of(st.text(max_size=20), st.sampled_from(["1e3", "null", "None", "[1, 2]", "{'a': [1]}", "True",
                                                          "[[[[" * 30, "(" * 200]),
                   st.integers(), st.floats(), st.booleans(), st.none(), st.lists(st.text(max_size=3), max_size=3))


@settings(max_examples=400, deadline=None)
@given(value=VALUES, schema=SCHEMAS)
def test_coercion_never_raises_and_a_refusal_keeps_the_value(value, schema):
    coerced, problem = coerce_value(value, schema)
    if problem is not None:
        assert coerced is value and isinstance(problem, str) and problem


def test_parsing_still_offers_the_coercion_it_used_to_hold():
    import nanokit.parsing

    assert nanokit.parsing.coerce_arguments is coerce_arguments
    assert nanokit.parsing.CoercedArguments is CoercedArguments
