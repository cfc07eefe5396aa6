"""The planner's choice for a goal, before anything is measured: `recommend(gpu, variant, goal, context)`.

It returns a ServerSetting (apply it to a LaunchSpec for the options the user left unset) and one sentence per
choice saying why. What it rests on:

- Concurrency per goal, from the H200 run of 2026-12-01 (vLLM 0.26.0, BF16, dummy weights, random 1024 in /
  1024 out, 32k context): 64 sequences gave 9,845 output tok/s at 5.8 ms median TPOT and 0.69 s median TTFT;
  512 (of a 1024-sequence server) gave 13,422 tok/s at 34 ms and 4.0 s, the best measured; 1024 collapsed to
  8,442 because batches past 512 ran without CUDA graphs. Latency keeps 64, throughput takes 512, balanced
  takes 256 (between the two, not measured), and slo takes the largest measured concurrency within the bounds.
  Everywhere the numbers are capped by what the KV cache and Mamba state hold at full context (the planner's
  arithmetic), so the command is never one the doctor refuses; on the H200 at 32k that is 279, below the 512
  measured best, which ran with 2k-token requests (vLLM queues sequences that do not fit; the doctor does not
  know the requests are shorter than the context).
- --max-num-batched-tokens: vLLM 0.32's own API-server defaults are 16384 on GPUs of 160 GiB or more, 8192 on
  H100/H200-class (70 GiB or more, not A100) and 2048 below (vllm/engine/arg_utils.py); its offline (LLM class)
  default for H100/H200 is 16384. Latency and balanced keep the API-server default (smaller prefill chunks keep
  decode steps short); throughput takes the offline one.
- --max-cudagraph-capture-size is raised to --max-num-seqs when vLLM's default (min(2 x seqs, 512), 1024 on
  data-centre Blackwell) would leave the largest batches without graphs.
- KV-cache dtype: FP8 for the FP8 and NVFP4 checkpoints, as the vLLM recipe, the model's documentation and
  NVIDIA's cookbook serve them; the model's own (16-bit) for BF16.
"""

from __future__ import annotations

from nanokit.catalog import GIB, GPU, get_gpu
from nanokit.doctor import graph_capture_size
from nanokit.launch import LaunchSpec
from nanokit.planner import most_concurrency, plan_launch
from nanokit.tune.goal import Goal
from nanokit.tune.space import ServerSetting

__all__ = ["MEASURED", "recommend", "recommended_spec"]

# (concurrency, output tok/s, median TPOT ms, median TTFT ms) on one H200, BF16, 32k context (see above).
MEASURED = ((64, 9845.0, 5.8, 690.0), (512, 13422.0, 34.0, 4000.0))
TARGETS = {"latency": 64, "balanced": 256, "throughput": 512}


def _batched_tokens(gpu: GPU, goal: str) -> int:
    if gpu.memory_gib >= 160:
        return 16384
    if gpu.memory_gib >= 70 and "a100" not in gpu.name.lower():
        return 16384 if goal == "throughput" else 8192
    return 2048


def _slo_target(goal: Goal) -> tuple[int, str]:
    within = [c for c, _, tpot, ttft in MEASURED
              if (goal.tpot_ms is None or tpot <= goal.tpot_ms) and (goal.ttft_ms is None or ttft <= goal.ttft_ms)]
    if within:
        return max(within), (f"{max(within)} sequences is the largest concurrency measured on an H200 whose "
                             f"median TPOT and TTFT are within {goal.describe()}.")
    return 16, (f"No concurrency measured on an H200 meets {goal.describe()} (64 sequences gave 5.8 ms TPOT and "
                "0.69 s TTFT), so 16 is a guess below it; run nanokit tune --goal slo to measure it.")


def recommend(gpu: str | GPU, variant: str, goal: str | Goal, context: int) -> tuple[ServerSetting, list[str]]:
    """The settings the planner picks for `goal` on one `gpu`, with one sentence of why for each."""
    goal = goal if isinstance(goal, Goal) else Goal(name=goal)
    info = get_gpu(gpu)
    reasons = []
    kv = "fp8" if variant in ("fp8", "nvfp4") else "auto"
    reasons.append(f"--kv-cache-dtype {kv}: " + ("the vLLM recipe, the model's documentation and NVIDIA's cookbook "
                   "serve this checkpoint with an FP8 KV cache." if kv == "fp8" else
                   "BF16 weights keep the model's 16-bit KV cache (an FP8 one costs accuracy)."))
    if goal.name == "slo":
        target, why = _slo_target(goal)
    else:
        target = TARGETS[goal.name]
        why = {"latency": "64 sequences gave 5.8 ms median TPOT and 0.69 s TTFT on an H200 (0.73x the best "
                          "throughput), the low-latency end measured.",
               "balanced": "256 sequences sits between the low-latency 64 and the best-throughput 512 measured on "
                           "an H200 (not measured itself).",
               "throughput": "512 sequences gave the best throughput measured on an H200 (13,422 output tok/s); "
                             "1,024 gave less because batches past 512 ran without CUDA graphs."}[goal.name]
    # The capacity depends on --max-num-seqs itself (activation and CUDA-graph memory grow with it), so the
    # cap is the planner's fixed point at the batched-token setting this goal will run with.
    probe = LaunchSpec(gpu=info, variant=variant, context=context, concurrency=1, kv_cache_dtype=kv,
                       extra=("--max-num-batched-tokens", str(_batched_tokens(info, goal.name))))
    plan = plan_launch(probe)
    fits = max(1, min(most_concurrency(probe), plan.num_blocks))
    concurrency = min(target, fits)
    if concurrency < target:
        why += (f" Capped at {concurrency}: that many {context:,}-token sequences fit in the "
                f"{plan.kv_cache_memory_bytes / GIB:.1f} GiB of KV cache and Mamba state on the {info.name}, the "
                "most the doctor accepts (vLLM itself queues what does not fit: lower --context to the longest "
                "request to allow more).")
    reasons.append(f"--max-num-seqs {concurrency} (and as many concurrent clients): {why}")
    tokens = max(_batched_tokens(info, goal.name), concurrency)
    reasons.append(f"--max-num-batched-tokens {tokens}: " + ("vLLM's offline default on this GPU class, larger "
                   "prefill chunks for throughput." if goal.name == "throughput" and tokens > 8192
                   and info.memory_gib < 160 else "vLLM's API-server default on this GPU class, which keeps "
                   "decode steps short while prompts are prefilled."))
    spec = LaunchSpec(gpu=info, variant=variant, context=context, concurrency=concurrency,
                      extra=("--max-num-batched-tokens", str(tokens)))
    default_capture = graph_capture_size(spec)
    capture = concurrency if concurrency > default_capture else None
    reasons.append(f"--max-cudagraph-capture-size {capture}: vLLM's default stops at {default_capture}, below "
                   "--max-num-seqs, and larger batches would run without CUDA graphs." if capture else
                   f"--max-cudagraph-capture-size left to vLLM: its default ({default_capture}) covers every "
                   "batch of --max-num-seqs.")
    setting = ServerSetting(max_num_seqs=concurrency, max_num_batched_tokens=tokens, capture_size=capture,
                            kv_cache_dtype=kv)
    return setting, reasons


def recommended_spec(spec: LaunchSpec, goal: str | Goal, *, user_set: frozenset[str] | set[str] = frozenset()
                     ) -> tuple[LaunchSpec, list[str]]:
    """`spec` with the recommendation filled into what the user left unset, and the reasons for what was filled.

    `user_set` names the LaunchSpec fields the user gave ("concurrency", "kv_cache_dtype"); those stay as they
    are, and so do flags the user already put in `extra` (--max-num-batched-tokens, --max-cudagraph-capture-size).
    """
    setting, reasons = recommend(spec.gpu_info, spec.variant, goal, spec.context)
    changes = {}
    if "concurrency" in user_set:
        reasons = [r for r in reasons if not r.startswith("--max-num-seqs")]
    else:
        changes["max_num_seqs"] = setting.max_num_seqs
    if "kv_cache_dtype" in user_set:
        reasons = [r for r in reasons if not r.startswith("--kv-cache-dtype")]
    else:
        changes["kv_cache_dtype"] = setting.kv_cache_dtype
    for flag, value in (("--max-num-batched-tokens", setting.max_num_batched_tokens),
                        ("--max-cudagraph-capture-size", setting.capture_size)):
        if any(word.split("=")[0] == flag for word in spec.extra):
            reasons = [r for r in reasons if not r.startswith(flag)]
        else:
            changes[{"--max-num-batched-tokens": "max_num_batched_tokens",
                     "--max-cudagraph-capture-size": "capture_size"}[flag]] = value
    filled = ServerSetting(max_num_seqs=changes.pop("max_num_seqs", spec.concurrency), **changes)
    return filled.apply(spec), reasons
