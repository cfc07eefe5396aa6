"""The planner against what vLLM 0.26.0 logged on an H200 at every setting measured, within 1%.

Specs: the three 2026-12-01 servers at 32k context (start-up logs in tests/data/vllm_logs/h200-2026-12-01/:
rec = --max-num-seqs 64, big = 1024, mbt = 1024 with --max-num-batched-tokens 16384) and the four 2026-11-22
probes kept in notebooks/results/h200_bf16_gpu_check.json (--max-num-seqs 512, 4k and 32k, BF16 and FP8 KV).
nanokit.engine_memory's activation and CUDA-graph constants come from rec and big only; mbt and the probes are
held out, and the sampler constant is refitted from each of big and mbt to predict the other.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from nanokit import engine_memory
from nanokit.catalog import get_gpu
from nanokit.engine_memory import cudagraph_capture_sizes, moe_workspace_bytes
from nanokit.planner import GIB, ModelShape, plan_memory

REAL = ModelShape.nemotron_3_nano()
H200_GIB = get_gpu("h200").memory_gib
LOGS = Path(__file__).parent / "data" / "vllm_logs" / "h200-2026-12-01"
PROBES = Path(__file__).parents[1] / "notebooks" / "results" / "h200_bf16_gpu_check.json"
VLLM_DEFAULT_BATCHED_TOKENS = 8192  # what vLLM 0.26.0 chose on this H200 when the flag was not given (all logs)


@dataclass(frozen=True)
class Logged:
    """One server's settings and the figures vLLM printed for it (GiB rounded to 0.01, as vLLM prints them)."""

    name: str
    context: int
    max_num_seqs: int
    max_num_batched_tokens: int
    kv_cache_dtype: str
    kv_gib: float
    tokens: int
    concurrency: float
    peak_gib: float | None = None
    non_torch_gib: float | None = None
    cudagraph_gib: float | None = None
    cuda_total_gib: float | None = None
    utilization: float | None = None
    graphs: dict[str, tuple[int, int]] | None = None  # mode -> (count, largest)


def _number(pattern: str, text: str) -> float:
    match = re.search(pattern, text)
    assert match, f"the log has no line matching {pattern!r}"
    return float(match.group(1).replace(",", ""))


def parse_log(path: Path) -> Logged:
    text = path.read_text()
    # The engine's non-default arguments, printed as a Python dict literal of plain values.
    args = ast.literal_eval(re.search(r"non-default args: (\{.*\})", text).group(1))
    graphs = re.search(r"Profiling CUDA graph memory: (.*)", text).group(1)
    return Logged(
        name=path.name.removesuffix("-startup.log"),
        context=args["max_model_len"],
        max_num_seqs=args["max_num_seqs"],
        max_num_batched_tokens=int(_number(r"max_num_batched_tokens=(\d+)", text)),
        kv_cache_dtype=args.get("kv_cache_dtype", "auto"),
        kv_gib=_number(r"Available KV cache memory: ([\d.]+) GiB", text),
        tokens=int(_number(r"GPU KV cache size: ([\d,]+) tokens", text)),
        concurrency=_number(r"Maximum concurrency for [\d,]+ tokens per request: ([\d.]+)x", text),
        peak_gib=_number(r"([\d.]+) GiB for peak activation", text),
        non_torch_gib=_number(r"([\d.]+) GiB for non-torch memory", text),
        cudagraph_gib=_number(r"Estimated CUDA graph memory: ([\d.]+) GiB", text),
        cuda_total_gib=_number(r"Free memory on device \([\d.]+/([\d.]+) GiB\)", text),
        utilization=_number(r"Desired GPU memory utilization is \(([\d.]+),", text),
        graphs={m: (int(n), int(big)) for m, n, big in re.findall(r"(\w+)=(\d+) \(largest=(\d+)\)", graphs)},
    )


def probes() -> list[Logged]:
    rows = json.loads(PROBES.read_text())["planner"]
    return [Logged(name=f"probe-{r['kv_cache_dtype']}-{r['context']}", context=r["context"],
                   max_num_seqs=r["max_num_seqs"], max_num_batched_tokens=VLLM_DEFAULT_BATCHED_TOKENS,
                   kv_cache_dtype=r["kv_cache_dtype"], kv_gib=r["logged"]["kv_cache_memory_gib"],
                   tokens=r["logged"]["kv_capacity_tokens"], concurrency=r["logged"]["max_concurrency"])
            for r in rows]  # fmt: skip


STARTUPS = {log.name: log for log in map(parse_log, sorted(LOGS.glob("*-startup.log")))}
SPECS = [*STARTUPS.values(), *probes()]


def plan_for(log: Logged):
    return plan_memory(REAL, gpu_memory_gib=H200_GIB, context=log.context, kv_cache_dtype=log.kv_cache_dtype,
                       mamba_ssm_cache_dtype="float32", max_num_seqs=log.max_num_seqs,
                       max_num_batched_tokens=log.max_num_batched_tokens)  # fmt: skip


def test_every_log_and_probe_is_read():
    assert set(STARTUPS) == {"big", "mbt", "rec"}
    assert len(SPECS) == 7
    assert (STARTUPS["mbt"].max_num_seqs, STARTUPS["mbt"].max_num_batched_tokens) == (1024, 16384)
    assert (STARTUPS["rec"].max_num_seqs, STARTUPS["rec"].max_num_batched_tokens) == (64, 8192)


@pytest.mark.parametrize("log", STARTUPS.values(), ids=STARTUPS.keys())
def test_capture_sizes_give_the_logged_graph_counts(log):
    sizes = cudagraph_capture_sizes(log.max_num_seqs, log.max_num_batched_tokens)
    full = [n for n in sizes if n <= log.max_num_seqs]
    assert log.graphs == {"PIECEWISE": (len(sizes), sizes[-1]), "FULL": (len(full), full[-1])}


@pytest.mark.parametrize("log", SPECS, ids=[s.name for s in SPECS])
def test_kv_memory_and_capacity_within_one_percent(log, record_property):
    plan = plan_for(log)
    errors = {"kv_gib": plan.kv_cache_memory_bytes / GIB / log.kv_gib - 1,
              "tokens": plan.kv_capacity_tokens / log.tokens - 1,
              "concurrency": plan.max_concurrency / log.concurrency - 1}  # fmt: skip
    for key, error in errors.items():
        record_property(f"{key}_error", round(error, 5))
    print(f"{log.name}: KV {plan.kv_cache_memory_bytes / GIB:.2f} vs {log.kv_gib} GiB, tokens "
          f"{plan.kv_capacity_tokens:,} vs {log.tokens:,}, errors {', '.join(f'{e:+.2%}' for e in errors.values())}")
    assert all(abs(error) < 0.01 for error in errors.values()), errors


@pytest.mark.parametrize("log", STARTUPS.values(), ids=STARTUPS.keys())
def test_each_term_against_the_log(log):
    plan = plan_for(log)
    parts = {k: v / GIB for k, v in plan.overhead_parts.items()}
    assert parts["peak_activation"] == pytest.approx(log.peak_gib, abs=0.05)
    assert parts["cudagraph"] == pytest.approx(log.cudagraph_gib, abs=0.01)
    assert parts["non_torch"] == pytest.approx(log.non_torch_gib, abs=0.005)
    assert H200_GIB - parts["cuda_hidden"] == pytest.approx(log.cuda_total_gib, abs=0.01)
    assert plan.usable_bytes / GIB == pytest.approx(log.utilization * log.cuda_total_gib, abs=0.01)


def _workspace(log: Logged) -> float:
    return moe_workspace_bytes(log.max_num_batched_tokens, hidden_size=REAL.hidden_size,
                               top_k=REAL.num_experts_per_tok, moe_intermediate=REAL.moe_intermediate_size) / GIB


def _sampler_per_logit(log: Logged) -> float:
    """The sampler constant a log implies when the sampler sets its peak (many sequences)."""
    return (log.peak_gib - _workspace(log)) * GIB / (REAL.vocab_size * min(log.max_num_seqs, log.max_num_batched_tokens))


def test_constants_are_the_ones_the_named_logs_give():
    rec, big = STARTUPS["rec"], STARTUPS["big"]
    forward = (rec.peak_gib - _workspace(rec)) * GIB / rec.max_num_batched_tokens / REAL.hidden_size
    assert engine_memory.FORWARD_BYTES_PER_TOKEN_PER_HIDDEN == pytest.approx(forward, rel=0.01)
    assert engine_memory.SAMPLER_BYTES_PER_LOGIT == pytest.approx(_sampler_per_logit(big), rel=0.01)
    extra_graphs = {name: sum(n - 1 for n, _ in log.graphs.values()) for name, log in (("rec", rec), ("big", big))}
    each = (big.cudagraph_gib - rec.cudagraph_gib) / (extra_graphs["big"] - extra_graphs["rec"])
    assert engine_memory.GRAPH_EACH_BYTES / GIB == pytest.approx(each, rel=0.01)
    assert engine_memory.GRAPH_FIRST_BYTES / GIB == pytest.approx(rec.cudagraph_gib - each * extra_graphs["rec"],
                                                                  rel=0.02)  # fmt: skip


@pytest.mark.parametrize(("fit", "held_out"), [("big", "mbt"), ("mbt", "big")])
def test_sampler_refitted_on_one_log_predicts_the_other(fit, held_out, monkeypatch):
    monkeypatch.setattr(engine_memory, "SAMPLER_BYTES_PER_LOGIT", _sampler_per_logit(STARTUPS[fit]))
    log = STARTUPS[held_out]
    plan = plan_for(log)
    assert abs(plan.kv_cache_memory_bytes / GIB / log.kv_gib - 1) < 0.01
    assert abs(plan.kv_capacity_tokens / log.tokens - 1) < 0.01


def test_settings_move_the_kv_memory_the_way_vllm_did():
    """Ordering as logged: more sequences and more batched tokens each leave less for the cache."""
    kv = {name: plan_for(log).kv_cache_memory_bytes for name, log in STARTUPS.items()}
    logged = {name: log.kv_gib for name, log in STARTUPS.items()}
    assert sorted(kv, key=kv.get) == sorted(logged, key=logged.get) == ["mbt", "big", "rec"]
