"""Specs for the validation script's pure parts: the two command lines and the summary arithmetic."""

from __future__ import annotations

from pathlib import Path

import pytest

from nanokit.lab.validate import ClientRun, Workload, nanokit_argv, summarize, vllm_argv

W = Workload("http://127.0.0.1:8000/v1", "tiny", "/tok", 128, 64, 32, 8)


def test_both_clients_get_the_same_workload():
    v = vllm_argv(W, Path("/tmp/v.json"))
    n = nanokit_argv(W, Path("/tmp/n.json"))
    flag = lambda argv, name: argv[argv.index(name) + 1]
    assert flag(v, "--base-url") == "http://127.0.0.1:8000" and flag(v, "--endpoint") == "/v1/completions"
    assert (flag(v, "--random-input-len"), flag(n, "--input-len")) == ("128", "128")
    assert (flag(v, "--random-output-len"), flag(n, "--output-len")) == ("64", "64")
    assert (flag(v, "--max-concurrency"), flag(n, "--concurrency")) == ("8", "8")
    assert (flag(v, "--num-warmups"), flag(n, "--warmups")) == ("1", "1")
    assert "--ignore-eos" in v and "--no-ignore-eos" not in n
    assert v[1] == "-c" and "vllm.entrypoints.cli.main" in v[2]


def test_summary_takes_medians_and_ratios():
    runs = [ClientRun("vllm", i, 100.0 + i, 10.0, 50.0, 1000, 0, 0.1, 5.0) for i in range(3)]
    runs += [ClientRun("nanokit", i, 98.0 + i, 10.4, 50.0, 1000, 0, 0.2, 5.0) for i in range(3)]
    s = summarize(runs)
    assert s["output_throughput"]["ratio"] == pytest.approx(99 / 101)
    assert s["output_throughput"]["within_target"] and s["median_tpot_ms"]["within_target"]
    assert s["cpu_us_per_token"]["ratio"] == pytest.approx(2.0)
    slow = summarize([*runs[:3], *(ClientRun("nanokit", i, 80.0, 10.0, 50.0, 1000, 0, 0.1, 5.0) for i in range(3))])
    assert not slow["output_throughput"]["within_target"]


def test_split_cpus_gives_the_server_all_but_the_last_by_default():
    from nanokit.lab.validate import split_cpus

    assert split_cpus(None, [0, 1]) == ([0], [1])
    assert split_cpus(None, [0, 1, 2, 3]) == ([0, 1, 2], [3])
    assert split_cpus(None, [3]) is None
    assert split_cpus("1-2", [0, 1, 2, 3]) == ([1, 2], [0, 3])


def test_split_cpus_refuses_lists_that_leave_nothing_for_the_client():
    from nanokit.lab.validate import split_cpus

    with pytest.raises(SystemExit, match="must name some, not all"):
        split_cpus("0-1", [0, 1])
    with pytest.raises(SystemExit, match="must name some, not all"):
        split_cpus("5", [0, 1])
    with pytest.raises(SystemExit, match="CPU numbers like 0-2"):
        split_cpus("zero", [0, 1])


def test_summary_gives_median_and_range_of_per_round_ratios_and_server_ttft():
    runs = []
    for i, ratio in enumerate((0.96, 1.0, 1.02, 1.10)):
        runs.append(ClientRun("vllm", i, 100.0, 10.0, 60.0, 1000, 0, 0.1, 5.0, server_median_ttft_ms=50.0))
        runs.append(ClientRun("nanokit", i, 100.0 * ratio, 10.0, 45.0, 1000, 0, 0.1, 5.0, server_median_ttft_ms=50.0))
    s = summarize(runs)
    assert s["rounds"] == 4
    assert s["output_throughput"]["paired_ratio"] == pytest.approx(1.01)
    assert s["output_throughput"]["paired_range"] == pytest.approx([0.96, 1.10])
    assert s["median_ttft_ms"]["paired_ratio"] == pytest.approx(0.75)
    assert s["server_ttft"]["vllm"]["client_over_server"] == pytest.approx(1.2)
    assert s["server_ttft"]["nanokit"]["client_over_server"] == pytest.approx(0.9)


def test_ttft_waves_split_the_first_burst_from_the_rest():
    from nanokit.lab.validate import ttft_waves

    starts = [0.0, 0.0, 0.0, 0.0, 5.0, 5.1, 5.2, 5.3]
    ttfts = [1.0, 1.2, 1.4, 1.6, 0.1, 0.1, 0.2, 0.2]
    waves = ttft_waves(ttfts, starts, [""] * 8, concurrency=4)
    assert waves["first_wave_median_ttft_ms"] == pytest.approx(1300)
    assert waves["later_median_ttft_ms"] == pytest.approx(150)
    assert waves["mean_ttft_ms"] == pytest.approx(1000 * sum(ttfts) / 8)
    assert ttft_waves([], [], [], 4) == {}


def test_vllm_client_saves_per_request_times_for_the_wave_split():
    assert "--save-detailed" in vllm_argv(W, Path("/tmp/v.json"))


def test_counts_at_bounds_flag_a_client_that_times_less_than_the_server(tmp_path):
    import json
    import math

    from nanokit.lab.validate import _at_bounds

    server = {0.1: 0.0, 0.25: 3.0, 0.5: 4.0, 1.0: 4.0, math.inf: 4.0}
    result = tmp_path / "nanokit-0.json"
    result.write_text(json.dumps({"ttfts": [0.05, 0.2, 0.3, 0.4], "errors": ["", "", "", ""]}))
    rows = _at_bounds(server, result)
    assert rows == {"bounds": [0.1, 0.25, 0.5], "server": [0.0, 3.0, 4.0], "client": [1, 2, 4]}
    runs = [ClientRun("nanokit", 0, 1.0, 1.0, 250.0, 10, 0, 0.1, 1.0, ttft_at_bounds=rows),
            ClientRun("vllm", 0, 1.0, 1.0, 300.0, 10, 0, 0.1, 1.0, ttft_at_bounds={**rows, "client": [0, 2, 4]})]
    flagged = summarize(runs)["server_ttft"]
    assert flagged["nanokit"]["runs_below_server"] == 1 and flagged["vllm"]["runs_below_server"] == 0
