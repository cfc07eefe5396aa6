"""The numbers of a NemotronH config.json that memory depends on, its parameter count, and what its weights weigh."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from nanokit.catalog import ARCHITECTURE
from nanokit.errors import ConfigError

__all__ = ["DTYPE_BYTES", "GIB", "ModelShape", "count_parameters", "weight_bytes", "without_experts"]

GIB = 1024**3
DTYPE_BYTES = {
    "float32": 4, "fp32": 4, "float16": 2, "fp16": 2, "half": 2, "bfloat16": 2, "bf16": 2,
    "fp8": 1, "fp8_e4m3": 1, "fp8_e5m2": 1, "auto": 2,
}  # fmt: skip
# NVFP4: 4-bit values plus one FP8 scale per 16 values = 0.5 + 1/16 bytes per weight.
NVFP4_BYTES = 0.5 + 1 / 16
_BLOCK_KINDS = {"mamba": "M", "linear_attention": "M", "attention": "*", "full_attention": "*",
                "mlp": "-", "moe": "E"}  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class ModelShape:
    """The numbers of a NemotronH config.json that memory depends on."""

    pattern: str
    hidden_size: int
    vocab_size: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    mamba_num_heads: int
    mamba_head_dim: int
    ssm_state_size: int
    conv_kernel: int
    n_groups: int
    intermediate_size: int
    n_routed_experts: int = 0
    n_shared_experts: int = 0
    moe_intermediate_size: int = 0
    moe_shared_expert_intermediate_size: int = 0
    num_experts_per_tok: int = 0
    tie_word_embeddings: bool = False
    use_conv_bias: bool = True
    max_position_embeddings: int = 4096
    mamba_ssm_cache_dtype: str = "float32"
    torch_dtype: str = "bfloat16"

    @classmethod
    def from_config(cls, config: dict[str, Any] | str | Path) -> ModelShape:
        """Read a NemotronH config.json (a dict, a file, or a checkpoint directory)."""
        if not isinstance(config, dict):
            path = Path(config)
            if path.is_dir():
                path = path / "config.json"
            if not path.exists():
                raise ConfigError(f"No config.json at {path}; pass a NemotronH checkpoint directory or its config.")
            config = json.loads(path.read_text())
        pattern = config.get("hybrid_override_pattern")
        if not pattern and config.get("layers_block_type"):
            pattern = "".join(_BLOCK_KINDS[kind] for kind in config["layers_block_type"])
        if not pattern:
            raise ConfigError("The config has neither hybrid_override_pattern nor layers_block_type; "
                              "pass a NemotronH (model_type nemotron_h) config.")
        heads = config["num_attention_heads"]
        return cls(
            pattern=pattern,
            hidden_size=config["hidden_size"],
            vocab_size=config["vocab_size"],
            num_attention_heads=heads,
            num_key_value_heads=config.get("num_key_value_heads") or heads,
            head_dim=config.get("head_dim") or config["hidden_size"] // heads,
            mamba_num_heads=config["mamba_num_heads"],
            mamba_head_dim=config["mamba_head_dim"],
            ssm_state_size=config["ssm_state_size"],
            conv_kernel=config["conv_kernel"],
            n_groups=config["n_groups"],
            intermediate_size=config.get("intermediate_size", 0),
            n_routed_experts=config.get("n_routed_experts") or 0,
            n_shared_experts=config.get("n_shared_experts") or 0,
            moe_intermediate_size=config.get("moe_intermediate_size") or 0,
            moe_shared_expert_intermediate_size=config.get("moe_shared_expert_intermediate_size") or 0,
            num_experts_per_tok=config.get("num_experts_per_tok") or 0,
            tie_word_embeddings=bool(config.get("tie_word_embeddings", False)),
            use_conv_bias=bool(config.get("use_conv_bias", True)),
            max_position_embeddings=config.get("max_position_embeddings", 4096),
            mamba_ssm_cache_dtype=config.get("mamba_ssm_cache_dtype") or "float32",
            torch_dtype=str(config.get("torch_dtype") or config.get("dtype") or "bfloat16"),
        )

    @classmethod
    def nemotron_3_nano(cls) -> ModelShape:
        """The real model's shape (the hub config's numbers, kept in nanokit.catalog)."""
        a = ARCHITECTURE
        return cls(
            pattern=a.pattern, hidden_size=a.hidden_size, vocab_size=a.vocab_size,
            num_attention_heads=a.num_attention_heads, num_key_value_heads=a.num_key_value_heads,
            head_dim=a.head_dim, mamba_num_heads=a.mamba_num_heads, mamba_head_dim=a.mamba_head_dim,
            ssm_state_size=a.ssm_state_size, conv_kernel=a.conv_kernel, n_groups=a.n_groups,
            intermediate_size=a.moe_intermediate_size, n_routed_experts=a.n_routed_experts, n_shared_experts=1,
            moe_intermediate_size=a.moe_intermediate_size,
            moe_shared_expert_intermediate_size=a.shared_expert_intermediate_size,
            num_experts_per_tok=a.num_experts_per_tok,
            max_position_embeddings=a.max_position_embeddings,
        )  # fmt: skip

    @property
    def num_attention_layers(self) -> int:
        return self.pattern.count("*")

    @property
    def num_mamba_layers(self) -> int:
        return self.pattern.count("M")

    @property
    def mamba_intermediate(self) -> int:
        return self.mamba_num_heads * self.mamba_head_dim

    @property
    def conv_dim(self) -> int:
        return self.mamba_intermediate + 2 * self.n_groups * self.ssm_state_size


def count_parameters(shape: ModelShape) -> dict[str, int]:
    """Parameters by component. Keys ending in "_linear" are the projections FP8/NVFP4 checkpoints quantize."""
    h, s = shape.hidden_size, shape
    inter, conv = s.mamba_intermediate, s.conv_dim
    n_m, n_a = s.num_mamba_layers, s.num_attention_layers
    n_e, n_d = s.pattern.count("E"), s.pattern.count("-")
    attn_width = s.num_attention_heads * s.head_dim
    kv_width = s.num_key_value_heads * s.head_dim
    counts = {
        "embeddings": s.vocab_size * h,
        "lm_head": 0 if s.tie_word_embeddings else s.vocab_size * h,
        # in_proj makes z, x, B, C and dt: 2*inter + 2*groups*state + heads outputs.
        "mamba_linear": n_m * (h * (2 * inter + 2 * s.n_groups * s.ssm_state_size + s.mamba_num_heads) + inter * h),
        "mamba_other": n_m * (conv * s.conv_kernel + (conv if s.use_conv_bias else 0) + 3 * s.mamba_num_heads + inter),
        "attention_linear": n_a * (h * attn_width + 2 * h * kv_width + attn_width * h),
        # relu2 experts are not gated: an up and a down projection each.
        "experts_linear": n_e * s.n_routed_experts * 2 * h * s.moe_intermediate_size,
        "shared_expert_linear": n_e * s.n_shared_experts * 2 * h * s.moe_shared_expert_intermediate_size,
        "router": n_e * (s.n_routed_experts * h + s.n_routed_experts),  # gate weight + score-correction bias
        "mlp_linear": n_d * 2 * h * s.intermediate_size,
        "norms": len(s.pattern) * h + h,  # one pre-norm per block + the final norm
    }
    return counts


def weight_bytes(shape: ModelShape, weight_dtype: str = "bfloat16") -> int:
    """Bytes of weights for one copy of the model in "bfloat16", "fp8" or "nvfp4".

    FP8 stores every large projection in one byte; NVFP4 stores the MoE experts in NVFP4 and the other
    projections in FP8. Embeddings, lm_head, router, norms, conv and SSM parameters stay 16-bit in both.
    """
    counts = count_parameters(shape)
    dtype = weight_dtype.lower()
    if dtype in ("bf16", "bfloat16", "float16", "fp16", "auto"):
        return 2 * sum(counts.values())
    if dtype == "float32":
        return 4 * sum(counts.values())
    quantized = {k: v for k, v in counts.items() if k.endswith("_linear")}
    rest = sum(v for k, v in counts.items() if k not in quantized)
    if dtype == "fp8":
        return int(sum(quantized.values()) + 2 * rest)
    if dtype == "nvfp4":
        experts = quantized["experts_linear"] + quantized["shared_expert_linear"]
        return int(NVFP4_BYTES * experts + (sum(quantized.values()) - experts) + 2 * rest)
    raise ConfigError(f"Unknown weight dtype {weight_dtype!r}; use bfloat16, fp8 or nvfp4.")


def without_experts(shape: ModelShape) -> ModelShape:
    """The same shape with no MoE experts: the dense part that tensor parallelism alone splits."""
    return replace(shape, n_routed_experts=0, n_shared_experts=0)
