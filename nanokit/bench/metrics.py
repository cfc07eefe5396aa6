"""Benchmark metrics as a pure function of the per-request records.

Definitions are `vllm bench serve`'s (`calculate_metrics` in vllm/benchmarks/serve.py, vLLM 0.32):

- TTFT: time to the first streamed chunk, per successful request.
- TPOT: (E2E latency - TTFT) / (output tokens - 1), per successful request with more than one output token.
- ITL: every gap between chunks, pooled over all successful requests.
- E2E latency: sending to the last token chunk.
- throughputs: completed requests, output tokens, input + output tokens, each divided by the benchmark duration.
- goodput: successful requests meeting every SLO given (TTFT, TPOT, E2E in ms; TPOT counted 0 when one token)
  divided by the duration.
- peak output tokens/s and peak concurrency: chunks and active requests counted in one-second buckets from the
  first successful request's start.

Ours on top: time to the first reasoning chunk (TTFR) and to the first answer chunk (TTFA) for chat requests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from nanokit.bench.records import RequestRecord

DEFAULT_PERCENTILES: tuple[float, ...] = (50.0, 90.0, 99.0)


@dataclass(frozen=True)
class LatencyStats:
    """Summary of one latency in milliseconds; all zero when there were no samples (as vLLM reports)."""

    count: int
    mean: float
    median: float
    std: float
    percentiles: tuple[tuple[float, float], ...]

    @classmethod
    def of(cls, seconds: Sequence[float], percentiles: Sequence[float]) -> LatencyStats:
        values = np.asarray(seconds if len(seconds) else [0.0], dtype=float) * 1000.0
        return cls(
            count=len(seconds),
            mean=float(np.mean(values)),
            median=float(np.median(values)),
            std=float(np.std(values)),
            percentiles=tuple((float(p), float(np.percentile(values, p))) for p in percentiles),
        )

    def percentile(self, p: float) -> float:
        for q, value in self.percentiles:
            if q == p:
                return value
        raise KeyError(f"Percentile {p} was not computed; pass it in `percentiles` when computing the metrics.")


@dataclass(frozen=True)
class SLO:
    """Service-level objectives for goodput, in milliseconds; None means no bound on that latency."""

    ttft_ms: float | None = None
    tpot_ms: float | None = None
    e2el_ms: float | None = None

    def is_empty(self) -> bool:
        return self.ttft_ms is None and self.tpot_ms is None and self.e2el_ms is None


@dataclass(frozen=True)
class BenchmarkMetrics:
    """Everything `vllm bench serve` reports for a generation run, plus reasoning/answer split."""

    duration: float
    completed: int
    failed: int
    total_input: int
    total_output: int
    request_throughput: float
    request_goodput: float
    output_throughput: float
    total_token_throughput: float
    ttft: LatencyStats
    tpot: LatencyStats
    itl: LatencyStats
    e2el: LatencyStats
    ttfr: LatencyStats
    ttfa: LatencyStats
    max_output_tokens_per_s: float
    max_concurrent_requests: int
    slo: SLO = field(default_factory=SLO)

    def to_dict(self) -> dict[str, float | int]:
        """Flat dict with `vllm bench serve`'s JSON field names (mean_ttft_ms, p99_itl_ms, ...) plus ours."""
        out: dict[str, float | int] = {
            "duration": self.duration,
            "completed": self.completed,
            "failed": self.failed,
            "total_input_tokens": self.total_input,
            "total_output_tokens": self.total_output,
            "request_throughput": self.request_throughput,
            "request_goodput": self.request_goodput,
            "output_throughput": self.output_throughput,
            "total_token_throughput": self.total_token_throughput,
            "max_output_tokens_per_s": self.max_output_tokens_per_s,
            "max_concurrent_requests": self.max_concurrent_requests,
        }
        for name in ("ttft", "tpot", "itl", "e2el", "ttfr", "ttfa"):
            stats: LatencyStats = getattr(self, name)
            out[f"mean_{name}_ms"] = stats.mean
            out[f"median_{name}_ms"] = stats.median
            out[f"std_{name}_ms"] = stats.std
            for p, value in stats.percentiles:
                out[f"p{_percentile_word(p)}_{name}_ms"] = value
        for key, value in asdict(self.slo).items():
            if value is not None:
                out[f"slo_{key}"] = value
        return out


def _percentile_word(p: float) -> str:
    # vLLM writes p99 for 99.0 and p99.9 for 99.9.
    return str(int(p)) if int(p) == p else str(p)


def calculate_metrics(
    records: Sequence[RequestRecord],
    duration: float,
    *,
    slo: SLO | None = None,
    percentiles: Sequence[float] = DEFAULT_PERCENTILES,
) -> BenchmarkMetrics:
    """Compute the metrics of one run from its records and its wall-clock duration in seconds."""
    slo = slo or SLO()
    ok = [r for r in records if r.success]
    ttfts = [r.ttft for r in ok]
    e2els = [r.latency for r in ok]
    itls = [gap for r in ok for gap in r.itl]
    tpots: list[float] = []
    all_tpots: list[float] = []
    for r in ok:
        tpot = (r.latency - r.ttft) / (r.output_tokens - 1) if r.output_tokens > 1 else 0.0
        if r.output_tokens > 1:
            tpots.append(tpot)
        all_tpots.append(tpot)
    total_input = sum(r.prompt_tokens for r in ok)
    total_output = sum(r.output_tokens for r in ok)
    good = _count_good(ttfts, all_tpots, e2els, slo) if not slo.is_empty() else 0
    peak_tokens, peak_concurrency = _peaks(ok)
    per_s = (lambda n: n / duration) if duration > 0 else (lambda n: 0.0)
    return BenchmarkMetrics(
        duration=duration,
        completed=len(ok),
        failed=len(records) - len(ok),
        total_input=total_input,
        total_output=total_output,
        request_throughput=per_s(len(ok)),
        request_goodput=per_s(good),
        output_throughput=per_s(total_output),
        total_token_throughput=per_s(total_input + total_output),
        ttft=LatencyStats.of(ttfts, percentiles),
        tpot=LatencyStats.of(tpots, percentiles),
        itl=LatencyStats.of(itls, percentiles),
        e2el=LatencyStats.of(e2els, percentiles),
        ttfr=LatencyStats.of([r.ttfr for r in ok if r.ttfr is not None], percentiles),
        ttfa=LatencyStats.of([r.ttfa for r in ok if r.ttfa is not None], percentiles),
        max_output_tokens_per_s=peak_tokens,
        max_concurrent_requests=peak_concurrency,
        slo=slo,
    )


def _count_good(ttfts: list[float], tpots: list[float], e2els: list[float], slo: SLO) -> int:
    bounds = [(values, limit / 1000.0) for values, limit in ((ttfts, slo.ttft_ms), (tpots, slo.tpot_ms),
                                                               (e2els, slo.e2el_ms)) if limit is not None]
    return sum(all(values[i] <= limit for values, limit in bounds) for i in range(len(ttfts)))


def _peaks(ok: Sequence[RequestRecord]) -> tuple[float, int]:
    if not ok:
        return 0.0, 0
    tokens, active = timeline(ok, bucket_s=1.0)
    return float(max(tokens)), int(max(active))


def timeline(records: Sequence[RequestRecord], *, bucket_s: float = 1.0,
             origin: float | None = None) -> tuple[list[int], list[int]]:
    """Chunks received and requests active per time bucket, from `origin` (default: first start).

    Counted as vLLM counts its peaks: a request is active in every bucket from its start's to its end's,
    inclusive. Only successful requests are counted.
    """
    ok = [r for r in records if r.success]
    if not ok:
        return [], []
    t0 = min(r.start_time for r in ok) if origin is None else origin
    span = max(r.end_time for r in ok) - t0
    n = math.ceil(span / bucket_s) + 1
    tokens = [0] * n
    active = [0] * n
    for r in ok:
        for t in r.token_times():
            b = int((t - t0) / bucket_s)
            if 0 <= b < n:
                tokens[b] += 1
        for b in range(max(int((r.start_time - t0) / bucket_s), 0), min(int((r.end_time - t0) / bucket_s), n - 1) + 1):
            active[b] += 1
    return tokens, active


def summary_row(metrics: BenchmarkMetrics, labels: Mapping[str, object] | None = None) -> dict[str, object]:
    """The few figures a comparison table shows for one run."""
    row: dict[str, object] = dict(labels or {})
    row.update(
        completed=metrics.completed,
        failed=metrics.failed,
        req_per_s=round(metrics.request_throughput, 3),
        out_tok_per_s=round(metrics.output_throughput, 1),
        peak_out_tok_per_s=round(metrics.max_output_tokens_per_s, 1),
        median_ttft_ms=round(metrics.ttft.median, 2),
        median_tpot_ms=round(metrics.tpot.median, 3),
        p99_itl_ms=round(metrics.itl.percentile(99.0), 3) if any(p == 99.0 for p, _ in metrics.itl.percentiles)
        else None,
        median_e2el_ms=round(metrics.e2el.median, 1),
    )
    return row
