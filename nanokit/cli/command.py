"""`nanokit command` (a launch command for vLLM, SGLang or TRT-LLM) and `nanokit plan` (its memory plan).

Both take the same options; an impossible combination exits with status 1 and the doctor's sentence on stderr.
What the user leaves unset (concurrency, KV-cache dtype, vLLM's batched tokens and CUDA-graph capture size) the
planner chooses for `--goal` and the GPU (nanokit.tune.recommend), and says so, with why, one line each; what the
user sets is kept and judged by the doctor as given.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated

import typer

from nanokit.cli._app import app, fail
from nanokit.errors import ConfigError, NanokitError, argument


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
GpusOpt = Annotated[int, typer.Option(min=1, help="GPUs per node (the short form: all for tensor parallelism).")]
VariantOpt = Annotated[VariantKey, typer.Option(help="Checkpoint: BF16, FP8 or NVFP4 weights.")]
ContextOpt = Annotated[int, typer.Option(min=1, help="Maximum context per request, in tokens.")]
ConcurrencyOpt = Annotated[int | None, typer.Option(min=1, help="Sequences running at once (vLLM --max-num-seqs); "
                                                               "default: the planner's for the goal.")]
ReasoningOpt = Annotated[bool, typer.Option("--reasoning/--no-reasoning", help="Split <think> into reasoning.")]
ToolsOpt = Annotated[bool, typer.Option("--tools/--no-tools", help="Parse Qwen3-Coder tool calls.")]
KvOpt = Annotated[str | None, typer.Option(help="KV-cache dtype: auto (the model's) or fp8; default: fp8 for "
                                                 "the FP8/NVFP4 checkpoints, auto for BF16.")]
GoalOpt = Annotated[str | None, typer.Option(help="What to plan unset options for: latency (default), balanced, "
                                                  "throughput, or slo with --ttft-ms/--tpot-ms.")]
TtftOpt = Annotated[float | None, typer.Option(min=0.001, help="slo goal: bound on p90 time to first token, ms.")]
TpotOpt = Annotated[float | None, typer.Option(min=0.001, help="slo goal: bound on p90 time per output token, ms.")]
TokensOpt = Annotated[int | None, typer.Option(min=1, help="Tokens per scheduler step (vLLM --max-num-batched-tokens, "
                                                    "SGLang --chunked-prefill-size); default: the planner's.")]
CaptureOpt = Annotated[int | None, typer.Option(min=1, help="Largest CUDA-graph batch (vLLM --max-cudagraph-capture-size, "
                                                     "SGLang --cuda-graph-max-bs); default: the planner's.")]
MambaOpt = Annotated[str, typer.Option(help="Mamba SSM cache dtype: float32, bfloat16 or float16.")]
HostOpt = Annotated[str, typer.Option(help="Interface the server binds.")]
PortOpt = Annotated[int | None, typer.Option(min=1, max=65535, help="Port; default: the engine's (8000, or 30000 for SGLang).")]
KeyOpt = Annotated[str | None, typer.Option(help="API key clients must send.")]
VersionOpt = Annotated[str | None, typer.Option(help="Engine version, e.g. 0.11.2; default: the newest known.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
# ----- parallel strategy (nanokit.parallel; multi-node commands: nanokit.nodes) -----
TpOpt = Annotated[int | None, typer.Option("--tp", min=1, help="Tensor-parallel size; default: the GPUs DP and PP leave.")]
DpOpt = Annotated[int, typer.Option("--dp", min=1, help="Data-parallel replicas (each with its own KV cache).")]
PpOpt = Annotated[int, typer.Option("--pp", min=1, help="Pipeline-parallel stages.")]
EpOpt = Annotated[bool, typer.Option("--ep/--no-ep", help="Expert parallelism: spread the 128 experts over GPUs.")]
NodesOpt = Annotated[int, typer.Option("--nodes", min=1, help="Number of nodes; --gpus is GPUs per node.")]
NodeRankOpt = Annotated[int | None, typer.Option("--node-rank", min=0, help="Print only this node's command (0: head).")]
HeadOpt = Annotated[str | None, typer.Option("--head-address", help="Node 0 as HOST:PORT, for multi-node specs.")]
IfnameOpt = Annotated[str | None, typer.Option("--network-interface",
                                               help="NCCL/Gloo network interface on every node, e.g. eth0.")]
_PARALLEL = ("tp", "dp", "pp", "ep", "nodes", "head_address", "network_interface")


PLANNED = ("concurrency", "kv_cache_dtype", "max_num_batched_tokens", "max_cudagraph_capture_size")


def _spec(**options):
    """The LaunchSpec of the options, with the planner's choice for those left unset, and one reason per choice."""
    from nanokit.goal import Goal
    from nanokit.launch import LaunchSpec
    from nanokit.tune import find_run_cards, recommended_spec

    goal = Goal(name=options["goal"] or "latency", ttft_ms=options["ttft_ms"], tpot_ms=options["tpot_ms"])
    spec = LaunchSpec(
        engine=options["engine"].value, gpu=options["gpu"], gpus=options["gpus"], variant=options["variant"].value,
        context=options["context"], concurrency=options["concurrency"] or 1, reasoning=options["reasoning"],
        tools=options["tools"], kv_cache_dtype=options["kv_cache_dtype"] or "auto",
        mamba_ssm_cache_dtype=options["mamba_cache_dtype"], host=options["host"], port=options["port"],
        api_key=options["api_key"], engine_version=options["engine_version"],
        max_num_batched_tokens=options["max_num_batched_tokens"],
        max_cudagraph_capture_size=options["max_cudagraph_capture_size"],
        **{name: options[name] for name in _PARALLEL if name in options},
    )  # fmt: skip
    user_set = {name for name in PLANNED if options[name] is not None}
    return recommended_spec(spec, goal, user_set=user_set, run_cards=find_run_cards())


@app.command()
def command(
    engine: EngineOpt = Engine.vllm, gpu: GpuOpt = "h200", gpus: GpusOpt = 1,
    variant: VariantOpt = VariantKey.bf16, context: ContextOpt = 32768, concurrency: ConcurrencyOpt = None,
    reasoning: ReasoningOpt = True, tools: ToolsOpt = True, kv_cache_dtype: KvOpt = None,
    mamba_cache_dtype: MambaOpt = "float32", host: HostOpt = "127.0.0.1", port: PortOpt = None,
    api_key: KeyOpt = None, engine_version: VersionOpt = None, goal: GoalOpt = None, ttft_ms: TtftOpt = None,
    tpot_ms: TpotOpt = None, max_num_batched_tokens: TokensOpt = None, max_cudagraph_capture_size: CaptureOpt = None,
    as_json: JsonOpt = False,
    tp: TpOpt = None, dp: DpOpt = 1, pp: PpOpt = 1, ep: EpOpt = False, nodes: NodesOpt = 1,
    node_rank: NodeRankOpt = None, head_address: HeadOpt = None, network_interface: IfnameOpt = None,
) -> None:  # fmt: skip
    """Print the command that launches Nemotron-3-Nano with these choices (one per node for several nodes).

    Example: nanokit command --gpu h100 --gpus 2 --variant fp8 --context 65536
    """
    from nanokit.doctor import check
    from nanokit.nodes import node_commands

    try:
        spec, chosen = _spec(**locals())
        findings = check(spec)
        nodes_run = [n for n in node_commands(spec) if node_rank is None or n.node_rank == node_rank]
    except NanokitError as exc:
        fail(exc)
    if not nodes_run:
        fail(ConfigError(f"{argument('node_rank', node_rank)} is not a node of this {spec.nodes}-node spec; "
                         f"pass 0 to {spec.nodes - 1}."))
    warnings = [str(f) for f in findings]
    if as_json:
        payload = {"argv": spec.argv(), "env": spec.env(), "shell": spec.shell(), "warnings": warnings,
                   "files": spec.files(), "goal": spec.goal.describe(), "chosen": chosen,
                   "nodes": [n.to_dict() for n in nodes_run]}  # fmt: skip
        typer.echo(json.dumps(payload, indent=2))
        return
    for line in [f"chosen for {spec.goal.describe()}: {why}" for why in chosen] + warnings:
        typer.echo(f"# {line}", err=True)
    if spec.nodes == 1:
        typer.echo(spec.script())
        return
    for node in nodes_run:
        typer.echo(f"# node {node.node_rank} ({node.role})\n{node.shell(multiline=True)}")


@app.command()
def plan(
    engine: EngineOpt = Engine.vllm, gpu: GpuOpt = "h200", gpus: GpusOpt = 1,
    variant: VariantOpt = VariantKey.bf16, context: ContextOpt = 32768, concurrency: ConcurrencyOpt = None,
    reasoning: ReasoningOpt = True, tools: ToolsOpt = True, kv_cache_dtype: KvOpt = None,
    mamba_cache_dtype: MambaOpt = "float32", host: HostOpt = "127.0.0.1", port: PortOpt = None,
    api_key: KeyOpt = None, engine_version: VersionOpt = None, goal: GoalOpt = None, ttft_ms: TtftOpt = None,
    tpot_ms: TpotOpt = None, max_num_batched_tokens: TokensOpt = None, max_cudagraph_capture_size: CaptureOpt = None,
    tp: TpOpt = None, dp: DpOpt = 1, pp: PpOpt = 1, ep: EpOpt = False, nodes: NodesOpt = 1,
    head_address: HeadOpt = None, network_interface: IfnameOpt = None,
    config: Annotated[str | None, typer.Option(help="A NemotronH config.json or checkpoint directory; "
                                                     "default: the real model's numbers.")] = None,
    as_json: JsonOpt = False,
) -> None:  # fmt: skip
    """Print the memory plan (weights, KV cache, Mamba state, capacity, concurrency) with the arithmetic.

    Example: nanokit plan --gpu h200 --variant fp8 --context 131072 --concurrency 128
    """
    from nanokit.doctor import diagnose
    from nanokit.parallel import strategy_name
    from nanokit.planner import plan_launch

    try:
        spec, chosen = _spec(**{k: v for k, v in locals().items() if k not in ("config", "as_json")})
        memory = plan_launch(spec, config)
        findings = diagnose(spec, memory) if config is None else []
    except NanokitError as exc:
        fail(exc)
    except (OSError, KeyError, ValueError) as exc:
        fail(ConfigError(f"Could not read the config: {exc}."))
    errors = [f for f in findings if f.severity == "error"]
    if as_json:
        extra = {"findings": [str(f) for f in findings], "chosen": chosen, "strategy": strategy_name(spec)}
        typer.echo(json.dumps(memory.to_dict() | extra, indent=2))
    else:
        typer.echo(f"strategy: {strategy_name(spec)}\n{memory.explain()}")
        for why in chosen:
            typer.echo(f"# chosen for {spec.goal.describe()}: {why}", err=True)
    for finding in findings:
        typer.echo(f"{'error: ' + finding.message if finding.severity == 'error' else '# ' + str(finding)}", err=True)
    if errors:
        raise typer.Exit(1)

