"""What a run of the hand-written set records, and the pure functions that turn records into rates.

A `CaseRecord` holds every reply one case drew (two for a two_step case that reached its second call, three
when it reached the final answer; one otherwise), as vLLM's server-side parsers split them: `reasoning`,
`content`, `tool_calls`. `checks()` decides per case which metrics it counts towards and whether each held;
`score()` adds them up; `format_table()` sets them beside issue 18's targets for this set.

What each metric counts (a reply whose request failed passes none of them and is never a "refusal"):

- tool_call: a tool_call case's reply is exactly one call, of the expected tool, whose arguments satisfy
  `arguments_match()`;
- false_refusal: a tool_call case whose reply makes no call at all although a fitting tool was offered
  (lower is better);
- tool_result, greeting, memory: the answer contains every `contains` string, case-insensitively, and makes
  no call;
- refusal: a no_tool case's reply makes no call;
- two_step: both steps' calls are right, and the final answer contains every `contains` string without a call;
- thinking_on: every reply of a case rendered with thinking on has non-empty reasoning and then an answer or
  a call (so the reasoning was closed, and something came after it);
- thinking_off: every reply of a case rendered with thinking off has no reasoning and an answer or a call;
- stream_match: the streamed reply to the case's first request equals the non-streamed one (reasoning,
  content, and calls by name and arguments; call ids are fresh per request, so they are not compared).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nanokit.tiny.handwritten.loader import HandwrittenCase
from nanokit.tiny.handwritten.matching import arguments_match

# Issue 18's targets for the hand-written set: metric -> (threshold, "min" or "max", what it counts).
TARGETS: dict[str, tuple[float, str, str]] = {
    "tool_call": (0.85, "min", "exactly one call, right name, arguments match"),
    "false_refusal": (0.03, "max", "tool_call cases answered with no call at all"),
    "tool_result": (0.85, "min", "answer restates the tool result, no call"),
    "refusal": (0.95, "min", "no offered tool fits: no call"),
    "greeting": (0.0, "min", "greeting answered as expected, no call"),
    "memory": (0.90, "min", "fact from an earlier turn recalled, no call"),
    "two_step": (0.85, "min", "both calls right, final answer restates"),
    "thinking_on": (0.99, "min", "reasoning closed, then an answer or a call"),
    "thinking_off": (0.99, "min", "no reasoning, an answer or a call"),
    "stream_match": (1.00, "min", "streamed reply equals the non-streamed one"),
}
# greeting has no target in issue 18; it is reported, never marked BELOW.
UNTARGETED = {"greeting"}


@dataclass(frozen=True)
class Call:
    """One tool call as the server returned it; `arguments` is the parsed JSON, or None when it did not parse."""

    name: str
    arguments: Any
    raw_arguments: str = field(default="", compare=False)
    id: str = field(default="", compare=False)


@dataclass(frozen=True)
class Reply:
    """One assistant reply; `error` is set (and the rest empty) when the request itself failed."""

    reasoning: str = ""
    content: str = ""
    tool_calls: tuple[Call, ...] = ()
    error: str = ""
    finish_reason: str = field(default="", compare=False)
    completion_tokens: int = field(default=0, compare=False)

    @property
    def answered(self) -> bool:
        return not self.error and (bool(self.content.strip()) or bool(self.tool_calls))


@dataclass(frozen=True)
class CaseRecord:
    """Everything one case drew: its replies in order, and the streamed twin of the first when asked for."""

    case: HandwrittenCase
    replies: tuple[Reply, ...]
    streamed: Reply | None = None


def call_matches(reply: Reply, expected: dict[str, Any], optional_ok: Sequence[str] = ()) -> bool:
    """Exactly one call, of the expected tool, with matching arguments."""
    if reply.error or len(reply.tool_calls) != 1:
        return False
    call = reply.tool_calls[0]
    return call.name == expected["name"] and arguments_match(expected["arguments"], optional_ok, call.arguments)


def contains_all(reply: Reply, needles: Sequence[str]) -> bool:
    """The reply is an answer (no call, no error) holding every string, case-insensitively."""
    text = reply.content.lower()
    return not reply.error and not reply.tool_calls and all(n.lower() in text for n in needles)


def _two_step_passed(case: HandwrittenCase, replies: Sequence[Reply]) -> bool:
    steps = case.expect["steps"]
    if len(replies) != len(steps) + 1:
        return False
    calls_right = all(call_matches(reply, step["call"], step.get("optional_ok", []))
                      for reply, step in zip(replies, steps, strict=False))
    return calls_right and contains_all(replies[-1], case.expect["contains"])


def checks(case: HandwrittenCase, record: CaseRecord) -> dict[str, bool]:
    """The metrics this case counts towards and, for each, whether its event happened (module docstring)."""
    replies = record.replies
    first = replies[0] if replies else Reply(error="no reply recorded")
    expect = case.expect
    result: dict[str, bool] = {}
    if case.kind == "tool_call":
        result["tool_call"] = call_matches(first, expect["call"], expect.get("optional_ok", []))
        result["false_refusal"] = not first.error and not first.tool_calls
    elif case.kind in ("tool_result", "greeting", "memory"):
        result[case.kind] = contains_all(first, expect["contains"])
    elif case.kind == "no_tool":
        result["refusal"] = not first.error and not first.tool_calls
    elif case.kind == "two_step":
        result["two_step"] = _two_step_passed(case, replies)
    if case.enable_thinking:
        result["thinking_on"] = bool(replies) and all(r.answered and r.reasoning.strip() for r in replies)
    else:
        result["thinking_off"] = bool(replies) and all(r.answered and not r.reasoning.strip() for r in replies)
    if record.streamed is not None:
        result["stream_match"] = not first.error and record.streamed == first
    return result


def score(records: Sequence[CaseRecord]) -> dict[str, tuple[int, int]]:
    """metric -> (cases where its event happened, cases it counted), in TARGETS order."""
    totals = {metric: [0, 0] for metric in TARGETS}
    for record in records:
        for metric, happened in checks(record.case, record).items():
            totals[metric][0] += int(happened)
            totals[metric][1] += 1
    return {metric: (hit, counted) for metric, (hit, counted) in totals.items() if counted}


def meets_target(metric: str, hit: int, counted: int) -> bool:
    threshold, direction, _ = TARGETS[metric]
    rate = hit / counted if counted else 0.0
    return rate <= threshold if direction == "max" else rate >= threshold


def _row(metric: str, hit: int, counted: int, *, ascii_only: bool) -> tuple[str, str, str]:
    """(rate, target, mark) for one metric; BELOW means the target is missed, whichever way it points."""
    threshold, direction, _ = TARGETS[metric]
    rate = f"{hit / counted:.1%}"
    if metric in UNTARGETED:
        return rate, "-", ""
    sign = ("<=" if ascii_only else "≤ ") if direction == "max" else (">=" if ascii_only else "≥ ")
    return rate, f"{sign}{threshold:.0%}", "ok" if meets_target(metric, hit, counted) else "BELOW"


def format_table(rates: dict[str, tuple[int, int]]) -> str:
    """A plain-text table: metric, rate, hits/counted, target, ok or BELOW, meaning."""
    lines = [f"{'metric':<14} {'rate':>7} {'count':>9} {'target':>7}  {'':<5}  meaning", "-" * 90]
    for metric, (hit, counted) in rates.items():
        rate, target, mark = _row(metric, hit, counted, ascii_only=True)
        lines.append(f"{metric:<14} {rate:>7} {hit:>4}/{counted:<4} {target:>7}  {mark:<5}  {TARGETS[metric][2]}")
    return "\n".join(lines)


def format_markdown(rates: dict[str, tuple[int, int]]) -> str:
    """The same table as Markdown, for README results and issue notes."""
    lines = ["| metric | rate | count | target | |", "|---|---|---|---|---|"]
    for metric, (hit, counted) in rates.items():
        rate, target, mark = _row(metric, hit, counted, ascii_only=False)
        lines.append(f"| {metric} | {rate} | {hit}/{counted} | {target} | {mark} |")
    return "\n".join(lines)
