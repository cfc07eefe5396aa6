"""Turning synthetic examples into token ids, rendered exactly as vLLM renders a chat request.

vLLM parses the JSON `arguments` of assistant tool calls into dicts before rendering (its
`_postprocess_messages`), passes no tools when none were sent, and renders with transformers'
chat-template machinery; `render_prompt` does the same, so the model trains on the prompts it will see.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from typing import Any

from nanokit.tiny.data import Example


def template_messages(messages: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages as vLLM hands them to the chat template (tool-call arguments parsed from JSON)."""
    result = copy.deepcopy(list(messages))
    for message in result:
        for call in message.get("tool_calls") or ():
            if isinstance(call["function"].get("arguments"), str):
                call["function"]["arguments"] = json.loads(call["function"]["arguments"])
    return result


def hf_tokenizer(tokenizer_json: str, chat_template: str):
    """A transformers tokenizer over our tokenizer.json, used for its chat-template rendering."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(tokenizer_json), chat_template=chat_template)


def render_prompt(tokenizer, example: Example) -> str:
    return tokenizer.apply_chat_template(
        template_messages(example.messages), tools=list(example.tools) or None, tokenize=False,
        add_generation_prompt=True, enable_thinking=example.enable_thinking,
    )


HISTORY_TURN = "<|im_start|>assistant\n<think></think>"
TURN_END = "<|im_end|>"


def history_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the earlier assistant turns' answers in a rendered prompt, each with its <|im_end|>.

    A history turn renders as `<|im_start|>assistant\n<think></think>` + answer + `<|im_end|>`: the same
    text the model generates after the thinking-off generation prompt.
    """
    spans, start = [], text.find(HISTORY_TURN)
    while start >= 0:
        begin = start + len(HISTORY_TURN)
        end = text.find(TURN_END, begin)
        if end < 0:  # the generation prompt itself (reasoning off)
            break
        end += len(TURN_END)
        spans.append((begin, end))
        start = text.find(HISTORY_TURN, end)
    return spans


def encode(tokenizer, example: Example) -> tuple[list[int], list[int]]:
    """(input_ids, labels) for one example: the loss falls on the assistant's generated turn, and on the
    earlier assistant turns too where the example says they are right (`history_targets`)."""
    text = render_prompt(tokenizer, example)
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=example.history_targets)
    prompt = encoded.input_ids
    labels = [-100] * len(prompt)
    if example.history_targets:
        spans = history_spans(text)
        for i, (begin, end) in enumerate(encoded.offset_mapping):
            if any(b <= begin and end <= e for b, e in spans):
                labels[i] = prompt[i]
    completion = tokenizer(example.completion(), add_special_tokens=False).input_ids
    return prompt + completion, labels + completion
