"""Trace pieces that need no server: results file, verifiers (not code), pass@k, SFT export, problems."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import jinja2
import pytest

from nanokit.errors import ConfigError
from nanokit.traces import (
    Problem,
    ResultsFile,
    accepted,
    export_sft,
    load_problems,
    mean_pass_at,
    pass_at_k,
    pass_rate_figure,
    problem_stats,
    read_attempts,
    stats_table,
    verify,
)

TEMPLATE = Path(__file__).parents[1] / "nanokit" / "tiny" / "chat_template.jinja"


def _record(pid, sample, passed, status="ok", **extra):
    record = {"problem_id": pid, "sample": sample, "status": status, "messages": [{"role": "user", "content": pid}],
              "reasoning": f"think {pid} {sample}", "content": f"answer {sample}", "tool_calls": [],
              "usage": {"completion_tokens": 10, "reasoning_tokens": 4}, "duration_s": 0.5}
    if status == "ok":
        record["verdict"] = {"passed": passed, "detail": "d", "kind": "exact", "verifier_error": False}
    return record | extra


def test_pass_at_k_matches_the_combinatorial_definition():
    for n, c, k in [(10, 3, 1), (10, 3, 5), (20, 0, 4), (5, 5, 2), (7, 2, 6)]:
        exact = 1 - math.comb(n - c, k) / math.comb(n, k)
        assert pass_at_k(n, c, k) == pytest.approx(exact)
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    with pytest.raises(ConfigError, match="at least 5 attempts"):
        pass_at_k(4, 1, 5)


def test_results_file_appends_whole_lines_and_repairs_a_torn_tail(tmp_path):
    path = tmp_path / "results.jsonl"
    with ResultsFile(path) as results:
        results.append(_record("a", 0, True))
        results.append(_record("a", 1, False))
    with open(path, "ab") as handle:
        handle.write(b'{"problem_id": "a", "sample": 2, "sta')  # what a power cut could leave
    assert [r["sample"] for r in read_attempts(path)] == [0, 1]
    with ResultsFile(path) as results:
        assert results.repaired_bytes == len(b'{"problem_id": "a", "sample": 2, "sta')
        assert results.done() == {("a", 0), ("a", 1)}
        results.append(_record("a", 2, True))
    assert path.read_bytes().endswith(b"\n")
    assert [r["sample"] for r in read_attempts(path)] == [0, 1, 2]


def test_errors_are_retried_and_the_newest_record_counts(tmp_path):
    path = tmp_path / "results.jsonl"
    with ResultsFile(path) as results:
        results.append(_record("a", 0, None, status="error", error="ConnectError"))
        assert results.done() == set()
        results.append(_record("a", 0, True))
        assert results.done() == {("a", 0)}
    [stats] = problem_stats(read_attempts(path))
    assert (stats.attempts, stats.passed, stats.errors) == (1, 1, 0)


def test_verifiers_exact_numeric_and_schema():
    assert verify("Let me see.\nParis", {"kind": "exact", "answer": "paris"}).passed
    assert not verify("Lyon", {"kind": "exact", "answer": "Paris"}).passed
    assert verify("so it is \\boxed{12}", {"kind": "exact", "answer": "12", "pattern": r"\\boxed\{(.*?)\}"}).passed
    assert verify("17 + 25 = 42", {"kind": "numeric", "answer": 42}).passed
    assert verify("about 1,234.5 in all", {"kind": "numeric", "answer": 1234.5}).passed
    assert not verify("17 + 25 = 43", {"kind": "numeric", "answer": 42}).passed
    assert not verify("no idea", {"kind": "numeric", "answer": 42}).passed
    schema = {"type": "object", "properties": {"age": {"type": "integer"}}, "required": ["age"]}
    assert verify('```json\n{"age": 3}\n```', {"kind": "json_schema", "schema": schema}).passed
    wrong = verify('{"age": "three"}', {"kind": "json_schema", "schema": schema})
    assert not wrong.passed and "age" in wrong.detail
    assert not verify("not json", {"kind": "json_schema", "schema": schema}).passed
    broken = verify("{}", {"kind": "json_schema", "schema": {"type": 5}})
    assert broken.verifier_error and not broken.passed
    assert verify("x", {"kind": "nope"}).verifier_error


def test_stats_table_figure_and_mean_pass_at(tmp_path):
    records = [_record("a", s, s < 2) for s in range(4)] + [_record("b", s, False) for s in range(4)]
    records.append(_record("b", 4, None, status="error", error="x"))
    stats = problem_stats(records)
    assert [s.pass_rate for s in stats] == [0.5, 0.0]
    assert stats[1].errors == 1 and stats[1].judged == 4
    assert mean_pass_at(stats, 1) == pytest.approx(0.25)
    assert mean_pass_at(stats, 2) == pytest.approx((1 - math.comb(2, 2) / math.comb(4, 2)) / 2)
    table = stats_table(stats, (1, 2))
    assert "pass@2" in table and "2/4" in table and table.splitlines()[-1].startswith("mean")
    figure = pass_rate_figure(stats)
    assert list(figure.data[0].y) == [0.5, 0.0]


def test_export_keeps_accepted_attempts_with_reasoning_in_the_template_form(tmp_path):
    path = tmp_path / "results.jsonl"
    with ResultsFile(path) as results:
        for record in [_record("a", 0, True), _record("a", 1, False), _record("b", 0, True), _record("b", 1, True)]:
            results.append(record)
    assert len(accepted(read_attempts(path), per_problem=1)) == 2
    # problem b passed every attempt: max_pass_rate below 1 keeps only a's accepted attempt
    assert [r["problem_id"] for r in accepted(read_attempts(path), max_pass_rate=0.99)] == ["a"]
    assert len(accepted(read_attempts(path), max_pass_rate=1.0)) == 3
    assert accepted(read_attempts(path), max_pass_rate=0.49) == []  # a passed half its attempts
    with pytest.raises(ConfigError, match="max_pass_rate=0.99"):
        accepted(read_attempts(path), max_pass_rate=99)
    out = tmp_path / "sft.jsonl"
    assert export_sft(path, out) == 3
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assistant = rows[0]["messages"][-1]
    assert assistant == {"role": "assistant", "content": "answer 0", "reasoning_content": "think a 0"}
    # Rendered by the released template's rules, the reasoning stays in the training text.
    environment = jinja2.Environment(extensions=["jinja2.ext.loopcontrols"])
    text = environment.from_string(TEMPLATE.read_text()).render(messages=rows[0]["messages"], tools=None,
                                                                 add_generation_prompt=False)
    assert "<|im_start|>assistant\n<think>\nthink a 0\n</think>\nanswer 0<|im_end|>" in text


def test_problem_files_are_checked(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": "x", "prompt": "hi", "verifier": {"kind": "exact", "answer": "hi"}}\n'
                    '{"id": "y", "messages": [{"role": "user", "content": "yo"}]}\n')
    problems = load_problems(path)
    assert problems[0].messages == ({"role": "user", "content": "hi"},)
    assert problems[1].verifier == {"kind": "none"}
    path.write_text('{"id": "x", "prompt": "a"}\n{"id": "x", "prompt": "b"}\n')
    with pytest.raises(ConfigError, match="appears twice"):
        load_problems(path)
    with pytest.raises(ConfigError, match="exactly one"):
        Problem.from_dict({"id": "z"})
    assert os.path.exists(path)


def test_cli_stats_export_and_triton_problems(tmp_path):
    from typer.testing import CliRunner

    from nanokit.cli import app

    path = tmp_path / "results.jsonl"
    with ResultsFile(path) as results:
        for record in [_record("a", 0, True), _record("a", 1, False)]:
            results.append(record)
    runner = CliRunner()
    shown = runner.invoke(app, ["traces", "stats", str(path), "--k", "1,2", "--plot", str(tmp_path / "p.html")])
    assert shown.exit_code == 0 and "1/2" in shown.output and (tmp_path / "p.html").exists()
    exported = runner.invoke(app, ["traces", "export", str(path), "-o", str(tmp_path / "sft.jsonl")])
    assert exported.exit_code == 0 and "1 accepted" in exported.output
    bad = runner.invoke(app, ["traces", "stats", str(path), "--k", "x"])
    assert bad.exit_code == 1 and "--k takes" in bad.output
    written = runner.invoke(app, ["traces", "triton-problems", "-o", str(tmp_path / "t.jsonl")])
    assert written.exit_code == 0 and len(load_problems(tmp_path / "t.jsonl")) == 5
