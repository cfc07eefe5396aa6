"""Turning synthetic examples into token ids, rendered through the shipped chat template as vLLM does.

vLLM parses the JSON `arguments` of assistant tool calls into dicts before rendering, hands an assistant
message's reasoning to the template as both `reasoning` and `reasoning_content`, passes no tools when
none were sent, and renders with transformers' chat-template machinery; `template_messages` and
`render` do the same. The training target is whatever the template appends for the answer turn:
render(messages + [answer]) minus render(messages, add_generation_prompt=True), so the data follows
the template that ships, and a template whose generation prompt is not a prefix of its own rendering
of the answer is refused (the model could not produce that answer after that prompt).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from typing import Any

from nanokit.tiny.data import Example

TURN_END = "<|im_end|>"


def template_messages(messages: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages as vLLM hands them to the chat template (arguments parsed, reasoning under both names)."""
    result = copy.deepcopy(list(messages))
    for message in result:
        for call in message.get("tool_calls") or ():
            if isinstance(call["function"].get("arguments"), str):
                call["function"]["arguments"] = json.loads(call["function"]["arguments"])
        reasoning = message.get("reasoning_content") or message.get("reasoning")
        if reasoning:
            message["reasoning_content"] = message["reasoning"] = reasoning
    return result


def hf_tokenizer(tokenizer_json: str, chat_template: str):
    """A transformers tokenizer over our tokenizer.json, used for its chat-template rendering."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(tokenizer_json), chat_template=chat_template)


def render(tokenizer, messages, tools, enable_thinking: bool, *, add_generation_prompt: bool) -> str:
    return tokenizer.apply_chat_template(
        template_messages(messages), tools=list(tools) or None, tokenize=False,
        add_generation_prompt=add_generation_prompt, enable_thinking=enable_thinking,
    )


def render_prompt(tokenizer, example: Example) -> str:
    """The prompt vLLM renders for the example's request."""
    return render(tokenizer, example.messages, example.tools, example.enable_thinking, add_generation_prompt=True)


def prompt_and_completion(tokenizer, example: Example) -> tuple[str, str]:
    """(prompt, completion): the completion is the template's answer turn up to and including <|im_end|>."""
    prompt = render_prompt(tokenizer, example)
    full = render(tokenizer, [*example.messages, example.target], example.tools, example.enable_thinking,
                  add_generation_prompt=False)
    if not full.startswith(prompt):
        at = next((i for i, (a, b) in enumerate(zip(prompt, full)) if a != b), min(len(prompt), len(full)))
        raise ValueError(f"the chat template renders the answer turn differently from its generation prompt at "
                         f"character {at} ({prompt[at:at + 30]!r} vs {full[at:at + 30]!r}); fix the template.")
    completion = full[len(prompt):]
    end = completion.find(TURN_END)
    if end < 0:
        raise ValueError("the chat template rendered the answer turn without <|im_end|>; fix the template.")
    return prompt, completion[:end + len(TURN_END)]


def encode(tokenizer, example: Example) -> tuple[list[int], list[int]]:
    """(input_ids, labels): the loss falls on the answer turn only."""
    prompt, completion = prompt_and_completion(tokenizer, example)
    prompt_ids = tokenizer(prompt, add_special_tokens=False).input_ids
    completion_ids = tokenizer(completion, add_special_tokens=False).input_ids
    return prompt_ids + completion_ids, [-100] * len(prompt_ids) + completion_ids
