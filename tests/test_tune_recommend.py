"""recommend(): the planner's settings per goal, capped by memory, with the KV dtype the anchors serve."""

import pytest

from nanokit.catalog import GPUS, VARIANTS
from nanokit.doctor import diagnose
from nanokit.launch import LaunchSpec
from nanokit.tune import Goal, recommend


def errors(spec):
    return [f for f in diagnose(spec) if f.severity == "error"]


def test_h200_bf16_follows_the_measured_points():
    by_goal = {goal: recommend("h200", "bf16", goal, 8192)[0] for goal in ("latency", "balanced", "throughput")}
    assert [by_goal[g].max_num_seqs for g in ("latency", "balanced", "throughput")] == [64, 256, 512]
    assert by_goal["throughput"].max_num_batched_tokens > by_goal["latency"].max_num_batched_tokens
    assert all(s.kv_cache_dtype == "auto" for s in by_goal.values())


def test_quantized_checkpoints_get_an_fp8_kv_cache_with_the_reason():
    for variant, gpu in (("fp8", "h200"), ("nvfp4", "b200")):
        setting, reasons = recommend(gpu, variant, "throughput", 32768)
        assert setting.kv_cache_dtype == "fp8" and any("cookbook" in r for r in reasons)
        assert "fp16_kv_with_quantized_weights" not in {f.rule for f in diagnose(setting.apply(
            LaunchSpec(gpu=gpu, variant=variant, context=32768)))}


def test_slo_takes_the_largest_measured_concurrency_within_the_bounds():
    assert recommend("h200", "bf16", Goal(name="slo", tpot_ms=40, ttft_ms=5000), 8192)[0].max_num_seqs == 512
    assert recommend("h200", "bf16", Goal(name="slo", tpot_ms=10), 32768)[0].max_num_seqs == 64
    setting, reasons = recommend("h200", "bf16", Goal(name="slo", tpot_ms=2), 32768)
    assert setting.max_num_seqs < 64 and any("nanokit tune --goal slo" in r for r in reasons)


def test_a_small_gpu_is_capped_by_what_fits_and_says_so():
    setting, reasons = recommend("h200", "bf16", "throughput", 32768)  # 279 full-length sequences fit
    assert 64 < setting.max_num_seqs < 512 and any("Capped at" in r and "--context" in r for r in reasons)


@pytest.mark.parametrize("goal", ["latency", "balanced", "throughput"])
def test_the_recommendation_is_never_refused_where_the_weights_fit(goal):
    checked = 0
    for gpu in GPUS:
        for variant in VARIANTS:
            base = LaunchSpec(gpu=gpu, variant=variant, context=32768, concurrency=1)
            if errors(base):
                continue  # the GPU cannot serve this checkpoint at all
            setting, reasons = recommend(gpu, variant, goal, 32768)
            spec = setting.apply(base)
            assert not errors(spec), (gpu, variant, errors(spec))
            assert "batches_past_cuda_graphs" not in {f.rule for f in diagnose(spec)}
            assert len(reasons) == 4
            checked += 1
    assert checked >= 6


def test_recommended_spec_fills_only_what_the_user_left_unset():
    from nanokit.tune import recommended_spec

    spec, reasons = recommended_spec(LaunchSpec(gpu="h200", variant="fp8", context=8192), "throughput")
    argv = spec.argv()
    assert spec.concurrency == 512 and spec.kv_cache_dtype == "fp8" and "--max-num-batched-tokens" in argv
    assert len(reasons) == 4
    mine = LaunchSpec(gpu="h200", variant="fp8", context=8192, concurrency=32,
                      extra=("--max-num-batched-tokens", "4096"))
    spec, reasons = recommended_spec(mine, "throughput", user_set={"concurrency"})
    argv = spec.argv()
    assert spec.concurrency == 32 and argv.count("--max-num-batched-tokens") == 1 and "4096" in argv
    assert not any(r.startswith(("--concurrency", "--max-num-batched-tokens")) for r in reasons)
    assert spec.kv_cache_dtype == "fp8"


def test_throughput_takes_larger_chunks_only_where_they_cost_no_sequences():
    roomy, _ = recommend("h200", "bf16", "throughput", 8192)  # 512 fit either way
    assert roomy.max_num_batched_tokens == 16384
    tight, reasons = recommend("h100", "bf16", "throughput", 32768)  # 16,384's activations would cost sequences
    latency, _ = recommend("h100", "bf16", "latency", 32768)
    assert tight.max_num_batched_tokens == 8192 and tight.max_num_seqs >= latency.max_num_seqs
    assert any("Not the offline 16,384" in r for r in reasons)


def test_a_capture_size_the_user_set_is_kept_and_the_planner_covers_its_own_concurrency():
    from nanokit.tune import recommended_spec

    mine = LaunchSpec(gpu="h200", context=2048, concurrency=768, max_cudagraph_capture_size=256)
    spec, reasons = recommended_spec(mine, "throughput", user_set={"concurrency"})
    assert spec.max_cudagraph_capture_size == 256 and "batches_past_cuda_graphs" in {f.rule for f in diagnose(spec)}
    assert not any(r.startswith("--max-cudagraph-capture-size") for r in reasons)
    unset = mine.with_(max_cudagraph_capture_size=None)
    spec, reasons = recommended_spec(unset, "throughput", user_set={"concurrency"})
    assert spec.max_cudagraph_capture_size == 768 and "batches_past_cuda_graphs" not in {f.rule for f in diagnose(spec)}
    assert spec.goal == Goal(name="throughput")


def test_sglang_and_trtllm_keep_their_own_batching_defaults():
    from nanokit.tune import recommended_spec

    for engine in ("sglang", "trtllm"):
        spec, reasons = recommended_spec(LaunchSpec(engine=engine, gpu="h200", variant="fp8"), "throughput")
        assert spec.max_num_batched_tokens is None and spec.max_cudagraph_capture_size is None
        assert [r.split()[0] for r in reasons] == ["--kv-cache-dtype", "--concurrency"]


def test_a_run_card_for_another_goal_or_checkpoint_is_not_used(tmp_path):
    from nanokit.tune import recommended_spec

    card = {"hardware": {"gpu": "H200 141GB"}, "model": "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16",
            "goal": {"name": "throughput", "ttft_ms": None, "tpot_ms": None},
            "chosen": {"concurrency": 200, "setting": {"max_num_seqs": 200, "max_num_batched_tokens": None},
                       "metrics": {"output_throughput": 12000.0, "median_tpot_ms": 20.0, "median_ttft_ms": 900.0}}}
    cards = [(tmp_path / "card.json", card)]
    spec, reasons = recommended_spec(LaunchSpec(gpu="h200"), "throughput", run_cards=cards)
    assert spec.concurrency == 200 and any("measured on this GPU (card.json)" in r for r in reasons)
    assert spec.max_num_batched_tokens == 16384  # the rule: the card had none, and 200 sequences fit with it
    for variant, goal in (("bf16", "latency"), ("fp8", "throughput")):
        spec, reasons = recommended_spec(LaunchSpec(gpu="h200", variant=variant), goal, run_cards=cards)
        assert spec.concurrency != 200 and not any("measured on this GPU" in r for r in reasons)


def test_the_best_of_several_matching_cards_is_used_with_its_caveats(tmp_path):
    from nanokit.tune import recommended_spec

    def card(score, seqs):
        return {"hardware": {"gpu": "H200 141GB"}, "model": "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16",
                "goal": {"name": "throughput", "ttft_ms": None, "tpot_ms": None}, "caveats": ["dummy weights: why"],
                "chosen": {"concurrency": seqs, "score": score, "setting": {"max_num_seqs": seqs,
                                                                            "max_num_batched_tokens": 4096},
                           "metrics": {"output_throughput": score, "median_tpot_ms": 20.0, "median_ttft_ms": 900.0}}}

    cards = [(tmp_path / "a.json", card(11000.0, 100)), (tmp_path / "b.json", card(12000.0, 120))]
    spec, reasons = recommended_spec(LaunchSpec(gpu="h200"), "throughput", run_cards=cards)
    assert spec.concurrency == 120 and spec.max_num_batched_tokens == 4096
    assert any("(b.json)" in r and "caveats: dummy weights." in r for r in reasons)


def test_the_shipped_h200_run_cards_reach_the_generator():
    from nanokit.tune import find_run_cards, recommended_spec

    for goal in ("throughput", "latency"):
        _, reasons = recommended_spec(LaunchSpec(gpu="h200", variant="bf16"), goal, run_cards=find_run_cards())
        assert any(r.startswith("--concurrency") and "measured on this GPU (h200_bf16_tune_" in r for r in reasons)
