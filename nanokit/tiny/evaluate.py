"""Evaluating the embedded model through a real vLLM server, on two sets that training never sees.

`generated_cases` draws a held-out split from the generator (values, phrasings, tool names and
descriptions on the evaluation side of the hash partition); `handwritten_cases` is the hand-written
set in nanokit/tiny/handwritten/ (never trained on, never used to choose a recipe). Both are `Case`s of
one shape, so one runner scores them. Every request is an ordinary chat request at temperature 0 whose
reply is read back as vLLM's parsers split it (`reasoning`, `content`, `tool_calls`); a two-step case
runs the tool loop, feeding the case's tool results back. `run_case` never raises (a failed request is
a failed record); `score` is a pure function of the records.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from nanokit.tiny.data import KINDS, MIX, Mix, example
from nanokit.tiny.handwritten import HandwrittenCase, load_cases
from nanokit.tiny.handwritten import arguments_match as handwritten_match

# metric -> (threshold, "min" if the rate must reach it, "max" if it must stay under it, what it counts)
TARGETS: dict[str, tuple[float, str, str]] = {
    "tool_call": (0.90, "min", "tool question: exactly one call, right name and arguments"),
    "tool_result": (0.95, "min", "after a tool result: the answer states it, no further call"),
    "thinking_on": (0.99, "min", "reasoning on: reasoning closed, then an answer or a call"),
    "thinking_off": (0.99, "min", "reasoning off: no reasoning, an answer or a call"),
    "stream_match": (1.00, "min", "streamed reply equals the non-streamed one"),
    "memory": (0.90, "min", "a name given earlier is recalled"),
    "refusal": (0.95, "min", "no offered tool fits (or none is needed): no call"),
    "false_refusal": (0.03, "max", "tool question with a fitting tool: no call made"),
    "two_step": (0.85, "min", "both calls right, the answer states the final result"),
    "greeting": (0.0, "min", "a greeting echoes the name (untargeted)"),
}
KIND_METRIC = {"tool_call": "tool_call", "tool_result": "tool_result", "no_tool": "refusal", "greeting": "greeting",
               "memory": "memory", "two_step": "two_step"}
HANDWRITTEN_TARGETS = {"tool_call": 0.85, "tool_result": 0.85}  # the other thresholds are shared


# Both sets share the hand-written set's case shape (id, kind, enable_thinking, tools, messages, expect).
Case = HandwrittenCase


@dataclass(frozen=True)
class Reply:
    reasoning: str = ""
    content: str = ""
    tool_calls: tuple[tuple[str, Any], ...] = ()
    error: str = ""


@dataclass(frozen=True)
class CaseResult:
    case: Any
    replies: tuple[Reply, ...]
    streamed: Reply | None = None
    checks: dict[str, bool] = field(default_factory=dict)


def generated_cases(n: int = 600, seed: int = 1234, mix: Mix = MIX) -> list[Case]:
    """`n` held-out cases, kinds and thinking on/off in rotation; a two-step case stops at its question.
    `mix` is the generator's (data.MIX); data.SHIPPED_MIX draws stage 2's split (the catalogue only)."""
    rng = random.Random(f"eval-{seed}")
    cases = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        ex = example(rng, "eval", kind, thinking=(i // len(KINDS)) % 2 == 0, mix=mix)
        messages = list(ex.messages)
        if kind == "two_step":
            last_user = max(j for j, m in enumerate(messages) if m["role"] == "user")
            messages = messages[:last_user + 1]
        cases.append(Case(f"gen-{i}", kind, ex.enable_thinking, ex.tools, tuple(messages), ex.expect))
    return cases


def handwritten_cases() -> list[Case]:
    return list(load_cases())


def arguments_match(expected: dict[str, Any], optional_ok: Iterable[str], actual: Any) -> bool:
    """The hand-written set's rule for exactly right arguments, applied to both sets."""
    return isinstance(actual, dict) and handwritten_match(expected, optional_ok, actual)


# --- asking ---------------------------------------------------------------------------------------

def _request(case, messages: list[dict[str, Any]], model: str) -> dict[str, Any]:
    request: dict[str, Any] = {
        "model": model, "messages": messages, "temperature": 0, "max_tokens": 300,
        "extra_body": {"chat_template_kwargs": {"enable_thinking": case.enable_thinking}},
    }
    if case.tools:
        request["tools"] = list(case.tools)
    return request


def _reasoning_of(obj: Any) -> str:
    extra = getattr(obj, "model_extra", None) or {}
    return getattr(obj, "reasoning", None) or extra.get("reasoning") or extra.get("reasoning_content") or ""


def _arguments(text: str) -> Any:
    try:
        return json.loads(text or "{}")
    except ValueError:
        return {"<unparsable>": text}


def ask(client, request: dict[str, Any]) -> Reply:
    try:
        message = client.chat.completions.create(**request).choices[0].message
    except Exception as error:  # noqa: BLE001  (a failed request is a failed case, never a crashed run)
        return Reply(error=f"{type(error).__name__}: {error}")
    calls = tuple((c.function.name, _arguments(c.function.arguments)) for c in message.tool_calls or ())
    return Reply(_reasoning_of(message), message.content or "", calls)


def ask_streaming(client, request: dict[str, Any]) -> Reply:
    reasoning, content, calls = [], [], {}
    try:
        for chunk in client.chat.completions.create(**request, stream=True):
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


def _feed_back(reply: Reply, result: str, index: int) -> list[dict[str, Any]]:
    """The model's call turn and the tool's result, as a client sends them in the next request."""
    call_id = f"call_{index}"
    calls = [{"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
             for name, args in reply.tool_calls[:1]]
    turn: dict[str, Any] = {"role": "assistant", "content": reply.content, "tool_calls": calls}
    if reply.reasoning:
        turn["reasoning"] = reply.reasoning
    return [turn, {"role": "tool", "tool_call_id": call_id, "content": result}]


def run_case(client, case, model: str, *, stream_too: bool = False,
             match: Callable[[dict, Iterable[str], Any], bool] = arguments_match) -> CaseResult:
    """Ask the case's question (and, for a two-step case, go round the tool loop); never raises."""
    try:
        messages = [dict(m) for m in case.messages]
        replies = [ask(client, _request(case, messages, model))]
        streamed = ask_streaming(client, _request(case, messages, model)) if stream_too else None
        for index, step in enumerate(case.expect.get("steps", ())):
            if not call_matches(replies[-1], step["call"], match):
                break
            messages += _feed_back(replies[-1], step["result"], index + 1)
            replies.append(ask(client, _request(case, messages, model)))
        return CaseResult(case, tuple(replies), streamed, checks(case, tuple(replies), streamed, match))
    except Exception as error:  # noqa: BLE001  (a broken case is a failed record of its kind's metric)
        failed = (Reply(error=f"{type(error).__name__}: {error}"),)
        return CaseResult(case, failed, None, {KIND_METRIC.get(getattr(case, "kind", ""), "broken_case"): False})


def call_matches(reply: Reply, expected: dict[str, Any], match, optional_ok: Iterable[str] = ()) -> bool:
    if len(reply.tool_calls) != 1 or reply.error:
        return False
    name, arguments = reply.tool_calls[0]
    return name == expected["name"] and match(expected["arguments"], optional_ok, arguments)


def _states(reply: Reply, expected: Iterable[str]) -> bool:
    return not reply.error and not reply.tool_calls and all(text in reply.content for text in expected)


def checks(case, replies: Sequence[Reply], streamed: Reply | None, match) -> dict[str, bool]:
    """Which metrics a case counts towards, and whether it passed each (a pure function)."""
    result: dict[str, bool] = {}
    expect, first = case.expect, replies[0]
    answered = [bool(r.content.strip()) or bool(r.tool_calls) for r in replies]
    if case.enable_thinking:
        result["thinking_on"] = all(bool(r.reasoning.strip()) and a and not r.error for r, a in zip(replies, answered))
    else:
        result["thinking_off"] = all(not r.reasoning.strip() and a and not r.error for r, a in zip(replies, answered))
    if case.kind == "tool_call":
        result["tool_call"] = call_matches(first, expect["call"], match, expect.get("optional_ok", ()))
        result["false_refusal"] = not first.tool_calls and not first.error
    elif case.kind == "tool_result":
        result["tool_result"] = _states(first, expect["contains"])
    elif case.kind == "no_tool":
        result["refusal"] = not first.tool_calls and not first.error
    elif case.kind in ("greeting", "memory"):
        result[case.kind] = _states(first, expect["contains"])
    elif case.kind == "two_step":
        steps = expect["steps"]
        result["two_step"] = (len(replies) == len(steps) + 1
                              and all(call_matches(r, s["call"], match) for r, s in zip(replies, steps))
                              and _states(replies[-1], expect["contains"]))
    if streamed is not None:
        result["stream_match"] = streamed == first
    return result


def missed(checks_of_case: dict[str, bool]) -> list[str]:
    """The metrics a case went the wrong way on: a False where the rate must reach its target, a True where
    it must stay under it (a fitting tool offered and no call made counts towards false_refusal)."""
    return [m for m, held in checks_of_case.items() if held == (m in TARGETS and TARGETS[m][1] == "max")]


def score(results: Sequence[CaseResult]) -> dict[str, tuple[int, int]]:
    """metric -> (cases where it held, cases counted)."""
    totals: dict[str, list[int]] = {}
    for result in results:
        for metric, passed in result.checks.items():
            slot = totals.setdefault(metric, [0, 0])
            slot[0] += int(passed)
            slot[1] += 1
    return {metric: (p, n) for metric, (p, n) in totals.items()}


def threshold(metric: str, handwritten: bool = False) -> float:
    return HANDWRITTEN_TARGETS.get(metric, TARGETS[metric][0]) if handwritten else TARGETS[metric][0]


def meets(metric: str, rate: tuple[int, int], handwritten: bool = False) -> bool:
    passed, counted = rate
    if not counted:
        return False
    value, bound = passed / counted, threshold(metric, handwritten)
    return value <= bound if TARGETS[metric][1] == "max" else value >= bound


def meets_targets(rates: dict[str, tuple[int, int]], handwritten: bool = False) -> bool:
    return all(meets(m, r, handwritten) for m, r in rates.items() if m in TARGETS and m != "greeting")


def format_table(columns: dict[str, dict[str, tuple[int, int]]]) -> str:
    """A table with one column per (label -> rates); a label containing 'hand' uses the hand-written targets."""
    labels = list(columns)
    head = f"{'metric':<14} {'target':>8} " + " ".join(f"{label:>18}" for label in labels) + "  meaning"
    lines = [head, "-" * len(head)]
    for metric, (_, direction, meaning) in TARGETS.items():
        if not any(metric in rates for rates in columns.values()):
            continue
        target = "" if metric == "greeting" else f"{'<=' if direction == 'max' else '>='}{TARGETS[metric][0]:.0%}"
        cells = []
        for label, rates in columns.items():
            if metric not in rates:
                cells.append(f"{'-':>18}")
                continue
            passed, counted = rates[metric]
            hand = "hand" in label
            mark = "" if metric == "greeting" else (" ok" if meets(metric, rates[metric], hand) else " NO")
            cells.append(f"{passed / counted:>7.1%} {passed:>4}/{counted:<4}{mark:>3}" if counted else f"{'-':>18}")
        lines.append(f"{metric:<14} {target:>8} " + " ".join(cells) + f"  {meaning}")
    return "\n".join(lines)


def evaluate(client, model: str, cases: Sequence, *, stream_every: int = 4, workers: int = 8,
             on_result: Callable[[CaseResult], None] | None = None) -> list[CaseResult]:
    """Run `cases` against a served model; every `stream_every`-th is also streamed."""
    def one(item: tuple[int, Any]) -> CaseResult:
        index, case = item
        result = run_case(client, case, model, stream_too=stream_every > 0 and index % stream_every == 0)
        if on_result:
            on_result(result)
        return result

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, enumerate(cases)))
