"""The embedded model's tokenizer: a small byte-level BPE with Nemotron's special tokens at Nemotron's ids.

Digits are always split one per token, so the model copies numbers digit by digit instead of having to
know a token for every number. A capitalised word is cut after its first three letters and snake_case
names at their underscores, so a name the model has never seen ("Lisbondy", "STIAK", "get_weather")
is made of pieces it has copied many times, not one rare whole-word token (in the previous model a
held-out "Tokyo", one token seen only in facts, was copied as another city). Measured on 300 held-out
conversations with a 1,024 vocabulary: 470 tokens per conversation against 433 with whole words, and
"Tokyo", "get_weather" no longer single tokens (at 2,048 entries whole words come back: " Tokyo").
The BPE merges are learnt from the synthetic corpus, so the protocol's markup and common words cost few
tokens. Any other text still encodes, byte by byte.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

VOCAB_SIZE = 1024

# Pieces BPE may merge within: whole markup tags with their newlines ("<name>", "</type>\n"), "<function="
# openers, single digits, a capital with at most two more letters, lowercase words, "_", single
# punctuation, runs of newlines or spaces. Tags whole make the protocol cheap in tokens; words apart from
# tags, capitals and underscores let the model copy a tool, person or city name it has never seen.
PRE_TOKEN_PATTERN = r"\n?</?[a-z_]+>\n?|<[a-z_]+=|\d| ?[A-Z][a-z]{0,2}| ?[a-z]+|_| ?[^\sA-Za-z\d]|\n+| +"

# Ids 0-2 and 10-15 are the real Nemotron-3-Nano tokenizer's; the rest of 0-19 are reserved fillers.
SPECIAL_TOKENS: tuple[str, ...] = (
    "<unk>", "<s>", "</s>", "<pad>", "<SPECIAL_4>", "<SPECIAL_5>", "<SPECIAL_6>", "<SPECIAL_7>",
    "<SPECIAL_8>", "<SPECIAL_9>", "<|im_start|>", "<|im_end|>", "<think>", "</think>",
    "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>", "<SPECIAL_18>", "<SPECIAL_19>",
)
# Markup the reasoning and tool parsers must see in decoded text (vLLM skips special tokens when
# detokenizing), so these are added tokens that are not "special", as in Qwen3 and Nemotron.
VISIBLE_MARKUP = frozenset({"<think>", "</think>", "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>"})

IM_START, IM_END = 10, 11


def build_tokenizer(corpus: Iterable[str], *, vocab_size: int = VOCAB_SIZE) -> Tokenizer:
    """Learn a byte-level BPE of `vocab_size` entries (special tokens included) from `corpus`."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PRE_TOKEN_PATTERN), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[AddedToken(t, special=t not in VISIBLE_MARKUP, normalized=False) for t in SPECIAL_TOKENS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    # Sorting makes the learnt merges independent of the order the corpus arrives in.
    tokenizer.train_from_iterator(sorted(corpus), trainer)
    # The trainer registers every one of its special_tokens as special; un-mark the visible markup.
    data = json.loads(tokenizer.to_str())
    for entry in data["added_tokens"]:
        entry["special"] = entry["content"] not in VISIBLE_MARKUP
    tokenizer = Tokenizer.from_str(json.dumps(data, ensure_ascii=False))
    for index, token in enumerate(SPECIAL_TOKENS):
        assert tokenizer.token_to_id(token) == index, (token, tokenizer.token_to_id(token))
    return tokenizer


def tokenizer_config(chat_template: str, *, model_max_length: int) -> dict:
    """The tokenizer_config.json transformers and vLLM read next to tokenizer.json."""
    added = {
        str(index): {
            "content": token, "lstrip": False, "normalized": False, "rstrip": False,
            "single_word": False, "special": token not in VISIBLE_MARKUP,
        }
        for index, token in enumerate(SPECIAL_TOKENS)
    }
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "added_tokens_decoder": added,
        "bos_token": "<s>",
        "eos_token": "<|im_end|>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "add_bos_token": False,
        "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": model_max_length,
        "chat_template": chat_template,
    }


def write_tokenizer_files(directory: Path, tokenizer_json: str, chat_template: str, *, model_max_length: int) -> None:
    """Write tokenizer.json, tokenizer_config.json, special_tokens_map.json and chat_template.jinja."""
    (directory / "tokenizer.json").write_text(tokenizer_json, encoding="utf-8")
    config = tokenizer_config(chat_template, model_max_length=model_max_length)
    (directory / "tokenizer_config.json").write_text(json.dumps(config, indent=2, sort_keys=True), encoding="utf-8")
    special_map = {k: config[k] for k in ("bos_token", "eos_token", "unk_token", "pad_token")}
    (directory / "special_tokens_map.json").write_text(json.dumps(special_map, indent=2), encoding="utf-8")
    (directory / "chat_template.jinja").write_text(chat_template, encoding="utf-8")
