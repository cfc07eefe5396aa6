"""Rules that turn a bad launch combination into one sentence with the fix.

Each rule is a small function `rule(spec, plan) -> Finding | None`, listed in RULES; `diagnose` runs them all.
Severity: "error" (it will not start or not work), "warning" (it works but probably not as meant), "note"
(nanokit changed something for you). `check` raises ConfigError with the first error's sentence.
`launch_problem` answers a narrower question: can this machine serve the spec itself, on its own GPUs?

The rules live by subject, each module with the facts its rules rest on:

    finding.py        Finding, the one thing a rule returns
    capacity.py       what one GPU can run and hold: weight formats, weights, context, sequences, Mamba blocks
    engine_flags.py   engine flags and versions: CUDA-graph batches, KV-cache dtype, API key, parser plugin
    splits.py         parallel splits: TP x DP x PP, what TP and EP divide, engine support, multi-node
    lora_serving.py   serving fine-tuned weights: LoRA flags and the adapters they name
"""

from __future__ import annotations

from collections.abc import Sequence

from nanokit.catalog import GPU, local_gpus
from nanokit.doctor.capacity import (
    MAX_CONTEXT,  # noqa: F401  (importable from here, as when the doctor was one module)
    concurrency_fits,
    fp8_needs_ada_or_newer,
    long_context,
    mamba_blocks_hold_concurrency,
    nvfp4_needs_blackwell,
    smallest_fitting,
    weights_fit,
)
from nanokit.doctor.engine_flags import (
    batches_past_cuda_graphs,
    exposed_without_key,
    fp8_kv_with_bf16_weights,
    fp16_kv_with_quantized_weights,
    graph_capture_size,
    reasoning_plugin_file,
    sglang_tp_one_only,
)
from nanokit.doctor.finding import Finding, Rule
from nanokit.doctor.lora_serving import (
    lora_adapter_targets,
    lora_engine_support,
    lora_rank_allowed,
    lora_with_flashinfer_fp8,
)
from nanokit.doctor.splits import (
    ep_divides_experts,
    multi_node_needs_head,
    parallel_sizes_match,
    strategy_supported,
    tp_divides_model,
    weights_fit_other_split,
)
from nanokit.errors import ConfigError
from nanokit.launch import LaunchSpec
from nanokit.planner import MemoryPlan, plan_launch

__all__ = ["RULES", "Finding", "check", "diagnose", "graph_capture_size", "launch_problem", "smallest_fitting"]

# The order counts: diagnose sorts by severity only (a stable sort), so check raises the first error here.
RULES: tuple[Rule, ...] = (
    nvfp4_needs_blackwell,
    fp8_needs_ada_or_newer,
    weights_fit,
    long_context,
    mamba_blocks_hold_concurrency,
    concurrency_fits,
    batches_past_cuda_graphs,
    fp8_kv_with_bf16_weights,
    fp16_kv_with_quantized_weights,
    exposed_without_key,
    sglang_tp_one_only,
    reasoning_plugin_file,
    parallel_sizes_match,
    tp_divides_model,
    ep_divides_experts,
    weights_fit_other_split,
    strategy_supported,
    multi_node_needs_head,
    lora_engine_support,
    lora_rank_allowed,
    lora_with_flashinfer_fp8,
    lora_adapter_targets,
)


def diagnose(spec: LaunchSpec, plan: MemoryPlan | None = None) -> list[Finding]:
    """Every finding for a spec, errors first."""
    plan = plan or plan_launch(spec)
    findings = [f for rule in RULES if (f := rule(spec, plan)) is not None]
    order = {"error": 0, "warning": 1, "note": 2}
    return sorted(findings, key=lambda f: order[f.severity])


def check(spec: LaunchSpec, plan: MemoryPlan | None = None) -> list[Finding]:
    """The findings, or ConfigError with the first error's sentence when the spec cannot work."""
    findings = diagnose(spec, plan)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        raise ConfigError(errors[0].message)
    return findings


def launch_problem(spec: LaunchSpec, gpus: Sequence[GPU] | None = None) -> str | None:
    """Why this machine cannot serve `spec` with vLLM on its own GPUs, in one sentence; None when it can.

    `gpus` are the machine's GPUs (default: `local_gpus()`, asked of the driver). The spec is held against the
    first of them, with the doctor's errors: a spec names one GPU model, and a machine seldom mixes them.
    """
    if spec.engine != "vllm":
        return f"Launch here runs vLLM only; run the {spec.engine} command on your GPU machine instead."
    gpus = local_gpus() if gpus is None else list(gpus)
    if spec.nodes > 1:
        return f"Launch here runs one node; run each of the {spec.nodes} node commands on its own machine instead."
    if not gpus:
        return ("This machine has no NVIDIA GPU (none visible to the driver), so the real model cannot run here; "
                "copy the command to a GPU machine, or serve the embedded tiny model (VLLMServer() with no model).")
    if len(gpus) < spec.gpus:
        return f"This machine has {len(gpus)} GPU(s) but the spec asks for {spec.gpus}; pick {len(gpus)} GPUs."
    errors = [f.message for f in diagnose(spec.with_(gpu=gpus[0])) if f.severity == "error"]
    if errors:
        return f"On this machine's {gpus[0].name}: {errors[0]}"
    return None
