"""The synthetic conversations: seeded, randomised tools, held out where they should be, rendered through
the shipped chat template, and round-tripping through vLLM's nemotron_v3 and qwen3_coder parsers."""

from __future__ import annotations

import json
import random
import re

import pytest

from nanokit import tiny
from nanokit.tiny.catalogue import EXAMPLE_SCHEMAS, INTENTS
from nanokit.tiny.corpus import encode, prompt_and_completion, render_prompt
from nanokit.tiny.data import KINDS, example, examples
from nanokit.tiny.evaluate import generated_cases
from nanokit.tiny.values import held_out, person_name, pick

CASES = [example(random.Random(i), "train", kind, thinking=i % 2 == 0) for i in range(16) for kind in KINDS]
MANY = [example(random.Random(1000 + i), "train") for i in range(600)]


def _calls(message):
    return [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in message.get("tool_calls") or ()]


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
        _, completion = prompt_and_completion(tokenizer, ex)
        reasoning, content = reasoning_parser.extract_reasoning(completion.removesuffix("<|im_end|>"), request)
        tool_parser = ToolParserManager.get_tool_parser("qwen3_coder")(tokenizer, request.tools)
        calls = tool_parser.extract_tool_calls(content or "", request)
        parsed = [(c.function.name, json.loads(c.function.arguments)) for c in calls.tool_calls]
        return reasoning, (calls.content if calls.tools_called else content), parsed

    return parse


def test_generator_is_seeded():
    first, second = examples(7), examples(7)
    assert [next(first) for _ in range(20)] == [next(second) for _ in range(20)]


def test_every_kind_appears_with_thinking_on_and_off():
    assert {(ex.kind, ex.enable_thinking) for ex in CASES} == {(k, t) for k in KINDS for t in (True, False)}


def test_tools_are_drawn_per_conversation_in_every_type_and_naming_style():
    tools = [t["function"] for ex in MANY for t in ex.tools]
    names = {t["name"] for t in tools}
    assert len(names) > 300
    assert any("_" in n for n in names) and any(re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)+", n) for n in names)
    types = {(p["type"], "enum" in p) for t in tools for p in t["parameters"]["properties"].values()}
    assert types >= {("string", False), ("string", True), ("integer", False), ("number", False), ("boolean", False)}
    optional = [t for t in tools if set(t["parameters"]["properties"]) - set(t["parameters"]["required"])]
    assert optional, "some declarations have optional parameters"
    assert len({t["description"] for t in tools}) > 100


def test_the_example_tools_appear_exactly_and_reworded():
    offered = [t for ex in MANY for t in ex.tools if t["function"]["name"] in EXAMPLE_SCHEMAS]
    exact = [t for t in offered if t == EXAMPLE_SCHEMAS[t["function"]["name"]]]
    reworded = [t for t in offered if t != EXAMPLE_SCHEMAS[t["function"]["name"]]]
    assert {t["function"]["name"] for t in exact} == set(EXAMPLE_SCHEMAS)
    assert reworded
    for tool in reworded:  # the same schema, another description
        original = EXAMPLE_SCHEMAS[tool["function"]["name"]]["function"]
        assert tool["function"]["parameters"] == original["parameters"]
        assert tool["function"]["description"] != original["description"]


def test_example_schemas_are_the_cookbooks_tools():
    from nanokit import EXAMPLE_TOOLS, tool_schema

    assert {fn.__name__: tool_schema(fn) for fn in EXAMPLE_TOOLS} == EXAMPLE_SCHEMAS


def test_calls_use_an_offered_tool_and_copy_every_value_from_the_question():
    calls = 0
    for ex in MANY:
        if ex.kind != "tool_call":
            continue
        offered = {t["function"]["name"]: t["function"]["parameters"] for t in ex.tools}
        ((name, arguments),) = _calls(ex.target)
        parameters = offered[name]
        assert set(parameters["required"]) <= set(arguments) <= set(parameters["properties"])
        question = ex.messages[-1]["content"]
        for key, value in arguments.items():
            if isinstance(value, bool):  # written as the catalogue's on/off or an invented flag's words
                words = ("on", "yes", "true", "with") if value else ("off", "no", "false", "without")
                assert set(words) & set(re.findall(r"\w+", question)), (key, value, question)
            else:
                assert str(value) in question, (key, value, question)
        calls += 1
    assert calls > 100


def test_refusals_offer_no_tool_for_the_request_and_make_no_call():
    refusals = [ex for ex in MANY if ex.kind == "no_tool"]
    assert refusals and all("tool_calls" not in ex.target for ex in refusals)
    intents = {i.ability: i for i in INTENTS}
    for ex in refusals:
        reasoning = ex.target.get("reasoning_content", "")
        wanted = next((a for a in intents if reasoning.startswith(f"The user wants to {a}.")), None)
        if wanted:  # the tools on offer serve other intents only
            words = intents[wanted]
            assert not any(t["function"]["description"] in words.descriptions for t in ex.tools)


def test_two_step_targets_carry_the_first_steps_reasoning_in_both_forms():
    trajectories = [ex for ex in MANY if ex.kind == "two_step" and ex.enable_thinking and ex.meta["stop"] > 0]
    first_turns = [next(m for m in ex.messages[::-1] if m["role"] == "assistant" and m.get("tool_calls"))
                   for ex in trajectories]
    assert any(m.get("reasoning_content") for m in first_turns)      # a client that sends reasoning back
    assert any(not m.get("reasoning_content") for m in first_turns)  # one that drops it


def test_evaluation_values_names_and_tools_are_held_out_of_training():
    rng = random.Random(0)
    assert not any(held_out(person_name(rng, "train")) for _ in range(2000))
    assert all(held_out(pick(rng, tuple(range(100)), "eval")) for _ in range(200))
    train_names = {t["function"]["name"] for ex in MANY for t in ex.tools} - set(EXAMPLE_SCHEMAS)
    train_descriptions = {t["function"]["description"] for ex in MANY for t in ex.tools}
    held = generated_cases(300)
    eval_names = {t["function"]["name"] for c in held for t in c.tools} - set(EXAMPLE_SCHEMAS)
    eval_descriptions = {t["function"]["description"] for c in held for t in c.tools}
    shipped = {s["function"]["description"] for s in EXAMPLE_SCHEMAS.values()}
    assert eval_names and not eval_names & train_names
    assert all(held_out(name) for name in eval_names)  # none left on the training side after too few draws
    assert not (eval_descriptions & train_descriptions) - shipped
    assert len(held) == 300 and {c.kind for c in held} == set(KINDS)


def test_targets_are_the_templates_own_rendering_of_the_answer(tokenizer):
    for ex in CASES:
        prompt, completion = prompt_and_completion(tokenizer, ex)
        assert prompt == render_prompt(tokenizer, ex)
        assert prompt.endswith("<|im_start|>assistant\n" + ("<think>\n" if ex.enable_thinking else "<think></think>"))
        assert completion.endswith("<|im_end|>") and completion.count("<|im_end|>") == 1
        assert ("</think>" in completion) == ex.enable_thinking
        ids, labels = encode(tokenizer, ex)
        assert len(ids) < 2048
        supervised = [t for t in labels if t != -100]
        assert tokenizer.decode(supervised, skip_special_tokens=False) == completion


def test_a_template_whose_prompt_is_no_prefix_of_its_answer_is_refused():
    from tokenizers import Tokenizer

    from nanokit.tiny.corpus import hf_tokenizer
    from nanokit.tiny.tokenizer import build_tokenizer

    broken = "{% for m in messages %}{{ m.role }}{% endfor %}{% if add_generation_prompt %}<open>{% endif %}"
    tok = hf_tokenizer(Tokenizer.to_str(build_tokenizer(["x"])), broken)
    with pytest.raises(ValueError, match="fix the template"):
        prompt_and_completion(tok, CASES[0])


def test_arguments_render_as_the_released_template_does(tokenizer):
    booleans = [ex for ex in MANY if ex.kind == "tool_call"
                and any(isinstance(v, bool) for _, a in _calls(ex.target) for v in a.values())]
    assert booleans
    for ex in booleans[:5]:
        _, completion = prompt_and_completion(tokenizer, ex)
        ((_, arguments),) = _calls(ex.target)
        for key, value in arguments.items():
            assert f"<parameter={key}>\n{value}\n</parameter>" in completion  # True/False, 17.5, Lisbon


def test_completions_parse_back_through_vllms_parsers(parsers):
    for ex in CASES:
        reasoning, content, calls = parsers(ex)
        assert (reasoning or "") == ex.target.get("reasoning_content", "")
        expected = _calls(ex.target)
        assert calls == expected
        if expected:
            assert not (content or "").strip()
        else:  # the released template puts a newline after </think>; the parser leaves it on the content
            assert content.removeprefix("\n") == ex.target["content"]


def test_many_draws_of_every_kind_offer_each_needed_tool_under_a_name_of_its_own():
    """A two-step request once drew two tools both named "text" and lost one (KeyError in a GPU run's worker)."""
    for seed in range(3):
        rng = random.Random(f"stress-{seed}")
        for index in range(4000):
            ex = example(rng, "train" if index % 3 else "eval", KINDS[index % len(KINDS)])
            names = [t["function"]["name"] for t in ex.tools]
            assert len(names) == len(set(names))
            for step in ex.expect.get("steps", ()):
                assert step["call"]["name"] in names


def test_invented_tools_use_no_word_of_the_hand_written_tools():
    """The hand-written set's tools stay unseen: no invented object or parameter word names or describes one."""
    from nanokit.tiny.handwritten import load_cases
    from nanokit.tiny.invented import words

    vocabulary = set()
    for case in load_cases():
        for tool in case.tools:
            function = tool["function"]
            text = re.sub(r"([a-z])([A-Z])", r"\1 \2", function["name"] + " " + function.get("description", ""))
            vocabulary |= {w.lower() for w in re.findall(r"[A-Za-z]+", text)}
    assert not words() & vocabulary


def test_invented_intents_are_new_per_conversation_and_held_out_by_split():
    from nanokit.tiny.invented import OBJECTS, invent

    rng = random.Random(5)
    drawn = [invent(rng, "train") for _ in range(300)]
    assert len({i.key for i in drawn}) > 250  # a verb and an object drawn for each conversation
    kinds = {p.kind for i in drawn for p in i.params}
    assert kinds == {"string", "integer", "number", "boolean", "enum"}
    assert any(p.optional for i in drawn for p in i.params)
    train_objects = {i.nouns[0].replace("_", " ") for i in drawn} & set(OBJECTS)
    eval_objects = {invent(rng, "eval").nouns[0].replace("_", " ") for _ in range(300)} & set(OBJECTS)
    assert train_objects and eval_objects and not train_objects & eval_objects


def test_the_shipped_mix_draws_only_the_catalogue_with_its_own_parameter_names():
    """SHIPPED_MIX is stage 2's data: no invented intent, every parameter named from its list."""
    from nanokit.tiny.data import SHIPPED_MIX, Mix

    names = {n for i in INTENTS for p in i.params for n in p.names} | {
        p for s in EXAMPLE_SCHEMAS.values() for p in s["function"]["parameters"]["properties"]}
    rng = random.Random(3)
    for _ in range(400):
        ex = example(rng, "train", mix=SHIPPED_MIX)
        for tool in ex.tools:
            roles = {p.role for i in INTENTS for p in i.params}
            assert set(tool["function"]["parameters"]["properties"]) <= names | {f"{n}_{r}" for n in names for r in roles}
    current = [example(rng, "train", mix=Mix()) for _ in range(400)]
    declared = {p for ex in current for t in ex.tools for p in t["function"]["parameters"]["properties"]}
    assert len(declared - names) > 100  # invented and renamed parameters
    # the invented intents' slot names (p0, p1, ...) are the questions' own, never a parameter's
    assert not any(re.fullmatch(r"p\d", p) or re.search(r"_p\d$", p) for p in declared)


def test_memory_questions_and_two_request_joins_come_in_many_wordings_held_out_whole():
    """The name is asked back in thousands of composed wordings, the held-out split's never trained on; the
    shipped mix still asks with its ten questions (the data the integration floors are measured on)."""
    from nanokit.tiny.data import SHIPPED_MIX
    from nanokit.tiny.talk import _NAME_QUESTIONS, name_question

    rng = random.Random(5)
    train_side = {name_question(rng, "train") for _ in range(3000)}
    eval_side = {name_question(rng, "eval") for _ in range(600)}
    assert len(train_side) > 1500 and len(eval_side) > 300 and not train_side & eval_side
    assert all(held_out(q) for q in eval_side) and not any(held_out(q) for q in train_side)

    def last_user(ex):
        return [m["content"] for m in ex.messages if m["role"] == "user"][-1]

    shipped = {last_user(example(rng, "train", "memory", mix=SHIPPED_MIX)) for _ in range(200)}
    assert shipped <= set(_NAME_QUESTIONS)
    current = {last_user(example(rng, "train", "memory")) for _ in range(200)}
    assert len(current - set(_NAME_QUESTIONS)) > 150
    joined = {last_user(example(rng, "train", "two_step")) for _ in range(300)}
    assert any(q.startswith("Two requests: 1) ") or "\n- " in q or " Plus, " in q for q in joined)
