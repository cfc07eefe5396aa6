"""Planner numbers against hand arithmetic and what vLLM 0.26.0 logged on an H200 (REFERENCE.md, 'H200 memory figures')."""

import json

import pytest

from nanokit.launch import LaunchSpec
from nanokit.planner import (
    GIB,
    ModelShape,
    count_parameters,
    most_concurrency,
    plan_launch,
    plan_memory,
    weight_bytes,
)

REAL = ModelShape.nemotron_3_nano()


def test_catalog_shape_equals_the_hub_config(tmp_path):
    config = {
        "hybrid_override_pattern": "MEMEM*EMEMEM*EMEMEM*EMEMEM*EMEMEM*EMEMEMEM*EMEMEMEME", "hidden_size": 2688,
        "vocab_size": 131072, "num_attention_heads": 32, "num_key_value_heads": 2, "head_dim": 128,
        "mamba_num_heads": 64, "mamba_head_dim": 64, "ssm_state_size": 128, "conv_kernel": 4, "n_groups": 8,
        "intermediate_size": 1856, "n_routed_experts": 128, "n_shared_experts": 1, "moe_intermediate_size": 1856,
        "moe_shared_expert_intermediate_size": 3712, "num_experts_per_tok": 6, "max_position_embeddings": 262144,
        "mamba_ssm_cache_dtype": "float32", "torch_dtype": "bfloat16", "tie_word_embeddings": False,
    }  # fmt: skip
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert ModelShape.from_config(tmp_path) == REAL


def test_layers_block_type_form():
    kinds = {"M": "mamba", "E": "moe", "*": "attention", "-": "mlp"}
    config = {**REAL.__dict__, "layers_block_type": [kinds[c] for c in REAL.pattern]}
    config.pop("pattern")
    assert ModelShape.from_config(config).pattern == REAL.pattern


def test_parameter_count_is_31_6_billion():
    assert sum(count_parameters(REAL).values()) / 1e9 == pytest.approx(31.6, abs=0.05)


def test_weights_against_vllm_and_docs():
    assert weight_bytes(REAL, "bfloat16") / GIB == pytest.approx(58.92, rel=0.005)  # vLLM logged 58.92 GiB
    assert weight_bytes(REAL, "fp8") / 1e9 == pytest.approx(32, rel=0.05)  # "≈ 32 GB"
    assert 17 <= weight_bytes(REAL, "nvfp4") / 1e9 <= 20  # "≈ 17–20 GB"


def test_kv_and_mamba_hand_arithmetic():
    plan = plan_memory(REAL, gpu_memory_gib=140.4, context=4096)
    assert plan.kv_bytes_per_token == 6 * 2 * 2 * 128 * 2 == 6144
    ssm, conv = 64 * 64 * 128 * 4, (64 * 64 + 2 * 8 * 128) * 3 * 2
    assert plan.mamba_state_bytes_per_seq == 23 * (ssm + conv)
    fp8 = plan_memory(REAL, gpu_memory_gib=140.4, context=4096, kv_cache_dtype="fp8", mamba_ssm_cache_dtype="float16")
    assert fp8.kv_bytes_per_token == 3072
    assert fp8.mamba_state_bytes_per_seq == 23 * (ssm // 2 + conv)


@pytest.mark.parametrize(
    ("kv_dtype", "ssm_dtype", "block"),
    [("auto", "float32", 2096), ("fp8", "float32", 4176), ("auto", "bfloat16", 1072)],
)
def test_block_size_matches_vllm_logs(kv_dtype, ssm_dtype, block):
    plan = plan_memory(REAL, gpu_memory_gib=140.4, context=4096, kv_cache_dtype=kv_dtype,
                       mamba_ssm_cache_dtype=ssm_dtype)  # fmt: skip
    assert plan.block_size == block


def test_h200_bf16_capacity_from_kv_memory_exactly():
    plan = plan_memory(REAL, gpu_memory_gib=140.4, context=4096, kv_cache_memory_bytes=int(66.99 * GIB))
    assert plan.kv_capacity_tokens == 3_812_693
    assert round(plan.max_concurrency, 2) == 930.83


def test_h200_fp8_kv_capacity_from_blocks_exactly():
    probe = plan_memory(REAL, gpu_memory_gib=140.4, context=4096, weight_dtype="fp8", kv_cache_dtype="fp8")
    plan = plan_memory(REAL, gpu_memory_gib=140.4, context=4096, weight_dtype="fp8", kv_cache_dtype="fp8",
                       kv_cache_memory_bytes=6833 * probe.bytes_per_block)  # fmt: skip
    assert plan.kv_capacity_tokens == 5_597_593
    assert round(plan.max_concurrency, 2) == 1366.60


def test_h100_anchor_from_an_older_vllm():
    # vLLM on H100 (a 16-bit SSM cache then) logged 1,072-token blocks and 7.37 GiB KV = 257,280 tokens, which is
    # what the older formula (blocks // groups x block size) gives.
    plan = plan_memory(REAL, gpu_memory_gib=79.65, context=4096, mamba_ssm_cache_dtype="bfloat16",
                       kv_cache_memory_bytes=int(7.37 * GIB))  # fmt: skip
    assert plan.block_size == 1072
    assert plan.legacy_kv_tokens == 257_280


def test_generator_default_spec_end_to_end():
    # The generator's default H200 spec (32k context, --max-num-seqs 64) is the rec server of
    # tests/data/vllm_logs/h200-2026-12-01: vLLM 0.26.0 logged 68.11 GiB, 9,302,835 tokens, 283.90x.
    plan = plan_launch(LaunchSpec(gpu="h200"))
    assert (plan.max_num_seqs, plan.max_num_batched_tokens, plan.max_cudagraph_capture_size) == (64, 8192, 128)
    assert plan.kv_cache_memory_bytes / GIB == pytest.approx(68.11, rel=0.01)
    assert plan.kv_capacity_tokens == pytest.approx(9_302_835, rel=0.01)
    assert "283.9" in plan.explain()


def test_launch_extra_flags_reach_the_plan():
    spec = LaunchSpec(gpu="h200", concurrency=1024)
    default, bigger = plan_launch(spec), plan_launch(spec.with_(extra=("--max-num-batched-tokens=16384",)))
    assert (default.max_num_batched_tokens, bigger.max_num_batched_tokens) == (8192, 16384)
    assert bigger.kv_cache_memory_bytes < default.kv_cache_memory_bytes
    capped = plan_launch(spec.with_(extra=("--max-cudagraph-capture-size", "1024")))
    assert capped.max_cudagraph_capture_size == 1024
    assert capped.overhead_parts["cudagraph"] > default.overhead_parts["cudagraph"]
    eager = plan_launch(spec.with_(extra=("--enforce-eager",)))
    assert eager.max_cudagraph_capture_size == 0 and eager.overhead_parts["cudagraph"] == 0


def test_blackwell_capture_ceiling_and_a100_batch_default():
    assert plan_launch(LaunchSpec(gpu="b200", concurrency=1024)).max_cudagraph_capture_size == 1024
    assert plan_launch(LaunchSpec(gpu="h200", concurrency=1024)).max_cudagraph_capture_size == 512
    assert plan_launch(LaunchSpec(gpu="a100", concurrency=64)).max_num_batched_tokens == 2048


def test_fixed_overhead_still_accepted():
    plan = plan_memory(REAL, gpu_memory_gib=140.4, context=4096, overhead_gib=3.26)
    assert plan.overhead_bytes == int(3.26 * GIB) and plan.overhead_parts == {}
    assert plan.kv_cache_memory_bytes == int(int(140.4 * GIB) * 0.92) - plan.weights_bytes - plan.overhead_bytes


def test_most_concurrency_is_a_fixed_point():
    spec = LaunchSpec(gpu="h200", context=262144, concurrency=1000)
    most = most_concurrency(spec)
    assert plan_launch(spec.with_(concurrency=most)).max_concurrency >= most
    assert plan_launch(spec.with_(concurrency=most + 1)).max_concurrency < most + 1
    assert most_concurrency(spec.with_(concurrency=1)) == most


def test_tensor_parallel_halves_weights_and_kv():
    one = plan_launch(LaunchSpec(gpu="h100", variant="bf16", gpus=1))
    two = plan_launch(LaunchSpec(gpu="h100", variant="bf16", gpus=2))
    # everything halves but the router and the norms, which every GPU holds whole (nanokit.gpu_split)
    replicated = one.weights_parts["router"] + one.weights_parts["norms"]
    assert two.weights_bytes == pytest.approx(one.weights_bytes / 2 + replicated / 2, abs=64)
    assert two.kv_bytes_per_token == one.kv_bytes_per_token // 2
    assert two.max_concurrency > one.max_concurrency


def test_plan_dict_has_the_cli_keys():
    data = plan_launch(LaunchSpec()).to_dict()
    for key in ("weights_bytes", "kv_bytes_per_token", "mamba_state_bytes_per_seq", "kv_capacity_tokens",
                "max_concurrency", "steps"):  # fmt: skip
        assert key in data
