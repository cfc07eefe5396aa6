"""Doctor rules on serving fine-tuned weights: LoRA flags passed in `extra`, and the adapters they name.

Facts and sources: nanokit/lora.py, and each rule's docstring.
"""

from __future__ import annotations

import json
import os

from nanokit.doctor.engine_flags import extra_flag
from nanokit.doctor.finding import Finding
from nanokit.launch import LaunchSpec
from nanokit.lora import VLLM_LORA_RANKS, VLLM_NEMOTRON_H_LORA_SINCE, read_adapter
from nanokit.planner import MemoryPlan

__all__ = ["lora_adapter_targets", "lora_engine_support", "lora_rank_allowed", "lora_with_flashinfer_fp8"]


def _lora_modules(spec: LaunchSpec) -> list[str]:
    """The adapter paths after --lora-modules (NAME=PATH or vLLM's JSON form) or SGLang's --lora-paths."""
    paths, taking = [], False
    for arg in spec.extra:
        if arg in ("--lora-modules", "--lora-paths"):
            taking = True
        elif arg.startswith("--"):
            taking = False
        elif taking:
            try:
                entry = json.loads(arg)
                paths.append(entry["path"] if isinstance(entry, dict) else arg)
            except (ValueError, KeyError):
                paths.append(arg.split("=", 1)[-1])
    return paths


def lora_engine_support(spec: LaunchSpec, plan: MemoryPlan) -> Finding | None:
    """vLLM before Nemotron-H LoRA (vllm#30802), SGLang without it, TensorRT-LLM without routed experts (#12154)."""
    if "--enable-lora" not in spec.extra:
        return None
    version = spec.version
    if spec.engine == "vllm" and version is not None and version < VLLM_NEMOTRON_H_LORA_SINCE:
        return Finding("error", "lora_needs_newer_vllm",
                       f"vLLM {spec.engine_version} has no LoRA for Nemotron-H (added by vllm#30802); use vLLM "
                       f"{'.'.join(map(str, VLLM_NEMOTRON_H_LORA_SINCE))} or newer, or serve the merged checkpoint.")
    if spec.engine == "sglang":
        return Finding("warning", "lora_sglang_unverified",
                       "No Nemotron-H LoRA support was found for SGLang (its issues and docs, 2026-12-01); serve "
                       "the merged checkpoint with SGLang, or the adapter with vLLM.")
    return None


def lora_rank_allowed(spec: LaunchSpec, plan: MemoryPlan) -> Finding | None:
    """vLLM 0.32's MaxLoRARanks: 1, 8, 16, 32, 64, 128, 256, 320, 512."""
    rank = extra_flag(spec, "--max-lora-rank")
    if spec.engine == "vllm" and rank is not None and rank not in VLLM_LORA_RANKS:
        return Finding("error", "lora_rank_not_allowed",
                       f"vLLM takes --max-lora-rank {', '.join(map(str, VLLM_LORA_RANKS))}, not {rank}; round up "
                       "to the next of those.")
    return None


def lora_with_flashinfer_fp8(spec: LaunchSpec, plan: MemoryPlan) -> Finding | None:
    """vllm#30802: LoRA on Nemotron-H raises with VLLM_USE_FLASHINFER_MOE_FP8=1 (the env form, vLLM < 0.30).

    Newer vLLM picks the MoE backend with --moe-backend and lets LoRA through only where the backend's
    experts support it (LoRAExpertsMixin in vLLM 0.32); whether flashinfer_cutlass does is not established
    here, so that form is a warning.
    """
    if spec.engine != "vllm" or "--enable-lora" not in spec.extra:
        return None
    if spec.env().get("VLLM_USE_FLASHINFER_MOE_FP8") == "1":
        return Finding("error", "lora_with_flashinfer_moe_fp8",
                       "vLLM refuses LoRA on Nemotron-H with VLLM_USE_FLASHINFER_MOE_FP8=1 (vllm#30802); unset it "
                       "for the LoRA server (the FP8 MoE then runs on vLLM's default backend).")
    argv = spec.argv()
    if any(argv[i] == "--moe-backend" and argv[i + 1].startswith("flashinfer") for i in range(len(argv) - 1)):
        return Finding("warning", "lora_with_flashinfer_moe_fp8",
                       "LoRA with the FlashInfer MoE backend was refused on Nemotron-H when LoRA was added "
                       "(vllm#30802); if vLLM will not start, pass --moe-backend triton for the LoRA server.")
    return None


def lora_adapter_targets(spec: LaunchSpec, plan: MemoryPlan) -> Finding | None:
    """Local adapters: routed-expert LoRA (vllm#47088), a rank over --max-lora-rank, no Mamba modules (trl#6773)."""
    max_rank = extra_flag(spec, "--max-lora-rank") or 16
    for path in _lora_modules(spec):
        if not os.path.isfile(os.path.join(path, "adapter_config.json")):
            continue
        adapter = read_adapter(path)
        if adapter.routed_experts and spec.engine == "vllm":
            return Finding("error", "lora_routed_experts",
                           f"The adapter at {path} targets the routed experts (target_parameters), which vLLM does "
                           "not load for Nemotron-H (vllm#47088); merge it into the weights and serve those.")
        if spec.engine == "vllm" and adapter.rank is not None and adapter.rank > max_rank:
            return Finding("error", "lora_rank_over_max",
                           f"The adapter at {path} has rank {adapter.rank}, above --max-lora-rank {max_rank}; pass "
                           f"--max-lora-rank {min(r for r in VLLM_LORA_RANKS if r >= adapter.rank)}.")
        if adapter.misses_mamba:
            return Finding("warning", "lora_without_mamba",
                           f"The adapter at {path} leaves the Mamba layers (in_proj, out_proj) frozen, most of the "
                           "model; train with them in target_modules (trl#6773).")
    return None
