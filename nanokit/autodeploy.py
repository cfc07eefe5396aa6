"""TRT-LLM AutoDeploy's config file (nano_v3.yaml) for a LaunchSpec, with the keys the model's documentation uses.

Two of the generator's settings have AutoDeploy keys (NVIDIA's AutoDeploy example configs for TensorRT-LLM
1.3, e.g. nvidia.github.io/TensorRT-LLM/1.3.0rc5/_downloads/.../qwen3.5_moe_400b.yaml, read 2026-12-01): `max_num_tokens` is the token budget of one scheduler step, like vLLM's
--max-num-batched-tokens, and `cuda_graph_batch_sizes` lists the batches captured as CUDA graphs; it ends at
the spec's capture size when one is given, else at its concurrency (`max_batch_size`), so every batch has one.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["autodeploy_yaml"]

GRAPH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


def autodeploy_yaml(spec: Any) -> str:
    """nano_v3.yaml for a nanokit.launch.LaunchSpec whose engine is TRT-LLM."""
    largest = spec.max_cudagraph_capture_size or spec.concurrency
    sizes = [n for n in GRAPH_SIZES if n < largest]
    kv_config: dict[str, Any] = {
        "free_gpu_memory_fraction": spec.gpu_memory_utilization or 0.88,
        "enable_block_reuse": False,  # no prefix reuse for the hybrid's Mamba state
        "mamba_ssm_cache_dtype": spec.mamba_ssm_cache_dtype,
    }
    if spec.kv_cache_dtype == "fp8":
        kv_config["dtype"] = "fp8"
    transforms: dict[str, Any] = {
        "detect_sharding": {"sharding_dims": ["tp", "ep"] if spec.ep else ["tp"]},
        "multi_stream_moe": {"stage": "compile", "enabled": True},
        "gather_logits_before_lm_head": {"enabled": True},
        "fuse_mamba_a_log": {"stage": "post_load_fusion", "enabled": True},
    }
    config: dict[str, Any] = {
        "runtime": "trtllm",
        **({"world_size": spec.tensor_parallel} if spec.tensor_parallel > 1 else {}),  # AutoDeploy's GPU count
        "compile_backend": "torch-cudagraph",
        "max_batch_size": spec.concurrency,
        "max_seq_len": spec.context,
    }
    if spec.max_num_batched_tokens is not None:
        config["max_num_tokens"] = spec.max_num_batched_tokens
    config |= {
        "enable_chunked_prefill": True,
        "attn_backend": "flashinfer",
        "cuda_graph_batch_sizes": [*sizes, largest],
        "kv_cache_config": kv_config,
        "transforms": transforms,
    }
    return yaml.safe_dump(config, sort_keys=False)
