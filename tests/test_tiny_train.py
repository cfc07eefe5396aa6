"""`nanokit tiny train`: the same seed gives the same weights and the same data whatever the number of
workers, a later stage really starts from its checkpoint, snapshots and progress lines appear, the file
form runs without the client libraries, and the loss is the one transformers' NemotronH defines."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from nanokit.errors import ConfigError
from nanokit.tiny import train as train_module
from nanokit.tiny.architecture import model_config
from nanokit.tiny.train import (
    WEIGHTS_DIR,
    TrainConfig,
    _forward,
    _set_scan_chunk,
    accumulate_gradients,
    assistant_loss,
    batch_stream,
    passes,
    train,
)

torch = pytest.importorskip("torch")

# A few seconds of work: two steps of two conversations, the tokenizer learnt from 60 of them.
SMALL = TrainConfig(steps=2, batch_size=2, tokenizer_examples=60, encode_workers=1, warmup_steps=1, window=1,
                    save_every=0)
ROOT = Path(__file__).resolve().parents[1]


def test_assistant_loss_matches_the_models_own_loss():
    from transformers import NemotronHConfig, NemotronHForCausalLM

    torch.manual_seed(0)
    model = NemotronHForCausalLM(NemotronHConfig(**model_config()))
    ids = torch.randint(20, 1000, (3, 40))
    labels = ids.clone()
    labels[:, :30] = -100  # the prompt
    labels[1, 35:] = -100  # a shorter row's padding
    expected = model(input_ids=ids, labels=labels).loss
    assert assistant_loss(model, ids, labels, torch).item() == pytest.approx(expected.item(), rel=1e-5)


def test_passes_bounded_in_tokens_give_the_one_pass_gradients():
    from transformers import NemotronHConfig, NemotronHForCausalLM

    generator = torch.Generator().manual_seed(1)
    rows = [(torch.randint(20, 1000, (n,), generator=generator).tolist(), p) for n, p in ((30, 10), (44, 20), (25, 5))]
    assert [len(run) for run in passes(rows, 60)] == [2, 1] and len(passes(rows, 10**6)) == 1
    assert [len(run) for run in passes(rows, 1)] == [1, 1, 1]  # a row longer than the bound still gets a pass

    def gradients(max_tokens, scan_chunk=128):
        torch.manual_seed(0)
        model = NemotronHForCausalLM(NemotronHConfig(**model_config()))
        _set_scan_chunk(model, scan_chunk)
        loss, _ = accumulate_gradients(_forward(model, TrainConfig(), torch), rows, max_tokens, torch, "cpu")
        return loss, torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])

    def assert_close(a, b):
        assert float(a[0]) == pytest.approx(float(b[0]), rel=1e-5)
        # Equal up to float rounding (rows padded to another width take other kernels' summation orders).
        assert float((a[1] - b[1]).abs().max()) <= 1e-4 * float(a[1].abs().max())
        assert float((a[1] - b[1]).norm()) <= 1e-4 * float(a[1].norm())

    one = gradients(10**6)
    assert_close(one, gradients(1))
    # The scan's chunk length is a speed setting only: the chunked scan is exact at any length.
    shorter = gradients(10**6, scan_chunk=16)
    assert_close(one, shorter)


def test_the_same_seed_gives_the_same_weights(tmp_path):
    first = train(SMALL, tmp_path / "a", progress=False)
    train(SMALL, tmp_path / "b", progress=False)
    assert (tmp_path / "a" / "model.safetensors").read_bytes() == (tmp_path / "b" / "model.safetensors").read_bytes()
    assert (tmp_path / "a" / "tokenizer.json").read_text() == (tmp_path / "b" / "tokenizer.json").read_text()
    record = json.loads((tmp_path / "a" / "training.json").read_text())
    assert record["config"]["seed"] == 0 and record["config"]["steps"] == record["steps_done"] == 2
    assert first.tokens_seen > 0 and first.final_loss > 0


def test_a_later_stage_starts_from_its_checkpoint(tmp_path):
    train(SMALL, tmp_path / "stage1", progress=False)
    # With a zero learning rate (and so no weight decay either) the second stage must hand back the
    # first stage's weights unchanged: they were loaded, not re-initialised from its own seed.
    later = TrainConfig(**{**SMALL.__dict__, "seed": 1, "learning_rate": 0.0, "init_from": str(tmp_path / "stage1")})
    train(later, tmp_path / "stage2", progress=False)
    assert (tmp_path / "stage2" / "model.safetensors").read_bytes() == (tmp_path / "stage1" / "model.safetensors").read_bytes()
    assert (tmp_path / "stage2" / "tokenizer.json").read_text() == (tmp_path / "stage1" / "tokenizer.json").read_text()
    record = json.loads((tmp_path / "stage2" / "training.json").read_text())
    assert record["init"] == json.loads((tmp_path / "stage1" / "training.json").read_text())


def test_an_interrupted_save_leaves_the_previous_checkpoint_whole(tmp_path, monkeypatch):
    train(SMALL, tmp_path / "out", progress=False)
    before = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    real_write = Path.write_text

    def ctrl_c_at_the_record(self, *args, **kwargs):  # weights and tokenizer written, then Ctrl-C
        if self.name == "training.json":
            raise KeyboardInterrupt
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", ctrl_c_at_the_record)
    with pytest.raises(KeyboardInterrupt):
        train(dataclasses.replace(SMALL, seed=1), tmp_path / "out", progress=False)
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == before


def test_a_folder_without_weights_is_refused_before_any_work(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="lacks model.safetensors, tokenizer.json; point it at a folder"):
        train(TrainConfig(init_from=str(tmp_path / "empty")), tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a CUDA GPU")
def test_asking_for_cuda_without_a_gpu_is_refused_before_any_work(tmp_path):
    with pytest.raises(ConfigError, match="torch sees no CUDA GPU here; train with device='cpu'"):
        train(dataclasses.replace(SMALL, device="cuda"), tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_the_defaults_are_the_shipped_weights_recipe():
    """`nanokit tiny train` with no options must reproduce the shipped weights' first stage, not drift from it;
    a later stage continues from an earlier one (init_from), and its record keeps the earlier stages'."""
    shipped = json.loads((WEIGHTS_DIR / "training.json").read_text())
    stages = [shipped]
    while "init" in stages[0]:
        stages.insert(0, stages[0]["init"])
    assert all(stage["model_config"] == model_config() for stage in stages)
    # How the run was executed, not what it learnt: the device, data-preparation processes, snapshots.
    how = {"device", "threads", "encode_workers", "save_every", "max_seconds", "init_from"}
    # The shape became an option after stage 1 ran, so its record holds it only as model_config.
    shape = {"hidden_size", "layer_pattern"}
    defaults = {k: v for k, v in dataclasses.asdict(TrainConfig()).items() if k not in how | shape}
    assert defaults == {k: v for k, v in stages[0]["config"].items() if k not in how}
    assert model_config(TrainConfig().hidden_size, TrainConfig().layer_pattern) == stages[0]["model_config"]
    assert not stages[0]["config"]["init_from"] and all(stage["config"]["init_from"] for stage in stages[1:])
    # Every stage ran its schedule to the end: all its steps, or until its max_seconds guard ended it.
    assert all(s["steps_done"] == s["config"]["steps"] or s["config"]["max_seconds"] for s in stages)


class InlinePool:
    """multiprocessing.Pool's apply_async, run at once in this process (for a test of the batch order)."""

    _processes = 3

    def apply_async(self, fn, args):
        value = fn(*args)
        return type("Done", (), {"get": lambda self: value})()


def test_batches_depend_on_the_seed_only_and_are_length_sorted_within_a_chunk():
    from nanokit.tiny.checkpoint import chat_template, tokenizer_json

    train_module._init_worker(tokenizer_json(), chat_template(), 1)
    config = dataclasses.replace(SMALL, steps=6, batch_size=3, window=2)
    first = list(batch_stream(config, InlinePool(), seed=5))
    again = list(batch_stream(config, type("Two", (InlinePool,), {"_processes": 1})(), seed=5))
    assert first == again and len(first) == 6 and all(len(rows) == 3 for rows in first)
    for chunk in (first[0:2], first[2:4]):  # inside a chunk, one batch's rows are all no longer than the other's
        short, long_ = sorted(chunk, key=lambda rows: max(len(ids) for ids, _ in rows))
        assert max(len(ids) for ids, _ in short) <= min(len(ids) for ids, _ in long_)
    assert first != list(batch_stream(config, InlinePool(), seed=6))


def test_snapshots_progress_lines_and_the_time_limit(tmp_path, capsys):
    config = dataclasses.replace(SMALL, steps=3, save_every=1, max_seconds=1e-6)
    report = train(config, tmp_path / "out")
    printed = capsys.readouterr().out
    assert "step 1/3 loss" in printed and "elapsed" in printed and "stopping at step 1" in printed
    assert report.steps_done == 1  # the time limit stopped it after the first step, and it still saved
    record = json.loads((tmp_path / "out" / "training.json").read_text())
    assert record["steps_done"] == 1 and record["model_config"] == model_config()
    snapshot = json.loads((tmp_path / "out" / "step-1" / "training.json").read_text())
    assert snapshot["steps_done"] == 1


BLOCKER = """
import importlib.abc, sys
class _Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("openai", "typer", "ipywidgets", "aiohttp"):
            raise ModuleNotFoundError(f"No module named {name!r} (hidden by the test)")
sys.meta_path.insert(0, _Absent())
"""


def test_the_file_form_trains_without_nanokits_client_libraries(tmp_path):
    """`python nanokit/tiny/train.py KEY=VALUE`, the GPU command: neither it nor its data workers may import
    nanokit/__init__.py, whose client libraries (openai, typer...) a machine lent for training may lack."""
    (tmp_path / "hide").mkdir()
    (tmp_path / "hide" / "sitecustomize.py").write_text(BLOCKER)
    out = subprocess.run(
        [sys.executable, str(ROOT / "nanokit" / "tiny" / "train.py"), "steps=1", "batch_size=1", "window=1",
         "tokenizer_examples=30", "encode_workers=1", "save_every=0", f"out={tmp_path / 'run'}"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path, check=False,
        env={**os.environ, "PYTHONPATH": str(tmp_path / "hide")})
    assert out.returncode == 0, out.stderr[-2000:]
    assert "step 1/1 loss" in out.stdout
    assert (tmp_path / "run" / "model.safetensors").is_file()


def test_the_shape_follows_the_width_and_bad_shapes_are_refused_in_one_sentence():
    wide = model_config(512, "M*-*")
    assert (wide["num_attention_heads"], wide["mamba_num_heads"], wide["intermediate_size"]) == (8, 16, 1536)
    assert wide["mamba_num_heads"] * wide["mamba_head_dim"] == wide["expand"] * wide["hidden_size"]
    assert wide["layers_block_type"] == ["linear_attention", "full_attention", "mlp", "full_attention"]
    with pytest.raises(ConfigError, match="hidden_size=500 must be a multiple of 64"):
        model_config(500)
    for pattern in ("M*X", "MM--", "**"):
        with pytest.raises(ConfigError, match=f"layer_pattern='{re.escape(pattern)}' must use only M"):
            model_config(384, pattern)


def test_a_new_shape_trains_records_itself_and_is_served_as_trained(tmp_path):
    from nanokit.tiny.checkpoint import weights_config

    narrow = dataclasses.replace(SMALL, hidden_size=128, layer_pattern="M*-")
    report = train(narrow, tmp_path / "narrow", progress=False)
    assert weights_config(tmp_path / "narrow") == model_config(128, "M*-")
    assert report.parameters < 1_000_000  # the shipped shape has 5.6 M
    # A later stage must keep the checkpoint's shape, and is told so before any work.
    with pytest.raises(ConfigError, match=r"was trained at hidden_size=128 layer_pattern=M\*-; pass those"):
        train(dataclasses.replace(SMALL, init_from=str(tmp_path / "narrow")), tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()
