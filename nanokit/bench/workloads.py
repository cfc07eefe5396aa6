"""What a benchmark sends: random prompts of an exact token length, a built-in chat set, or a JSONL file.

Random prompts are measured with the served model's own tokenizer (the server's /tokenize and /detokenize, or
any object with `encode`/`decode`), so a prompt of `input_len` tokens is `input_len` tokens to the server.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from nanokit.endpoint import Endpoint
from nanokit.errors import ConfigError

Message = dict[str, str]


class Tokenizer(Protocol):
    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: Sequence[int]) -> str: ...


@dataclass(frozen=True)
class BenchRequest:
    """One prompt to send: a text prompt or chat messages, its length in tokens, and the tokens to ask for."""

    prompt: str | tuple[Message, ...]
    prompt_len: int
    output_len: int

    def messages(self) -> list[Message]:
        if isinstance(self.prompt, str):
            return [{"role": "user", "content": self.prompt}]
        return [dict(m) for m in self.prompt]

    def text(self) -> str:
        """The prompt as completion text (chat messages are joined as plain turns)."""
        if isinstance(self.prompt, str):
            return self.prompt
        return "\n".join(m.get("content", "") for m in self.prompt)


class ServerTokenizer:
    """The served model's tokenizer through the endpoint's /tokenize and /detokenize, as a `Tokenizer`."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint

    def encode(self, text: str) -> list[int]:
        return self.endpoint.tokenize(text)

    def decode(self, ids: Sequence[int]) -> str:
        return self.endpoint.detokenize(ids)


# Short, varied requests for the chat workload: questions a user of a small assistant asks.
CHAT_SET: tuple[str, ...] = (
    "What is the capital of France?",
    "Explain in two sentences why the sky is blue.",
    "Write a haiku about autumn leaves.",
    "What is 17 times 23?",
    "Give me three tips for writing clear emails.",
    "Summarise the plot of Romeo and Juliet in one paragraph.",
    "How do I reverse a list in Python?",
    "What is the difference between weather and climate?",
    "Suggest a name for a friendly robot.",
    "Translate 'good morning' into Spanish, French and German.",
    "Why do cats purr?",
    "List the planets of the solar system in order.",
    "What does a GPU do that a CPU does not?",
    "Write a limerick about a programmer.",
    "How many minutes are there in a week?",
    "Describe a sunset to someone who has never seen one.",
)

# Text whose token ids seed random prompts when the tokenizer's vocabulary size is not known.
_SEED_TEXT = " ".join(CHAT_SET) + " the of and to in is that for it as with was on be at by this had not are but " \
    "from or have an they which one you were all we can her has there been if more when will would who so no"


@dataclass(frozen=True, kw_only=True)
class WorkloadSpec:
    """Which prompts to build: `kind` random (exact `input_len`), chat (built-in set) or jsonl (`path`)."""

    kind: Literal["random", "chat", "jsonl"] = "random"
    num_prompts: int = 32
    input_len: int = 128
    output_len: int = 128
    path: str | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ("random", "chat", "jsonl"):
            raise ConfigError(f"The workload kind must be random, chat or jsonl, not {self.kind!r}.")
        if self.num_prompts < 1:
            raise ConfigError(f"num_prompts must be at least 1, got {self.num_prompts}.")
        if self.kind == "random" and (self.input_len < 1 or self.output_len < 1):
            raise ConfigError("input_len and output_len must both be at least 1 for random prompts.")
        if self.kind == "jsonl" and not self.path:
            raise ConfigError("A jsonl workload needs `path` pointing at a file with one JSON object per line.")

    def build(self, tokenizer: Tokenizer | None = None) -> list[BenchRequest]:
        rng = random.Random(self.seed)
        if self.kind == "random":
            if tokenizer is None:
                raise ConfigError("Random prompts need the served model's tokenizer; pass a tokenizer.")
            return random_requests(tokenizer, self.num_prompts, self.input_len, self.output_len, rng)
        if self.kind == "chat":
            items = [rng.choice(CHAT_SET) for _ in range(self.num_prompts)]
            return [_measured(text, self.output_len, tokenizer) for text in items]
        return jsonl_requests(Path(self.path or ""), self.num_prompts, self.output_len, tokenizer)


def _measured(text: str, output_len: int, tokenizer: Tokenizer | None) -> BenchRequest:
    return BenchRequest(text, len(tokenizer.encode(text)) if tokenizer else 0, output_len)


def exact_length_prompt(tokenizer: Tokenizer, pool: Sequence[int], length: int, rng: random.Random) -> str:
    """Text that the tokenizer encodes to exactly `length` tokens, made of random ids from `pool`.

    Decoding random ids and encoding the text back rarely round-trips, so cut or grow and re-check, as
    vLLM's random dataset does; after a few tries the closest text is kept.
    """
    ids = [rng.choice(pool) for _ in range(length)]
    text = tokenizer.decode(ids)
    for _ in range(8):
        ids = tokenizer.encode(text)
        if len(ids) == length:
            return text
        if len(ids) > length:
            ids = ids[:length]
        else:
            ids = ids + [rng.choice(pool) for _ in range(length - len(ids))]
        text = tokenizer.decode(ids)
    return text


def random_requests(tokenizer: Tokenizer, n: int, input_len: int, output_len: int,
                    rng: random.Random) -> list[BenchRequest]:
    pool = sorted(set(tokenizer.encode(_SEED_TEXT)))
    out = []
    for _ in range(n):
        text = exact_length_prompt(tokenizer, pool, input_len, rng)
        out.append(BenchRequest(text, len(tokenizer.encode(text)), output_len))
    return out


def jsonl_requests(path: Path, n: int, output_len: int, tokenizer: Tokenizer | None) -> list[BenchRequest]:
    """Read {"prompt": str} or {"messages": [...]} lines, with an optional per-line "output_len"."""
    if not path.is_file():
        raise ConfigError(f"The workload file {path} does not exist; pass the path of a JSONL file.")
    out: list[BenchRequest] = []
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            prompt = item["prompt"] if "prompt" in item else tuple(item["messages"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ConfigError(f"Line {lineno} of {path} is not a JSON object with 'prompt' or 'messages'.") from exc
        request = BenchRequest(prompt, 0, int(item.get("output_len", output_len)))
        length = len(tokenizer.encode(request.text())) if tokenizer else 0
        out.append(BenchRequest(prompt, length, request.output_len))
        if len(out) == n:
            break
    if not out:
        raise ConfigError(f"The workload file {path} has no requests in it.")
    return out
