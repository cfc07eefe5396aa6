"""Specs for the pure metrics: vLLM's definitions on hand-made records."""

from __future__ import annotations

import math

import pytest

from nanokit.bench.metrics import SLO, calculate_metrics, timeline
from nanokit.bench.records import RequestRecord, failed_record


def rec(start: float, ttft: float, gaps: list[float], tokens: int | None = None, prompt: int = 10,
        **kw) -> RequestRecord:
    return RequestRecord(success=True, start_time=start, ttft=ttft, itl=tuple(gaps),
                         latency=ttft + sum(gaps), prompt_tokens=prompt,
                         output_tokens=len(gaps) + 1 if tokens is None else tokens, **kw)


def test_throughputs_divide_by_duration_and_skip_failures():
    records = [rec(0.0, 0.1, [0.01] * 9), rec(0.0, 0.2, [0.02] * 4), failed_record("boom")]
    m = calculate_metrics(records, duration=2.0)
    assert (m.completed, m.failed) == (2, 1)
    assert m.total_output == 15 and m.total_input == 20
    assert m.output_throughput == pytest.approx(7.5)
    assert m.total_token_throughput == pytest.approx(17.5)
    assert m.request_throughput == pytest.approx(1.0)


def test_tpot_is_decode_time_over_tokens_after_the_first():
    m = calculate_metrics([rec(0.0, 0.5, [0.1, 0.1, 0.1], tokens=4)], duration=1.0)
    assert m.tpot.median == pytest.approx(100.0)
    assert m.ttft.median == pytest.approx(500.0)
    assert m.e2el.median == pytest.approx(800.0)


def test_single_token_requests_have_no_tpot_sample():
    m = calculate_metrics([rec(0.0, 0.5, [], tokens=1)], duration=1.0)
    assert m.tpot.count == 0 and m.tpot.median == 0.0


def test_itl_is_pooled_over_requests():
    m = calculate_metrics([rec(0, 0.1, [0.01, 0.03]), rec(0, 0.1, [0.02])], duration=1.0)
    assert m.itl.count == 3
    assert m.itl.median == pytest.approx(20.0)


def test_goodput_counts_requests_meeting_every_slo():
    records = [rec(0, 0.1, [0.01] * 3), rec(0, 0.9, [0.01] * 3), rec(0, 0.1, [0.5] * 3)]
    m = calculate_metrics(records, duration=1.0, slo=SLO(ttft_ms=500, tpot_ms=100))
    assert m.request_goodput == pytest.approx(1.0)
    assert m.to_dict()["slo_ttft_ms"] == 500


def test_all_failed_gives_zeros_not_errors():
    m = calculate_metrics([failed_record("x"), failed_record("y")], duration=0.0)
    assert m.completed == 0 and m.failed == 2
    assert m.output_throughput == 0.0 and m.ttft.mean == 0.0
    assert m.max_concurrent_requests == 0


def test_reasoning_and_answer_times_are_separate():
    records = [rec(0, 0.1, [0.01] * 5, ttfr=0.1, ttfa=0.15), rec(0, 0.2, [0.01], ttfr=None, ttfa=0.2)]
    m = calculate_metrics(records, duration=1.0)
    assert m.ttfr.count == 1 and m.ttfr.median == pytest.approx(100.0)
    assert m.ttfa.count == 2 and m.ttfa.median == pytest.approx(175.0)


def test_to_dict_uses_vllm_field_names():
    d = calculate_metrics([rec(0, 0.1, [0.01] * 3)], duration=1.0).to_dict()
    for key in ("completed", "failed", "request_throughput", "output_throughput", "total_token_throughput",
                "mean_ttft_ms", "median_ttft_ms", "std_ttft_ms", "p99_ttft_ms", "median_tpot_ms", "p90_itl_ms",
                "mean_e2el_ms", "max_output_tokens_per_s", "max_concurrent_requests", "request_goodput"):
        assert key in d, key


def test_timeline_counts_chunks_and_active_requests_per_second():
    records = [rec(0.0, 0.5, [0.25, 0.5, 0.5]), rec(1.2, 0.1, [0.1])]
    tokens, active = timeline(records)
    assert sum(tokens) == 6
    assert tokens == [2, 4, 0]
    assert active == [1, 2, 0]
    m = calculate_metrics(records, duration=2.0)
    assert m.max_output_tokens_per_s == 4.0 and m.max_concurrent_requests == 2


def test_matches_vllm_calculate_metrics():
    serve = pytest.importorskip("vllm.benchmarks.serve")
    from vllm.benchmarks.lib.endpoint_request_func import RequestFuncOutput

    records = [rec(0.01 * i, 0.05 + 0.01 * i, [0.002 * (1 + (i * j) % 5) for j in range(20 + i)], prompt=30 + i)
               for i in range(12)] + [failed_record("down")]
    outputs = [RequestFuncOutput(success=r.success, latency=r.latency, output_tokens=r.output_tokens, ttft=r.ttft,
                                 itl=list(r.itl), prompt_len=r.prompt_tokens, start_time=r.start_time,
                                 error=r.error) for r in records]
    theirs, _ = serve.calculate_metrics(input_requests=[], outputs=outputs, dur_s=3.0, tokenizer=None,
                                        selected_percentiles=[50.0, 90.0, 99.0],
                                        goodput_config_dict={"ttft": 120.0, "tpot": 5.0})
    ours = calculate_metrics(records, 3.0, slo=SLO(ttft_ms=120.0, tpot_ms=5.0))
    d = ours.to_dict()
    for name in ("ttft", "tpot", "itl", "e2el"):
        for stat in ("mean", "median", "std"):
            assert math.isclose(d[f"{stat}_{name}_ms"], getattr(theirs, f"{stat}_{name}_ms"), rel_tol=1e-9)
        for p, value in getattr(theirs, f"percentiles_{name}_ms"):
            assert math.isclose(d[f"p{int(p)}_{name}_ms"], value, rel_tol=1e-9)
    for key in ("completed", "failed", "request_throughput", "request_goodput", "output_throughput",
                "total_token_throughput", "max_output_tokens_per_s", "max_concurrent_requests"):
        assert math.isclose(d[key], getattr(theirs, key), rel_tol=1e-9), key
