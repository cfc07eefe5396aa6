"""`nanokit command` (a launch command for vLLM, SGLang or TRT-LLM) and `nanokit plan` (its memory plan).

Both take the same options; an impossible combination exits with status 1 and the doctor's sentence on stderr.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated

import typer

from nanokit.cli._app import app, fail
from nanokit.errors import ConfigError, NanokitError


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
GpusOpt = Annotated[int, typer.Option(min=1, help="Number of GPUs (used for tensor parallelism).")]
VariantOpt = Annotated[VariantKey, typer.Option(help="Checkpoint: BF16, FP8 or NVFP4 weights.")]
ContextOpt = Annotated[int, typer.Option(min=1, help="Maximum context per request, in tokens.")]
ConcurrencyOpt = Annotated[int, typer.Option(min=1, help="Sequences running at once (vLLM --max-num-seqs).")]
ReasoningOpt = Annotated[bool, typer.Option("--reasoning/--no-reasoning", help="Split <think> into reasoning.")]
ToolsOpt = Annotated[bool, typer.Option("--tools/--no-tools", help="Parse Qwen3-Coder tool calls.")]
KvOpt = Annotated[str, typer.Option(help="KV-cache dtype: auto (the model's) or fp8.")]
MambaOpt = Annotated[str, typer.Option(help="Mamba SSM cache dtype: float32, bfloat16 or float16.")]
HostOpt = Annotated[str, typer.Option(help="Interface the server binds.")]
PortOpt = Annotated[int | None, typer.Option(min=1, max=65535, help="Port; default: the engine's (8000, or 30000 for SGLang).")]
KeyOpt = Annotated[str | None, typer.Option(help="API key clients must send.")]
VersionOpt = Annotated[str | None, typer.Option(help="Engine version, e.g. 0.11.2; default: the newest known.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _spec(**options):
    from nanokit.launch import LaunchSpec

    return LaunchSpec(
        engine=options["engine"].value, gpu=options["gpu"], gpus=options["gpus"], variant=options["variant"].value,
        context=options["context"], concurrency=options["concurrency"], reasoning=options["reasoning"],
        tools=options["tools"], kv_cache_dtype=options["kv_cache_dtype"],
        mamba_ssm_cache_dtype=options["mamba_cache_dtype"], host=options["host"], port=options["port"],
        api_key=options["api_key"], engine_version=options["engine_version"],
    )  # fmt: skip


@app.command()
def command(
    engine: EngineOpt = Engine.vllm, gpu: GpuOpt = "h200", gpus: GpusOpt = 1,
    variant: VariantOpt = VariantKey.bf16, context: ContextOpt = 32768, concurrency: ConcurrencyOpt = 64,
    reasoning: ReasoningOpt = True, tools: ToolsOpt = True, kv_cache_dtype: KvOpt = "auto",
    mamba_cache_dtype: MambaOpt = "float32", host: HostOpt = "127.0.0.1", port: PortOpt = None,
    api_key: KeyOpt = None, engine_version: VersionOpt = None, as_json: JsonOpt = False,
) -> None:  # fmt: skip
    """Print the command that launches Nemotron-3-Nano with these choices.

    Example: nanokit command --gpu h100 --gpus 2 --variant fp8 --context 65536
    """
    from nanokit.doctor import check

    try:
        spec = _spec(**locals())
        findings = check(spec)
    except NanokitError as exc:
        fail(exc)
    warnings = [str(f) for f in findings]
    if as_json:
        payload = {"argv": spec.argv(), "env": spec.env(), "shell": spec.shell(), "warnings": warnings,
                   "files": spec.files()}  # fmt: skip
        typer.echo(json.dumps(payload, indent=2))
        return
    for line in warnings:
        typer.echo(f"# {line}", err=True)
    typer.echo(spec.script())


@app.command()
def plan(
    engine: EngineOpt = Engine.vllm, gpu: GpuOpt = "h200", gpus: GpusOpt = 1,
    variant: VariantOpt = VariantKey.bf16, context: ContextOpt = 32768, concurrency: ConcurrencyOpt = 64,
    reasoning: ReasoningOpt = True, tools: ToolsOpt = True, kv_cache_dtype: KvOpt = "auto",
    mamba_cache_dtype: MambaOpt = "float32", host: HostOpt = "127.0.0.1", port: PortOpt = None,
    api_key: KeyOpt = None, engine_version: VersionOpt = None,
    config: Annotated[str | None, typer.Option(help="A NemotronH config.json or checkpoint directory; "
                                                     "default: the real model's numbers.")] = None,
    as_json: JsonOpt = False,
) -> None:  # fmt: skip
    """Print the memory plan (weights, KV cache, Mamba state, capacity, concurrency) with the arithmetic.

    Example: nanokit plan --gpu h200 --variant fp8 --context 131072 --concurrency 128
    """
    from nanokit.doctor import diagnose
    from nanokit.planner import plan_launch

    try:
        spec = _spec(**{k: v for k, v in locals().items() if k not in ("config", "as_json")})
        memory = plan_launch(spec, config)
        findings = diagnose(spec, memory) if config is None else []
    except NanokitError as exc:
        fail(exc)
    except (OSError, KeyError, ValueError) as exc:
        fail(ConfigError(f"Could not read the config: {exc}."))
    errors = [f for f in findings if f.severity == "error"]
    if as_json:
        typer.echo(json.dumps(memory.to_dict() | {"findings": [str(f) for f in findings]}, indent=2))
    else:
        typer.echo(memory.explain())
    for finding in findings:
        typer.echo(f"{'error: ' + finding.message if finding.severity == 'error' else '# ' + str(finding)}", err=True)
    if errors:
        raise typer.Exit(1)

