"""Running the hand-written set against a served model: `python -m nanokit.tiny.handwritten.evaluate`.

Each case is sent as an ordinary chat request (temperature 0, max_tokens 256, the case's `enable_thinking` as
a chat-template switch, its tools when it offers any) through the openai client, and the reply is read back as
vLLM's server-side parsers split it (`--reasoning-parser nemotron_v3`, `--tool-call-parser qwen3_coder`):
`reasoning`, `content`, `tool_calls` with JSON arguments. A two_step case continues only while its calls are
right: the assistant's call goes back as returned, with its reasoning in the `reasoning` field (vLLM 0.32
hands that field to the template as `reasoning` and `reasoning_content`), followed by the step's result as a
tool message; then the model is asked again.

`run_case` never raises: a failed request is a reply with `error` set, which fails every check. Scoring is
pure and lives in `scoring.py`.

256 output tokens are enough for this model: on the weights shipped in session 5 (measured 2026-12-01, all
144 cases) the longest reply that ended by itself took 109 tokens, reasoning included; the 8 replies that
reached 256 were all repetition loops ("Upq Upq Upq ..."), which no budget would have ended. `report` prints
how many replies stopped at the limit, so a retrained model that thinks longer shows up there.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

from nanokit.tiny.handwritten.loader import HandwrittenCase, load_cases
from nanokit.tiny.handwritten.scoring import (
    TARGETS,
    Call,
    CaseRecord,
    Reply,
    call_matches,
    checks,
    format_markdown,
    format_table,
    score,
)

__all__ = ["CaseRecord", "Reply", "checks", "evaluate", "failed_metrics", "main", "run_case", "score"]

MAX_TOKENS = 256


def chat_request(case: HandwrittenCase, messages: Sequence[dict[str, Any]], model: str) -> dict[str, Any]:
    """The keyword arguments of `client.chat.completions.create` for one turn of a case."""
    request: dict[str, Any] = {
        "model": model, "messages": list(messages), "temperature": 0, "max_tokens": MAX_TOKENS,
        "extra_body": {"chat_template_kwargs": {"enable_thinking": case.enable_thinking}},
    }
    if case.tools:
        request["tools"] = list(case.tools)
    return request


def _reasoning(part: Any) -> str:
    """vLLM's reasoning field on a message or delta (`reasoning`; `reasoning_content` in older releases)."""
    extra = getattr(part, "model_extra", None) or {}
    return getattr(part, "reasoning", None) or extra.get("reasoning") or extra.get("reasoning_content") or ""


def _call(name: str, raw: str, call_id: str) -> Call:
    try:
        arguments = json.loads(raw) if raw else {}
    except ValueError:
        arguments = None
    return Call(name=name, arguments=arguments, raw_arguments=raw, id=call_id)


def ask(client, request: dict[str, Any]) -> Reply:
    """One non-streamed request; a failure comes back as Reply(error=...)."""
    try:
        response = client.chat.completions.create(**request)
    except Exception as error:  # noqa: BLE001  (a failed request is a failed case, never a crashed run)
        return Reply(error=f"{type(error).__name__}: {error}")
    choice = response.choices[0]
    message = choice.message
    calls = tuple(_call(c.function.name, c.function.arguments or "", c.id or "") for c in message.tool_calls or ())
    tokens = response.usage.completion_tokens if response.usage else 0
    return Reply(reasoning=_reasoning(message), content=message.content or "", tool_calls=calls,
                 finish_reason=choice.finish_reason or "", completion_tokens=tokens)


def ask_streamed(client, request: dict[str, Any]) -> Reply:
    """The same request streamed, its deltas joined back into one reply."""
    reasoning: list[str] = []
    content: list[str] = []
    calls: dict[int, dict[str, str]] = {}
    finish = ""
    try:
        for chunk in client.chat.completions.create(**request, stream=True):
            for choice in chunk.choices:
                reasoning.append(_reasoning(choice.delta))
                content.append(choice.delta.content or "")
                for part in choice.delta.tool_calls or ():
                    slot = calls.setdefault(part.index, {"name": "", "arguments": "", "id": ""})
                    slot["id"] = slot["id"] or part.id or ""
                    if part.function is not None:
                        slot["name"] += part.function.name or ""
                        slot["arguments"] += part.function.arguments or ""
                finish = choice.finish_reason or finish
    except Exception as error:  # noqa: BLE001
        return Reply(error=f"{type(error).__name__}: {error}")
    parsed = tuple(_call(s["name"], s["arguments"], s["id"]) for _, s in sorted(calls.items()))
    return Reply(reasoning="".join(reasoning), content="".join(content), tool_calls=parsed, finish_reason=finish)


def _follow_up(reply: Reply, result: str, step: int) -> list[dict[str, Any]]:
    """The assistant's call as returned (reasoning included) and the step's result answering it."""
    call = reply.tool_calls[0]
    call_id = call.id or f"call_{step}"
    assistant: dict[str, Any] = {
        "role": "assistant", "content": reply.content,
        "tool_calls": [{"id": call_id, "type": "function",
                        "function": {"name": call.name, "arguments": call.raw_arguments}}],
    }
    if reply.reasoning:
        assistant["reasoning"] = reply.reasoning
    return [assistant, {"role": "tool", "tool_call_id": call_id, "content": result}]


def _run(client, case: HandwrittenCase, model: str, stream_too: bool) -> CaseRecord:
    messages = [dict(m) for m in case.messages]
    request = chat_request(case, messages, model)
    replies = [ask(client, request)]
    streamed = ask_streamed(client, request) if stream_too else None
    if case.kind == "two_step":
        for number, step in enumerate(case.expect["steps"], start=1):
            if not call_matches(replies[-1], step["call"], step.get("optional_ok", [])):
                break
            messages += _follow_up(replies[-1], step["result"], number)
            replies.append(ask(client, chat_request(case, messages, model)))
    return CaseRecord(case=case, replies=tuple(replies), streamed=streamed)


def run_case(client, case: HandwrittenCase, model: str, *, stream_too: bool = False) -> CaseRecord:
    """Every reply one case draws (module docstring); never raises."""
    try:
        return _run(client, case, model, stream_too)
    except Exception as error:  # noqa: BLE001  (a reply of a shape nobody expected is still one failed case)
        return CaseRecord(case=case, replies=(Reply(error=f"{type(error).__name__}: {error}"),))


def evaluate(client, model: str, cases: Sequence[HandwrittenCase] | None = None, *, stream_every: int = 4,
             workers: int = 8, on_record: Callable[[CaseRecord], None] | None = None) -> list[CaseRecord]:
    """Run `cases` (default: the whole set) in order; every `stream_every`-th case is streamed too."""
    chosen = list(load_cases() if cases is None else cases)

    def one(item: tuple[int, HandwrittenCase]) -> CaseRecord:
        index, case = item
        record = run_case(client, case, model, stream_too=stream_every > 0 and index % stream_every == 0)
        if on_record is not None:
            on_record(record)
        return record

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, enumerate(chosen)))


def failed_metrics(record: CaseRecord) -> list[str]:
    """The metrics this record misses: a ceiling metric (false_refusal) is missed when its event happened."""
    return [metric for metric, happened in checks(record.case, record).items()
            if happened != (TARGETS[metric][1] == "min")]


def _expected(case: HandwrittenCase) -> str:
    expect = case.expect
    if case.kind == "tool_call":
        return json.dumps(expect["call"])
    if case.kind == "two_step":
        return " then ".join(json.dumps(s["call"]) for s in expect["steps"]) + f"; answer has {expect['contains']}"
    if case.kind == "no_tool":
        return "no tool call"
    return f"answer has {expect['contains']}"


def _describe(reply: Reply) -> str:
    if reply.error:
        return f"error {reply.error}"
    calls = "; ".join(f"{c.name}({c.raw_arguments})" for c in reply.tool_calls)
    return (f"reasoning={reply.reasoning[:160]!r} content={reply.content[:200]!r}"
            + (f" calls={calls}" if calls else "") + f" [{reply.finish_reason}, {reply.completion_tokens} tok]")


def describe_failure(record: CaseRecord) -> str:
    """Id, question, expected and got for one failing case, for reading by eye."""
    case = record.case
    question = next((m["content"] for m in reversed(case.messages) if m["role"] == "user"), "")
    thinking = "on" if case.enable_thinking else "off"
    lines = [f"{case.id} [{case.kind}, thinking {thinking}] fails {', '.join(failed_metrics(record))}",
             f"  question: {question!r}", f"  expected: {_expected(case)}"]
    lines += [f"  got[{i}]:   {_describe(reply)}" for i, reply in enumerate(record.replies)]
    if record.streamed is not None and record.streamed != record.replies[0]:
        lines.append(f"  streamed: {_describe(record.streamed)}")
    return "\n".join(lines)


def to_json(records: Sequence[CaseRecord]) -> dict[str, Any]:
    """Rates and every record, as plain data (for --json)."""
    return {
        "rates": {metric: {"hit": hit, "counted": counted} for metric, (hit, counted) in score(records).items()},
        "records": [{"id": r.case.id, "kind": r.case.kind, "enable_thinking": r.case.enable_thinking,
                     "checks": checks(r.case, r), "replies": [asdict(reply) for reply in r.replies],
                     "streamed": asdict(r.streamed) if r.streamed is not None else None} for r in records],
    }


def report(records: Sequence[CaseRecord], *, show_failures: int = 0, markdown: bool = False) -> str:
    """The table, the count of replies cut off at max_tokens, and the first `show_failures` failing cases."""
    rates = score(records)
    replies = [reply for r in records for reply in r.replies]
    truncated = sum(reply.finish_reason == "length" for reply in replies)
    longest = max((reply.completion_tokens for reply in replies if reply.finish_reason != "length"), default=0)
    summary = (f"\n{len(records)} cases, {len(replies)} replies; {truncated} stopped at max_tokens={MAX_TOKENS}; "
               f"the longest that ended by itself took {longest} tokens")
    parts = [format_markdown(rates) if markdown else format_table(rates), summary]
    failing = [r for r in records if failed_metrics(r)]
    if show_failures:
        parts.append(f"\nfailing cases: {len(failing)} (showing {min(show_failures, len(failing))})")
        parts += [describe_failure(r) for r in failing[:show_failures]]
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nanokit.tiny.handwritten.evaluate",
                                     description="Evaluate a served model on the hand-written set (issue 18).")
    parser.add_argument("--model", help="checkpoint directory to serve (default: the embedded model)")
    parser.add_argument("--base-url", help="evaluate a running OpenAI-compatible server instead of starting one")
    parser.add_argument("--show-failures", type=int, default=0, metavar="N", help="print the first N failing cases")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write rates and every record to PATH")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args(argv)

    from nanokit import VLLMServer, attach

    if args.base_url:
        endpoint = attach(args.base_url, model=args.model)
        records = evaluate(endpoint.client(), endpoint.model_name)
    else:
        with VLLMServer(model=args.model) as server:
            records = evaluate(server.client(), server.model_name)
    print(report(records, show_failures=args.show_failures, markdown=args.markdown))
    if args.json:
        args.json.write_text(json.dumps(to_json(records), indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
