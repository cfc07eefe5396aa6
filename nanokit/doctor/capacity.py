"""Doctor rules on what one GPU can run and hold: the weights' number format, the weights, the context, the sequences.

Facts these rules rest on:

- NVFP4 weights need a Blackwell GPU (compute capability 10.0 or newer); FP8 weights need 8.9 or newer.
- Mamba blocks (vLLM 0.32's source, vllm/config/vllm.py): with full CUDA graphs each decoding sequence holds one
  block of the KV-cache pool, and vLLM refuses to start with "max_num_seqs (N) exceeds available Mamba cache
  blocks (B)" (vllm#34094, vllm#49064).
"""

from __future__ import annotations

from math import floor
from typing import Any

from nanokit.catalog import GIB, VARIANTS
from nanokit.doctor.finding import Finding
from nanokit.launch import LONG_CONTEXT, LaunchSpec
from nanokit.planner import MemoryPlan, most_concurrency, plan_launch

__all__ = ["MAX_CONTEXT", "concurrency_fits", "fp8_needs_ada_or_newer", "long_context", "mamba_blocks_hold_concurrency",
           "nvfp4_needs_blackwell", "smallest_fitting", "weights_fit"]

MAX_CONTEXT = 1048576


def nvfp4_needs_blackwell(spec: LaunchSpec, plan: MemoryPlan) -> Finding | None:
    gpu = spec.gpu_info
    if spec.variant == "nvfp4" and not gpu.is_blackwell:
        return Finding("error", "nvfp4_needs_blackwell",
                       f"NVFP4 weights need a Blackwell GPU (compute capability 10.0 or newer) but the "
                       f"{gpu.name} is {gpu.compute_capability_text}; use --variant fp8 or a B200/GB200/RTX PRO 6000.")
    return None


def fp8_needs_ada_or_newer(spec: LaunchSpec, plan: MemoryPlan) -> Finding | None:
    gpu = spec.gpu_info
    if spec.variant == "fp8" and not gpu.supports_fp8:
        return Finding("error", "fp8_needs_sm89",
                       f"FP8 weights need compute capability 8.9 or newer but the {gpu.name} is "
                       f"{gpu.compute_capability_text}; use --variant bf16 on this GPU.")
    return None


def smallest_fitting(spec: LaunchSpec, config: Any = None) -> LaunchSpec | None:
    """The spec with the fewest GPUs (then the largest weights) whose weights fit, on the same GPU model."""
    for gpus in (1, 2, 4, 8):
        for key in VARIANTS:  # bf16, fp8, nvfp4: prefer the highest precision that fits
            if key == "nvfp4" and not spec.gpu_info.is_blackwell or key == "fp8" and not spec.gpu_info.supports_fp8:
                continue
            candidate = spec.with_(gpus=gpus, tp=None, dp=1, variant=key, model=None)
            plan = plan_launch(candidate, config)
            if plan.weights_bytes + plan.overhead_bytes < plan.usable_bytes:
                return candidate
    return None


def weights_fit(spec: LaunchSpec, plan: MemoryPlan) -> Finding | None:
    if plan.weights_bytes + plan.overhead_bytes < plan.usable_bytes:
        return None
    need, have = plan.weights_bytes / GIB, (plan.usable_bytes - plan.overhead_bytes) / GIB
    fit = smallest_fitting(spec)
    fix = ("no configuration of this GPU model up to 8 GPUs fits; pick a GPU with more memory" if fit is None
           else f"the smallest that fits is --variant {fit.variant} --gpus {fit.gpus}")
    return Finding("error", "weights_do_not_fit",
                   f"{spec.variant_info.label} weights need {need:.1f} GiB per GPU but the {spec.gpu_info.name} leaves "
                   f"{have:.1f} GiB for them at TP {spec.tensor_parallel}; {fix}.")


def long_context(spec: LaunchSpec, plan: MemoryPlan) -> Finding | None:
    if spec.context > MAX_CONTEXT:
        return Finding("error", "context_over_1m",
                       f"A context of {spec.context:,} tokens is past the model's 1M ({MAX_CONTEXT:,}) maximum; "
                       f"pass --context {MAX_CONTEXT} or less.")
    if not spec.long_context:
        return None
    variable = next(iter(k for k in spec.env() if "LONG" in k), None)
    if variable is None:
        return Finding("note", "long_context",
                       f"A context of {spec.context:,} tokens is past the config's 256k ({LONG_CONTEXT:,}); "
                       f"{spec.engine} takes it from max_seq_len, and accuracy past 256k is the model's, not ours.")
    return Finding("note", "long_context",
                   f"A context of {spec.context:,} tokens is past the config's 256k ({LONG_CONTEXT:,}), so the "
                   f"command sets {variable}=1 for you; drop to --context {LONG_CONTEXT} to do without it.")


def concurrency_fits(spec: LaunchSpec, plan: MemoryPlan) -> Finding | None:
    if not plan.fits and plan.num_blocks == 0 or _mamba_blocks_short(spec, plan):
        return None  # weights_fit or mamba_blocks_hold_concurrency already says why
    most = floor(plan.max_concurrency)
    if spec.concurrency <= most:
        return None
    most = most_concurrency(spec)  # re-planned there: max-num-seqs itself moves the memory left for the cache
    if most < 1:
        return Finding("error", "concurrency_exceeds_memory",
                       f"Not even one {spec.context:,}-token sequence fits in the KV cache left after the weights; "
                       f"shorten --context or add GPUs.")
    return Finding("error", "concurrency_exceeds_memory",
                   f"{spec.concurrency} sequences of {spec.context:,} tokens need more KV cache and Mamba state than "
                   f"the {plan.kv_cache_memory_bytes / GIB:.1f} GiB left after the weights; at most {most} fit, so "
                   f"pass --concurrency {most} (or shorten --context).")


def _mamba_blocks_short(spec: LaunchSpec, plan: MemoryPlan) -> bool:
    return (spec.engine == "vllm" and spec.device != "cpu" and spec.concurrency is not None
            and plan.num_blocks > 0 and spec.concurrency > plan.num_blocks)


def mamba_blocks_hold_concurrency(spec: LaunchSpec, plan: MemoryPlan) -> Finding | None:
    if not _mamba_blocks_short(spec, plan):
        return None
    fits = max(1, floor(plan.max_concurrency))
    return Finding("error", "mamba_blocks_short",
                   f"vLLM refuses to start with \"max_num_seqs ({spec.concurrency}) exceeds available Mamba cache "
                   f"blocks ({plan.num_blocks:,})\" because every running sequence holds one block; pass "
                   f"--concurrency {fits} (what fits at --context {spec.context}) or raise --gpu-memory-utilization.")
