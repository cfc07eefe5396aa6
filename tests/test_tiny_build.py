"""The embedded model's checkpoint directory: tokenizer ids, deterministic and atomic builds."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from nanokit import tiny
from nanokit.errors import ConfigError
from nanokit.tiny import checkpoint as build_module


def _digest(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


@pytest.fixture()
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("NANOKIT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return tiny.build(tmp_path_factory.mktemp("tiny") / "model", progress=False)


def test_directory_holds_a_complete_nemotron_h_checkpoint(built):
    names = {p.name for p in built.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
            "generation_config.json", "chat_template.jinja"} <= names
    config = json.loads((built / "config.json").read_text())
    assert config["architectures"] == ["NemotronHForCausalLM"]
    assert "moe" not in config["layers_block_type"]
    assert {"linear_attention", "full_attention", "mlp"} == set(config["layers_block_type"])
    assert config["nanokit"]["served_model_name"] == tiny.SERVED_NAME == "tiny-nemotron-h"


def test_weights_stay_a_few_megabytes(built):
    assert (built / "model.safetensors").stat().st_size < 30_000_000


def test_tokenizer_puts_special_tokens_at_nemotron_ids(built):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(built / "tokenizer.json"))
    expected = {"<unk>": 0, "<s>": 1, "</s>": 2, "<|im_start|>": 10, "<|im_end|>": 11, "<think>": 12,
                "</think>": 13, "<tool_call>": 14, "</tool_call>": 15}
    assert {token: tokenizer.token_to_id(token) for token in expected} == expected
    assert tokenizer.encode("<think>\nplan</think>").ids[0] == 12


def test_digits_are_single_tokens_so_numbers_copy_exactly(built):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(built / "tokenizer.json"))
    encoding = tokenizer.encode("bill 1234.56")
    assert [t for t in encoding.tokens if any(c.isdigit() for c in t)] == list("123456")
    assert tokenizer.decode(encoding.ids) == "bill 1234.56"


def test_markup_survives_decoding_with_special_tokens_skipped(built):
    # vLLM detokenizes with skip_special_tokens=True; the parsers still need <think> and <tool_call>.
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(built / "tokenizer.json"))
    text = "why</think>\n\n<tool_call>\n<function=f>\n</function>\n</tool_call>"
    assert tokenizer.decode(tokenizer.encode(text + "<|im_end|>").ids, skip_special_tokens=True) == text


def test_build_is_deterministic(tmp_path):
    first = tiny.build(tmp_path / "a", trained=False, progress=False)
    second = tiny.build(tmp_path / "b", trained=False, progress=False)
    assert _digest(first) == _digest(second)
    assert build_module.fingerprint(trained=False) == build_module.fingerprint(trained=False)


def test_default_dir_is_keyed_by_fingerprint_and_reused(cache):
    path = tiny.build(progress=False)
    assert path == tiny.default_dir() == cache / "tiny" / build_module.fingerprint()
    mtime = (path / "model.safetensors").stat().st_mtime_ns
    assert tiny.build(progress=False) == path
    assert (path / "model.safetensors").stat().st_mtime_ns == mtime
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no staging folders left behind


def test_failed_build_leaves_nothing_under_the_final_name(cache, monkeypatch):
    def explode(directory, **kwargs):
        (directory / "config.json").write_text("{}")
        raise RuntimeError("disk full")

    monkeypatch.setattr(build_module, "_write_checkpoint", explode)
    with pytest.raises(RuntimeError):
        tiny.build(progress=False)
    assert not tiny.default_dir().exists()
    assert os.listdir(cache / "tiny") == []


def test_foreign_directory_is_not_overwritten_without_force(tmp_path):
    target = tmp_path / "taken"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="force=True"):
        tiny.build(target, trained=False, progress=False)
    tiny.build(target, trained=False, force=True, progress=False)
    assert not (target / "notes.txt").exists()
    assert (target / "config.json").exists()


def test_a_training_output_folder_builds_with_the_shape_it_records(tmp_path, built):
    """`nanokit tiny eval --weights DIR`: a folder `nanokit tiny train` wrote is served with the model shape
    its training.json records, so weights of an earlier architecture stay servable after architecture.py moves on."""
    folder = tmp_path / "run"
    folder.mkdir()
    for name in ("model.safetensors", "tokenizer.json", "training.json", "chat_template.jinja"):
        (folder / name).write_bytes(build_module.shipped_file(name).read_bytes())
    again = tiny.build(tmp_path / "again", weights_dir=folder, progress=False)
    assert _digest(again) == _digest(built)  # the same files give the same checkpoint, byte for byte
    recorded = json.loads((folder / "training.json").read_text()).get("model_config")
    config = json.loads((again / "config.json").read_text())
    assert recorded and config["hidden_size"] == recorded["hidden_size"]
    (folder / "tokenizer.json").unlink()
    with pytest.raises(ConfigError, match="tokenizer.json is missing; run `nanokit tiny train`"):
        tiny.build(tmp_path / "broken", weights_dir=folder, progress=False)


def test_weights_are_served_with_the_template_kept_beside_them(tmp_path, built):
    """Weights trained on an earlier template keep it (weights/chat_template.jinja); without one, the package's."""
    kept = build_module.shipped_file("chat_template.jinja")
    expected = kept.read_text() if kept else build_module.chat_template()
    assert (built / "chat_template.jinja").read_text() == expected
    assert json.loads((built / "tokenizer_config.json").read_text())["chat_template"] == expected
    folder = tmp_path / "run"
    folder.mkdir()
    for name in ("model.safetensors", "tokenizer.json", "training.json"):
        (folder / name).write_bytes(build_module.shipped_file(name).read_bytes())
    plain = tiny.build(tmp_path / "plain", weights_dir=folder, progress=False)
    assert (plain / "chat_template.jinja").read_text() == build_module.chat_template()
    before = build_module.fingerprint(weights_dir=folder)
    (folder / "chat_template.jinja").write_text("{{ messages }}")
    other = tiny.build(tmp_path / "other", weights_dir=folder, progress=False)
    assert (other / "chat_template.jinja").read_text() == "{{ messages }}"
    assert build_module.fingerprint(weights_dir=folder) != before  # another template, another cache folder
