"""The embedded model's chat template renders conversations as Nemotron-3-Nano's released template does.

Expected strings are written out by hand from the released template's rules (the module docstring of
nanokit/tiny/chat_template.jinja lists them); the tool-instruction prose is ours and shorter.
Rendering goes through transformers' apply_chat_template on the built checkpoint's tokenizer, which is
what vLLM calls.
"""

from __future__ import annotations

import json

import httpx
import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nanokit import tiny

SYSTEM_EMPTY = "<|im_start|>system\n<|im_end|>\n"
TOOLS_HEAD = "# Tools\n\nYou can call these functions:\n\n<tools>"
TOOLS_TAIL = (
    "\n</tools>\n\nTo call a function, reply with only this, once per call:\n\n<tool_call>\n<function=NAME>\n"
    "<parameter=ARGUMENT>\nVALUE\n</parameter>\n</function>\n</tool_call>\n\n<IMPORTANT>\nReminder: "
    "give every required parameter; reason before a call, never after it; if no function fits, "
    "answer normally.\n</IMPORTANT>"
)


def call(city: str, **more) -> dict:
    return {"id": f"call_{city}", "type": "function",
            "function": {"name": "get_weather", "arguments": {"city": city, **more}}}


def weather_xml(city: str) -> str:
    return f"<tool_call>\n<function=get_weather>\n<parameter=city>\n{city}\n</parameter>\n</function>\n</tool_call>\n"


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny.build(tmp_path_factory.mktemp("t") / "m", trained=False,
                                                    progress=False))


@pytest.fixture(scope="module")
def render(tokenizer):
    def _render(messages, **kwargs):
        kwargs.setdefault("add_generation_prompt", True)
        return tokenizer.apply_chat_template(messages, tokenize=False, **kwargs)

    return _render


# --- prompts and the system turn -------------------------------------------------------------------------

def test_a_user_turn_alone_gets_an_empty_system_turn_and_the_thinking_prompt(render):
    assert render([{"role": "user", "content": "Hi"}]) == (
        "<|im_start|>system\n<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n")


def test_thinking_off_prompt_is_a_closed_empty_think_block(render):
    assert render([{"role": "user", "content": "Hi"}], enable_thinking=False) == (
        "<|im_start|>system\n<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think></think>")


def test_without_generation_prompt_the_render_ends_after_the_last_turn(render):
    assert render([{"role": "user", "content": "Hi"}], add_generation_prompt=False) == (
        "<|im_start|>system\n<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n")


def test_a_system_message_without_tools_is_the_system_turn(render):
    assert render([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]) == (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n")


WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather",
    "description": "  Current weather for a city.\n",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": " City name "},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"},
            "days": {"type": ["integer", "null"], "minimum": 1, "exclusive": False},
            "where": {"type": "object", "description": "Coordinates",
                      "properties": {"lat": {"type": "number"}}, "required": ["lat"]},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}}


def test_tools_follow_the_system_text_after_a_blank_line(render):
    text = render([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather?"}],
                  tools=[WEATHER_TOOL, {"name": "ping"}])
    assert text == (
        "<|im_start|>system\nBe brief.\n\n" + TOOLS_HEAD
        + "\n<function>\n<name>get_weather</name>\n<description>Current weather for a city.</description>"
        "\n<parameters>"
        "\n<parameter>\n<name>city</name>\n<type>string</type>\n<description>City name</description>\n</parameter>"
        '\n<parameter>\n<name>unit</name>\n<type>string</type>\n<enum>["celsius", "fahrenheit"]</enum>'
        "\n<default>celsius</default>\n</parameter>"
        "\n<parameter>\n<name>days</name>\n<type>['integer', 'null']</type>\n<minimum>1</minimum>"
        "\n<exclusive>False</exclusive>\n</parameter>"
        "\n<parameter>\n<name>where</name>\n<type>object</type>\n<description>Coordinates</description>"
        '\n<properties>{"lat": {"type": "number"}}</properties>\n<required>["lat"]</required>\n</parameter>'
        '\n<parameter>\n<name>tags</name>\n<type>array</type>\n<items>{"type": "string"}</items>\n</parameter>'
        '\n<additionalProperties>False</additionalProperties>\n<required>["city"]</required>\n</parameters>'
        "\n<strict>True</strict>\n</function>"
        "\n<function>\n<name>ping</name>\n<parameters>\n</parameters>\n</function>"
        + TOOLS_TAIL + "<|im_end|>\n<|im_start|>user\nWeather?<|im_end|>\n<|im_start|>assistant\n<think>\n"
    )


def test_tools_without_a_system_message_open_the_system_turn_directly(render):
    tool = {"type": "function", "function": {"name": "add", "description": "Add.", "parameters": {
        "type": "object", "properties": {"a": {"type": "integer"}}}}}
    assert render([{"role": "user", "content": "1+1?"}], tools=[tool]) == (
        "<|im_start|>system\n" + TOOLS_HEAD
        + "\n<function>\n<name>add</name>\n<description>Add.</description>\n<parameters>"
        "\n<parameter>\n<name>a</name>\n<type>integer</type>\n</parameter>\n</parameters>\n</function>"
        + TOOLS_TAIL + "<|im_end|>\n<|im_start|>user\n1+1?<|im_end|>\n<|im_start|>assistant\n<think>\n"
    )


# --- assistant turns and reasoning -----------------------------------------------------------------------

GREETING = [
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "reasoning_content": "They greet me.", "content": "Hello!"},
    {"role": "user", "content": "I am Ada"},
    {"role": "assistant", "content": "Nice to meet you, Ada."},
    {"role": "user", "content": "Name?"},
]


def test_earlier_turns_keep_only_their_answer(render):
    # The dropped reasoning leaves the "\n" that followed its </think>; a turn that never had any has none.
    assert render(GREETING) == (
        SYSTEM_EMPTY + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think></think>\nHello!<|im_end|>\n"
        "<|im_start|>user\nI am Ada<|im_end|>\n<|im_start|>assistant\n<think></think>Nice to meet you, Ada.<|im_end|>\n"
        "<|im_start|>user\nName?<|im_end|>\n<|im_start|>assistant\n<think>\n"
    )


def test_truncate_history_thinking_false_keeps_earlier_reasoning(render):
    assert render(GREETING, truncate_history_thinking=False) == (
        SYSTEM_EMPTY + "<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\n<think>\nThey greet me.\n</think>\nHello!<|im_end|>\n"
        "<|im_start|>user\nI am Ada<|im_end|>\n<|im_start|>assistant\n<think></think>Nice to meet you, Ada.<|im_end|>\n"
        "<|im_start|>user\nName?<|im_end|>\n<|im_start|>assistant\n<think>\n"
    )


def test_thinking_off_changes_only_the_generation_prompt(render):
    assert render(GREETING, enable_thinking=False) == render(GREETING)[:-len("<think>\n")] + "<think></think>"


@pytest.mark.parametrize(("field", "expected"), [
    ("reasoning_content", "<think>\nplan\n</think>\nHello!"),
    # vLLM copies `reasoning` into `reasoning_content`; transformers alone does not, and the template
    # reads only `reasoning_content`.
    ("reasoning", "<think></think>Hello!"),
])
def test_only_reasoning_content_is_read(render, field, expected):
    text = render([{"role": "user", "content": "Hi"}, {"role": "assistant", field: "plan", "content": "Hello!"}],
                  add_generation_prompt=False)
    assert text == SYSTEM_EMPTY + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n" + expected + "<|im_end|>\n"


@pytest.mark.parametrize("reasoning", ["", "  \n"])
def test_blank_reasoning_counts_as_none(render, reasoning):
    text = render([{"role": "user", "content": "Hi"},
                   {"role": "assistant", "reasoning_content": reasoning, "content": "Hello!"}], add_generation_prompt=False)
    assert text.endswith("<|im_start|>assistant\n<think></think>Hello!<|im_end|>\n")


def test_think_tags_already_in_content_are_kept_now_and_cut_later(render):
    turn = {"role": "assistant", "content": "<think>\nplan\n</think>\nHello! "}
    now = render([{"role": "user", "content": "Hi"}, turn], add_generation_prompt=False)
    assert now == SYSTEM_EMPTY + ("<|im_start|>user\nHi<|im_end|>\n"
                                  "<|im_start|>assistant\n<think>\nplan\n</think>\nHello!<|im_end|>\n")
    later = render([{"role": "user", "content": "Hi"}, turn, {"role": "user", "content": "Bye"}])
    assert later == SYSTEM_EMPTY + ("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think></think>\nHello!"
                                    "<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n<think>\n")


def test_an_empty_answer_is_an_empty_think_block(render):
    text = render([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": None}], add_generation_prompt=False)
    assert text.endswith("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think></think><|im_end|>\n")


# --- tool calls and results ------------------------------------------------------------------------------

def test_a_tool_loop_after_the_last_user_message_keeps_all_its_reasoning(render):
    text = render([
        {"role": "system", "content": "Use tools."},
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "reasoning_content": "I need the weather tool.", "content": "", "tool_calls": [call("Paris")]},
        {"role": "tool", "tool_call_id": "call_Paris", "content": "18 C, sunny"},
        {"role": "assistant", "reasoning_content": "The tool answered.", "content": "It is 18 C and sunny in Paris."},
    ], add_generation_prompt=False)
    assert text == (
        "<|im_start|>system\nUse tools.<|im_end|>\n<|im_start|>user\nWeather in Paris?<|im_end|>\n"
        "<|im_start|>assistant\n<think>\nI need the weather tool.\n</think>\n" + weather_xml("Paris") + "<|im_end|>\n"
        "<|im_start|>user\n<tool_response>\n18 C, sunny\n</tool_response>\n<|im_end|>\n"
        "<|im_start|>assistant\n<think>\nThe tool answered.\n</think>\nIt is 18 C and sunny in Paris.<|im_end|>\n"
    )


def test_parallel_calls_and_consecutive_results_each_share_one_turn(render):
    text = render([
        {"role": "user", "content": "Paris and Rome?"},
        {"role": "assistant", "content": "Checking both.", "tool_calls": [call("Paris"), call("Rome")]},
        {"role": "tool", "tool_call_id": "call_Paris", "content": "18"},
        {"role": "tool", "tool_call_id": "call_Rome", "content": "25"},
    ], enable_thinking=False)
    assert text == SYSTEM_EMPTY + (
        "<|im_start|>user\nParis and Rome?<|im_end|>\n"
        "<|im_start|>assistant\n<think></think>Checking both.\n" + weather_xml("Paris") + weather_xml("Rome")
        + "<|im_end|>\n<|im_start|>user\n<tool_response>\n18\n</tool_response>\n<tool_response>\n25\n</tool_response>\n"
        "<|im_end|>\n<|im_start|>assistant\n<think></think>"
    )


def test_a_call_without_text_or_reasoning_has_a_newline_after_the_think_block(render):
    text = render([{"role": "user", "content": "Paris?"}, {"role": "assistant", "content": None, "tool_calls": [call("Paris")]}],
                  add_generation_prompt=False)
    assert text.endswith("<|im_start|>assistant\n<think></think>\n" + weather_xml("Paris") + "<|im_end|>\n")


def test_a_new_user_message_truncates_the_earlier_trajectory_and_keeps_the_current_one(render):
    text = render([
        {"role": "user", "content": "Paris?"},
        {"role": "assistant", "reasoning_content": "Need weather.", "content": "Let me check.", "tool_calls": [call("Paris")]},
        {"role": "tool", "tool_call_id": "call_Paris", "content": "18"},
        {"role": "assistant", "reasoning_content": "Answer it.", "content": "18 C."},
        {"role": "user", "content": "And Rome?"},
        {"role": "assistant", "reasoning_content": "Again the tool.", "content": "Checking Rome.", "tool_calls": [call("Rome")]},
        {"role": "tool", "tool_call_id": "call_Rome", "content": "25"},
    ])
    assert text == SYSTEM_EMPTY + (
        "<|im_start|>user\nParis?<|im_end|>\n"
        # a truncated turn with calls trims what followed </think>; one without calls keeps its "\n"
        "<|im_start|>assistant\n<think></think>Let me check.\n" + weather_xml("Paris") + "<|im_end|>\n"
        "<|im_start|>user\n<tool_response>\n18\n</tool_response>\n<|im_end|>\n"
        "<|im_start|>assistant\n<think></think>\n18 C.<|im_end|>\n"
        "<|im_start|>user\nAnd Rome?<|im_end|>\n"
        "<|im_start|>assistant\n<think>\nAgain the tool.\n</think>\nChecking Rome.\n" + weather_xml("Rome") + "<|im_end|>\n"
        "<|im_start|>user\n<tool_response>\n25\n</tool_response>\n<|im_end|>\n<|im_start|>assistant\n<think>\n"
    )


def test_a_truncated_call_without_text_keeps_a_bare_think_block(render):
    text = render([
        {"role": "user", "content": "Paris?"},
        {"role": "assistant", "reasoning_content": "Need weather.", "content": "", "tool_calls": [call("Paris")]},
        {"role": "tool", "content": "18"},
        {"role": "user", "content": "Thanks"},
    ])
    assert "<|im_start|>assistant\n<think></think>\n" + weather_xml("Paris") + "<|im_end|>\n" in text


def test_argument_values_are_json_for_objects_and_lists_and_str_otherwise(render):
    arguments = {"text": "two\nlines", "count": 3, "ratio": 0.5, "big": 1e20, "flag": True, "off": False,
                 "nothing": None, "tags": ["a", "é"], "where": {"lat": 48.8, "ok": True, "n": None}}
    text = render([{"role": "user", "content": "Go"}, {"role": "assistant", "content": "", "tool_calls": [
        {"type": "function", "function": {"name": "f", "arguments": arguments}}]}], add_generation_prompt=False)
    assert text.endswith(
        "<|im_start|>assistant\n<think></think>\n<tool_call>\n<function=f>\n"
        "<parameter=text>\ntwo\nlines\n</parameter>\n<parameter=count>\n3\n</parameter>\n"
        "<parameter=ratio>\n0.5\n</parameter>\n<parameter=big>\n1e+20\n</parameter>\n"
        "<parameter=flag>\nTrue\n</parameter>\n<parameter=off>\nFalse\n</parameter>\n"
        "<parameter=nothing>\nNone\n</parameter>\n"
        '<parameter=tags>\n["a", "é"]\n</parameter>\n'
        '<parameter=where>\n{"lat": 48.8, "ok": true, "n": null}\n</parameter>\n'
        "</function>\n</tool_call>\n<|im_end|>\n"
    )


def test_a_call_given_without_the_function_wrapper_renders_the_same(render):
    wrapped = render([{"role": "user", "content": "Paris?"}, {"role": "assistant", "tool_calls": [call("Paris")]}])
    bare = render([{"role": "user", "content": "Paris?"},
                   {"role": "assistant", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}])
    assert wrapped == bare


def test_json_string_arguments_stop_the_render_with_a_message(render):
    # vLLM parses the request's JSON string into a mapping before rendering; a direct caller must too.
    messages = [{"role": "user", "content": "Paris?"}, {"role": "assistant", "content": "", "tool_calls": [
        {"type": "function", "function": {"name": "get_weather", "arguments": json.dumps({"city": "Paris"})}}]}]
    with pytest.raises(jinja2.TemplateError, match="must be a mapping; parse the JSON string"):
        render(messages)


def test_tool_results_that_are_not_strings_print_as_python_prints_them(render):
    text = render([{"role": "user", "content": "Go"}, {"role": "assistant", "tool_calls": [call("Paris")]},
                   {"role": "tool", "content": {"temp": 18}}, {"role": "tool", "content": [{"type": "text", "text": "18"}]}],
                  add_generation_prompt=False)
    assert text.endswith("<|im_start|>user\n<tool_response>\n{'temp': 18}\n</tool_response>\n"
                         "<tool_response>\n[{'type': 'text', 'text': '18'}]\n</tool_response>\n<|im_end|>\n")


# --- the generation prompt is a prefix of the conversation with the answer appended -----------------------

WORDS = st.text(alphabet="abc .,\n", min_size=0, max_size=12)
REASONING = st.text(alphabet="abc .\n", min_size=1, max_size=12).filter(str.strip)
ANSWER = WORDS  # never holds think tags: a tagged answer is a different rule
VALUE = st.one_of(st.none(), st.booleans(), st.integers(-9, 99), st.floats(-5, 5, allow_nan=False), WORDS,
                  st.lists(st.integers(0, 9), max_size=2), st.dictionaries(st.sampled_from("xy"), st.integers(0, 9), max_size=2))
ARGUMENTS = st.dictionaries(st.sampled_from(["city", "n", "flag", "opts"]), VALUE, max_size=3)
CALLS = st.lists(st.builds(lambda name, args: {"type": "function", "function": {"name": name, "arguments": args}},
                           st.sampled_from(["get_weather", "add"]), ARGUMENTS), min_size=1, max_size=2)


@st.composite
def histories(draw):
    """Conversations ending anywhere: users, assistants with or without reasoning and calls, tool results."""
    messages = [{"role": "system", "content": draw(WORDS)}] if draw(st.booleans()) else []
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["user", "assistant", "call", "tool"]))
        if kind == "user":
            messages.append({"role": "user", "content": draw(WORDS)})
        elif kind == "tool":
            messages.append({"role": "tool", "content": draw(WORDS)})
        else:
            turn = {"role": "assistant", "content": draw(ANSWER)}
            if draw(st.booleans()):
                turn["reasoning_content"] = draw(REASONING)
            if kind == "call":
                turn["tool_calls"] = draw(CALLS)
            messages.append(turn)
    messages.append({"role": "user", "content": draw(WORDS)})
    messages.extend({"role": "tool", "content": draw(WORDS)} for _ in range(draw(st.integers(0, 2))))
    return messages


def calls_xml(calls) -> str:
    """The rule for calls: JSON for objects and lists, Python str() for everything else."""
    out = ""
    for c in calls:
        out += f"<tool_call>\n<function={c['function']['name']}>\n"
        for key, value in c["function"]["arguments"].items():
            shown = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)
            out += f"<parameter={key}>\n{shown}\n</parameter>\n"
        out += "</function>\n</tool_call>\n"
    return out


def completion(thinking: bool, reasoning: str, answer: str, calls) -> str:
    """The completion formats of the template's docstring."""
    head = (reasoning + "\n</think>\n" + answer).rstrip() if thinking else answer.rstrip()
    if calls:
        head += "\n" + calls_xml(calls)
    return head + "<|im_end|>"


@pytest.mark.parametrize("thinking", [True, False], ids=["thinking_on", "thinking_off"])
@pytest.mark.parametrize("with_calls", [False, True], ids=["answer", "tool_call"])
@settings(max_examples=60, deadline=None)
@given(history=histories(), reasoning=REASONING, answer=ANSWER, calls=CALLS, tools=st.booleans())
def test_the_prompt_plus_the_completion_is_the_render_with_the_turn_appended(
        render, thinking, with_calls, history, reasoning, answer, calls, tools):
    target = {"role": "assistant", "content": answer}
    if thinking:
        target["reasoning_content"] = reasoning
    if with_calls:
        target["tool_calls"] = calls
    kwargs = {"enable_thinking": thinking, "tools": [WEATHER_TOOL] if tools else None}
    prompt = render(history, add_generation_prompt=True, **kwargs)
    full = render(history + [target], add_generation_prompt=False, **kwargs)
    assert full == prompt + completion(thinking, reasoning, answer, calls if with_calls else None) + "\n"


@pytest.mark.parametrize(("thinking", "reasoning"), [(True, None), (True, " "), (False, "plan")])
def test_a_turn_whose_reasoning_does_not_match_the_mode_is_no_completion_of_the_prompt(render, thinking, reasoning):
    # Thinking on needs non-blank reasoning_content; thinking off needs none. Otherwise the turn opens with
    # "<think></think>" after a "<think>\n" prompt, or "<think>\n" after a "<think></think>" prompt.
    history = [{"role": "user", "content": "Hi"}]
    target = {"role": "assistant", "content": "Hello!"}
    if reasoning is not None:
        target["reasoning_content"] = reasoning
    prompt = render(history, enable_thinking=thinking)
    assert not render(history + [target], add_generation_prompt=False).startswith(prompt)


# --- vLLM renders the same (a real server) -----------------------------------------------------------------

def vllm_render(server, tokenizer, **body) -> str:
    """The prompt vLLM builds for a chat request, from its /tokenize endpoint."""
    response = httpx.post(f"{server.root_url}/tokenize", timeout=60,
                          json={"model": server.model_name, "add_generation_prompt": True, **body})
    response.raise_for_status()
    return tokenizer.decode(response.json()["tokens"], skip_special_tokens=False)


@pytest.mark.integration
def test_vllm_renders_a_tool_loop_as_written(server, tokenizer):
    """What vLLM hands the model: `reasoning` copied to `reasoning_content`, JSON arguments parsed, and
    a tool given without a description rendered with <description>None</description>, as the released
    template does under vLLM (its request model fills description with None)."""
    tools = [
        {"type": "function", "function": {"name": "get_weather", "description": "Weather now.", "parameters": {
            "type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city"]}}},
        {"type": "function", "function": {"name": "ping"}},
    ]
    messages = [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "", "reasoning": "I need the weather tool.", "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city": "Paris", "days": 2}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "18 C, sunny"},
        {"role": "assistant", "content": "Now Rome.", "tool_calls": [
            {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'}}]},
        {"role": "tool", "tool_call_id": "call_2", "content": "25 C"},
    ]
    assert vllm_render(server, tokenizer, messages=messages, tools=tools) == (
        "<|im_start|>system\n" + TOOLS_HEAD
        + "\n<function>\n<name>get_weather</name>\n<description>Weather now.</description>\n<parameters>"
        "\n<parameter>\n<name>city</name>\n<type>string</type>\n</parameter>"
        '\n<parameter>\n<name>days</name>\n<type>integer</type>\n</parameter>\n<required>["city"]</required>'
        "\n</parameters>\n</function>"
        "\n<function>\n<name>ping</name>\n<description>None</description>\n<parameters>\n</parameters>\n</function>"
        + TOOLS_TAIL + "<|im_end|>\n<|im_start|>user\nWeather in Paris?<|im_end|>\n"
        "<|im_start|>assistant\n<think>\nI need the weather tool.\n</think>\n<tool_call>\n<function=get_weather>\n"
        "<parameter=city>\nParis\n</parameter>\n<parameter=days>\n2\n</parameter>\n</function>\n</tool_call>\n"
        "<|im_end|>\n<|im_start|>user\n<tool_response>\n18 C, sunny\n</tool_response>\n<|im_end|>\n"
        "<|im_start|>assistant\n<think></think>Now Rome.\n" + weather_xml("Rome")
        + "<|im_end|>\n<|im_start|>user\n<tool_response>\n25 C\n</tool_response>\n<|im_end|>\n"
        "<|im_start|>assistant\n<think>\n"
    )


@pytest.mark.integration
def test_vllm_passes_both_template_options(server, tokenizer):
    messages = [{"role": "user", "content": "Hi"}, {"role": "assistant", "reasoning": "They greet me.", "content": "Hello!"},
                {"role": "user", "content": "Bye"}]
    rendered = vllm_render(server, tokenizer, messages=messages,
                           chat_template_kwargs={"enable_thinking": False, "truncate_history_thinking": False})
    assert rendered == SYSTEM_EMPTY + (
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\nThey greet me.\n</think>\nHello!<|im_end|>\n"
        "<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n<think></think>"
    )
