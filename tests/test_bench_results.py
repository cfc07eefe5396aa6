"""Specs for results files and the comparison table."""

from __future__ import annotations

import json
import math

import pytest

from nanokit.bench.metrics import calculate_metrics
from nanokit.bench.records import RequestRecord, failed_record
from nanokit.bench.results import (
    comparison_rows,
    comparison_table,
    load_result,
    run_to_dict,
    save_run,
    write_json_atomic,
)
from nanokit.bench.runner import BenchmarkConfig, BenchmarkRun
from nanokit.bench.server_view import ServerSample, parse_gauges
from nanokit.bench.sweep import pareto_front, sweep_configs
from nanokit.errors import ConfigError


def make_run(concurrency=4, tpot=0.01, label=""):
    records = tuple(RequestRecord(success=True, start_time=100.0 + i, ttft=0.1, itl=(tpot,) * 9, latency=0.1 + 9 * tpot,
                                  prompt_tokens=32, output_tokens=10) for i in range(4)) + (failed_record("x"),)
    config = BenchmarkConfig(base_url="http://h/v1", max_concurrency=concurrency, label=label)
    return BenchmarkRun(config=config, model="tiny", records=records, duration=5.0,
                        metrics=calculate_metrics(records, 5.0), origin=100.0, date="20261122-200000",
                        server_samples=(ServerSample(time=101.0, running=2.0),))


def test_result_json_uses_vllm_field_names():
    d = run_to_dict(make_run())
    for key in ("date", "backend", "model_id", "num_prompts", "request_rate", "burstiness", "max_concurrency",
                "duration", "completed", "failed", "total_input_tokens", "total_output_tokens",
                "output_throughput", "median_tpot_ms", "p99_ttft_ms", "input_lens", "output_lens", "ttfts",
                "itls", "errors", "max_output_tokens_per_s", "max_concurrent_requests"):
        assert key in d, key
    assert d["request_rate"] == "inf" and d["output_lens"][-1] == 0
    assert d["nanokit"]["server_samples"][0]["time"] == pytest.approx(1.0)
    json.dumps(d)


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    path = save_run(make_run(), tmp_path / "sub" / "run.json")
    assert load_result(path)["completed"] == 4
    assert [p.name for p in path.parent.iterdir()] == ["run.json"]
    with pytest.raises(TypeError):
        write_json_atomic({"bad": object()}, path)
    assert load_result(path)["completed"] == 4  # the old file survives a failed write
    assert [p.name for p in path.parent.iterdir()] == ["run.json"]


def test_comparison_table_lines_up_ours_and_vllms_results():
    vllm_result = {"completed": 4, "failed": 0, "output_throughput": 123.456, "median_tpot_ms": 1.5,
                   "max_concurrency": 8, "request_rate": "inf"}
    rows = comparison_rows([make_run(4), vllm_result])
    assert [r["run"] for r in rows] == ["c=4", "c=8"]
    assert rows[1]["out tok/s"] == 123.5 and rows[1]["p99 ITL ms"] is None
    table = comparison_table([make_run(4, label="ours"), vllm_result])
    assert "ours" in table and "out tok/s" in table and len(table.splitlines()) == 4


def test_sweep_configs_label_each_point():
    base = BenchmarkConfig(base_url="http://h/v1")
    assert [c.max_concurrency for c in sweep_configs(base, concurrencies=[1, 4])] == [1, 4]
    rates = sweep_configs(base, rates=[0.5, 2])
    assert [c.label for c in rates] == ["rate=0.5", "rate=2"] and math.isinf(base.request_rate)
    with pytest.raises(ConfigError):
        sweep_configs(base)


def test_pareto_front_keeps_undominated_points_in_latency_order():
    points = [(1.0, 100.0), (2.0, 300.0), (3.0, 250.0), (4.0, 500.0), (2.5, 300.0)]
    assert pareto_front(points) == [0, 1, 3]


def test_prometheus_gauges_are_summed_over_label_sets():
    text = ('# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{engine="0"} 2.0\n'
            'vllm:num_requests_running{engine="1"} 1.0\nvllm:num_requests_waiting{engine="0"} 4.0\n'
            'vllm:kv_cache_usage_perc{engine="0"} 0.5\nvllm:other 9\ngarbage\n')
    assert parse_gauges(text) == {"running": 3.0, "waiting": 4.0, "kv_cache_usage": 0.5}
