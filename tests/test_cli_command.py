"""`nanokit command` and `nanokit plan` through Typer's runner."""

import json

import pytest
from typer.testing import CliRunner

from nanokit.catalog import GPUS, VARIANTS
from nanokit.cli import app
from nanokit.launch import LaunchSpec
from nanokit.tune import find_run_cards, recommended_spec

runner = CliRunner()


@pytest.mark.parametrize("engine", ["vllm", "sglang", "trtllm"])
@pytest.mark.parametrize(("variant", "gpu"), [("bf16", "h200"), ("fp8", "h100"), ("nvfp4", "b200")])
def test_command_json_for_every_engine_and_variant(engine, variant, gpu):
    result = runner.invoke(app, ["command", "--engine", engine, "--variant", variant, "--gpu", gpu, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"argv", "env", "shell", "warnings", "files", "goal", "chosen", "nodes"}
    assert data["nodes"][0]["argv"] == data["argv"]  # one node: the same command
    spec, chosen = recommended_spec(LaunchSpec(engine=engine, variant=variant, gpu=gpu), "latency",
                                    run_cards=find_run_cards())  # the cards in notebooks/results, as the CLI reads
    assert data["chosen"] == chosen and data["goal"] == "latency"
    assert data["argv"] == spec.argv() and data["env"] == spec.env() and data["shell"] == spec.shell()
    assert ("nano_v3.yaml" in data["files"]) == (engine == "trtllm")


def test_command_text_is_pasteable_and_warns_on_stderr():
    result = runner.invoke(app, ["command", "--engine", "trtllm", "--host", "0.0.0.0"])
    assert result.exit_code == 0
    assert result.stdout.startswith("cat > nano_v3.yaml <<'EOF'\n")
    assert "trtllm-serve nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16" in result.stdout
    assert "without an API key" in result.stderr


def test_impossible_combination_exits_non_zero_with_the_sentence():
    result = runner.invoke(app, ["command", "--gpu", "h100", "--variant", "nvfp4"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: NVFP4 weights need a Blackwell GPU")


def test_all_options_parse():
    args = ["command", "--engine", "vllm", "--gpu", "custom:96:9.0", "--gpus", "2", "--variant", "fp8",
            "--context", "65536", "--concurrency", "32", "--no-reasoning", "--no-tools", "--kv-cache-dtype", "fp8",
            "--mamba-cache-dtype", "bfloat16", "--host", "0.0.0.0", "--port", "9000", "--api-key", "k",
            "--engine-version", "0.11.0", "--json"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    argv = json.loads(result.stdout)["argv"]
    assert "--reasoning-parser" not in argv and "--tool-call-parser" not in argv
    assert argv[argv.index("--port") + 1] == "9000" and argv[argv.index("--mamba-ssm-cache-dtype") + 1] == "bfloat16"


def test_plan_json_keys_and_numbers():
    result = runner.invoke(app, ["plan", "--gpu", "h200", "--context", "4096", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for key in ("weights_bytes", "kv_bytes_per_token", "mamba_state_bytes_per_seq", "kv_capacity_tokens",
                "max_concurrency"):  # fmt: skip
        assert key in data
    assert data["kv_bytes_per_token"] == 6144


def test_plan_text_shows_the_arithmetic_and_reads_a_config(tmp_path):
    import nanokit.tiny

    result = runner.invoke(app, ["plan", "--config", str(nanokit.tiny.build()), "--context", "2048"])
    assert result.exit_code == 0, result.output
    assert "KV per token:" in result.stdout and "Mamba state per sequence:" in result.stdout


def test_plan_impossible_exits_non_zero():
    result = runner.invoke(app, ["plan", "--gpu", "l40s"])
    assert result.exit_code == 1
    assert "error: BF16 weights need" in result.stderr
    missing = runner.invoke(app, ["plan", "--config", "/nonexistent/dir"])
    assert missing.exit_code == 1 and "config.json" in missing.stderr


def _fits_at_all(gpu, variant):
    from nanokit.doctor import diagnose

    spec = LaunchSpec(gpu=gpu, variant=variant, concurrency=1, context=32768)
    return not [f for f in diagnose(spec) if f.severity == "error"]


@pytest.mark.parametrize("goal", [[], ["--goal", "balanced"], ["--goal", "throughput"],
                                  ["--goal", "slo", "--tpot-ms", "10"]])
def test_defaults_never_give_a_refused_command(goal):
    """Only --gpu and --variant (and a goal): every catalogued pair that fits at all gives a command, every engine."""
    checked = 0
    for gpu in GPUS:
        for variant in VARIANTS:
            if not _fits_at_all(gpu, variant):
                continue
            for engine in ("vllm", "sglang", "trtllm"):
                result = runner.invoke(app, ["command", "--gpu", gpu, "--variant", variant, "--engine", engine,
                                             *goal, "--json"])
                assert result.exit_code == 0, (gpu, variant, engine, result.output)
                data = json.loads(result.stdout)
                assert not [w for w in data["warnings"] if w.startswith("warning: batches_past")]
                checked += 1
    assert checked >= 3 * 15


def test_the_trtllm_h100_default_that_was_refused_now_fits_and_says_why():
    result = runner.invoke(app, ["command", "--engine", "trtllm", "--gpu", "h100", "--variant", "bf16"])
    assert result.exit_code == 0, result.output
    assert "max_batch_size: 51" in result.stdout
    assert "# chosen for latency: --concurrency 51" in result.stderr and "Capped at 51" in result.stderr


def test_values_the_user_set_are_kept_and_judged_by_the_doctor():
    refused = runner.invoke(app, ["command", "--gpu", "h100", "--variant", "bf16", "--concurrency", "64"])
    assert refused.exit_code == 1 and "pass --concurrency 51" in refused.stderr
    kept = runner.invoke(app, ["command", "--gpu", "h200", "--goal", "throughput", "--context", "2048",
                               "--concurrency", "768", "--max-num-batched-tokens", "4096", "--json"])
    assert kept.exit_code == 0, kept.output
    argv = json.loads(kept.stdout)["argv"]
    assert argv[argv.index("--max-num-seqs") + 1] == "768"
    assert argv[argv.index("--max-num-batched-tokens") + 1] == "4096"
    # the capture size was left unset, so the planner covers the user's 768 sequences with graphs
    assert argv[argv.index("--max-cudagraph-capture-size") + 1] == "768"
    chosen = json.loads(kept.stdout)["chosen"]
    assert not any(line.startswith(("--concurrency", "--max-num-batched-tokens")) for line in chosen)
    fp8_kv = runner.invoke(app, ["command", "--variant", "fp8", "--kv-cache-dtype", "auto", "--json"])
    assert "--kv-cache-dtype" not in json.loads(fp8_kv.stdout)["argv"]
    assert any("served with an FP8 KV cache" in w for w in json.loads(fp8_kv.stdout)["warnings"])


def test_goal_options_are_checked():
    result = runner.invoke(app, ["command", "--tpot-ms", "10"])
    assert result.exit_code == 1 and "--goal slo" in result.stderr
    result = runner.invoke(app, ["command", "--goal", "fast"])
    assert result.exit_code == 1 and "Unknown goal" in result.stderr
    throughput = json.loads(runner.invoke(app, ["command", "--goal", "throughput", "--variant", "fp8",
                                                "--json"]).stdout)
    argv = throughput["argv"]
    assert argv[argv.index("--max-num-seqs") + 1] == "512" and argv[argv.index("--kv-cache-dtype") + 1] == "fp8"
    assert throughput["goal"] == "throughput"
