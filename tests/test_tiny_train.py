"""`nanokit tiny train`: the same seed gives the same weights, a later stage really starts from its
checkpoint, and the loss it optimises is the one transformers' NemotronH defines."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from nanokit.errors import ConfigError
from nanokit.tiny.train import WEIGHTS_DIR, TrainConfig, assistant_loss, train

torch = pytest.importorskip("torch")

# A few seconds of work: two steps of two conversations, the tokenizer learnt from 60 of them.
SMALL = TrainConfig(steps=2, batch_size=2, tokenizer_examples=60, encode_workers=1, warmup_steps=1)


def test_assistant_loss_matches_the_models_own_loss():
    from transformers import NemotronHConfig, NemotronHForCausalLM

    from nanokit.tiny.architecture import model_config

    torch.manual_seed(0)
    model = NemotronHForCausalLM(NemotronHConfig(**model_config()))
    ids = torch.randint(20, 1000, (3, 40))
    labels = ids.clone()
    labels[:, :30] = -100  # the prompt
    labels[1, 35:] = -100  # a shorter row's padding
    expected = model(input_ids=ids, labels=labels).loss
    assert assistant_loss(model, ids, labels, torch).item() == pytest.approx(expected.item(), rel=1e-5)


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
    """`nanokit tiny train` with no options must reproduce the shipped weights' recipe, not drift from it."""
    shipped = json.loads((WEIGHTS_DIR / "training.json").read_text())
    assert "init" not in shipped, "the shipped weights should come from one stage, reproducible by one command"
    # How the run was executed, not what it learnt: the device, data-preparation processes, snapshots.
    how = {"device", "threads", "encode_workers", "save_every"}
    defaults = {k: v for k, v in dataclasses.asdict(TrainConfig()).items() if k not in how}
    assert defaults == {k: v for k, v in shipped["config"].items() if k not in how}
    assert shipped["steps_done"] == shipped["config"]["steps"]
