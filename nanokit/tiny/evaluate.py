"""Evaluating the embedded model through a real vLLM server, on a held-out synthetic set.

Every case is an ordinary chat request (temperature 0) whose reply is read back as vLLM's parsers
split it: `reasoning`, `content`, `tool_calls`. `run_case` never raises (a failed request is a failed
record); `score` is a pure function of the records, so the rates can be tested without a server.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from nanokit.tiny.data import Example, example

# Issue 4's targets: (metric, threshold, what it counts).
TARGETS: dict[str, tuple[float, str]] = {
    "thinking_on": (0.95, "reasoning on: non-empty reasoning and non-empty content or a tool call"),
    "thinking_off": (0.95, "reasoning off: no reasoning"),
    "tool_call": (0.90, "tool question: exactly one call, right name and arguments"),
    "tool_result": (0.90, "after a tool result: the answer contains the result"),
    "stream_match": (1.00, "streamed reply equals the non-streamed one"),
}
EXTRA = {
    "memory": "name remembered across turns",
    "greeting": "greeting echoes the name",
    "missing_tool": "no call when the needed tool is not offered",
}
FAMILY_MIX = ("tool_call", "tool_result", "greeting", "fact", "memory", "missing_tool")


@dataclass(frozen=True)
class Reply:
    reasoning: str = ""
    content: str = ""
    tool_calls: tuple[tuple[str, dict[str, Any]], ...] = ()
    error: str = ""


@dataclass(frozen=True)
class CaseResult:
    example: Example
    reply: Reply
    streamed: Reply | None = None
    checks: dict[str, bool] = field(default_factory=dict)


def eval_examples(n: int, seed: int = 1234) -> list[Example]:
    """`n` held-out examples, families and thinking on/off in rotation (values never seen in training)."""
    rng = random.Random(f"eval-{seed}")
    return [example(rng, "eval", FAMILY_MIX[i % len(FAMILY_MIX)], thinking=(i // len(FAMILY_MIX)) % 2 == 0)
            for i in range(n)]


def _request(ex: Example, model: str) -> dict[str, Any]:
    request: dict[str, Any] = {
        "model": model, "messages": list(ex.messages), "temperature": 0, "max_tokens": 256,
        "extra_body": {"chat_template_kwargs": {"enable_thinking": ex.enable_thinking}},
    }
    if ex.tools:
        request["tools"] = list(ex.tools)
    return request


def _reasoning_of(obj: Any) -> str:
    extra = getattr(obj, "model_extra", None) or {}
    return getattr(obj, "reasoning", None) or extra.get("reasoning") or extra.get("reasoning_content") or ""


def _arguments(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {"<unparsable>": text}
    return value if isinstance(value, dict) else {"<not an object>": value}


def ask(client, ex: Example, model: str) -> Reply:
    try:
        message = client.chat.completions.create(**_request(ex, model)).choices[0].message
    except Exception as error:  # noqa: BLE001  (a failed request is a failed case, never a crashed run)
        return Reply(error=f"{type(error).__name__}: {error}")
    calls = tuple((c.function.name, _arguments(c.function.arguments)) for c in message.tool_calls or ())
    return Reply(_reasoning_of(message), message.content or "", calls)


def ask_streaming(client, ex: Example, model: str) -> Reply:
    reasoning, content, calls = [], [], {}
    try:
        for chunk in client.chat.completions.create(**_request(ex, model), stream=True):
            if not chunk.choices:
                continue
            delta = chunk.choices[0].delta
            reasoning.append(_reasoning_of(delta))
            content.append(delta.content or "")
            for call in delta.tool_calls or ():
                slot = calls.setdefault(call.index, ["", ""])
                if call.function and call.function.name:
                    slot[0] += call.function.name
                if call.function and call.function.arguments:
                    slot[1] += call.function.arguments
    except Exception as error:  # noqa: BLE001
        return Reply(error=f"{type(error).__name__}: {error}")
    parsed = tuple((name, _arguments(args)) for name, args in (calls[i] for i in sorted(calls)))
    return Reply("".join(reasoning), "".join(content), parsed)


def checks(ex: Example, reply: Reply, streamed: Reply | None) -> dict[str, bool]:
    """Which metrics this case counts towards, and whether it passed each."""
    result: dict[str, bool] = {}
    answered = bool(reply.content.strip()) or bool(reply.tool_calls)
    if ex.enable_thinking:
        result["thinking_on"] = bool(reply.reasoning.strip()) and answered and not reply.error
    else:
        result["thinking_off"] = not reply.reasoning.strip() and answered and not reply.error
    if ex.family == "tool_call" and ex.tool_call:
        result["tool_call"] = reply.tool_calls == ((ex.tool_call.name, ex.tool_call.arguments),)
    if ex.family == "tool_result":
        result["tool_result"] = ex.expect_in_content in reply.content and not reply.tool_calls
    if ex.family in ("memory", "greeting") and ex.expect_in_content:
        result[ex.family] = ex.expect_in_content in reply.content
    if ex.family == "missing_tool":
        result["missing_tool"] = not reply.tool_calls
    if streamed is not None:
        result["stream_match"] = streamed == reply
    return result


def run_case(client, ex: Example, model: str, *, stream_too: bool = False) -> CaseResult:
    reply = ask(client, ex, model)
    streamed = ask_streaming(client, ex, model) if stream_too else None
    return CaseResult(ex, reply, streamed, checks(ex, reply, streamed))


def score(results: Sequence[CaseResult]) -> dict[str, tuple[int, int]]:
    """metric -> (passed, counted)."""
    totals: dict[str, list[int]] = {}
    for result in results:
        for metric, passed in result.checks.items():
            slot = totals.setdefault(metric, [0, 0])
            slot[0] += int(passed)
            slot[1] += 1
    return {metric: (p, n) for metric, (p, n) in totals.items()}


def meets_targets(rates: dict[str, tuple[int, int]]) -> bool:
    return all(p / n >= TARGETS[m][0] for m, (p, n) in rates.items() if m in TARGETS and n)


def format_table(rates: dict[str, tuple[int, int]]) -> str:
    lines = [f"{'metric':<14} {'rate':>7} {'passed':>9} {'target':>7}  meaning", "-" * 92]
    for metric, (threshold, meaning) in list(TARGETS.items()) + [(m, (None, t)) for m, t in EXTRA.items()]:
        if metric not in rates:
            continue
        passed, counted = rates[metric]
        rate = passed / counted if counted else 0.0
        target = "" if threshold is None else f">={threshold:.0%}"
        mark = "" if threshold is None else ("ok" if rate >= threshold else "BELOW")
        lines.append(f"{metric:<14} {rate:>7.1%} {passed:>4}/{counted:<4} {target:>7}  {meaning} {mark}")
    return "\n".join(lines)


def evaluate(client, model: str, n: int = 120, *, seed: int = 1234, stream_every: int = 4, workers: int = 8,
             on_result: Callable[[CaseResult], None] | None = None) -> list[CaseResult]:
    """Run `n` held-out cases against a served model; every `stream_every`-th is also streamed."""
    cases = eval_examples(n, seed)

    def one(item: tuple[int, Example]) -> CaseResult:
        index, ex = item
        result = run_case(client, ex, model, stream_too=stream_every > 0 and index % stream_every == 0)
        if on_result:
            on_result(result)
        return result

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, enumerate(cases)))
