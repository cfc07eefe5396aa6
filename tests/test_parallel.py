"""Golden commands for every strategy of every engine, built from the engines' documented flags.

The CPU build cannot run TP, EP or PP (one CPU "device"), or several nodes, so these are checked against the
documentation each flag comes from (cited per test); DP runs for real in tests/test_parallel_vllm_cpu.py.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from nanokit.cli import app
from nanokit.errors import ConfigError
from nanokit.launch import LaunchSpec
from nanokit.nodes import node_commands
from nanokit.parallel import strategy_name

runner = CliRunner()


def _after(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def _parallel_words(argv: list[str], flags: tuple[str, ...]) -> list[str]:
    """The parallel flags (with their values) in argv order, so a golden list stays short."""
    words = []
    for i, word in enumerate(argv):
        if word in flags:
            takes_value = i + 1 < len(argv) and not argv[i + 1].startswith("--")
            words += [word, argv[i + 1]] if takes_value else [word]
    return words


VLLM_FLAGS = ("--tensor-parallel-size", "--pipeline-parallel-size", "--data-parallel-size",
              "--enable-expert-parallel")  # fmt: skip
SGLANG_FLAGS = ("--tp", "--dp", "--enable-dp-attention", "--ep-size", "--pp-size")


# docs.vllm.ai "Data Parallel Deployment": `vllm serve $MODEL --data-parallel-size 4 --tensor-parallel-size 2`,
# `--enable-expert-parallel` for EP; "Parallelism and Scaling": TP within a node, PP across stages.
@pytest.mark.parametrize(("layout", "flags", "name"), [
    ({"gpus": 1}, [], "single GPU"),
    ({"gpus": 4}, ["--tensor-parallel-size", "4"], "TP 4"),
    ({"gpus": 4, "ep": True}, ["--tensor-parallel-size", "4", "--enable-expert-parallel"], "TP 4 + EP"),
    ({"gpus": 8, "dp": 4}, ["--tensor-parallel-size", "2", "--data-parallel-size", "4"], "DP 4 + TP 2"),
    ({"gpus": 8, "dp": 8, "ep": True}, ["--data-parallel-size", "8", "--enable-expert-parallel"], "DP 8 + EP"),
    ({"gpus": 8, "pp": 2}, ["--tensor-parallel-size", "4", "--pipeline-parallel-size", "2"], "TP 4 + PP 2"),
])  # fmt: skip
def test_vllm_strategies(layout, flags, name):
    spec = LaunchSpec(**layout)
    assert _parallel_words(spec.argv(), VLLM_FLAGS) == flags
    assert strategy_name(spec) == name


# docs.sglang.io "Server Arguments": --tp / --dp / --ep-size / --enable-dp-attention ("DP for attention, TP for
# FFN"), e.g. `--tp 8 --dp 8 --enable-dp-attention`; --pp-size for pipeline stages.
@pytest.mark.parametrize(("layout", "flags"), [
    ({"gpus": 1}, ["--tp", "1"]),
    ({"gpus": 4}, ["--tp", "4"]),
    ({"gpus": 4, "ep": True}, ["--tp", "4", "--ep-size", "4"]),
    ({"gpus": 4, "dp": 2}, ["--tp", "2", "--dp", "2"]),
    ({"gpus": 8, "dp": 8, "ep": True}, ["--tp", "8", "--dp", "8", "--enable-dp-attention", "--ep-size", "8"]),
    ({"gpus": 4, "pp": 2}, ["--tp", "2", "--pp-size", "2"]),
])  # fmt: skip
def test_sglang_strategies(layout, flags):
    assert _parallel_words(LaunchSpec(engine="sglang", **layout).argv(), SGLANG_FLAGS) == flags


# nvidia.github.io/TensorRT-LLM "Serving with trtllm-serve": `world_size` in the AutoDeploy YAML; the
# detect_sharding transform's sharding_dims choose TP or TP + EP.
def test_trtllm_tp_and_ep_set_world_size_and_sharding():
    spec = LaunchSpec(engine="trtllm", gpus=4, ep=True)
    argv = spec.argv()
    assert (_after(argv, "--tp_size"), _after(argv, "--ep_size")) == ("4", "4")
    config = spec.trtllm_yaml()
    assert "world_size: 4" in config and "- ep" in config
    assert "world_size" not in LaunchSpec(engine="trtllm").trtllm_yaml()


# docs.vllm.ai "Data Parallel Deployment", DP=4 over two nodes: the head with --data-parallel-size-local 2
# --data-parallel-address IP --data-parallel-rpc-port 13345; node 1 adds --headless --data-parallel-start-rank 2.
def test_vllm_dp_over_two_nodes():
    spec = LaunchSpec(gpus=2, nodes=2, dp=4, ep=True, head_address="10.99.48.128", network_interface="eth0")
    head, worker = node_commands(spec)
    assert (head.role, worker.role) == ("head", "worker")
    tail = ["--data-parallel-address", "10.99.48.128", "--data-parallel-rpc-port", "13345"]
    assert head.argv[-6:] == ["--data-parallel-size-local", "2", *tail]
    assert worker.argv[-9:] == ["--headless", "--data-parallel-size-local", "2", "--data-parallel-start-rank", "2",
                                *tail]  # fmt: skip
    assert head.env["NCCL_SOCKET_IFNAME"] == worker.env["GLOO_SOCKET_IFNAME"] == "eth0"
    assert "--headless" not in head.argv


# vLLM's examples/online_serving/multi-node-serving.sh: a Ray head (`ray start --head --port 6379`), workers
# joining it, then `vllm serve ... --tensor-parallel-size 8 --pipeline-parallel-size 2` on the head.
def test_vllm_replica_over_two_nodes_uses_ray():
    spec = LaunchSpec(gpus=8, nodes=2, tp=8, pp=2, head_address="10.0.0.1")
    head, worker = node_commands(spec)
    assert head.commands[0] == ("ray", "start", "--head", "--port", "6379")
    assert _after(head.argv, "--distributed-executor-backend") == "ray"
    assert worker.commands == (("ray", "start", "--address", "10.0.0.1:6379", "--block"),)
    assert strategy_name(spec) == "TP 8 + PP 2 across 2 nodes"


# docs.sglang.io multi-node: the same command on every node with --dist-init-addr HOST:PORT --nnodes --node-rank.
def test_sglang_over_two_nodes():
    spec = LaunchSpec(engine="sglang", gpus=8, nodes=2, dp=16, ep=True, head_address="172.16.4.52:20000")
    nodes = node_commands(spec)
    assert [n.argv[-6:] for n in nodes] == [
        ["--dist-init-addr", "172.16.4.52:20000", "--nnodes", "2", "--node-rank", str(rank)] for rank in (0, 1)]
    assert _parallel_words(nodes[0].argv, SGLANG_FLAGS) == ["--tp", "16", "--dp", "16", "--enable-dp-attention",
                                                            "--ep-size", "16"]  # fmt: skip


def test_node_commands_refuse_what_they_cannot_render():
    with pytest.raises(ConfigError, match="--head-address"):
        node_commands(LaunchSpec(gpus=8, nodes=2, tp=8, pp=2))
    with pytest.raises(ConfigError, match="one node only"):
        node_commands(LaunchSpec(engine="trtllm", gpus=8, nodes=2, tp=16, head_address="h"))
    with pytest.raises(ConfigError, match="HOST:PORT"):
        node_commands(LaunchSpec(gpus=8, nodes=2, tp=8, pp=2, head_address="h:x"))
    assert len(node_commands(LaunchSpec())) == 1


def test_cli_json_lists_node_commands():
    args = ["command", "--gpus", "8", "--nodes", "2", "--dp", "16", "--ep", "--head-address", "10.0.0.1", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    nodes = json.loads(result.stdout)["nodes"]
    assert [(n["role"], n["node_rank"]) for n in nodes] == [("head", 0), ("worker", 1)]
    assert "--headless" in nodes[1]["argv"] and nodes[1]["shell"].startswith("vllm serve")
    one = runner.invoke(app, [*args[:-1], "--node-rank", "1"])
    assert one.exit_code == 0 and "# node 1 (worker)" in one.stdout and "# node 0" not in one.stdout


def test_cli_refuses_a_split_with_the_doctors_sentence():
    result = runner.invoke(app, ["command", "--gpus", "4", "--tp", "3"])
    assert result.exit_code == 1 and "pass --tp 4" in result.stderr
    result = runner.invoke(app, ["command", "--gpus", "8", "--nodes", "2", "--tp", "16"])
    assert result.exit_code == 1 and "8 Mamba groups" in result.stderr


def test_cli_plan_shows_each_gpus_share_and_the_deployment():
    result = runner.invoke(app, ["plan", "--gpus", "8", "--dp", "8", "--ep", "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["replicas"] == 8 and plan["weights_parts"]["routed experts"] > 0 and plan["strategy"] == "DP 8 + EP"
    text = runner.invoke(app, ["plan", "--gpus", "8", "--dp", "8", "--ep"]).stdout
    assert "experts over 8 GPUs" in text and "deployment: DP 8 replicas" in text


def test_widget_renders_every_node_and_the_strategy():
    from widgets.command_generator import CommandGenerator

    generator = CommandGenerator(gpu_probe=list)
    generator.gpus.value, generator.nodes.value, generator.dp.value = 8, 2, 16
    generator.ep.value = True
    assert "--head-address" in generator.command.value  # the node commands wait for the head's address
    generator.head_address.value = "10.0.0.1"
    assert "# node 1 (worker)" in generator.command.value and "--headless" in generator.command.value
    assert "DP 16 + EP across 2 nodes" in generator.strategy.value
    assert "run each of the 2 node commands" in generator.launch_problem()
