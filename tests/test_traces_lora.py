"""Serving fine-tuned weights: LoRA flags per engine and the doctor's rules on LoRA launches."""

from __future__ import annotations

import json

import pytest

from nanokit import LaunchSpec, diagnose
from nanokit.errors import ConfigError
from nanokit.lora import LoRAAdapter, lora_args, read_adapter, renamed_embedding


def _rules(spec: LaunchSpec) -> set[str]:
    return {f.rule for f in diagnose(spec)}


def _adapter(tmp_path, **config):
    tmp_path.joinpath("adapter_config.json").write_text(json.dumps({"r": 8, "target_modules": "all-linear"} | config))
    return str(tmp_path)


def test_lora_args_for_vllm_and_sglang():
    adapters = [LoRAAdapter("math", "/ckpt/math")]
    assert lora_args("vllm", adapters, max_rank=32) == [
        "--enable-lora", "--max-lora-rank", "32", "--max-loras", "1", "--lora-modules", "math=/ckpt/math"]
    assert lora_args("sglang", adapters, target_modules=["q_proj"])[-4:] == [
        "--lora-paths", "math=/ckpt/math", "--lora-target-modules", "q_proj"]
    with pytest.raises(ConfigError, match="round 24 up"):
        lora_args("vllm", adapters, max_rank=24)
    with pytest.raises(ConfigError, match="not 'trtllm'"):
        lora_args("trtllm", adapters)


def test_doctor_flags_what_does_not_work_with_lora(tmp_path):
    path = _adapter(tmp_path)
    base = {"gpu": "h200", "variant": "bf16", "context": 8192, "concurrency": 16}
    good = LaunchSpec(**base, extra=tuple(lora_args("vllm", [LoRAAdapter("a", path)])))
    assert not {r for r in _rules(good) if r.startswith("lora")}
    old = LaunchSpec(**base, engine_version="0.12.0", extra=good.extra)
    assert "lora_needs_newer_vllm" in _rules(old)
    assert "lora_rank_not_allowed" in _rules(LaunchSpec(**base, extra=("--enable-lora", "--max-lora-rank", "24")))
    fp8 = LaunchSpec(**{**base, "variant": "fp8"}, engine_version="0.20.0", extra=good.extra)
    assert fp8.env().get("VLLM_USE_FLASHINFER_MOE_FP8") == "1"
    finding = next(f for f in diagnose(fp8) if f.rule == "lora_with_flashinfer_moe_fp8")
    assert finding.severity == "error"
    newer = LaunchSpec(**{**base, "variant": "fp8"}, extra=good.extra)
    assert "--moe-backend" in newer.argv()
    assert next(f for f in diagnose(newer) if f.rule == "lora_with_flashinfer_moe_fp8").severity == "warning"
    sglang = LaunchSpec(**base, engine="sglang", extra=tuple(lora_args("sglang", [LoRAAdapter("a", path)])))
    assert "lora_sglang_unverified" in _rules(sglang)


def test_doctor_reads_the_adapter_config(tmp_path):
    experts = tmp_path / "experts"
    experts.mkdir()
    _adapter(experts, target_parameters=["mixer.experts.up_proj", "mixer.experts.down_proj"])
    assert read_adapter(experts).routed_experts
    spec = LaunchSpec(gpu="h200", context=8192, concurrency=16, extra=("--enable-lora", "--lora-modules",
                                                                      json.dumps({"name": "e", "path": str(experts)})))
    assert "lora_routed_experts" in _rules(spec)
    wide = tmp_path / "wide"
    wide.mkdir()
    _adapter(wide, r=64)
    spec = LaunchSpec(gpu="h200", context=8192, concurrency=16, extra=("--enable-lora", "--lora-modules", f"w={wide}"))
    finding = next(f for f in diagnose(spec) if f.rule == "lora_rank_over_max")
    assert "--max-lora-rank 64" in finding.message
    attention = tmp_path / "attention"
    attention.mkdir()
    _adapter(attention, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"])
    spec = LaunchSpec(gpu="h200", context=8192, concurrency=16, extra=("--enable-lora", "--lora-modules",
                                                                      f"a={attention}", "--max-lora-rank", "16"))
    assert "lora_without_mamba" in _rules(spec)


def test_a_merged_checkpoint_with_a_renamed_embedding_is_spotted(tmp_path):
    index = {"weight_map": {"backbone.embedding.weight": "a.safetensors", "lm_head.weight": "a.safetensors"}}
    tmp_path.joinpath("model.safetensors.index.json").write_text(json.dumps(index))
    assert renamed_embedding(tmp_path)
    index["weight_map"]["backbone.embeddings.weight"] = index["weight_map"].pop("backbone.embedding.weight")
    tmp_path.joinpath("model.safetensors.index.json").write_text(json.dumps(index))
    assert not renamed_embedding(tmp_path)
