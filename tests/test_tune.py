"""nanokit.tune's pure logic: search spaces, goal scores (SLO filtering), the choice, run cards, budget and resume.

The tune loop is driven here by a fake evaluator with a fake clock (the seam `tune(evaluator=, now=)`); the real
servers are in test_tune_integration.py.
"""

from __future__ import annotations

import json

import optuna
import pytest

from nanokit.bench import WorkloadSpec
from nanokit.errors import ConfigError
from nanokit.goal import FAILED
from nanokit.launch import LaunchSpec
from nanokit.tune import (
    Goal,
    ServerSetting,
    TuneConfig,
    choose,
    command_for,
    load_run_card,
    render_markdown,
    search_space,
    tune,
    write_run_card,
)


def metrics(out=100.0, tpot=10.0, ttft=50.0, e2el=500.0, failed=0, p90_tpot=None, p90_ttft=None):
    return {"output_throughput": out, "median_tpot_ms": tpot, "median_ttft_ms": ttft, "median_e2el_ms": e2el,
            "p90_tpot_ms": p90_tpot or tpot, "p90_ttft_ms": p90_ttft or ttft, "completed": 10, "failed": failed}


# ----- search space -----

def test_cpu_space_holds_only_what_vllm_cpu_takes():
    space = search_space("cpu", "throughput")
    assert set(space.server) == {"max_num_seqs", "max_num_batched_tokens", "kv_cache_memory_bytes"}
    assert space.grid_size() == space.server_settings() * len(space.concurrency)


def test_gpu_space_has_graphs_memory_dtypes_and_async():
    space = search_space("gpu", "balanced")
    assert {"capture_size", "gpu_memory_utilization", "kv_cache_dtype", "mamba_ssm_cache_dtype",
            "async_scheduling"} <= set(space.server)
    assert space.server["kv_cache_dtype"] == ("auto",)  # no FP8 KV for BF16 weights
    assert search_space("gpu", "balanced", variant="fp8").server["kv_cache_dtype"] == ("auto", "fp8")


def test_the_goal_narrows_the_client_concurrency():
    latency, throughput = search_space("gpu", "latency"), search_space("gpu", "throughput")
    assert max(latency.concurrency) < min(throughput.concurrency)
    assert max(search_space("cpu", "latency").concurrency) < min(search_space("cpu", "throughput").concurrency)


def test_unknown_goal_or_device_names_the_choices():
    with pytest.raises(ConfigError, match="pick latency, balanced, throughput or slo"):
        search_space("cpu", "fast")
    with pytest.raises(ConfigError, match="pick gpu .* or cpu"):
        search_space("tpu", "throughput")


def test_a_setting_becomes_launch_flags():
    cpu = ServerSetting(max_num_seqs=8, max_num_batched_tokens=1024, kv_cache_memory_bytes=256 * 2**20)
    argv = cpu.apply(LaunchSpec.embedded("/m")).argv(entry="module")
    assert argv[argv.index("--max-num-seqs") + 1] == "8" and argv[argv.index("--max-num-batched-tokens") + 1] == "1024"
    assert argv[argv.index("--kv-cache-memory-bytes") + 1] == str(256 * 2**20)
    space = search_space("gpu", "throughput", variant="fp8")
    gpu = space.setting({"max_num_seqs": 1024, "max_num_batched_tokens": 8192, "capture_size": "max_num_seqs",
                         "gpu_memory_utilization": 0.95, "kv_cache_dtype": "fp8",
                         "mamba_ssm_cache_dtype": "bfloat16", "async_scheduling": False})
    argv = gpu.apply(LaunchSpec(variant="fp8")).argv()
    assert argv[argv.index("--max-cudagraph-capture-size") + 1] == "1024"
    assert argv[argv.index("--kv-cache-dtype") + 1] == "fp8" and argv[-1] == "--no-async-scheduling"
    assert argv[argv.index("--gpu-memory-utilization") + 1] == "0.95"


# ----- goals -----

def test_goal_scores_rank_points_each_their_own_way():
    fast, busy = metrics(out=50, tpot=5, e2el=300), metrics(out=400, tpot=40, e2el=2500)
    assert Goal(name="throughput").score(busy) > Goal(name="throughput").score(fast)
    assert Goal(name="latency").score(fast) > Goal(name="latency").score(busy)
    balanced = Goal(name="balanced")  # sqrt(50 * 200) = 100 vs sqrt(400 * 25) = 100: a tie, then break it
    assert balanced.score(fast) == pytest.approx(balanced.score(busy))
    assert balanced.score(metrics(out=400, tpot=20)) > balanced.score(busy)


def test_slo_points_within_bounds_beat_every_point_outside():
    goal = Goal(name="slo", tpot_ms=20, ttft_ms=1000)
    within, outside = metrics(out=10, tpot=15), metrics(out=900, tpot=15, p90_tpot=30)
    assert goal.meets(within) and not goal.meets(outside)
    assert goal.score(within) > 0 > goal.score(outside)
    assert goal.score(metrics(out=900, p90_tpot=22)) > goal.score(outside)  # less overshoot ranks higher


def test_failed_requests_disqualify_a_point():
    assert Goal().score(metrics(failed=1)) == FAILED
    assert Goal(name="latency").score({**metrics(), "completed": 0}) == FAILED


@pytest.mark.parametrize("kwargs, words", [({"name": "slo"}, "pass ttft_ms, tpot_ms or both"),
                                           ({"tpot_ms": 5}, "bound the slo goal only"),
                                           ({"name": "slo", "tpot_ms": -1}, "tpot_ms must be positive"),
                                           ({"name": "x"}, "pick latency, balanced")])
def test_goal_errors_name_the_argument(kwargs, words):
    with pytest.raises(ConfigError, match=words):
        Goal(**kwargs)


def test_choose_takes_each_trial_at_its_longest_run_and_prefers_the_slo():
    goal = Goal(name="slo", tpot_ms=20)
    points = [{"trial": 0, "rung": 0, "score": 500.0, "metrics": metrics(out=500, tpot=10)},
              {"trial": 0, "rung": 1, "score": 80.0, "metrics": metrics(out=80, tpot=10)},
              {"trial": 1, "rung": 0, "score": 90.0, "metrics": metrics(out=90, tpot=10)},
              {"trial": 2, "rung": 0, "score": -0.5, "metrics": metrics(out=999, p90_tpot=30)}]
    chosen = choose(points, goal)
    assert chosen["trial"] == 1 and chosen["meets_goal"]
    assert choose(points[3:], goal)["meets_goal"] is False
    assert choose([], goal) is None


# ----- run card -----

def card(points, chosen=None):
    return {"hardware": {"device": "cpu", "cpu_count": 2}, "versions": {"vllm": "0.32.0"}, "model": "/m",
            "workload": {"kind": "random", "input_len": 32, "output_len": 8}, "search": "optuna",
            "goal": {"name": "throughput", "description": "throughput"}, "search_space": {"grid_size": 96},
            "budget_s": 60, "elapsed_s": 42.0, "trials": 2, "points": points, "chosen": chosen}


def test_run_card_is_written_as_json_and_markdown_without_leftovers(tmp_path):
    point = {"trial": 0, "rung": 0, "concurrency": 4, "num_prompts": 8, "score": 100.0, "metrics": metrics(),
             "setting": {"max_num_seqs": 4, "capture_size": None}}
    chosen = {**point, "meets_goal": True, "command": "python3 -m vllm.entrypoints.openai.api_server --model /m"}
    json_path, md_path = write_run_card(card([point, {**point, "rung": 1}], chosen), tmp_path)
    assert load_run_card(json_path)["chosen"]["command"].startswith("python3 -m vllm")
    text = md_path.read_text()
    assert text.count("| 0 | ") == 2 and "```sh\npython3 -m vllm" in text and "max_num_seqs=4" in text
    assert "capture_size" not in text  # None settings are vLLM's defaults, not shown
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run_card.json", "run_card.md"]
    assert "No setting finished" in render_markdown(card([], None))


def test_load_run_card_refuses_other_json(tmp_path):
    other = tmp_path / "x.json"
    other.write_text(json.dumps({"date": "x"}))
    with pytest.raises(ConfigError, match="run_card.json"):
        load_run_card(other)


def test_command_for_renders_the_launch_spec():
    argv, shell = command_for(LaunchSpec.embedded("/m"), ServerSetting(max_num_seqs=4).to_dict())
    assert argv[1:4] == ["-m", "vllm.entrypoints.openai.api_server", "--model"] and "--max-num-seqs 4" in shell
    argv, shell = command_for(LaunchSpec(gpu="h200"), ServerSetting(max_num_seqs=512, capture_size=512).to_dict())
    assert argv[:2] == ["vllm", "serve"] and "--max-cudagraph-capture-size 512" in shell


# ----- the loop, with a fake server -----

class FakeEvaluator:
    """Throughput rises with concurrency up to max_num_seqs; starting a server costs 30 s of the fake clock."""

    def __init__(self, clock):
        self.clock, self.start_seconds, self.current, self.measured = clock, [], None, []

    def measure(self, setting, concurrency, num_prompts):
        if setting != self.current:
            self.clock.t += 30.0
            self.start_seconds.append(30.0)
            self.current = setting
        self.clock.t += 0.1 * num_prompts
        self.measured.append((setting, concurrency, num_prompts))
        busy = min(concurrency, setting.max_num_seqs)
        return {**metrics(out=10.0 * busy + setting.max_num_batched_tokens / 1024, tpot=5.0 + busy),
                "request_throughput": 10.0, "duration": 0.1 * num_prompts}

    def close(self):
        self.current = None


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def config(tmp_path, **changes):
    fields = {"base": LaunchSpec.embedded("/m"), "workload": WorkloadSpec(input_len=32, output_len=8),
              "budget_s": 1000.0, "rungs": 2, "min_prompts": 4, "out_dir": tmp_path / "out"}
    return TuneConfig(**{**fields, **changes})


def test_a_started_server_is_measured_at_every_client_concurrency_before_the_next_restart(tmp_path):
    clock = Clock()
    evaluator = FakeEvaluator(clock)
    result = tune(config(tmp_path, max_trials=1), evaluator=evaluator, now=clock)
    assert len(evaluator.start_seconds) == 1
    assert sorted({p["concurrency"] for p in result.points}) == list(config(tmp_path).space.concurrency)


def test_the_tune_stays_within_its_budget_and_writes_the_card(tmp_path):
    clock = Clock()
    evaluator = FakeEvaluator(clock)
    points = []
    result = tune(config(tmp_path, budget_s=200.0), evaluator=evaluator, now=clock, on_point=points.append)
    assert result.elapsed_s <= 200.0 and len(evaluator.start_seconds) >= 3
    assert points == result.points and len(result.points) >= 3
    saved = load_run_card(result.paths[0])
    assert saved["chosen"]["trial"] == result.chosen["trial"] and "--max-num-seqs" in saved["chosen"]["command"]
    best = max(p["score"] for p in result.points if p["rung"] == max(q["rung"] for q in result.points
                                                                         if q["trial"] == p["trial"]))
    assert result.chosen["score"] == best


def test_hyperband_stops_some_settings_after_the_short_run(tmp_path):
    clock = Clock()
    evaluator = FakeEvaluator(clock)
    result = tune(config(tmp_path, max_trials=24, rungs=3), evaluator=evaluator, now=clock)
    states = list(result.card["trial_states"].values())
    assert states.count("PRUNED") >= 1 and states.count("COMPLETE") >= 1
    from nanokit.tune.search import rung_prompts

    cfg = config(tmp_path, rungs=3)
    trials = {p["trial"]: p["concurrency"] for p in result.points}
    every_rung = sum(rung_prompts(cfg, c, r) for c in trials.values() for r in range(3))
    assert sum(n for *_, n in evaluator.measured) < every_rung  # the pruned ones never got their long runs


def test_an_interrupted_tune_resumes_from_its_study(tmp_path):
    clock = Clock()
    evaluator = FakeEvaluator(clock)
    first = tune(config(tmp_path, max_trials=2), evaluator=evaluator, now=clock)
    assert len(evaluator.start_seconds) == 2 and len({p["trial"] for p in first.points}) >= 2
    again = FakeEvaluator(clock)
    second = tune(config(tmp_path, max_trials=2), evaluator=again, now=clock)
    assert len(again.start_seconds) == 2
    assert second.points[: len(first.points)] == first.points  # the earlier points are in the new card
    assert min(p["trial"] for p in second.points[len(first.points):]) > max(p["trial"] for p in first.points)
    pairs = [(json.dumps(p["setting"], sort_keys=True), p["concurrency"]) for p in second.points if p["rung"] == 0]
    assert len(pairs) == len(set(pairs))  # nothing measured twice across the two sessions
    with pytest.raises(ConfigError, match="--study"):
        tune(config(tmp_path, workload=WorkloadSpec(input_len=64, output_len=8)), evaluator=FakeEvaluator(clock),
             now=clock)


def test_a_trial_left_running_by_a_crash_is_closed_on_resume(tmp_path):
    from nanokit.tune.search import open_study

    cfg = config(tmp_path, max_trials=1)
    study = open_study(cfg, tmp_path / "out" / "study.journal")
    study.ask()  # a tune killed mid-trial leaves it RUNNING
    clock = Clock()
    result = tune(cfg, evaluator=FakeEvaluator(clock), now=clock)
    assert result.card["trial_states"][0] == "FAIL" and result.card["trial_states"][1] == "COMPLETE"
    assert optuna.__version__  # the search library is a dependency, not vendored


def test_a_setting_that_will_not_start_is_failed_and_the_tune_goes_on(tmp_path):
    from nanokit.tune import SettingFailed

    clock = Clock()

    class Flaky(FakeEvaluator):
        def measure(self, setting, concurrency, num_prompts):
            if not self.measured and not getattr(self, "failed", False):
                self.failed = True
                raise SettingFailed("The server did not start.")
            return super().measure(setting, concurrency, num_prompts)

    result = tune(config(tmp_path, max_trials=3), evaluator=Flaky(clock), now=clock)
    assert result.card["failures"] == {0: "The server did not start."}
    assert result.chosen is not None and result.chosen["trial"] != 0


def test_cli_errors_name_the_option(tmp_path):
    from typer.testing import CliRunner

    from nanokit.cli import app

    runner = CliRunner()
    jsonl = tmp_path / "p.jsonl"
    jsonl.write_text('{"prompt": "hi"}\n')
    both = runner.invoke(app, ["tune", "--device", "cpu", "--dataset", str(jsonl), "--input-len", "8",
                               "--out", str(tmp_path)])
    assert both.exit_code == 1 and "--dataset or --input-len" in both.output
    slo = runner.invoke(app, ["tune", "--device", "cpu", "--goal", "slo", "--out", str(tmp_path)])
    assert slo.exit_code == 1 and "--ttft-ms" in slo.output
    device = runner.invoke(app, ["tune", "--device", "tpu", "--out", str(tmp_path)])
    assert device.exit_code == 1 and "--device takes cpu or gpu" in device.output


def test_the_tune_figure_adds_points_in_place_and_marks_the_choice():
    from nanokit.tune import TuneFigure

    chart = TuneFigure()
    figure = chart.figure
    for trial, (tpot, out) in enumerate([(5.0, 100.0), (9.0, 300.0), (12.0, 200.0)]):
        chart.add_point({"trial": trial, "rung": 0, "concurrency": 4, "metrics": metrics(out=out, tpot=tpot)})
    runs, front = chart.figure.data
    assert chart.figure is figure and list(runs.y) == [100.0, 300.0, 200.0] and list(front.x) == [5.0, 9.0]
    chart.mark_chosen({"concurrency": 8, "metrics": metrics(out=300.0, tpot=9.0)})
    (note,) = chart.figure.layout.annotations
    assert (note.x, note.y) == (9.0, 300.0) and "c=8" in note.text
    chart.mark_chosen(None)
    assert chart.figure.layout.annotations == ()


def test_the_grid_baseline_measures_every_point_once_at_full_length(tmp_path):
    from nanokit.tune import SearchSpace

    space = SearchSpace("cpu", {"max_num_seqs": (4, 16), "max_num_batched_tokens": (256, 4096)}, (4, 8))
    clock = Clock()
    evaluator = FakeEvaluator(clock)
    result = tune(config(tmp_path, search="grid", choices=space), evaluator=evaluator, now=clock)
    assert len(result.points) == space.grid_size() == 8 and {p["rung"] for p in result.points} == {1}
    assert len(evaluator.start_seconds) == space.server_settings()  # each setting started once
    assert result.chosen["setting"]["max_num_seqs"] == 16 and result.chosen["setting"]["max_num_batched_tokens"] == 4096
    assert "grid" in result.card["search"]
    with pytest.raises(ConfigError, match="--search"):
        config(tmp_path, search="random")


def test_on_a_gpu_settings_vllm_would_refuse_are_failed_without_a_start(tmp_path):
    clock = Clock()
    evaluator = FakeEvaluator(clock)
    base = LaunchSpec(gpu="l40s", variant="fp8", context=32768)  # 1024 sequences exceed its Mamba blocks
    result = tune(config(tmp_path, base=base, max_trials=10, budget_s=50000.0), evaluator=evaluator, now=clock)
    refused = {t: why for t, why in result.card["failures"].items() if "Mamba cache blocks" in why}
    measured = {p["trial"] for p in result.points}
    assert refused and not set(refused) & measured
    from nanokit.doctor import diagnose

    assert evaluator.measured and not any(f.rule == "mamba_blocks_short" for s, *_ in evaluator.measured
                                          for f in diagnose(s.apply(base)))
    assert "vllm serve" in result.chosen["command"] and "--max-num-seqs" in result.chosen["command"]


# ----- the first trial is the recommendation -----

def test_search_space_nearest_keeps_choices_and_rounds_numbers_by_ratio():
    space = search_space("gpu", "throughput")
    params = space.nearest({"max_num_seqs": 279, "max_num_batched_tokens": 16384, "capture_size": "max_num_seqs",
                            "gpu_memory_utilization": 0.89, "kv_cache_dtype": "fp8", "concurrency": 700})
    assert params["max_num_seqs"] == 256 and params["max_num_batched_tokens"] == 16384
    assert params["capture_size"] == "max_num_seqs" and params["gpu_memory_utilization"] == 0.88
    assert params["kv_cache_dtype"] == "auto"  # not a choice for BF16: the first choice
    assert params["concurrency"] == 512 and set(params) == {*space.server, "concurrency"}


def test_a_gpu_tune_measures_the_recommendation_first_and_reports_its_ratio(tmp_path):
    from nanokit.tune.recommend import starting_params

    clock = Clock()
    evaluator = FakeEvaluator(clock)
    base = LaunchSpec(gpu="h200", variant="bf16", context=32768)
    cfg = config(tmp_path, base=base, goal=Goal(name="throughput"), max_trials=3, budget_s=50000.0,
                 workload=WorkloadSpec(input_len=1024, output_len=1024))
    result = tune(cfg, evaluator=evaluator, now=clock)
    wanted, _ = starting_params(base, cfg.goal, cfg.space, 2048)
    first_setting, first_concurrency = evaluator.measured[0][:2]
    assert first_setting == cfg.space.setting({k: v for k, v in wanted.items() if k != "concurrency"})
    assert first_concurrency == wanted["concurrency"] == 512  # 2k-token sequences: not the 32k cap of 279
    start = result.card["starting_point"]
    assert start["trial"] == 0 and start["reasons"] and 0 < start["score_vs_chosen"] <= 1.0
    again = tune(cfg, evaluator=FakeEvaluator(clock), now=clock)  # resumed: the study is not seeded twice
    assert sum(p["trial"] == 0 for p in again.points) == sum(p["trial"] == 0 for p in result.points)


def test_a_cpu_tune_has_no_recommendation_to_start_from(tmp_path):
    from nanokit.tune.recommend import starting_params

    base = LaunchSpec.embedded("/models/tiny")
    assert starting_params(base, Goal(name="throughput"), search_space("cpu", "throughput"), 256) is None
