"""Every doctor rule, one by one: it fires on the bad combination, stays quiet on the good one, names the fix."""

import pytest

from nanokit.doctor import RULES, check, diagnose, smallest_fitting
from nanokit.errors import ConfigError
from nanokit.launch import LaunchSpec


def rules(spec):
    return {f.rule: f for f in diagnose(spec)}


def test_a_sensible_default_is_clean():
    assert diagnose(LaunchSpec()) == []
    assert check(LaunchSpec()) == []


def test_every_finding_is_one_sentence():
    bad = [LaunchSpec(gpu="h100", variant="nvfp4"), LaunchSpec(gpu="l40s"), LaunchSpec(host="0.0.0.0"),
           LaunchSpec(context=600000, concurrency=4), LaunchSpec(context=4096, concurrency=1024),
           LaunchSpec(gpu="l40s", variant="fp8", context=8192, concurrency=4096)]  # fmt: skip
    for spec in bad:
        for finding in diagnose(spec):
            assert finding.message.endswith(".") and finding.message.count(". ") == 0, finding.message


def test_nvfp4_on_hopper_is_an_error():
    finding = rules(LaunchSpec(gpu="h200", variant="nvfp4"))["nvfp4_needs_blackwell"]
    assert finding.severity == "error" and "Blackwell" in finding.message and "--variant fp8" in finding.message
    assert "nvfp4_needs_blackwell" not in rules(LaunchSpec(gpu="b200", variant="nvfp4"))


def test_fp8_below_sm89_is_an_error():
    finding = rules(LaunchSpec(gpu="a100", variant="fp8"))["fp8_needs_sm89"]
    assert finding.severity == "error" and "8.9" in finding.message and "--variant bf16" in finding.message
    assert "fp8_needs_sm89" not in rules(LaunchSpec(gpu="l40s", variant="fp8", context=8192, concurrency=8))
    assert "fp8_needs_sm89" in rules(LaunchSpec(gpu="custom:80:8.6", variant="fp8"))


def test_weights_that_do_not_fit_name_the_smallest_fit():
    finding = rules(LaunchSpec(gpu="l40s", variant="bf16"))["weights_do_not_fit"]
    assert finding.severity == "error" and "--variant fp8 --gpus 1" in finding.message
    a100 = rules(LaunchSpec(gpu="custom:40:8.0"))["weights_do_not_fit"]  # no FP8 below sm_89
    assert "--variant bf16 --gpus 2" in a100.message
    assert smallest_fitting(LaunchSpec(gpu="custom:4:9.0")) is None
    assert "pick a GPU with more memory" in rules(LaunchSpec(gpu="custom:4:9.0"))["weights_do_not_fit"].message


def test_long_context_is_fixed_with_a_note():
    spec = LaunchSpec(context=524288, concurrency=4)
    finding = rules(spec)["long_context"]
    assert finding.severity == "note" and "VLLM_ALLOW_LONG_MAX_MODEL_LEN=1" in finding.message
    assert spec.env()["VLLM_ALLOW_LONG_MAX_MODEL_LEN"] == "1"
    assert "long_context" not in rules(LaunchSpec(context=262144, concurrency=4))
    assert rules(LaunchSpec(context=2_000_000, concurrency=1))["context_over_1m"].severity == "error"


def test_concurrency_over_the_plan_gives_the_number_that_fits():
    finding = rules(LaunchSpec(gpu="h200", context=262144, concurrency=1000))["concurrency_exceeds_memory"]
    assert finding.severity == "error"
    fits = int(finding.message.split("--concurrency ")[1].split(" ")[0])
    assert "concurrency_exceeds_memory" not in rules(LaunchSpec(gpu="h200", context=262144, concurrency=fits))
    assert "concurrency_exceeds_memory" in rules(LaunchSpec(gpu="h200", context=262144, concurrency=fits + 1))


def test_fp8_kv_with_bf16_weights_is_a_warning():
    assert rules(LaunchSpec(kv_cache_dtype="fp8"))["fp8_kv_with_bf16_weights"].severity == "warning"
    assert "fp8_kv_with_bf16_weights" not in rules(LaunchSpec(variant="fp8", kv_cache_dtype="fp8"))


def test_exposed_host_without_key_is_a_warning():
    assert rules(LaunchSpec(host="0.0.0.0"))["exposed_without_key"].severity == "warning"
    assert rules(LaunchSpec(host="0.0.0.0", api_key="k")) == {}
    assert rules(LaunchSpec(host="localhost")) == {}


def test_sglang_tp_on_an_old_version_is_an_error():
    finding = rules(LaunchSpec(engine="sglang", gpus=2, engine_version="0.5.5"))["sglang_tp_one_only"]
    assert finding.severity == "error" and "TP=1" in finding.message
    assert "sglang_tp_one_only" not in rules(LaunchSpec(engine="sglang", gpus=2))
    assert "sglang_tp_one_only" not in rules(LaunchSpec(engine="sglang", gpus=2, dp=2, engine_version="0.5.5"))


def test_errors_come_first_and_check_raises_the_first():
    spec = LaunchSpec(gpu="h100", variant="nvfp4", kv_cache_dtype="fp8", host="0.0.0.0")
    severities = [f.severity for f in diagnose(spec)]
    assert severities == sorted(severities, key=["error", "warning", "note"].index)
    with pytest.raises(ConfigError, match="Blackwell"):
        check(spec)


def test_every_rule_is_exercised_here():
    names = {rule.__name__ for rule in RULES}
    assert names == {"nvfp4_needs_blackwell", "fp8_needs_ada_or_newer", "weights_fit", "long_context",
                     "concurrency_fits", "fp8_kv_with_bf16_weights", "exposed_without_key", "sglang_tp_one_only",
                     "reasoning_plugin_file", "mamba_blocks_hold_concurrency", "batches_past_cuda_graphs",
                     "fp16_kv_with_quantized_weights",
                     # the split rules, exercised in tests/test_parallel_doctor.py
                     "parallel_sizes_match", "tp_divides_model", "ep_divides_experts", "weights_fit_other_split",
                     "strategy_supported", "multi_node_needs_head",
                     # LoRA rules, exercised in tests/test_traces_lora.py
                     "lora_engine_support", "lora_rank_allowed", "lora_with_flashinfer_fp8", "lora_adapter_targets"}


def test_trtllm_key_is_not_enforced_warning():
    assert rules(LaunchSpec(engine="trtllm", api_key="k"))["trtllm_has_no_api_key"].severity == "warning"


def test_old_vllm_says_where_the_plugin_file_comes_from():
    finding = rules(LaunchSpec(engine_version="0.12.0"))["reasoning_plugin_file"]
    assert finding.severity == "note" and "nano_v3_reasoning_parser.py" in finding.message
    assert "huggingface.co/nvidia/" in finding.message
    assert "reasoning_plugin_file" not in rules(LaunchSpec(engine_version="0.12.0", reasoning=False))


def test_launch_problem_on_this_machine_names_the_fix():
    from nanokit.catalog import custom_gpu
    from nanokit.doctor import launch_problem

    h200 = custom_gpu(140.4, "9.0", name="NVIDIA H200")
    l40s = custom_gpu(44.99, "8.9", name="NVIDIA L40S")
    assert launch_problem(LaunchSpec(), [h200]) is None
    assert "no NVIDIA GPU" in launch_problem(LaunchSpec(), [])
    assert "vLLM only" in launch_problem(LaunchSpec(engine="sglang"), [h200])
    assert "has 1 GPU(s) but the spec asks for 2; pick 1 GPUs" in launch_problem(LaunchSpec(gpus=2), [h200])
    problem = launch_problem(LaunchSpec(), [l40s])
    assert problem.startswith("On this machine's NVIDIA L40S: BF16 weights need") and "--variant fp8" in problem
    assert "Blackwell" in launch_problem(LaunchSpec(variant="nvfp4"), [h200])


def test_max_num_seqs_past_the_graph_capture_size_is_a_warning_with_the_fix():
    finding = rules(LaunchSpec(gpu="h200", context=4096, concurrency=1024))["batches_past_cuda_graphs"]
    assert finding.severity == "warning"
    assert "--concurrency 512" in finding.message and "--max-cudagraph-capture-size 1024" in finding.message
    assert "batches_past_cuda_graphs" not in rules(LaunchSpec(gpu="h200", context=4096, concurrency=512))
    raised = LaunchSpec(gpu="h200", context=4096, concurrency=1024, extra=("--max-cudagraph-capture-size", "1024"))
    assert "batches_past_cuda_graphs" not in rules(raised)
    # data-centre Blackwell captures up to 1024 by default; fewer batched tokens cap the graphs below max-num-seqs
    assert "batches_past_cuda_graphs" not in rules(LaunchSpec(gpu="b200", context=4096, concurrency=1024))
    capped = LaunchSpec(gpu="h200", context=4096, concurrency=256, extra=("--max-num-batched-tokens=128",))
    assert "--concurrency 128" in rules(capped)["batches_past_cuda_graphs"].message
    assert "batches_past_cuda_graphs" not in rules(capped.with_(extra=(*capped.extra, "--enforce-eager")))


def test_graph_capture_size_follows_vllms_default():
    from nanokit.doctor import graph_capture_size

    assert graph_capture_size(LaunchSpec(concurrency=64)) == 128
    assert graph_capture_size(LaunchSpec(concurrency=300)) == 512
    assert graph_capture_size(LaunchSpec(gpu="b200", concurrency=2000)) == 1024
    assert graph_capture_size(LaunchSpec(concurrency=64, extra=("--max-cudagraph-capture-size", "32"))) == 32


def test_more_sequences_than_mamba_blocks_is_vllms_start_up_error():
    spec = LaunchSpec(gpu="l40s", variant="fp8", kv_cache_dtype="fp8", context=8192, concurrency=4096)
    found = rules(spec)
    finding = found["mamba_blocks_short"]
    assert finding.severity == "error" and "exceeds available Mamba cache blocks" in finding.message
    assert "concurrency_exceeds_memory" not in found  # one error for one cause
    fits = int(finding.message.split("--concurrency ")[1].split(" ")[0])
    assert fits > 1 and not [f for f in diagnose(spec.with_(concurrency=fits)) if f.severity == "error"]
    with pytest.raises(ConfigError, match="Mamba cache blocks"):
        check(spec)


def test_quantized_weights_with_a_16_bit_kv_cache_get_a_note():
    for variant, gpu in (("fp8", "h200"), ("nvfp4", "b200")):
        finding = rules(LaunchSpec(gpu=gpu, variant=variant))["fp16_kv_with_quantized_weights"]
        assert finding.severity == "note" and "--kv-cache-dtype fp8" in finding.message
        assert "fp16_kv_with_quantized_weights" not in rules(LaunchSpec(gpu=gpu, variant=variant, kv_cache_dtype="fp8"))
    assert "fp16_kv_with_quantized_weights" not in rules(LaunchSpec(variant="bf16"))
