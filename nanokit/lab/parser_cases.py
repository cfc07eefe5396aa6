"""The parser cases: model outputs with the split nanokit gives them, shared by tests and the matrix.

Each case is a completion as Nemotron could write it (after the `<think>\\n` the generation prompt
opens), the tools of its request, and the expected reasoning, answer and tool calls. The tests check
nanokit against every case, whole and streamed at every chunk boundary; `parser_conformance` runs
the same cases through vLLM's own parsers. `vllm` says, where vLLM 0.32's `nemotron_v3` +
`qwen3_coder` parsers give another answer, what they do instead and why nanokit does not follow.

The ideas come from reading vLLM's `tests/tool_parsers` and `tests/reasoning` and SGLang's
Qwen3-Coder detector tests; the cases themselves are written for Nemotron's template here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def _tool(name: str, properties: dict[str, Any], required: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    parameters = {"type": "object", "properties": properties, "required": list(required), **extra}
    return {"type": "function", "function": {"name": name, "description": f"The {name} tool.",
                                             "parameters": parameters}}


WEATHER = _tool("get_weather", {"city": {"type": "string"},
                                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                                "days": {"type": "integer"}}, ("city",))
WRITE_FILE = _tool("write_file", {"path": {"type": "string"}, "content": {"type": "string"}}, ("path", "content"))
PING = _tool("ping", {})
_OPTIONAL = "anyOf"
TYPED = _tool("typed", {
    "count": {"type": "integer"},
    "ratio": {"type": "number"},
    "flag": {"type": "boolean"},
    "tags": {"type": "array", "items": {"type": "integer"}},
    "options": {"type": "object"},
    "label": {"type": "string"},
    "when": {"type": ["integer", "null"]},
    "limit": {_OPTIONAL: [{"type": "integer"}, {"type": "null"}], "default": None},
    "verbose": {_OPTIONAL: [{"type": "boolean"}, {"type": "null"}], "default": None},
    "note": {_OPTIONAL: [{"type": "string"}, {"type": "null"}], "default": None},
    "either": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
    "level": {"type": "float"},
    "size": {"type": "int"},
    "on": {"type": "bool"},
    "meta": {"type": "dict"},
    "items": {"type": "list"},
    "mode": {"enum": [1, 2, 3]},
    "maybe": {"type": "integer", "nullable": True},
    "config": {"type": "object", "properties": {"depth": {"type": "integer"}, "fast": {"type": "boolean"}}},
    "owner": {"$ref": "#/$defs/Person"},
}, **{"$defs": {"Person": {"type": "object", "properties": {"name": {"type": "string"},
                                                             "age": {"type": "integer"}}}}})
TOOLS = [WEATHER, WRITE_FILE, PING, TYPED]


@dataclass(frozen=True)
class ParserCase:
    id: str
    kind: str  # the class of input, as the conformance table groups them
    text: str
    reasoning: str = ""
    content: str = ""
    calls: tuple[tuple[str, dict[str, Any]], ...] = ()
    thinking: bool = True
    vllm: str = ""  # where vLLM differs: what it does and why nanokit does not
    tools: list[dict[str, Any]] = field(default_factory=lambda: TOOLS, compare=False, repr=False)


def call(name: str, body: str = "") -> str:
    """A call as the template writes it; `body` holds the parameter lines."""
    return f"<tool_call>\n<function={name}>\n{body}</function>\n</tool_call>"


def param(name: str, value: str) -> str:
    return f"<parameter={name}>\n{value}\n</parameter>\n"


def typed(name: str, value: str) -> str:
    """A one-argument call of the `typed` tool, after a short reasoning."""
    return f"Use typed.\n</think>\n\n{call('typed', param(name, value))}"


PARIS = call("get_weather", param("city", "Paris"))
OSLO_F = call("get_weather", param("city", "Oslo") + param("unit", "fahrenheit"))

_REASONING = [
    ParserCase("answer", "reasoning split", "The user greets me.\nI greet back.\n</think>\n\nHello there!",
               "The user greets me.\nI greet back.", "Hello there!"),
    ParserCase("reasoning-cut-off", "reasoning split", "Still thinking when the budget ran out",
               "Still thinking when the budget ran out"),
    ParserCase("explicit-think-open", "reasoning split", "<think>\nI open it myself.\n</think>\nFine.",
               "I open it myself.", "Fine."),
    ParserCase("empty-output", "reasoning split", ""),
    ParserCase("empty-reasoning", "reasoning split", "\n</think>\n\nDirect.", "", "Direct."),
    ParserCase("stray-think-end-in-answer", "reasoning split", "Plan.\n</think>\nOne </think>two.",
               "Plan.", "One two."),
    ParserCase("turn-end-marker", "reasoning split", "Short.\n</think>\nDone.<|im_end|>", "Short.", "Done."),
    ParserCase("thinking-off", "thinking off", "Just the answer.", content="Just the answer.", thinking=False),
    ParserCase("thinking-off-empty-tags", "thinking off", "<think></think>The answer.",
               content="The answer.", thinking=False,
               vllm="Drops the `</think>` but keeps `<think>` in the answer; think tags are never answer text."),
    ParserCase("thinking-off-stray-end", "thinking off", "</think>\n\nAnswer anyway.",
               content="Answer anyway.", thinking=False),
]

_CALLS = [
    ParserCase("single-call", "tool calls", f"Need weather.\n</think>\n\n{PARIS}", "Need weather.",
               calls=(("get_weather", {"city": "Paris"}),)),
    ParserCase("content-before-call", "tool calls", f"Plan.\n</think>\n\nLet me check.\n{PARIS}", "Plan.",
               "Let me check.", (("get_weather", {"city": "Paris"}),)),
    ParserCase("text-after-last-call", "tool calls", f"Plan.\n</think>\n\n{PARIS}\nI will wait for it.",
               "Plan.", "I will wait for it.", (("get_weather", {"city": "Paris"}),),
               vllm="The whole-text parse drops text after the last call (streaming keeps it); nanokit "
                    "keeps it in both, as the model wrote it."),
    ParserCase("parallel-calls", "parallel calls", f"Two.\n</think>\n\n{PARIS}\n{OSLO_F}", "Two.",
               calls=(("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Oslo", "unit": "fahrenheit"}))),
    ParserCase("text-between-calls", "parallel calls", f"Two.\n</think>\n\n{PARIS}\nand also\n{OSLO_F}", "Two.",
               "and also", (("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Oslo", "unit": "fahrenheit"})),
               vllm="The whole-text parse drops text between calls too (streaming keeps it)."),
    ParserCase("two-functions-one-block", "parallel calls",
               "Two.\n</think>\n\n<tool_call>\n<function=get_weather>\n" + param("city", "Rome")
               + "</function>\n<function=ping>\n</function>\n</tool_call>", "Two.",
               calls=(("get_weather", {"city": "Rome"}), ("ping", {}))),
    ParserCase("no-parameters", "tool calls", f"Ping it.\n</think>\n\n{call('ping')}", "Ping it.",
               calls=(("ping", {}),)),
    ParserCase("multi-line-value", "values", "Write.\n</think>\n\n"
               + call("write_file", param("path", "a.py") + param("content", "def f():\n    return 1")),
               "Write.", calls=(("write_file", {"path": "a.py", "content": "def f():\n    return 1"}),)),
    ParserCase("value-blank-lines-kept", "values", "Write.\n</think>\n\n"
               + call("write_file", param("path", "b.txt") + param("content", "\nmiddle\n")),
               "Write.", calls=(("write_file", {"path": "b.txt", "content": "\nmiddle\n"}),)),
    ParserCase("value-on-tag-line", "values",
               "W.\n</think>\n\n<tool_call>\n<function=get_weather>\n<parameter=city>Lima</parameter>\n"
               "</function>\n</tool_call>", "W.", calls=(("get_weather", {"city": "Lima"}),)),
    ParserCase("bare-function", "tool calls",
               "Bare.\n</think>\n<function=get_weather>\n" + param("city", "Kyiv") + "</function>\nSent.",
               "Bare.", "Sent.", (("get_weather", {"city": "Kyiv"}),),
               vllm='Drops the text after a call written without the <tool_call> wrapper, whole and streamed.'),
    ParserCase("missing-parameter-close", "malformed XML",
               "M.\n</think>\n\n<tool_call>\n<function=get_weather>\n<parameter=city>\nDallas\n"
               "<parameter=unit>\ncelsius\n</parameter>\n</function>\n</tool_call>", "M.",
               calls=(("get_weather", {"city": "Dallas", "unit": "celsius"}),)),
    ParserCase("missing-function-close", "malformed XML",
               "M.\n</think>\n\n<tool_call>\n<function=get_weather>\n" + param("city", "Bern") + "</tool_call>",
               "M.", calls=(("get_weather", {"city": "Bern"}),)),
    ParserCase("missing-tool-call-close", "malformed XML",
               "M.\n</think>\n\n<tool_call>\n<function=get_weather>\n" + param("city", "Cairo")
               + f"</function>\n{PARIS}", "M.",
               calls=(("get_weather", {"city": "Cairo"}), ("get_weather", {"city": "Paris"}))),
    ParserCase("turn-end-after-call", "tool calls", f"P.\n</think>\n\n{PARIS}<|im_end|>", "P.",
               calls=(("get_weather", {"city": "Paris"}),)),
]

_REASONING_AND_CALLS = [
    ParserCase("call-inside-reasoning", "call inside reasoning", f"I should look it up.\n{PARIS}",
               "I should look it up.", calls=(("get_weather", {"city": "Paris"}),)),
    ParserCase("call-inside-reasoning-then-think-end", "call inside reasoning",
               f"Look it up.\n{PARIS}\nWaiting.\n</think>\n\nDone.", "Look it up.", "Waiting.\n\n\nDone.",
               (("get_weather", {"city": "Paris"}),),
               vllm='The whole-text parse drops the text after the call (streaming keeps it).'),
    ParserCase("tool-call-token-in-reasoning-prose", "call inside reasoning",
               "I will answer with a <tool_call> block if needed.\n</think>\n\nNo tool needed: 4.",
               "I will answer with a  block if needed.", "No tool needed: 4.",
               vllm="Takes the <tool_call> as the start of a call and swallows the rest of the output, answer "
                    "included; no function follows it, so nanokit reads it as the text it is."),
    ParserCase("empty-tool-call-block", "tool calls", "E.\n</think>\n\n<tool_call>\n</tool_call>\nNo call after all.",
               "E.", "No call after all."),
    ParserCase("thinking-off-call", "thinking off", f"Checking.\n{PARIS}", content="Checking.",
               calls=(("get_weather", {"city": "Paris"}),), thinking=False),
]

_NAMES = [
    ParserCase("unknown-tool", "names", "U.\n</think>\n\n" + call("get_time", param("zone", "UTC")), "U.",
               calls=(("get_time", {"zone": "UTC"}),)),
    ParserCase("unknown-parameter", "names", "U.\n</think>\n\n" + call("get_weather", param("city", "Oslo")
               + param("country", "NO")), "U.", calls=(("get_weather", {"city": "Oslo", "country": "NO"}),)),
    ParserCase("parameter-name-spaces", "names",
               "S.\n</think>\n\n<tool_call>\n<function=get_weather>\n<parameter= city >\nOslo\n</parameter>\n"
               "</function>\n</tool_call>", "S.", calls=(("get_weather", {"city": "Oslo"}),),
               vllm="Keeps the trailing space of the parameter name ('city '), which no tool declares."),
    ParserCase("function-name-spaces", "names",
               "S.\n</think>\n\n<tool_call>\n<function= get_weather >\n" + param("city", "Oslo")
               + "</function>\n</tool_call>", "S.", calls=(("get_weather", {"city": "Oslo"}),),
               vllm="The stream sends the name with its spaces (' get_weather '); the whole-text parse strips them."),
    ParserCase("truncated-function-name", "truncation", "T.\n</think>\n\n<tool_call>\n<function=get_wea", "T.",
               vllm="Reports a call named 'get_wea'; an unfinished name is no call."),
    ParserCase("truncated-parameter-name", "truncation",
               "T.\n</think>\n\n<tool_call>\n<function=get_weather>\n<parameter=ci", "T.",
               calls=(("get_weather", {}),)),
]

_TRUNCATION = [
    ParserCase("truncated-value", "truncation",
               "T.\n</think>\n\n<tool_call>\n<function=get_weather>\n<parameter=city>\nSan Fra", "T.",
               calls=(("get_weather", {"city": "San Fra"}),),
               vllm='The whole-text parse drops the unfinished argument; the stream leaves the arguments as unterminated JSON. nanokit keeps what was written (the finish reason tells the cut).'),
    ParserCase("truncated-parameter-close", "truncation",
               "T.\n</think>\n\n<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter", "T.",
               calls=(("get_weather", {"city": "Paris"}),),
               vllm="The whole-text parse drops the argument; the stream keeps the half-written '</parameter' inside an unterminated JSON string."),
    ParserCase("truncated-function-close", "truncation",
               "T.\n</think>\n\n<tool_call>\n<function=get_weather>\n" + param("city", "Paris") + "</func", "T.",
               calls=(("get_weather", {"city": "Paris"}),)),
    ParserCase("truncated-in-value-close", "truncation",
               "T.\n</think>\n\n<tool_call>\n<function=write_file>\n<parameter=path>\nx.txt\n</", "T.",
               calls=(("write_file", {"path": "x.txt"}),),
               vllm="The whole-text parse drops the argument; the stream keeps the '</' inside an unterminated JSON string."),
    ParserCase("truncated-tool-call-close", "truncation", f"T.\n</think>\n\n{PARIS[:-4]}", "T.",
               calls=(("get_weather", {"city": "Paris"}),)),
]

_MARKERS_IN_VALUES = [
    ParserCase("tool-call-end-in-value", "close markers in values", "W.\n</think>\n\n" + call(
        "write_file", param("path", "doc.md") + param("content", "Calls end with </tool_call> in Nemotron.")),
        "W.", calls=(("write_file", {"path": "doc.md", "content": "Calls end with </tool_call> in Nemotron."}),)),
    ParserCase("parameter-end-in-value", "close markers in values", "W.\n</think>\n\n" + call(
        "write_file", param("path", "x.xml") + param("content", "Use <parameter=a>1</parameter> and more")),
        "W.", calls=(("write_file", {"path": "x.xml", "content": "Use <parameter=a>1</parameter> and more"}),),
               vllm="Ends a value at any <parameter=, so a value quoting the markup becomes a made-up argument 'a'."),
    ParserCase("function-end-in-value", "close markers in values", "W.\n</think>\n\n" + call(
        "write_file", param("path", "n.txt") + param("content", "a </function> b")),
        "W.", calls=(("write_file", {"path": "n.txt", "content": "a </function> b"}),),
               vllm='Ends the call at the first </function>, even inside a value: the value is lost (the stream leaves unterminated JSON).'),
    ParserCase("unicode-value", "values", "U.\n</think>\n\n" + call("get_weather", param("city", "Zürich 東京 🌧")),
               "U.", calls=(("get_weather", {"city": "Zürich 東京 🌧"}),)),
    ParserCase("quotes-and-backslashes", "values", "W.\n</think>\n\n" + call(
        "write_file", param("path", "C:\\tmp\\a.txt") + param("content", 'say "hi"\\n')),
        "W.", calls=(("write_file", {"path": "C:\\tmp\\a.txt", "content": 'say "hi"\\n'}),)),
    ParserCase("empty-value", "values", typed("label", ""), "Use typed.", calls=(("typed", {"label": ""}),)),
    ParserCase("html-in-value", "values", "W.\n</think>\n\n" + call(
        "write_file", param("path", "i.html") + param("content", "<div>\n<p>hi</p>\n</div>")),
        "W.", calls=(("write_file", {"path": "i.html", "content": "<div>\n<p>hi</p>\n</div>"}),)),
]

_COERCION = [
    ParserCase("integer", "schema: basic types", typed("count", "42"), "Use typed.", calls=(("typed", {"count": 42}),)),
    ParserCase("number", "schema: basic types", typed("ratio", "0.25"), "Use typed.", calls=(("typed", {"ratio": 0.25}),)),
    ParserCase("boolean-python", "schema: basic types", typed("flag", "True"), "Use typed.",
               calls=(("typed", {"flag": True}),)),
    ParserCase("string-of-digits", "schema: basic types", typed("label", "007"), "Use typed.",
               calls=(("typed", {"label": "007"}),)),
    ParserCase("array-of-integers", "schema: arrays and objects", typed("tags", '[1, "2", 3]'), "Use typed.",
               calls=(("typed", {"tags": [1, 2, 3]}),),
               vllm="Leaves array items as they came ('2'); nanokit coerces items by the items schema."),
    ParserCase("object-json", "schema: arrays and objects", typed("options", '{"a": 1}'), "Use typed.",
               calls=(("typed", {"options": {"a": 1}}),)),
    ParserCase("object-python-literal", "Python literals", typed("options", "{'a': 1, 'b': True}"), "Use typed.",
               calls=(("typed", {"options": {"a": 1, "b": True}}),),
               vllm='Does not read Python literals; the value stays a string.'),
    ParserCase("array-python-literal", "Python literals", typed("items", "['x', 'y']"), "Use typed.",
               calls=(("typed", {"items": ["x", "y"]}),),
               vllm='Does not read Python literals; the value stays a string.'),
    ParserCase("none-for-object", "Python literals", typed("options", "None"), "Use typed.",
               calls=(("typed", {"options": None}),),
               vllm="Keeps the text 'None' (Python's null, as the template renders it) as a string."),
    ParserCase("nested-properties", "schema: arrays and objects", typed("config", '{"depth": "3", "fast": "false"}'),
               "Use typed.", calls=(("typed", {"config": {"depth": 3, "fast": False}}),),
               vllm='Does not coerce properties inside an object.'),
    ParserCase("ref-to-defs", "schema: arrays and objects", typed("owner", '{"name": "Ada", "age": "36"}'),
               "Use typed.", calls=(("typed", {"owner": {"name": "Ada", "age": 36}}),),
               vllm="Does not follow $ref into $defs (Pydantic's nested models): the object stays a string."),
    ParserCase("type-list", "schema: type as a list", typed("when", "5"), "Use typed.", calls=(("typed", {"when": 5}),)),
    ParserCase("type-list-null", "schema: type as a list", typed("when", "null"), "Use typed.",
               calls=(("typed", {"when": None}),)),
    ParserCase("anyof-integer", "schema: anyOf/oneOf", typed("limit", "10"), "Use typed.",
               calls=(("typed", {"limit": 10}),)),
    ParserCase("anyof-boolean", "schema: anyOf/oneOf", typed("verbose", "true"), "Use typed.",
               calls=(("typed", {"verbose": True}),)),
    ParserCase("anyof-null", "schema: anyOf/oneOf", typed("limit", "null"), "Use typed.",
               calls=(("typed", {"limit": None}),)),
    ParserCase("anyof-python-none", "schema: anyOf/oneOf", typed("note", "None"), "Use typed.",
               calls=(("typed", {"note": None}),),
               vllm="Keeps 'None' as text for Optional[str]; the template renders a null argument as None, so nanokit reads it as null."),
    ParserCase("oneof-string-first", "schema: anyOf/oneOf", typed("either", "10"), "Use typed.",
               calls=(("typed", {"either": "10"}),),
               vllm="Makes 10 an integer; the text already is a string the schema allows, so nanokit keeps it (Pydantic's smart-union rule)."),
    ParserCase("nullable-openapi", "schema: nullable", typed("maybe", "null"), "Use typed.",
               calls=(("typed", {"maybe": None}),)),
    ParserCase("integer-null", "schema: nullable", typed("count", "null"), "Use typed.",
               calls=(("typed", {"count": None}),)),
    ParserCase("alias-float", "schema: type names", typed("level", "3.5"), "Use typed.",
               calls=(("typed", {"level": 3.5}),)),
    ParserCase("alias-int", "schema: type names", typed("size", "7"), "Use typed.", calls=(("typed", {"size": 7}),)),
    ParserCase("alias-bool", "schema: type names", typed("on", "false"), "Use typed.",
               calls=(("typed", {"on": False}),)),
    ParserCase("alias-dict", "schema: type names", typed("meta", '{"k": "v"}'), "Use typed.",
               calls=(("typed", {"meta": {"k": "v"}}),)),
    ParserCase("alias-list", "schema: type names", typed("items", "[1, 2]"), "Use typed.",
               calls=(("typed", {"items": [1, 2]}),)),
    ParserCase("integer-exponent", "schema: numbers", typed("count", "1e3"), "Use typed.",
               calls=(("typed", {"count": 1000}),)),
    ParserCase("integer-trailing-zero", "schema: numbers", typed("count", "20.0"), "Use typed.",
               calls=(("typed", {"count": 20}),)),
    ParserCase("number-exponent", "schema: numbers", typed("ratio", "1.5e2"), "Use typed.",
               calls=(("typed", {"ratio": 150.0}),)),
    ParserCase("big-integer", "schema: numbers", typed("count", "12345678901234567890"), "Use typed.",
               calls=(("typed", {"count": 12345678901234567890}),)),
    ParserCase("enum-of-integers", "schema: enums", typed("mode", "2"), "Use typed.", calls=(("typed", {"mode": 2}),)),
    ParserCase("enum-outside", "schema: enums", "E.\n</think>\n\n" + call("get_weather", param("city", "Oslo")
               + param("unit", "kelvin")), "E.", calls=(("get_weather", {"city": "Oslo", "unit": "kelvin"}),)),
    ParserCase("not-an-integer", "schema: basic types", typed("count", "lots"), "Use typed.",
               calls=(("typed", {"count": "lots"}),)),
    ParserCase("fraction-for-integer", "schema: numbers", typed("count", "2.5"), "Use typed.",
               calls=(("typed", {"count": "2.5"}),),
               vllm='Passes 2.5 for an integer parameter; nanokit keeps the text and reports it.'),
]

CASES: tuple[ParserCase, ...] = (*_REASONING, *_CALLS, *_REASONING_AND_CALLS, *_NAMES, *_TRUNCATION,
                                 *_MARKERS_IN_VALUES, *_COERCION)
