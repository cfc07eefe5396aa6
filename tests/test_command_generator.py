"""CommandGenerator driven headlessly: set values, read the rendered command, warnings and memory bar."""

import json
import shlex
import time

import pytest

from nanokit import LaunchSpec, custom_gpu
from nanokit.tune import find_run_cards, recommended_spec
from widgets.command_generator import CommandGenerator
from widgets.server_panel import ServerPanel

H200 = custom_gpu(140.4, "9.0", name="NVIDIA H200")


def test_defaults_render_the_vllm_command():
    gen = CommandGenerator(gpu_probe=list)
    assert gen.spec == recommended_spec(LaunchSpec(), "latency")[0] and gen.spec.concurrency == 64
    assert "vllm serve nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16" in gen.command.value
    assert "No problems found" in gen.warnings.value
    assert [t.name for t in gen.figure.data] == ["Weights", "Activations", "KV cache", "Mamba state", "Free"]
    assert gen.figure.data[0].x[0] == pytest.approx(58.8, abs=0.1)


def test_changing_choices_updates_everything_in_place():
    gen = CommandGenerator(gpu_probe=list)
    figure = gen.figure
    gen.engine.value = "sglang"
    gen.variant.value = "fp8"
    gen.gpu.value = "b200"
    gen.reasoning.value = False
    assert gen.spec.engine == "sglang" and gen.spec.variant == "fp8"
    words = shlex.split(gen.command.value.replace("\\\n", " "))
    assert words[:3] == ["python3", "-m", "sglang.launch_server"]
    assert "--reasoning-parser" not in words and "--attention-backend" in words
    assert gen.figure is figure and gen.figure.data[0].x[0] == pytest.approx(30.1, abs=0.1)
    gen.multiline.value = False
    assert "\n" not in gen.command.value


def test_trtllm_shows_the_yaml_and_disables_launch():
    gen = CommandGenerator(gpu_probe=lambda: [H200])
    gen.engine.value = "trtllm"
    assert gen.command.value.startswith("cat > nano_v3.yaml <<'EOF'")
    assert gen.launch_button.disabled
    assert "vLLM only" in gen.launch_problem()


def test_warnings_list_the_doctor_findings():
    gen = CommandGenerator(gpu_probe=list)
    gen.gpu.value = "h100"
    gen.variant.value = "nvfp4"
    assert "Blackwell" in gen.warnings.value and "error" in gen.warnings.value
    gen.variant.value = "bf16"
    gen.host.value = "0.0.0.0"
    assert "without an API key" in gen.warnings.value


def test_custom_gpu_and_invalid_choices():
    gen = CommandGenerator(gpu_probe=list)
    gen.gpu.value = "custom"
    gen.custom_memory.value = 200
    gen.custom_cc.value = "10.0"
    assert gen.spec.gpu_info.memory_gib == 200 and gen.spec.gpu_info.is_blackwell
    assert gen.spec.gpu == custom_gpu(200, "10.0")  # a catalog record, not a string to parse again
    gen.custom_cc.value = "ten"
    assert gen.spec is None and "MAJOR.MINOR" in gen.warnings.value
    assert gen.command.value == ""


def test_memory_bar_adds_up_to_the_gpu():
    gen = CommandGenerator(gpu_probe=list)
    total = sum(trace.x[0] for trace in gen.figure.data)
    assert total == pytest.approx(140.4, abs=0.01)
    before = gen.figure.data[2].x[0]
    gen.concurrency.value = "128"
    assert gen.figure.data[2].x[0] == pytest.approx(2 * before, rel=0.01)


def test_copy_and_save(tmp_path):
    gen = CommandGenerator(gpu_probe=list)
    gen.copy_button.click()
    assert gen.copy_field.value == gen.spec.shell() and gen.copy_field.layout.display is None
    path = gen.save_script(tmp_path / "launch.sh")
    assert path.read_text().startswith("#!/usr/bin/env bash") and "vllm serve" in path.read_text()


def test_launch_here_explains_no_gpu():
    launched = []
    gen = CommandGenerator(gpu_probe=list, on_launch=launched.append)
    gen.launch_button.click()
    assert "no NVIDIA GPU" in gen.message.value and launched == []


def test_launch_here_checks_the_local_gpu_memory():
    launched = []
    gen = CommandGenerator(gpu_probe=lambda: [custom_gpu(44.99, "8.9", name="NVIDIA L40S")], on_launch=launched.append)
    gen.launch_button.click()
    assert "weights need" in gen.message.value and launched == []
    gen.gpus.value = 2
    gen.launch_button.click()
    assert "1 GPU(s)" in gen.message.value


def test_launch_here_hands_the_spec_over():
    launched = []
    gen = CommandGenerator(gpu_probe=lambda: [H200], on_launch=launched.append)
    gen.context.value = 131072
    gen.launch_button.click()
    assert launched == [gen.spec] and launched[0].context == 131072
    kwargs = launched[0].vllm_server_kwargs()
    assert kwargs["spec"].context == 131072


def test_launch_here_without_a_launcher_serves_through_a_server_panel_below(monkeypatch):
    """No on_launch: a ServerPanel appears under the buttons and its launch(spec) starts the server."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the hub id is not in the cache: the start fails at once, offline
    gen = CommandGenerator(LaunchSpec(context=8192), gpu_probe=lambda: [H200])
    assert gen.server_panel is None
    gen.launch_button.click()
    panel = gen.server_panel
    assert isinstance(panel, ServerPanel) and panel in gen.children
    assert panel.server.model == gen.spec.model_id and panel.server.max_model_len == 8192
    assert "server panel below" in gen.message.value
    deadline = time.monotonic() + 20
    while "offline" not in panel.message.value and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "not in the local Hugging Face cache" in panel.message.value and not panel.start_button.disabled
    gen.launch_button.click()  # a second launch reuses the panel
    assert gen.server_panel is panel and list(gen.children).count(panel) == 1
    while panel.start_button.disabled and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.parametrize(("context", "buttons"), [(32768, 6), (20000, 7)])
def test_context_buttons_are_unique_and_an_unusual_length_gets_one(context, buttons):
    view = CommandGenerator(LaunchSpec(context=context))
    values = [value for _, value in view.context.options]
    assert len(values) == len(set(values)) == buttons
    assert view.context.value == context


def test_the_goal_fills_the_empty_fields_and_shows_why():
    gen = CommandGenerator(gpu_probe=list)
    assert gen.concurrency.value == "" and gen.concurrency.placeholder == "planner: 64"
    assert "--concurrency 64" in gen.chosen.value and gen.ttft_ms.layout.display == "none"
    gen.variant.value = "fp8"
    gen.goal.value = "throughput"
    assert gen.spec.concurrency == 512 and gen.spec.kv_cache_dtype == "fp8"
    assert "--max-num-seqs 512" in gen.spec.shell()
    assert "cookbook" in gen.chosen.value and gen.concurrency.placeholder == "planner: 512"
    gen.goal.value = "slo"
    assert gen.spec is None and "needs a bound" in gen.warnings.value
    gen.tpot_ms.value = 10
    assert gen.spec.concurrency == 64 and gen.spec.goal.tpot_ms == 10 and gen.tpot_ms.layout.display is None


def test_what_the_user_types_is_kept_and_the_doctor_judges_it():
    gen = CommandGenerator(gpu_probe=list)
    gen.gpu.value = "h100"
    assert gen.spec.concurrency == 51 and "Capped at 51" in gen.chosen.value and "error" not in gen.warnings.value
    gen.concurrency.value = "64"
    assert gen.spec is not None and gen.spec.concurrency == 64 and "pass --concurrency 51" in gen.warnings.value
    assert "--concurrency" not in gen.chosen.value
    gen.gpu.value = "h200"
    gen.concurrency.value = "768"
    gen.context.value = 8192
    assert gen.spec.max_cudagraph_capture_size == 768 and "capture-size 768" in gen.chosen.value
    gen.batched_tokens.value = "lots"
    assert gen.spec is None and "whole number" in gen.warnings.value


def test_a_run_card_tuned_on_this_gpu_is_shown_as_measured(tmp_path):
    card = {"hardware": {"device": "gpu", "gpu": "H200 141GB"}, "model": "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16",
            "goal": {"name": "balanced", "ttft_ms": None, "tpot_ms": None, "description": "balanced"},
            "chosen": {"concurrency": 128, "setting": {"max_num_seqs": 128, "max_num_batched_tokens": 4096},
                       "metrics": {"output_throughput": 11000.0, "median_tpot_ms": 9.5, "median_ttft_ms": 800.0}}}
    # the JSON half of write_run_card (its Markdown needs a whole tune's card), beside a result that is not a card
    (tmp_path / "h200_balanced.json").write_text(json.dumps({"kind": "nanokit-tune-run-card", **card}))
    (tmp_path / "h200_bf16_gpu_check.json").write_text(json.dumps({"sources": []}))
    gen = CommandGenerator(gpu_probe=list, run_cards=find_run_cards(tmp_path))
    gen.goal.value = "balanced"
    assert gen.spec.concurrency == 128 and gen.spec.max_num_batched_tokens == 4096
    assert "measured on this GPU</b> (h200_balanced.json)" in gen.chosen.value and "11,000" in gen.chosen.value
    gen.gpu.value = "b200"  # another GPU: the card does not apply
    assert gen.spec.concurrency == 256 and "measured on this GPU" not in gen.chosen.value
