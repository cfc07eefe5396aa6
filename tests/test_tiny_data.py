"""The synthetic conversations: seeded, held out where they should be, and round-tripping through the
chat template and vLLM's own nemotron_v3 reasoning parser and qwen3_coder tool parser."""

from __future__ import annotations

import dataclasses
import json
import random

import pytest

from nanokit import tiny
from nanokit.tiny.corpus import encode, render_prompt
from nanokit.tiny.data import FAMILIES, ToolCall, example, examples, run_tool
from nanokit.tiny.evaluate import eval_examples
from nanokit.tiny.world import held_out, person_name

CASES = [example(random.Random(i), "train", family, thinking=i % 2 == 0)
         for i in range(12) for family in FAMILIES]


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny.build(tmp_path_factory.mktemp("t") / "m", trained=False, progress=False))


@pytest.fixture(scope="module")
def parsers(tokenizer):
    pytest.importorskip("vllm")
    from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionRequest
    from vllm.reasoning import ReasoningParserManager
    from vllm.tool_parsers import ToolParserManager

    def parse(ex):
        request = ChatCompletionRequest(model=tiny.SERVED_NAME, messages=list(ex.messages), tools=list(ex.tools) or None,
                                        chat_template_kwargs={"enable_thinking": ex.enable_thinking})
        reasoning_parser = ReasoningParserManager.get_reasoning_parser("nemotron_v3")(
            tokenizer, chat_template_kwargs=request.chat_template_kwargs)
        reasoning, content = reasoning_parser.extract_reasoning(ex.completion().removesuffix("<|im_end|>"), request)
        tool_parser = ToolParserManager.get_tool_parser("qwen3_coder")(tokenizer, request.tools)
        calls = tool_parser.extract_tool_calls(content or "", request)
        parsed = [(c.function.name, json.loads(c.function.arguments)) for c in calls.tool_calls]
        return reasoning, (calls.content if calls.tools_called else content), parsed

    return parse


def test_generator_is_seeded():
    first, second = examples(7), examples(7)
    assert [next(first) for _ in range(20)] == [next(second) for _ in range(20)]


def test_every_family_appears_with_thinking_on_and_off():
    assert {(ex.family, ex.enable_thinking) for ex in CASES} == {(f, t) for f in FAMILIES for t in (True, False)}


def test_tool_results_come_from_really_calling_the_tools():
    for ex in CASES:
        if ex.family == "tool_result":
            function = ex.messages[-2]["tool_calls"][0]["function"]
            call = ToolCall(function["name"], json.loads(function["arguments"]))
            assert ex.messages[-1] == {"role": "tool", "tool_call_id": "call_0", "content": ex.expect_in_content}
            assert run_tool(call) == ex.expect_in_content


def test_tool_questions_offer_the_needed_tool_and_missing_tool_questions_do_not():
    for ex in CASES:
        offered = [t["function"]["name"] for t in ex.tools]
        if ex.family == "tool_call":
            assert ex.tool_call.name in offered
        if ex.family == "missing_tool":
            needed = ex.reasoning.removeprefix("The user needs ").split(",")[0]
            assert needed not in offered and ex.tool_call is None


def test_evaluation_names_are_held_out_of_training():
    rng = random.Random(0)
    training_names = {person_name(rng, "train") for _ in range(2000)}
    assert not any(held_out(name) for name in training_names)
    assert all(held_out(ex.expect_in_content) for ex in eval_examples(60) if ex.family == "greeting" and ex.expect_in_content)


def test_prompts_render_like_vllm_and_fit_the_context(tokenizer):
    for ex in CASES:
        prompt = render_prompt(tokenizer, ex)
        assert prompt.startswith("<|im_start|>system\n")
        assert prompt.endswith("<|im_start|>assistant\n" + ("<think>\n" if ex.enable_thinking else "<think></think>"))
        assert ("<tools>" in prompt.split("<|im_end|>")[0]) == bool(ex.tools)
        ids, labels = encode(tokenizer, ex)
        assert len(ids) < 1024
        supervised = [t for t in labels if t != -100]
        assert tokenizer.decode(supervised, skip_special_tokens=False) == ex.completion()


def test_completions_parse_back_through_vllms_parsers(parsers):
    for ex in CASES:
        reasoning, content, calls = parsers(ex)
        if ex.enable_thinking:
            assert reasoning == ex.reasoning
        else:
            assert not reasoning
        if ex.tool_call:
            assert calls == [(ex.tool_call.name, ex.tool_call.arguments)]
            assert not (content or "").strip()
        else:
            assert calls == []
            assert content == ex.content


def test_conversations_keep_one_tool_set_and_call_only_offered_tools():
    from nanokit.tiny.data import conversation

    rng = random.Random(7)
    for _ in range(60):
        ex = conversation(rng, "train", max_exchanges=3)
        offered = {t["function"]["name"] for t in ex.tools}
        users = [m for m in ex.messages if m["role"] == "user"]
        assert 1 <= len(users) <= 2 * 3 and ex.history_targets  # the memory family brings its own greeting
        called = [c["function"]["name"] for m in ex.messages if m["role"] == "assistant"
                  for c in m.get("tool_calls") or []]
        called += [ex.tool_call.name] if ex.tool_call else []
        assert set(called) <= offered


def test_history_turns_are_labelled_exactly_as_the_model_would_answer(tokenizer):
    from nanokit.tiny.corpus import HISTORY_TURN, history_spans
    from nanokit.tiny.data import conversation

    rng = random.Random(11)
    multi = [ex for ex in (conversation(rng) for _ in range(40))
             if sum(m["role"] == "assistant" for m in ex.messages) >= 1][:10]
    assert multi
    for ex in multi:
        _ids, labels = encode(tokenizer, ex)
        text = render_prompt(tokenizer, ex)
        expected = "".join(text[b:e] for b, e in history_spans(text)) + ex.completion()
        assert tokenizer.decode([t for t in labels if t != -100], skip_special_tokens=False) == expected
        assert text.count(HISTORY_TURN) >= len(history_spans(text)) >= 1
    single = dataclasses.replace(multi[0], history_targets=False)
    assert tokenizer.decode([t for t in encode(tokenizer, single)[1] if t != -100],
                            skip_special_tokens=False) == single.completion()


def test_history_spans_skip_the_open_generation_prompt():
    from nanokit.tiny.corpus import history_spans

    text = "<|im_start|>assistant\n<think></think>Hi Ana.<|im_end|>\n<|im_start|>user\nx<|im_end|>\n" \
           "<|im_start|>assistant\n<think></think>"
    assert [text[b:e] for b, e in history_spans(text)] == ["Hi Ana.<|im_end|>"]


def test_training_never_uses_a_held_out_phrasing():
    from nanokit.tiny import data
    from nanokit.tiny.world import phrasing

    rng = random.Random(0)
    for templates in (data._TIP_QUESTIONS, data._WEATHER_QUESTIONS, data._WEATHER_UNIT_QUESTIONS, data._CALC_QUESTIONS):
        held = {t for i, t in enumerate(templates) if i % 5 == 4}
        seen = {phrasing(rng, templates, "train") for _ in range(400)}
        assert held and not seen & held
        assert seen == set(templates) - held  # and every other one is used
        assert {phrasing(rng, templates, "eval") for _ in range(400)} >= held


def test_training_cities_include_known_words_but_never_held_out_ones():
    from nanokit.tiny.world import LEXICON, city_name

    rng = random.Random(3)
    cities = [city_name(rng, "train") for _ in range(2000)]
    assert "France" in LEXICON and "Tokyo" in LEXICON  # proper nouns of the facts
    assert set(cities) & set(LEXICON)
    assert not any(held_out(city) for city in cities)  # so "Tokyo" stays an evaluation-only city
