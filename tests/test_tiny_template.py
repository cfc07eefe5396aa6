"""The embedded model's chat template renders Nemotron's protocol (as transformers and vLLM render it)."""

from __future__ import annotations

import pytest

from nanokit import tiny
from nanokit.tools import EXAMPLE_TOOLS, tool_schema

TOOLS = [tool_schema(fn) for fn in EXAMPLE_TOOLS]
TIP_CALL = {"id": "call_1", "type": "function",
            "function": {"name": "calculate_tip", "arguments": {"bill_total": 50, "tip_percentage": 20}}}


@pytest.fixture(scope="module")
def render(tmp_path_factory):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny.build(tmp_path_factory.mktemp("t") / "m", trained=False,
                                                         progress=False))

    def _render(messages, **kwargs):
        kwargs.setdefault("add_generation_prompt", True)
        return tokenizer.apply_chat_template(messages, tokenize=False, **kwargs)

    return _render


def test_chatml_turns_with_thinking_on_by_default(render):
    text = render([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])
    assert text == ("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                    "<|im_start|>assistant\n<think>\n")


def test_thinking_off_renders_an_empty_think_block(render):
    text = render([{"role": "user", "content": "Hi"}], enable_thinking=False)
    assert text.endswith("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think></think>")


def test_a_system_turn_always_opens_even_without_a_system_message(render):
    assert render([{"role": "user", "content": "Hi"}]).startswith("<|im_start|>system\n<|im_end|>\n")


def test_tools_are_rendered_into_the_system_turn_in_order(render):
    text = render([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
                  tools=TOOLS[::-1])
    system = text.split("<|im_end|>")[0]
    assert system.startswith("<|im_start|>system\nBe brief.\n\n# Tools\n<tools>\n<function>\n<name>calculator</name>")
    names = [part.split("</name>")[0] for part in system.split("<function>\n<name>")[1:]]
    assert names == ["calculator", "get_weather", "calculate_tip"]
    assert '<enum>["celsius", "fahrenheit"]</enum>' in system
    assert '<required>["bill_total", "tip_percentage"]</required>' in system


def test_assistant_tool_calls_render_as_qwen3_coder_xml(render):
    text = render([{"role": "user", "content": "Tip?"}, {"role": "assistant", "content": "", "tool_calls": [TIP_CALL]}],
                  add_generation_prompt=False)
    assert text.endswith(
        "<|im_start|>assistant\n<think></think><tool_call>\n<function=calculate_tip>\n"
        "<parameter=bill_total>\n50\n</parameter>\n<parameter=tip_percentage>\n20\n</parameter>\n"
        "</function>\n</tool_call><|im_end|>\n"
    )


def test_tool_results_are_tool_responses_in_one_user_turn(render):
    text = render([
        {"role": "user", "content": "Tip?"},
        {"role": "assistant", "content": None, "tool_calls": [TIP_CALL, TIP_CALL]},
        {"role": "tool", "tool_call_id": "call_1", "content": "10.0"},
        {"role": "tool", "tool_call_id": "call_1", "content": "10.0"},
    ])
    assert text.endswith(
        "</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\n10.0\n</tool_response>\n"
        "<tool_response>\n10.0\n</tool_response><|im_end|>\n<|im_start|>assistant\n<think>\n"
    )


def test_earlier_reasoning_is_dropped(render):
    text = render([
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "<think>\nsecret plan\n</think>\n\nHello!", "reasoning_content": "secret"},
        {"role": "user", "content": "Again"},
    ])
    assert "secret" not in text
    assert "<|im_start|>assistant\n<think></think>Hello!<|im_end|>\n<|im_start|>user\nAgain" in text
