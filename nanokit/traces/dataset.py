"""From a results file to training data and figures: accepted attempts as SFT rows, pass@k, per-problem stats.

SFT rows are chat-format: the problem's messages, then the attempt as one assistant message holding its
reasoning in `reasoning_content` beside `content` (and `tool_calls`), the tools the problem offered under
`tools`, and `metadata.enable_thinking` (whether reasoning was on, the template's switch). That is the field the released
Nemotron-3-Nano template reads: it renders `<think>\\n{reasoning}\\n</think>\\n{content}` for the turns at
or after the last user message, which is where this turn sits, so the reasoning is kept in training
text exactly as the model writes it at serving time (nanokit/tiny/chat_template.jinja states the rules).

pass@k is the unbiased estimator of Chen et al. 2021 ("Evaluating Large Language Models Trained on
Code"): with n attempts of which c passed, pass@k = 1 - C(n-c, k) / C(n, k), computed as a product so
large n does not overflow. Attempts whose verifier could not judge (verifier_error) and failed requests
are left out of n.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean
from typing import Any

from nanokit.errors import ConfigError
from nanokit.traces.results import latest, read_attempts


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of k attempts drawn from n (c of them correct) is correct."""
    if not 0 <= c <= n or k < 1:
        raise ConfigError(f"pass_at_k needs 0 <= c <= n and k >= 1; got n={n}, c={c}, k={k}.")
    if k > n:
        raise ConfigError(f"pass@{k} needs at least {k} attempts per problem; this one has {n}.")
    if n - c < k:
        return 1.0
    product = 1.0
    for i in range(n - c + 1, n + 1):
        product *= 1.0 - k / i
    return 1.0 - product


def _judged(record: Mapping[str, Any]) -> bool:
    verdict = record.get("verdict")
    return record.get("status") == "ok" and bool(verdict) and not verdict.get("verifier_error")


def _passed(record: Mapping[str, Any]) -> bool:
    return _judged(record) and bool(record["verdict"]["passed"])


@dataclass(frozen=True)
class ProblemStats:
    problem_id: str
    attempts: int  # records, failed requests included
    judged: int
    passed: int
    errors: int
    mean_completion_tokens: float | None
    mean_reasoning_tokens: float | None
    mean_seconds: float | None

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.judged if self.judged else None

    def pass_at(self, k: int) -> float | None:
        return pass_at_k(self.judged, self.passed, k) if self.judged >= k else None


def _mean(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return fmean(kept) if kept else None


def problem_stats(records: Iterable[Mapping[str, Any]]) -> list[ProblemStats]:
    """Per-problem counts over the newest record of each attempt, in first-seen problem order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in latest(records):
        groups.setdefault(str(record["problem_id"]), []).append(record)
    stats = []
    for problem_id, group in groups.items():
        ok = [r for r in group if r.get("status") == "ok"]
        stats.append(ProblemStats(
            problem_id, len(group), sum(map(_judged, group)), sum(map(_passed, group)), len(group) - len(ok),
            _mean(r["usage"]["completion_tokens"] for r in ok), _mean(r["usage"]["reasoning_tokens"] for r in ok),
            _mean(r.get("duration_s") for r in ok)))
    return stats


def mean_pass_at(stats: Sequence[ProblemStats], k: int) -> float | None:
    """pass@k averaged over the problems that have at least k judged attempts."""
    return _mean(s.pass_at(k) for s in stats)


def stats_table(stats: Sequence[ProblemStats], ks: Sequence[int] = (1,)) -> str:
    """A plain-text table: one row per problem, then the means."""
    header = ["problem", "attempts", "passed", "errors", *(f"pass@{k}" for k in ks), "tokens", "reasoning"]
    def cell(value: float | None, fmt: str = "{:.3f}") -> str:
        return "–" if value is None else fmt.format(value)
    rows = [[s.problem_id, str(s.attempts), f"{s.passed}/{s.judged}", str(s.errors),
             *(cell(s.pass_at(k)) for k in ks), cell(s.mean_completion_tokens, "{:.0f}"),
             cell(s.mean_reasoning_tokens, "{:.0f}")] for s in stats]
    passed, judged = sum(s.passed for s in stats), sum(s.judged for s in stats)
    rows.append(["mean", str(sum(s.attempts for s in stats)), f"{passed}/{judged}", str(sum(s.errors for s in stats)),
                 *(cell(mean_pass_at(stats, k)) for k in ks), "", ""])
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip()
                     for row in [header, *rows])


def sft_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """One accepted attempt as a chat-format training example (reasoning in the assistant turn)."""
    assistant: dict[str, Any] = {"role": "assistant", "content": record.get("content", "")}
    if record.get("reasoning"):
        assistant["reasoning_content"] = record["reasoning"]
    if record.get("tool_calls"):
        assistant["tool_calls"] = record["tool_calls"]
    row: dict[str, Any] = {"messages": [*record["messages"], assistant]}
    if record.get("tools"):
        row["tools"] = record["tools"]
    thinking = (record.get("sampling") or {}).get("thinking")
    return row | {"metadata": {"problem_id": record["problem_id"], "sample": record["sample"],
                               "model": record.get("model"), "verdict": record["verdict"]["detail"],
                               **({"enable_thinking": thinking} if thinking is not None else {})}}


def accepted(records: Iterable[Mapping[str, Any]], *, per_problem: int | None = None,
             max_pass_rate: float | None = None) -> list[dict[str, Any]]:
    """Attempts a verifier passed (newest record per attempt), at most `per_problem` of each problem.

    `max_pass_rate`: keep only problems whose judged attempts passed at most that share (1.0 keeps every problem).
    A problem every sample solves adds rows the model already writes (their loss is near zero, so they teach
    little and crowd out the problems it solves only sometimes, which is where rejection sampling has signal).
    """
    if max_pass_rate is not None and not 0.0 <= max_pass_rate <= 1.0:
        raise ConfigError(f"max_pass_rate is a share of attempts between 0 and 1, not {max_pass_rate}; pass for "
                          "example max_pass_rate=0.99 to leave out problems every attempt solved.")
    records = latest(records)
    if max_pass_rate is not None:
        tally: dict[str, list[int]] = {}
        for record in records:
            if _judged(record):
                slot = tally.setdefault(str(record["problem_id"]), [0, 0])
                slot[0] += int(_passed(record))
                slot[1] += 1
        records = [r for r in records
                   if (t := tally.get(str(r["problem_id"]))) is not None and t[0] <= max_pass_rate * t[1]]
    kept, counts = [], {}
    for record in records:
        if not _passed(record):
            continue
        problem_id = str(record["problem_id"])
        if per_problem is not None and counts.get(problem_id, 0) >= per_problem:
            continue
        counts[problem_id] = counts.get(problem_id, 0) + 1
        kept.append(record)
    return kept


def export_sft(results_path: str | os.PathLike, out_path: str | os.PathLike, *,
               per_problem: int | None = None, max_pass_rate: float | None = None) -> int:
    """Write the accepted attempts of a results file as SFT JSONL (`accepted` says which); returns the row count."""
    records = accepted(read_attempts(results_path), per_problem=per_problem, max_pass_rate=max_pass_rate)
    rows = [sft_row(r) for r in records]
    out = Path(out_path)
    temporary = out.with_name(f".{out.name}.tmp")
    temporary.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    os.replace(temporary, out)
    return len(rows)
