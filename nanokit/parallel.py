"""Parallel strategies: a LaunchSpec's TP / DP / PP / EP layout as each engine's own flags, one command per node.

nanokit only renders: the distributed machinery is the engines' own. A spec's `gpus` is GPUs per node and `nodes`
the node count, so the deployment has gpus x nodes GPUs = TP x DP x PP (the doctor checks it). Strategies:
single GPU; TP; TP + EP; DP (replicas); DP + EP (attention data-parallel, experts over every GPU); TP + PP; and
each across nodes.

The flags, from each engine's documentation (read 2026-12-01):

- vLLM (docs.vllm.ai, "Data Parallel Deployment", "Parallelism and Scaling", "Expert Parallel Deployment"):
  `--tensor-parallel-size`, `--data-parallel-size` (`--max-num-seqs` applies per DP rank),
  `--pipeline-parallel-size`, `--enable-expert-parallel` (on all nodes). DP across nodes: every node runs
  `vllm serve` with `--data-parallel-size-local` (its ranks) and `--data-parallel-address` /
  `--data-parallel-rpc-port` of the head; the other nodes add `--headless` and `--data-parallel-start-rank`.
  A replica larger than one node (TP x PP > GPUs per node) runs on a Ray cluster: `ray start --head --port 6379`
  on the head, `ray start --address HEAD:6379 --block` on the others, then `vllm serve ...
  --distributed-executor-backend ray` on the head (examples/online_serving/multi-node-serving.sh); with DP as
  well, `--data-parallel-backend ray` and VLLM_RAY_DP_PACK_STRATEGY=span. PP works for NemotronH since
  vllm#27968 (merged 2025-11-03); we take 0.11.1, the next release, as the cut-off (an assumption).
- SGLang (docs.sglang.io, "Server Arguments", "DP, DPA and sgl-router"): `--tp` (with DP attention, the total
  GPU count), `--dp`, `--ep-size`, `--enable-dp-attention`, `--pp-size`; across nodes the same command on
  every node with `--dist-init-addr HOST:PORT --nnodes N --node-rank R`. PP for NemotronH arrived in
  sglang#16172 (opened 2025-12-30); cut-off assumed at 0.5.8. TP > 1 needs 0.5.7 (nanokit.launch).
- TRT-LLM AutoDeploy (nvidia.github.io/TensorRT-LLM, "Serving with trtllm-serve"): one process group of
  `world_size` GPUs, sharded by the `detect_sharding` transform (`sharding_dims` tp, ep); trtllm-serve takes
  `--tp_size` / `--ep_size`. nanokit renders TP and TP + EP on one node only: attention DP, PP and multi-node
  AutoDeploy are not documented for this model.

Multi-node commands need the head's address (`head_address`, HOST or HOST:PORT) and, where a machine has
several interfaces, the one NCCL and Gloo should use (`network_interface`: NCCL_SOCKET_IFNAME and
GLOO_SOCKET_IFNAME on every node, as vLLM's multi-node docs advise).
"""

from __future__ import annotations

from typing import Any

# Functions take a nanokit.launch.LaunchSpec (typed Any: launch imports this module).
__all__ = [
    "STRATEGY_ADVICE",
    "expert_parallel_size",
    "sglang_parallel_flags",
    "strategy_name",
    "trtllm_parallel_flags",
    "vllm_parallel_flags",
]

# Which split to pick for a goal, from the engines' guidance: vLLM's "Parallelism and Scaling" (one GPU if the
# model fits, else TP within a node: every GPU works on every request, so each step is faster) and "Data
# Parallel Deployment" (DP replicates the model for independent batches; for MoE, DP attention with EP experts);
# SGLang's server arguments ("Data parallelism is better for throughput if there is enough memory").
# nanokit.lab.parallel_check measures it (strategy names as strategy_name gives them, their first word compared).
STRATEGY_ADVICE = {"latency": ("TP",), "throughput": ("DP", "DP + EP")}

VLLM_PP_SINCE = (0, 11, 1)
SGLANG_PP_SINCE = (0, 5, 8)


def world_size(spec: Any) -> int:
    return spec.tensor_parallel * spec.dp * spec.pp


def expert_parallel_size(spec: Any) -> int:
    """GPUs the 128 routed experts are spread over with --ep (0 without EP)."""
    if not spec.ep:
        return 0
    return spec.tensor_parallel * (spec.dp if spec.engine != "trtllm" else 1)


def strategy_name(spec: Any) -> str:
    """"single GPU", "TP 4", "TP 2 + EP", "DP 8 + EP", "TP 4 + PP 2 across 2 nodes", ..."""
    tp, dp, pp = spec.tensor_parallel, spec.dp, spec.pp
    parts = ([f"DP {dp}"] if dp > 1 else []) + ([f"TP {tp}"] if tp > 1 else []) + ([f"PP {pp}"] if pp > 1 else [])
    if spec.ep and world_size(spec) > 1:
        parts.append("EP")
    name = " + ".join(parts) or "single GPU"
    return f"{name} across {spec.nodes} nodes" if spec.nodes > 1 else name


def vllm_parallel_flags(spec: Any) -> list[str]:
    args = []
    if spec.tensor_parallel > 1:
        args += ["--tensor-parallel-size", str(spec.tensor_parallel)]
    if spec.pp > 1:
        args += ["--pipeline-parallel-size", str(spec.pp)]
    if spec.dp > 1:
        args += ["--data-parallel-size", str(spec.dp)]
    if spec.ep:
        args += ["--enable-expert-parallel"]
    return args


def sglang_parallel_flags(spec: Any) -> list[str]:
    # With DP attention SGLang's --tp is every GPU and --dp splits attention among them; without EP, --dp runs
    # independent replicas of --tp GPUs each.
    attention_dp = spec.ep and spec.dp > 1
    tp = spec.tensor_parallel * spec.dp if attention_dp else spec.tensor_parallel
    args = ["--tp", str(tp)]
    if spec.dp > 1:
        args += ["--dp", str(spec.dp)]
    if attention_dp:
        args += ["--enable-dp-attention"]
    if spec.ep:
        args += ["--ep-size", str(expert_parallel_size(spec))]
    if spec.pp > 1:
        args += ["--pp-size", str(spec.pp)]
    return args


def trtllm_parallel_flags(spec: Any) -> list[str]:
    if spec.tensor_parallel == 1:
        return []
    args = ["--tp_size", str(spec.tensor_parallel)]
    return args + (["--ep_size", str(expert_parallel_size(spec))] if spec.ep else [])
