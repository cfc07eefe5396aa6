"""What each GPU of a split deployment holds: weights by component, the pipeline stage's layers, KV heads.

How the engines place Nemotron-3-Nano's parts (the planner counts each GPU this way):

- Attention: the q and o projections split by TP (column / row parallel). The 2 KV heads split by TP up to 2;
  past that every GPU keeps one KV head, so TP 4 holds each KV head twice and TP 8 four times, in the k/v
  projections and in the KV cache (vLLM's QKVParallelLinear replicates KV heads when TP >= the KV head count).
- Mamba-2 mixers: in_proj, conv, A/D/dt, the gated norm and out_proj split by TP over the 64 heads and the
  8 groups, which is why TP must divide 8 (vLLM's MambaMixer2 shards the groups with the heads).
- Routed experts (128 per MoE layer) spread over the expert group. vLLM: with DP the MoE layers form one group
  of DP x TP GPUs, tensor-parallel by default or expert-parallel with --enable-expert-parallel ("By default,
  expert layers form a tensor parallel group of size DP x TP", docs.vllm.ai, Data Parallel Deployment).
  SGLang: over --ep-size (TP x DP with DP attention), else over TP. TRT-LLM AutoDeploy: over its world size
  (detect_sharding's tp or ep dimension).
- The shared expert splits by the attention TP group and is replicated across DP replicas and EP ranks; the
  router and the norms are replicated on every GPU.
- Embeddings and LM head are vocab-parallel, split by TP (vLLM's VocabParallelEmbedding and ParallelLMHead;
  SGLang uses the same classes). For TRT-LLM AutoDeploy we assume the same; it is not verified.
- Pipeline parallelism gives each stage a contiguous range of layers (vLLM's get_pp_indices: layers // PP
  each, the remainder added to the stages just before the last); the embeddings live on the first stage and
  the final norm and LM head on the last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import ceil

from nanokit.model_shape import GIB, NVFP4_BYTES, ModelShape, count_parameters

__all__ = ["GpuShare", "expert_group", "pipeline_stages", "split_gpus"]

_KIND = {"mamba": "M", "attention": "*", "experts": "E", "shared_expert": "E", "router": "E", "mlp": "-"}


def pipeline_stages(pattern: str, pp: int) -> list[str]:
    """The layers of each pipeline stage, as pattern slices (vLLM's get_pp_indices)."""
    pp = max(1, pp)
    sizes = [len(pattern) // pp] * pp
    for i in range(2, len(pattern) % pp + 2):  # the remainder goes to the stages before the last
        sizes[-i] += 1
    stages, start = [], 0
    for size in sizes:
        stages.append(pattern[start : start + size])
        start += size
    return stages


def expert_group(engine: str, tp: int, dp: int, ep: bool) -> int:
    """How many GPUs share one MoE layer's 128 routed experts (see the module docstring)."""
    if engine == "vllm":
        return tp * dp
    if engine == "sglang":
        return tp * dp if ep else tp
    return tp


def _bytes_per_parameter(component: str, dtype: str) -> float:
    """The byte width nanokit.model_shape.weight_bytes gives each component in this checkpoint dtype."""
    if dtype in ("bf16", "bfloat16", "float16", "fp16", "auto"):
        return 2
    if dtype == "float32":
        return 4
    if not component.endswith("_linear"):
        return 2
    if dtype == "nvfp4" and component in ("experts_linear", "shared_expert_linear"):
        return NVFP4_BYTES
    return 1


@dataclass(frozen=True, kw_only=True)
class GpuShare:
    """One GPU of one pipeline stage: its layers and the bytes of each weight component it holds."""

    stage: int
    stages: int
    pattern: str  # this stage's layers
    parts: dict[str, int] = field(default_factory=dict)  # bytes by component
    tp: int = 1
    expert_group: int = 1
    kv_heads: int = 2  # per GPU
    kv_copies: int = 1  # how many GPUs of the TP group hold each KV head

    @property
    def total(self) -> int:
        return sum(self.parts.values())

    def describe(self) -> list[str]:
        """The arithmetic, one line per part, for MemoryPlan.steps."""
        where = f"stage {self.stage + 1} of {self.stages} ({len(self.pattern)} layers), " if self.stages > 1 else ""
        lines = [f"per GPU ({where}TP {self.tp}, experts over {self.expert_group} GPUs): "
                 + ", ".join(f"{name} {b / GIB:.2f}" for name, b in self.parts.items() if b)
                 + f" = {self.total / GIB:.2f} GiB"]  # fmt: skip
        if self.kv_copies > 1:
            lines.append(f"TP {self.tp} is past the model's 2 KV heads: each GPU keeps {self.kv_heads} KV head, so "
                         f"every head (its k/v weights and its KV cache) is held {self.kv_copies} times in a replica")
        return lines


def _share(shape: ModelShape, dtype: str, stage: int, stages: list[str], tp: int, group: int) -> GpuShare:
    counts = count_parameters(shape)
    layers = {kind: shape.pattern.count(kind) for kind in "M*E-"}
    pattern = stages[stage]
    here = {kind: pattern.count(kind) for kind in "M*E-"}
    h, width = shape.hidden_size, shape.num_attention_heads * shape.head_dim
    kv_heads = max(1, shape.num_key_value_heads // tp)

    def per_layer(component: str) -> float:
        kind = _KIND[component.removesuffix("_linear").removesuffix("_other")]
        return counts[component] / layers[kind] if layers[kind] else 0.0

    def size(component: str, params: float) -> int:
        return ceil(params * _bytes_per_parameter(component, dtype))

    attention = here["*"] * (2 * h * width / tp + 2 * h * kv_heads * shape.head_dim)  # q, o split; k, v per head
    parts = {
        "attention": size("attention_linear", attention),
        "mamba": size("mamba_linear", here["M"] * per_layer("mamba_linear") / tp)
        + size("mamba_other", here["M"] * per_layer("mamba_other") / tp),
        "routed experts": size("experts_linear", here["E"] * per_layer("experts_linear") / group),
        "shared expert": size("shared_expert_linear", here["E"] * per_layer("shared_expert_linear") / tp),
        "router": size("router", here["E"] * per_layer("router")),
        "dense MLP": size("mlp_linear", here["-"] * per_layer("mlp_linear") / tp),
        "embeddings": size("embeddings", counts["embeddings"] / tp) if stage == 0 else 0,
        "LM head": size("lm_head", counts["lm_head"] / tp) if stage == len(stages) - 1 else 0,
        "norms": size("norms", len(pattern) * h + (h if stage == len(stages) - 1 else 0)),
    }
    return GpuShare(stage=stage, stages=len(stages), pattern=pattern, parts=parts, tp=tp, expert_group=group,
                    kv_heads=kv_heads, kv_copies=max(1, tp // shape.num_key_value_heads))  # fmt: skip


def split_gpus(shape: ModelShape, weight_dtype: str, *, engine: str = "vllm", tp: int = 1, dp: int = 1,
               pp: int = 1, ep: bool = False) -> list[GpuShare]:  # fmt: skip
    """One GpuShare per pipeline stage (every GPU of a stage holds the same bytes)."""
    stages = pipeline_stages(shape.pattern, pp)
    group = expert_group(engine, max(1, tp), max(1, dp), ep)
    return [_share(shape, weight_dtype.lower(), i, stages, max(1, tp), group) for i in range(len(stages))]
