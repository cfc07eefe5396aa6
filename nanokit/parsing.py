"""Splitting a Nemotron completion into reasoning, answer and tool calls, chunk by chunk.

The model writes `reasoning </think> answer`, where the answer may hold Qwen3-Coder XML tool calls:

    <tool_call>
    <function=get_weather>
    <parameter=city>
    Paris
    </parameter>
    </function>
    </tool_call>

`CompletionParser` is a small state machine (REASONING -> CONTENT <-> TOOL) fed text in chunks that may
split a tag anywhere: a chunk ending in a possible tag prefix (`</thi`) is held back until the next chunk
decides it, and a tool-call block is read by its structure (`nanokit.tool_call_xml`), so a close marker
quoted inside a value does not end the call. Feeding any split of a text gives the whole-text result.

Rules, checked case by case against vLLM's `nemotron_v3` + `qwen3_coder` parsers in
`nanokit.lab.parser_conformance` (the differences and their reasons are listed there):

- Leading and trailing whitespace of reasoning and answer is not emitted; think tags and ChatML turn
  markers in the answer are dropped.
- A `<tool_call>` before `</think>` ends the reasoning and is a call (the problem
  users have met with some servers, a call "stuck in reasoning", does not happen here); text after it
  is answer, and a later `</think>` is dropped as a stray tag. vLLM's parsers also end the reasoning
  at the call.
- Text after the last call, and between calls, is answer (vLLM's whole-text parse drops it).
- A `<tool_call>` that no `<function=` follows is text about the format, not a call: it goes back to
  the reasoning or answer it was written in (held until the block's end or the output's decides it).
- An unfinished call at the end is reported with the arguments seen so far; an unfinished
  `<function=NAME` is no call.
- Arguments are coerced to the request's tool schemas by `nanokit.schema`; what could not be, and a
  tool the request did not declare, is said in `ToolCall.notes` (the call is kept either way).

It also accepts text a server has already split (`feed_reasoning`, `feed_content`), so the same rules
apply whether or not the server runs parsers, and with thinking off everything is answer: this corrects
servers that stream a thinking-off answer as `reasoning_content`.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# CoercedArguments and coerce_arguments live in nanokit.schema; still importable from here for the
# modules that imported them from parsing before.
from nanokit.schema import CoercedArguments, coerce_arguments, tool_parameters  # noqa: F401
from nanokit.tool_call_xml import FUNCTION_START, TOOL_END, TOOL_START, ScannedBlock, scan_block

THINK_START, THINK_END = "<think>", "</think>"
# Dropped wherever they appear, like vLLM's parser engine drops the tokenizer's named special tokens
# (bos, eos, unk, pad) and the ChatML turn markers.
TURN_MARKERS = ("<|im_end|>", "<|im_start|>", "<|endoftext|>", "<s>", "</s>", "<unk>", "<pad>")



# --- what the parser produces ---------------------------------------------------------------------


@dataclass(frozen=True)
class ToolCall:
    """One function call the model asked for; `arguments` are already coerced to the tool's schema."""

    name: str
    arguments: dict[str, Any]
    id: str = field(default_factory=lambda: f"call_{uuid.uuid4().hex[:24]}", compare=False)
    # What the parser could not make fit: an unknown tool, arguments that stayed text (nanokit.schema).
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def arguments_json(self) -> str:
        return json.dumps(self.arguments, ensure_ascii=False)

    def to_message_entry(self) -> dict[str, Any]:
        """The entry for an assistant message's `tool_calls` list (OpenAI format)."""
        return {"id": self.id, "type": "function",
                "function": {"name": self.name, "arguments": self.arguments_json}}


@dataclass(frozen=True)
class ReasoningDelta:
    text: str


@dataclass(frozen=True)
class ContentDelta:
    text: str


@dataclass(frozen=True)
class ToolCallDelta:
    """A piece of tool call `index`: its id and name first, then fragments of its JSON arguments."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


ParseEvent = ReasoningDelta | ContentDelta | ToolCallDelta


@dataclass(frozen=True)
class ParsedCompletion:
    reasoning: str
    content: str
    tool_calls: tuple[ToolCall, ...] = ()


# --- Qwen3-Coder XML ------------------------------------------------------------------------------


def _to_calls(scanned: ScannedBlock, schemas: Mapping[str, Mapping[str, Any]] | None) -> list[ToolCall]:
    calls = []
    for call in scanned.calls:
        if not call.name:
            continue
        if schemas is None:
            calls.append(ToolCall(call.name, dict(call.arguments)))
        elif call.name in schemas:
            coerced = coerce_arguments(call.arguments, schemas[call.name])
            calls.append(ToolCall(call.name, coerced.values, notes=coerced.problems))
        else:
            note = f"Tool {call.name!r} is not one of the request's tools; its arguments are left as text."
            calls.append(ToolCall(call.name, dict(call.arguments), notes=(note,)))
    return calls


def parse_tool_calls(block: str, tools: Iterable[Any] | None = None) -> list[ToolCall]:
    """The calls in the text of one `<tool_call>` block (complete or cut off), coerced to `tools`."""
    return _to_calls(scan_block(block, final=True), tool_parameters(tools) if tools is not None else None)


# --- the streaming state machine ------------------------------------------------------------------

_REASONING, _CONTENT, _TOOL = "reasoning", "content", "tool"
_TAGS = {
    _REASONING: (THINK_START, THINK_END, TOOL_START, *TURN_MARKERS),
    _CONTENT: (THINK_START, THINK_END, TOOL_START, FUNCTION_START, *TURN_MARKERS),
}


def _held_back(text: str, tags: Iterable[str]) -> int:
    """How many trailing characters of `text` could still grow into one of `tags`."""
    longest = 0
    for tag in tags:
        for size in range(min(len(tag) - 1, len(text)), longest, -1):
            if text.endswith(tag[:size]):
                longest = size
                break
    return longest


class _Trimmed:
    """One output channel that never emits leading or trailing whitespace (trailing is deferred)."""

    def __init__(self) -> None:
        self.started = False
        self.deferred = ""
        self.parts: list[str] = []

    def push(self, text: str) -> str:
        if not self.started:
            text = text.lstrip()
            if not text:
                return ""
            self.started = True
        body = text.rstrip()
        if not body:
            self.deferred += text
            return ""
        out = self.deferred + body
        self.deferred = text[len(body):]
        self.parts.append(out)
        return out

    @property
    def text(self) -> str:
        return "".join(self.parts)


class CompletionParser:
    """Feed chunks, collect events; `result()` after `finish()` gives the whole split.

    `thinking` says whether the prompt opened a reasoning block (Nemotron's default); `tools` are the
    OpenAI tool entries of the request, used to coerce argument types exactly as vLLM's parser does.
    """

    def __init__(self, *, thinking: bool = True, tools: Iterable[Mapping[str, Any]] | None = None) -> None:
        self.thinking = thinking
        self._schemas = tool_parameters(tools) if tools is not None else None
        self._state = _REASONING if thinking else _CONTENT
        self._pending = ""
        self._block = ""
        self._memo: dict[int, int] = {}  # for scan_block: how far the open block's values are read
        self._bare_function = False
        self._came_from = _CONTENT  # the state a tool block was opened in
        self._reasoning, self._content = _Trimmed(), _Trimmed()
        self._calls: list[ToolCall] = []
        self._block_ids: list[str] = []  # ids of the open block's calls whose names were streamed
        self._finished = False

    # raw model text -------------------------------------------------------------------------------

    def feed(self, text: str) -> list[ParseEvent]:
        """Model text exactly as generated (a server without parsers, or the completions endpoint)."""
        events: list[ParseEvent] = []
        buffer = self._pending + text
        while buffer:
            if self._state == _TOOL:
                self._block, buffer = self._block + buffer, ""
                scanned = scan_block(self._block, final=False, bare=self._bare_function, memo=self._memo)
                events += self._announce_names(scanned)
                if scanned.end is None:
                    break
                more, buffer = self._end_block(scanned)
                events += more
                continue
            tags = _TAGS[self._state]
            hits = [(buffer.find(tag), tag) for tag in tags if tag in buffer]
            if not hits:
                keep = _held_back(buffer, tags)
                events += self._emit(buffer[: len(buffer) - keep])
                buffer = buffer[len(buffer) - keep:]
                break
            at, tag = min(hits)
            events += self._emit(buffer[:at])
            events += self._on_tag(tag)
            buffer = buffer[at + len(tag):]
        self._pending = buffer
        return events

    def feed_reasoning(self, text: str) -> list[ParseEvent]:
        """Text a server labelled reasoning; with thinking off it is answer, whatever the server said."""
        return self.feed(text)

    def feed_content(self, text: str) -> list[ParseEvent]:
        """Text a server labelled answer: the server saw the reasoning end, so this parser ends it too."""
        return self.end_reasoning() + self.feed(text)

    def finish(self) -> list[ParseEvent]:
        """Flush held-back text and any unfinished tool call; call once, after the last chunk."""
        if self._finished:
            return []
        self._finished = True
        events: list[ParseEvent] = []
        while self._state == _TOOL:  # the end of the output decides what the open block still held back
            more, rest = self._end_block(scan_block(self._block, final=True, bare=self._bare_function,
                                                    memo=self._memo))
            events += more + self.feed(rest)
        events += self._emit(self._pending)
        self._pending = ""
        return events

    def result(self) -> ParsedCompletion:
        return ParsedCompletion(self._reasoning.text, self._content.text, tuple(self._calls))

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        return tuple(self._calls)

    @property
    def in_reasoning(self) -> bool:
        """True while no `</think>` (or tool call, or server-labelled answer) has ended the reasoning."""
        return self._state == _REASONING

    def end_reasoning(self) -> list[ParseEvent]:
        """Close the reasoning from outside (a budget did): what follows is answer."""
        return self._end_reasoning() if self._state == _REASONING else []

    # internals ------------------------------------------------------------------------------------

    def _emit(self, text: str) -> list[ParseEvent]:
        if not text:
            return []
        if self._state == _REASONING:
            out = self._reasoning.push(text)
            return [ReasoningDelta(out)] if out else []
        out = self._content.push(text)
        return [ContentDelta(out)] if out else []

    def _end_reasoning(self) -> list[ParseEvent]:
        events = self._emit(self._pending)
        self._pending = ""
        self._state = _CONTENT
        return events

    def _on_tag(self, tag: str) -> list[ParseEvent]:
        if tag in TURN_MARKERS or tag == THINK_START:
            return []
        if self._state == _REASONING:
            self._state = _CONTENT
            return self._open_block(bare=False, came_from=_REASONING) if tag == TOOL_START else []
        if self._state == _CONTENT:
            if tag == TOOL_START:
                return self._open_block(bare=False, came_from=_CONTENT)
            if tag == FUNCTION_START:
                events = self._open_block(bare=True, came_from=_CONTENT)
                self._block = FUNCTION_START
                return events
            return []  # a stray </think> in the answer
        return []

    def _open_block(self, *, bare: bool, came_from: str) -> list[ParseEvent]:
        self._state, self._block, self._bare_function, self._block_ids = _TOOL, "", bare, []
        self._came_from = came_from
        return []

    def _end_block(self, scanned: ScannedBlock) -> tuple[list[ParseEvent], str]:
        """Close the open block; returns its events and the text to read next."""
        end = scanned.end if scanned.end is not None else len(self._block)
        block, rest = self._block[:end], self._block[end:]
        prose = not self._bare_function and FUNCTION_START not in block and not any(c.name for c in scanned.calls)
        events = self._announce_names(scanned) + self._close_block(scanned)
        if prose:
            # A <tool_call> that no function follows was the model writing about the format (vLLM
            # swallows the rest of the output then): its text goes back where it was written.
            self._state = self._came_from
            rest = block.removesuffix(TOOL_END) + rest
        return events, rest

    def _announce_names(self, scanned: ScannedBlock) -> list[ParseEvent]:
        """Stream each call's id and name as soon as its `<function=NAME>` header is complete."""
        names = [call.name for call in scanned.calls if call.name]
        events: list[ParseEvent] = []
        for name in names[len(self._block_ids):]:
            call_id = f"call_{uuid.uuid4().hex[:24]}"
            events.append(ToolCallDelta(len(self._calls) + len(self._block_ids), id=call_id, name=name))
            self._block_ids.append(call_id)
        return events

    def _close_block(self, scanned: ScannedBlock) -> list[ParseEvent]:
        events: list[ParseEvent] = []
        for offset, call in enumerate(_to_calls(scanned, self._schemas)):
            call = dataclasses.replace(call, id=self._block_ids[offset])
            events.append(ToolCallDelta(len(self._calls), arguments=call.arguments_json))
            self._calls.append(call)
        self._state, self._block, self._block_ids, self._memo = _CONTENT, "", [], {}
        return events


def parse_completion(
    text: str, *, thinking: bool = True, tools: Iterable[Mapping[str, Any]] | None = None
) -> ParsedCompletion:
    """The reasoning / answer / tool-call split of a whole completion (same rules as streaming)."""
    parser = CompletionParser(thinking=thinking, tools=tools)
    parser.feed(text)
    parser.finish()
    return parser.result()


def split_reasoning(text: str, *, thinking: bool = True) -> tuple[str, str]:
    """`(reasoning, answer)` of a completion, tool calls left out of the answer."""
    parsed = parse_completion(text, thinking=thinking)
    return parsed.reasoning, parsed.content
