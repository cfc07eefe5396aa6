"""Doctor rules on the engine's flags and versions: CUDA-graph batch sizes, the KV-cache dtype, the API key,
what an engine version supports, and the reasoning-parser plugin file.

Facts these rules rest on (vLLM 0.32's source, vllm/config/vllm.py and vllm/config/compilation.py):

- CUDA graphs: unless `--max-cudagraph-capture-size` is given, vLLM captures batches up to
  min(2 x max_num_seqs, 512), or 1024 on data-centre Blackwell (compute capability 10.x), and never past
  `--max-num-batched-tokens`; a larger batch runs without graphs. Measured on an H200 (vLLM 0.26.0, random
  1024 in / 1024 out): `--max-num-seqs 1024` gave 13,422 output tok/s at concurrency 512 and 8,442 at 1024.
- FP8 and NVFP4 checkpoints are served with an FP8 KV cache by the vLLM recipe, the model's documentation and
  NVIDIA's cookbook.
"""

from __future__ import annotations

from nanokit.doctor.finding import Finding
from nanokit.launch import NANO_V3_PLUGIN_URL, SGLANG_MULTI_TP_SINCE, LaunchSpec
from nanokit.planner import MemoryPlan
from nanokit.process import is_loopback

__all__ = ["batches_past_cuda_graphs", "exposed_without_key", "extra_flag", "fp8_kv_with_bf16_weights",
           "fp16_kv_with_quantized_weights", "graph_capture_size", "reasoning_plugin_file", "sglang_tp_one_only"]


def extra_flag(spec: LaunchSpec, name: str) -> int | None:
    """The whole-number value of an engine flag passed through `extra` (`--name N` or `--name=N`)."""
    words = list(spec.extra)
    for i, word in enumerate(words):
        value = words[i + 1] if word == name and i + 1 < len(words) else word.partition("=")[2]
        if (word == name or word.startswith(name + "=")) and value.isdigit():
            return int(value)
    return None


def graph_capture_size(spec: LaunchSpec) -> int:
    """The largest batch vLLM captures a CUDA graph for, for this spec (see the module docstring)."""
    given = spec.max_cudagraph_capture_size or extra_flag(spec, "--max-cudagraph-capture-size")
    ceiling = 1024 if spec.gpu_info.compute_capability[0] == 10 else 512
    size = given if given is not None else min(2 * (spec.concurrency or 1), ceiling)
    tokens = spec.max_num_batched_tokens or extra_flag(spec, "--max-num-batched-tokens")
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
