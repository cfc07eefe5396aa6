"""Chat with a served Nemotron: thinking on or off, reasoning budgets, sampling presets, streamed events.

`stream_chat()` yields `ReasoningDelta`, `ContentDelta`, `ToolCallDelta` and finally `Done(result)`;
`chat()` consumes the same stream and returns the `ChatResult`. Every chunk goes through
`nanokit.parsing.CompletionParser`, so the split is the same whether or not the server runs
`--reasoning-parser nemotron_v3` / `--tool-call-parser qwen3_coder`, and a thinking-off answer that a
server streams as `reasoning_content` (nanokit/REFERENCE.md, 'Chat protocol') still arrives as answer.

Reasoning budgets, in tokens:
- "server": vLLM's `thinking_token_budget` sampling parameter (vLLM >= 0.1x with a reasoning parser):
  the engine forces `</think>` once the budget is spent; one request.
- "two_call": the model card's method, for any vLLM: generate with max_tokens = budget; if no `</think>`
  came, append `.\\n</think>\\n\\n` and continue the same assistant turn through /v1/completions. The
  prompt is the server's own rendering (the first call's `prompt_token_ids` plus the generated token ids,
  from `return_token_ids`), so the model's chat template is never re-implemented on the client.
- "auto" picks "server" where the probe found it, else "two_call".
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import openai

from nanokit.endpoint import Endpoint, HasEndpoint, ServerFeatures, endpoint_of
from nanokit.errors import ConfigError, ServerError
from nanokit.parsing import (
    CompletionParser,
    ContentDelta,
    ParseEvent,
    ReasoningDelta,
    ToolCall,
    ToolCallDelta,
)
from nanokit.schema import tool_parameters
from nanokit.toolkit import ToolLike, coerce_call, tool_entries

BudgetMode = Literal["auto", "server", "two_call"]
BUDGET_CLOSER = ".\n</think>\n\n"  # the model card's text for closing a reasoning cut short


@dataclass(frozen=True)
class SamplingPreset:
    name: str
    temperature: float
    top_p: float


# The model card's recommendations: reasoning 1.0/1.0, tool calling 0.6/0.95, non-reasoning greedy.
PRESETS: dict[str, SamplingPreset] = {
    "reasoning": SamplingPreset("reasoning", 1.0, 1.0),
    "tools": SamplingPreset("tools", 0.6, 0.95),
    "plain": SamplingPreset("plain", 0.0, 1.0),
}


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int | None = None  # counted on token ids; None where the server sent none
    requests: int = 0


@dataclass(frozen=True)
class Timings:
    total_s: float
    first_token_s: float | None = None
    first_reasoning_s: float | None = None
    first_answer_s: float | None = None  # first answer text or tool call


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} s"


@dataclass(frozen=True)
class ChatResult:
    reasoning: str
    content: str
    tool_calls: tuple[ToolCall, ...]
    usage: Usage
    timings: Timings
    finish_reason: str | None = None
    budget_closed: bool = False  # True when the client closed the reasoning for a budget

    def describe(self) -> str:
        """One status line: tokens from usage and the stream's timings."""
        usage, timings = self.usage, self.timings
        reasoning = "?" if usage.reasoning_tokens is None else usage.reasoning_tokens
        closed = " · budget closed the reasoning" if self.budget_closed else ""
        return (f"{usage.prompt_tokens} prompt · {usage.completion_tokens} completion ({reasoning} reasoning) tokens"
                f" · first reasoning {_seconds(timings.first_reasoning_s)} · first answer "
                f"{_seconds(timings.first_answer_s)} · total {_seconds(timings.total_s)}{closed}")

    def assistant_message(self, *, carry_reasoning: bool = True) -> dict[str, Any]:
        """The message to append to the history, with the reasoning in vLLM's `reasoning` field.

        vLLM hands that field to the chat template as `reasoning_content`; the released template keeps
        it for the turns after the last user message (a tool-calling trajectory) and truncates it in
        earlier turns, so a history can carry every turn's reasoning and leave the cut to the template.
        """
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if carry_reasoning and self.reasoning:
            message["reasoning"] = self.reasoning
        if self.tool_calls:
            message["tool_calls"] = [call.to_message_entry() for call in self.tool_calls]
        return message


@dataclass(frozen=True)
class Done:
    result: ChatResult


ChatEvent = ReasoningDelta | ContentDelta | ToolCallDelta | Done


def probe_server(endpoint: Endpoint | HasEndpoint, *, refresh: bool = False) -> ServerFeatures:
    """What the server does with reasoning and tools (`Endpoint.features`, cached on the endpoint)."""
    return endpoint_of(endpoint).features(refresh=refresh)


# --- the request ----------------------------------------------------------------------------------


def _as_messages(messages: str | Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    return [dict(m) for m in messages]


@dataclass
class _Turn:
    """What one chat turn has gathered so far across its one or two requests."""

    parser: CompletionParser
    schemas: dict[str, Mapping[str, Any]]
    server_splits: bool  # the server runs a reasoning parser: its `content` is answer, not raw text
    max_tokens: int = 0  # the whole turn's cap, shared by both requests of the two-call budget
    start: float = field(default_factory=time.perf_counter)
    first_token: float | None = None
    first_reasoning: float | None = None
    first_answer: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int | None = None
    requests: int = 0
    finish_reason: str | None = None
    server_calls: dict[int, dict[str, str]] = field(default_factory=dict)
    prompt_ids: list[int] = field(default_factory=list)
    output_ids: list[int] = field(default_factory=list)

    def stamp(self, events: list[ParseEvent]) -> list[ParseEvent]:
        """Note first-token times; drop tool-call events when the request offered no tools."""
        if not self.schemas:
            # A server-side tool parser removes call markup and reports nothing when no tools were
            # offered; the client does the same, so both kinds of server give the same reply.
            events = [event for event in events if not isinstance(event, ToolCallDelta)]
        now = time.perf_counter() - self.start
        for event in events:
            if isinstance(event, ReasoningDelta) and self.first_reasoning is None:
                self.first_reasoning = now
            if isinstance(event, ContentDelta | ToolCallDelta) and self.first_answer is None:
                self.first_answer = now
        return events

    def add_usage(self, usage: Any) -> None:
        self.prompt_tokens = self.prompt_tokens or usage.prompt_tokens
        self.completion_tokens += usage.completion_tokens
        details = getattr(usage, "completion_tokens_details", None)
        counted = getattr(details, "reasoning_tokens", None) if details else None
        if counted is not None and self.reasoning_tokens is None:
            self.reasoning_tokens = counted

    def server_tool_calls(self) -> list[ToolCall]:
        calls = []
        for entry in self.server_calls.values():
            try:
                arguments = json.loads(entry["arguments"] or "{}")
            except json.JSONDecodeError:
                arguments = {"_unparsed": entry["arguments"]}
            call = ToolCall(entry["name"], arguments, **({"id": entry["id"]} if entry["id"] else {}))
            calls.append(dataclasses.replace(call, arguments=coerce_call(call, self.schemas.get(call.name)).values))
        return calls


def _extra(obj: Any, *names: str) -> Any:
    extra = getattr(obj, "model_extra", None) or {}
    for name in names:
        value = getattr(obj, name, None) if name in type(obj).model_fields else extra.get(name)
        if value is not None:
            return value
    return None


def _chat_chunks(turn: _Turn, stream: Any) -> Iterator[ParseEvent]:
    for chunk in stream:
        if chunk.usage:
            turn.add_usage(chunk.usage)
        turn.prompt_ids = turn.prompt_ids or (_extra(chunk, "prompt_token_ids") or [])
        for choice in chunk.choices:
            if turn.first_token is None:
                turn.first_token = time.perf_counter() - turn.start
            turn.output_ids += _extra(choice, "token_ids") or []
            turn.finish_reason = choice.finish_reason or turn.finish_reason
            delta = choice.delta
            reasoning = _extra(delta, "reasoning", "reasoning_content")
            if reasoning:
                yield from turn.stamp(turn.parser.feed_reasoning(reasoning))
            if delta.content:
                feed = turn.parser.feed_content if turn.server_splits else turn.parser.feed
                yield from turn.stamp(feed(delta.content))
            for call in delta.tool_calls or ():
                entry = turn.server_calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
                entry["id"] = entry["id"] or call.id or ""
                name = call.function.name if call.function else None
                arguments = (call.function.arguments if call.function else None) or ""
                entry["name"] += name or ""
                entry["arguments"] += arguments
                yield from turn.stamp([ToolCallDelta(call.index, id=call.id, name=name, arguments=arguments)])


def _completion_chunks(turn: _Turn, stream: Any) -> Iterator[ParseEvent]:
    for chunk in stream:
        if chunk.usage:
            turn.add_usage(chunk.usage)
        for choice in chunk.choices:
            turn.finish_reason = choice.finish_reason or turn.finish_reason
            if choice.text:
                yield from turn.stamp(turn.parser.feed_content(choice.text))


def _reasoning_length(endpoint: Endpoint, turn: _Turn) -> int | None:
    """Reasoning tokens of the first request, counted on its token ids up to the first end marker.

    Exact, where vLLM's own `reasoning_tokens` can come out low (its lexer merges held-back tokens);
    None when the server sent no token ids.
    """
    ids = turn.output_ids
    if not ids:
        return None if turn.completion_tokens else 0
    ends = [list(marker) for marker in endpoint.reasoning_end_ids() if marker]
    for position in range(len(ids)):
        if any(ids[position:position + len(marker)] == marker for marker in ends):
            return position
    return len(ids)


def stream_chat(
    target: Endpoint | HasEndpoint,
    messages: str | Sequence[Mapping[str, Any]],
    *,
    thinking: bool = True,
    reasoning_budget: int | None = None,
    budget_mode: BudgetMode = "auto",
    preset: str | SamplingPreset = "reasoning",
    tools: Iterable[ToolLike | Mapping[str, Any]] | None = None,
    max_tokens: int = 1024,
    seed: int | None = None,
    features: ServerFeatures | None = None,
    extra_body: Mapping[str, Any] | None = None,
    tool_choice: str | Mapping[str, Any] | None = None,
) -> Iterator[ChatEvent]:
    """Stream one assistant turn as typed events; the last one is `Done(result)`.

    `target` is an `Endpoint` (from `attach(...)`) or a `VLLMServer`; `messages` a string or OpenAI messages.
    `reasoning_budget` caps reasoning tokens (thinking on only); `max_tokens` caps the whole turn.
    `features` skips the probe (what `probe_server` would find); `extra_body` adds request fields
    (vLLM sampling extras such as `logit_bias`, `min_tokens`, `repetition_penalty`). `tool_choice` replaces
    the default ("auto", or "none" where the server parses no calls), e.g. a named function
    `{"type": "function", "function": {"name": "f"}}`, which vLLM fulfils with guided decoding.
    """
    endpoint = endpoint_of(target)
    sampling = PRESETS[preset] if isinstance(preset, str) else preset
    entries = tool_entries(tools)
    if reasoning_budget is not None and reasoning_budget < 1:
        raise ConfigError(f"reasoning_budget must be a positive number of tokens; got {reasoning_budget}.")
    if reasoning_budget is not None and reasoning_budget >= max_tokens:
        raise ConfigError(f"reasoning_budget ({reasoning_budget}) must be below max_tokens ({max_tokens}) "
                          "to leave room for the answer.")
    features = features or endpoint.features()
    use_budget = thinking and reasoning_budget is not None
    mode = budget_mode
    if use_budget and mode == "auto":
        mode = "server" if features.thinking_budget else "two_call"
    if use_budget and mode == "server" and not features.thinking_budget:
        raise ConfigError("This server takes no thinking_token_budget (vLLM needs --reasoning-parser); "
                          "use budget_mode='two_call'.")

    schemas = tool_parameters(entries)
    turn = _Turn(CompletionParser(thinking=thinking, tools=entries), schemas, features.reasoning_parser,
                 max_tokens)
    # Special tokens stay in the text, as a server-side parser keeps them (vLLM turns skipping off for
    # its parsers); the client parser then drops the named ones (<s>, <unk>, ...) as vLLM's does.
    body_extra: dict[str, Any] = {"chat_template_kwargs": {"enable_thinking": thinking},
                                  "skip_special_tokens": False, **(extra_body or {})}
    if use_budget and mode == "server":
        body_extra["thinking_token_budget"] = reasoning_budget
    if thinking:  # token ids give the exact reasoning length (and the two-call method its prompt)
        body_extra["return_token_ids"] = True
    request: dict[str, Any] = {
        "model": endpoint.model_name, "messages": _as_messages(messages),
        "max_tokens": reasoning_budget if use_budget and mode == "two_call" else max_tokens,
        "temperature": sampling.temperature, "top_p": sampling.top_p, "stream": True,
        "stream_options": {"include_usage": True}, "extra_body": body_extra,
        **({"seed": seed} if seed is not None else {}),
    }
    if entries:
        request["tools"] = entries
        request["tool_choice"] = tool_choice or ("none" if features.tool_parser is False else "auto")
    client = endpoint.client()
    turn.requests += 1
    yield from _chat_chunks(turn, _open_chat_stream(endpoint, client, request))

    reasoning_tokens = _reasoning_length(endpoint, turn) if thinking else 0
    cut_at_budget = use_budget and mode == "two_call" and turn.finish_reason == "length"
    budget_closed = cut_at_budget and turn.parser.in_reasoning
    if cut_at_budget:  # closed or not, the answer gets the rest of max_tokens in the same turn
        yield from _continue_turn(endpoint, client, turn, request, close_reasoning=budget_closed)
    yield from turn.stamp(turn.parser.finish())
    turn.reasoning_tokens = reasoning_tokens if reasoning_tokens is not None else turn.reasoning_tokens
    yield Done(_result(turn, budget_closed))


def _open_chat_stream(endpoint: Endpoint, client: openai.OpenAI, request: dict[str, Any]) -> Any:
    try:
        return client.chat.completions.create(**request)
    except openai.BadRequestError as exc:
        if not (request.get("tools") and "tool" in str(exc) and "auto" in str(exc)):
            raise
        # No --enable-auto-tool-choice: the template still shows the tools; the client parses the calls.
        endpoint.note_no_tool_parser()
        return client.chat.completions.create(**{**request, "tool_choice": "none"})


def _continue_turn(endpoint: Endpoint, client: openai.OpenAI, turn: _Turn, request: dict[str, Any], *,
                   close_reasoning: bool) -> Iterator[ParseEvent]:
    """The model card's second call: close the reasoning if the budget cut it, and let the same
    assistant turn go on through /v1/completions with the tokens left."""
    if not turn.prompt_ids:
        raise ServerError("The server sent no prompt_token_ids; the two-call reasoning budget needs vLLM's "
                          "return_token_ids (vLLM >= 0.10), or use budget_mode='server'.")
    closer = endpoint.tokenize(BUDGET_CLOSER) if close_reasoning else []
    if close_reasoning:
        yield from turn.stamp(turn.parser.end_reasoning())
    remaining = max(1, turn.max_tokens - turn.completion_tokens - len(closer))
    continuation = client.completions.create(
        model=endpoint.model_name, prompt=turn.prompt_ids + turn.output_ids + closer, max_tokens=remaining,
        temperature=request["temperature"], top_p=request["top_p"], stream=True,
        stream_options={"include_usage": True}, seed=request.get("seed"),
        # at least one answer token: the budget already closed the reasoning, an empty turn helps no one
        extra_body={"min_tokens": 1, "skip_special_tokens": False},
    )
    turn.requests += 1
    yield from _completion_chunks(turn, continuation)


def _result(turn: _Turn, budget_closed: bool) -> ChatResult:
    parsed = turn.parser.result()
    return ChatResult(
        reasoning=parsed.reasoning,
        content=parsed.content,
        tool_calls=tuple(turn.server_tool_calls()) + parsed.tool_calls if turn.schemas else (),
        usage=Usage(turn.prompt_tokens, turn.completion_tokens, turn.reasoning_tokens, turn.requests),
        timings=Timings(time.perf_counter() - turn.start, turn.first_token, turn.first_reasoning,
                        turn.first_answer),
        finish_reason=turn.finish_reason,
        budget_closed=budget_closed,
    )


def chat(target: Endpoint | HasEndpoint, messages: str | Sequence[Mapping[str, Any]], **options: Any) -> ChatResult:
    """One assistant turn as a `ChatResult` (the same stream as `stream_chat`, consumed)."""
    for event in stream_chat(target, messages, **options):
        if isinstance(event, Done):
            return event.result
    raise ServerError("The chat stream ended without a result; the server closed the connection early.")
