"""Fetching real weights, tested offline: the local cache, offline mode and the disk check."""

from __future__ import annotations

import json

import pytest

from nanokit import ModelNotFoundError
from nanokit.weights import check_disk_space, ensure_local


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """An HF hub cache holding one snapshot of org/tiny, laid out as huggingface_hub writes it."""
    cache = tmp_path / "hub"
    repo = cache / "models--org--tiny"
    snapshot = repo / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text(json.dumps({"architectures": ["NemotronHForCausalLM"]}))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("a" * 40)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return snapshot


def test_offline_cached_model_resolves_to_its_snapshot(hub_cache):
    assert ensure_local("org/tiny") == hub_cache


def test_offline_missing_model_says_how_to_get_it(hub_cache):
    with pytest.raises(ModelNotFoundError, match="not in the local Hugging Face cache.*offline"):
        ensure_local("org/absent")


def test_disk_check_refuses_when_space_is_short(tmp_path):
    with pytest.raises(ModelNotFoundError, match="needs .* GiB more disk"):
        check_disk_space("org/huge", 10**18, tmp_path)


def test_disk_check_passes_small_downloads(tmp_path):
    check_disk_space("org/small", 1024, tmp_path / "not-yet-created")
