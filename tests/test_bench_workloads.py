"""Specs for workloads and arrival schedules (no server: a toy tokenizer stands in)."""

from __future__ import annotations

import json
import math
import random
import statistics

import pytest

from nanokit.bench.arrival import arrival_offsets
from nanokit.bench.workloads import CHAT_SET, WorkloadSpec, exact_length_prompt
from nanokit.errors import ConfigError


class MergingTokenizer:
    """Characters are tokens, except that "aa" is one token: decode/encode do not round-trip."""

    def encode(self, text: str) -> list[int]:
        ids, i = [], 0
        while i < len(text):
            if text.startswith("aa", i):
                ids.append(1000)
                i += 2
            else:
                ids.append(ord(text[i]))
                i += 1
        return ids

    def decode(self, ids) -> str:
        return "".join("aa" if t == 1000 else chr(t) for t in ids)


@pytest.mark.parametrize("length", [1, 7, 64, 300])
def test_random_prompts_have_exact_token_length(length):
    tok = MergingTokenizer()
    text = exact_length_prompt(tok, [ord("a"), ord("b"), ord(" ")], length, random.Random(length))
    assert len(tok.encode(text)) == length


def test_random_workload_is_seeded_and_measured():
    tok = MergingTokenizer()
    spec = WorkloadSpec(kind="random", num_prompts=5, input_len=40, output_len=9, seed=3)
    first, again = spec.build(tok), spec.build(tok)
    assert [r.prompt for r in first] == [r.prompt for r in again]
    assert all(r.prompt_len == 40 and r.output_len == 9 for r in first)
    assert len({r.prompt for r in first}) == 5


def test_chat_workload_draws_from_the_built_in_set():
    requests = WorkloadSpec(kind="chat", num_prompts=20, output_len=16).build()
    assert len(requests) == 20 and all(r.prompt in CHAT_SET for r in requests)
    assert requests[0].messages() == [{"role": "user", "content": requests[0].prompt}]


def test_jsonl_workload_reads_prompts_and_messages(tmp_path):
    path = tmp_path / "w.jsonl"
    lines = [{"prompt": "hello there"}, {"messages": [{"role": "user", "content": "hi"}], "output_len": 5}]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n")
    requests = WorkloadSpec(kind="jsonl", path=str(path), num_prompts=10, output_len=8).build(MergingTokenizer())
    assert [r.output_len for r in requests] == [8, 5]
    assert requests[0].prompt_len == len("hello there")
    assert requests[1].messages() == [{"role": "user", "content": "hi"}]


def test_bad_workloads_fail_with_a_sentence(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        WorkloadSpec(kind="jsonl", path=str(tmp_path / "nope.jsonl")).build()
    (tmp_path / "bad.jsonl").write_text("{not json}\n")
    with pytest.raises(ConfigError, match="Line 1"):
        WorkloadSpec(kind="jsonl", path=str(tmp_path / "bad.jsonl")).build()
    with pytest.raises(ConfigError):
        WorkloadSpec(num_prompts=0)
    with pytest.raises(ConfigError, match="tokenizer"):
        WorkloadSpec(kind="random").build(None)


def test_infinite_rate_sends_everything_at_once():
    assert arrival_offsets(4, math.inf) == [0.0] * 4


def test_poisson_schedule_ends_at_n_over_rate_with_exponential_gaps():
    offsets = arrival_offsets(2000, rate=50.0, burstiness=1.0, seed=1)
    assert offsets[-1] == pytest.approx(2000 / 50.0)
    gaps = [b - a for a, b in zip([0.0, *offsets], offsets)]
    cv = statistics.pstdev(gaps) / statistics.mean(gaps)
    assert 0.9 < cv < 1.1  # exponential: coefficient of variation 1


def test_burstiness_changes_the_spread_not_the_rate():
    def cv(b):
        o = arrival_offsets(2000, rate=10.0, burstiness=b, seed=2)
        gaps = [y - x for x, y in zip([0.0, *o], o)]
        return statistics.pstdev(gaps) / statistics.mean(gaps)
    assert cv(0.25) > 1.5
    assert cv(4.0) < 0.6
    even = arrival_offsets(5, rate=2.0, burstiness=math.inf)
    assert even == pytest.approx([0.5, 1.0, 1.5, 2.0, 2.5])
