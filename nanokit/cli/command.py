"""`nanokit command` (a launch command for vLLM, SGLang or TRT-LLM) and `nanokit plan` (its memory plan).

Both take the same options; an impossible combination exits with status 1 and the doctor's sentence on stderr.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated

import typer

from nanokit.cli._app import app
from nanokit.errors import NanokitError


class Engine(str, Enum):
    vllm = "vllm"
    sglang = "sglang"
    trtllm = "trtllm"


class VariantKey(str, Enum):
    bf16 = "bf16"
    fp8 = "fp8"
    nvfp4 = "nvfp4"


EngineOpt = Annotated[Engine, typer.Option(help="Serving engine.")]
GpuOpt = Annotated[str, typer.Option(help="GPU: h100, h200, b200, gb200, a100, l40s, rtx-pro-6000, dgx-spark, "
                                          "or custom:GIB:CC (e.g. custom:96:9.0).")]
GpusOpt = Annotated[int, typer.Option(help="GPUs per node (the short form: all for tensor parallelism).")]
VariantOpt = Annotated[VariantKey, typer.Option(help="Checkpoint: BF16, FP8 or NVFP4 weights.")]
ContextOpt = Annotated[int, typer.Option(help="Maximum context per request, in tokens.")]
ConcurrencyOpt = Annotated[int, typer.Option(help="Sequences running at once (vLLM --max-num-seqs).")]
ReasoningOpt = Annotated[bool, typer.Option("--reasoning/--no-reasoning", help="Split <think> into reasoning.")]
ToolsOpt = Annotated[bool, typer.Option("--tools/--no-tools", help="Parse Qwen3-Coder tool calls.")]
KvOpt = Annotated[str, typer.Option(help="KV-cache dtype: auto (the model's) or fp8.")]
MambaOpt = Annotated[str, typer.Option(help="Mamba SSM cache dtype: float32, bfloat16 or float16.")]
HostOpt = Annotated[str, typer.Option(help="Interface the server binds.")]
PortOpt = Annotated[int | None, typer.Option(help="Port; default: the engine's (8000, or 30000 for SGLang).")]
KeyOpt = Annotated[str | None, typer.Option(help="API key clients must send.")]
VersionOpt = Annotated[str | None, typer.Option(help="Engine version, e.g. 0.11.2; default: the newest known.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
# ----- parallel strategy (nanokit.parallel; multi-node commands: nanokit.nodes) -----
TpOpt = Annotated[int | None, typer.Option("--tp", help="Tensor-parallel size; default: the GPUs DP and PP leave.")]
DpOpt = Annotated[int, typer.Option("--dp", help="Data-parallel replicas (each with its own KV cache).")]
PpOpt = Annotated[int, typer.Option("--pp", help="Pipeline-parallel stages.")]
EpOpt = Annotated[bool, typer.Option("--ep/--no-ep", help="Expert parallelism: spread the 128 experts over GPUs.")]
NodesOpt = Annotated[int, typer.Option("--nodes", help="Number of nodes; --gpus is GPUs per node.")]
NodeRankOpt = Annotated[int | None, typer.Option("--node-rank", help="Print only this node's command (0: head).")]
HeadOpt = Annotated[str | None, typer.Option("--head-address", help="Node 0 as HOST:PORT, for multi-node specs.")]
IfnameOpt = Annotated[str | None, typer.Option("--network-interface",
                                               help="NCCL/Gloo network interface on every node, e.g. eth0.")]
_PARALLEL = ("tp", "dp", "pp", "ep", "nodes", "head_address", "network_interface")


def _spec(**options):
    from nanokit.launch import LaunchSpec

    return LaunchSpec(
        engine=options["engine"].value, gpu=options["gpu"], gpus=options["gpus"], variant=options["variant"].value,
        context=options["context"], concurrency=options["concurrency"], reasoning=options["reasoning"],
        tools=options["tools"], kv_cache_dtype=options["kv_cache_dtype"],
        mamba_ssm_cache_dtype=options["mamba_cache_dtype"], host=options["host"], port=options["port"],
        api_key=options["api_key"], engine_version=options["engine_version"],
        **{name: options[name] for name in _PARALLEL if name in options},
    )  # fmt: skip


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


@app.command()
def command(
    engine: EngineOpt = Engine.vllm, gpu: GpuOpt = "h200", gpus: GpusOpt = 1,
    variant: VariantOpt = VariantKey.bf16, context: ContextOpt = 32768, concurrency: ConcurrencyOpt = 64,
    reasoning: ReasoningOpt = True, tools: ToolsOpt = True, kv_cache_dtype: KvOpt = "auto",
    mamba_cache_dtype: MambaOpt = "float32", host: HostOpt = "127.0.0.1", port: PortOpt = None,
    api_key: KeyOpt = None, engine_version: VersionOpt = None, as_json: JsonOpt = False,
    tp: TpOpt = None, dp: DpOpt = 1, pp: PpOpt = 1, ep: EpOpt = False, nodes: NodesOpt = 1,
    node_rank: NodeRankOpt = None, head_address: HeadOpt = None, network_interface: IfnameOpt = None,
) -> None:  # fmt: skip
    """Print the command that launches Nemotron-3-Nano with these choices (one per node for several nodes)."""
    from nanokit.doctor import check
    from nanokit.nodes import node_commands

    try:
        spec = _spec(**locals())
        findings = check(spec)
        nodes_run = [n for n in node_commands(spec) if node_rank is None or n.node_rank == node_rank]
    except NanokitError as exc:
        _fail(str(exc))
    if not nodes_run:
        _fail(f"--node-rank {node_rank} is not a node of this {spec.nodes}-node spec; pass 0 to {spec.nodes - 1}.")
    warnings = [str(f) for f in findings]
    if as_json:
        payload = {"argv": spec.argv(), "env": spec.env(), "shell": spec.shell(), "warnings": warnings,
                   "files": spec.files(), "nodes": [n.to_dict() for n in nodes_run]}  # fmt: skip
        typer.echo(json.dumps(payload, indent=2))
        return
    for line in warnings:
        typer.echo(f"# {line}", err=True)
    if spec.nodes == 1:
        typer.echo(spec.script())
        return
    for node in nodes_run:
        typer.echo(f"# node {node.node_rank} ({node.role})\n{node.shell(multiline=True)}")


@app.command()
def plan(
    engine: EngineOpt = Engine.vllm, gpu: GpuOpt = "h200", gpus: GpusOpt = 1,
    variant: VariantOpt = VariantKey.bf16, context: ContextOpt = 32768, concurrency: ConcurrencyOpt = 64,
    reasoning: ReasoningOpt = True, tools: ToolsOpt = True, kv_cache_dtype: KvOpt = "auto",
    mamba_cache_dtype: MambaOpt = "float32", host: HostOpt = "127.0.0.1", port: PortOpt = None,
    api_key: KeyOpt = None, engine_version: VersionOpt = None,
    tp: TpOpt = None, dp: DpOpt = 1, pp: PpOpt = 1, ep: EpOpt = False, nodes: NodesOpt = 1,
    head_address: HeadOpt = None, network_interface: IfnameOpt = None,
    config: Annotated[str | None, typer.Option(help="A NemotronH config.json or checkpoint directory; "
                                                     "default: the real model's numbers.")] = None,
    as_json: JsonOpt = False,
) -> None:  # fmt: skip
    """Print the memory plan (weights, KV cache, Mamba state, capacity, concurrency) with the arithmetic."""
    from nanokit.doctor import diagnose
    from nanokit.parallel import strategy_name
    from nanokit.planner import plan_launch

    try:
        spec = _spec(**{k: v for k, v in locals().items() if k not in ("config", "as_json")})
        memory = plan_launch(spec, config)
        findings = diagnose(spec, memory) if config is None else []
    except (NanokitError, OSError, KeyError, ValueError) as exc:
        message = str(exc) if isinstance(exc, NanokitError) else f"Could not read the config: {exc}."
        _fail(message)
    errors = [f for f in findings if f.severity == "error"]
    if as_json:
        extra = {"findings": [str(f) for f in findings], "strategy": strategy_name(spec)}
        typer.echo(json.dumps(memory.to_dict() | extra, indent=2))
    else:
        typer.echo(f"strategy: {strategy_name(spec)}\n{memory.explain()}")
    for finding in findings:
        typer.echo(f"{'error: ' + finding.message if finding.severity == 'error' else '# ' + str(finding)}", err=True)
    if errors:
        raise typer.Exit(1)

