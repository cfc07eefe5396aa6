"""Multi-node deployments: one command per node role (head, workers), from a LaunchSpec.

The flags and where they come from are in nanokit.parallel's docstring. Node 0 is the head: it serves HTTP (and
heads the Ray cluster where vLLM needs one); the others join it at `spec.head_address`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nanokit.errors import ConfigError
from nanokit.launch import LaunchSpec, render_shell

__all__ = ["NodeCommand", "node_commands"]

RAY_PORT = 6379  # ray start --head's default
VLLM_DP_RPC_PORT = 13345  # the port vLLM's data-parallel docs use
SGLANG_DIST_PORT = 20000  # the port SGLang's multi-node docs use


@dataclass(frozen=True, kw_only=True)
class NodeCommand:
    """What one node runs: `commands` in order (a Ray node's `ray start`, then vLLM on the head), with `env`."""

    role: str  # "head" or "worker"
    node_rank: int
    commands: tuple[tuple[str, ...], ...]
    env: dict[str, str]

    @property
    def argv(self) -> list[str]:
        """The last command: the server on the head, the engine (or `ray start`) on a worker."""
        return list(self.commands[-1])

    def shell(self, *, multiline: bool = False) -> str:
        return "\n".join(render_shell(list(argv), self.env, multiline=multiline) for argv in self.commands)

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "node_rank": self.node_rank, "argv": self.argv,
                "commands": [list(c) for c in self.commands], "env": self.env, "shell": self.shell()}  # fmt: skip


def _head(spec: LaunchSpec, default_port: int) -> tuple[str, int]:
    if not spec.head_address:
        raise ConfigError(f"A {spec.nodes}-node spec needs the head node's address; pass --head-address HOST:PORT "
                          "(node 0's IP address as the other nodes reach it).")  # fmt: skip
    host, _, port = spec.head_address.rpartition(":") if ":" in spec.head_address else (spec.head_address, "", "")
    if port and not port.isdigit():
        raise ConfigError(f"The head address {spec.head_address!r} has no port number after the colon; "
                          "write HOST:PORT, e.g. 10.0.0.1:13345.")  # fmt: skip
    return host, int(port) if port else default_port


def _network_env(spec: LaunchSpec) -> dict[str, str]:
    if not spec.network_interface:
        return {}
    return {"NCCL_SOCKET_IFNAME": spec.network_interface, "GLOO_SOCKET_IFNAME": spec.network_interface}


def node_commands(spec: LaunchSpec) -> list[NodeCommand]:
    """One NodeCommand per node (node 0 is the head and serves HTTP); a single-node spec gives one."""
    env = spec.env()
    if spec.nodes == 1:
        return [NodeCommand(role="head", node_rank=0, commands=(tuple(spec.argv()),), env=env)]
    env = {**env, **_network_env(spec)}
    if spec.engine == "sglang":
        return _sglang_nodes(spec, env)
    if spec.engine == "vllm":
        replica_fits_a_node = spec.tensor_parallel * spec.pp <= spec.gpus
        return _vllm_dp_nodes(spec, env) if replica_fits_a_node and spec.dp > 1 else _vllm_ray_nodes(spec, env)
    raise ConfigError("nanokit renders TRT-LLM AutoDeploy on one node only; pass --nodes 1, or use vLLM or SGLang "
                      "across nodes.")  # fmt: skip


def _sglang_nodes(spec: LaunchSpec, env: dict[str, str]) -> list[NodeCommand]:
    host, port = _head(spec, SGLANG_DIST_PORT)
    base = spec.argv()
    join = ("--dist-init-addr", f"{host}:{port}", "--nnodes", str(spec.nodes))
    return [NodeCommand(role="head" if rank == 0 else "worker", node_rank=rank, env=env,
                        commands=((*base, *join, "--node-rank", str(rank)),))
            for rank in range(spec.nodes)]  # fmt: skip


def _vllm_dp_nodes(spec: LaunchSpec, env: dict[str, str]) -> list[NodeCommand]:
    if spec.dp % spec.nodes:
        raise ConfigError(f"DP {spec.dp} does not split evenly over {spec.nodes} nodes; make DP a multiple of the "
                          "node count.")  # fmt: skip
    host, port = _head(spec, VLLM_DP_RPC_PORT)
    local = spec.dp // spec.nodes
    base = spec.argv()
    nodes = []
    for rank in range(spec.nodes):
        words = ["--data-parallel-size-local", str(local)]
        if rank:
            words = ["--headless", *words, "--data-parallel-start-rank", str(rank * local)]
        words += ["--data-parallel-address", host, "--data-parallel-rpc-port", str(port)]
        nodes.append(NodeCommand(role="head" if rank == 0 else "worker", node_rank=rank, env=env,
                                 commands=(tuple(base + words),)))  # fmt: skip
    return nodes


def _vllm_ray_nodes(spec: LaunchSpec, env: dict[str, str]) -> list[NodeCommand]:
    host, port = _head(spec, RAY_PORT)
    serve = [*spec.argv(), "--distributed-executor-backend", "ray"]
    head_env = dict(env)
    if spec.dp > 1:
        serve += ["--data-parallel-backend", "ray"]
        head_env["VLLM_RAY_DP_PACK_STRATEGY"] = "span"  # one replica spans nodes (the DP docs)
    head = NodeCommand(role="head", node_rank=0, env=head_env,
                       commands=(("ray", "start", "--head", "--port", str(port)), tuple(serve)))  # fmt: skip
    workers = [NodeCommand(role="worker", node_rank=rank, env=env,
                           commands=(("ray", "start", "--address", f"{host}:{port}", "--block"),))
               for rank in range(1, spec.nodes)]  # fmt: skip
    return [head, *workers]
