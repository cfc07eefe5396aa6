"""Building the embedded model's checkpoint directory, deterministically, offline, into a cache.

The directory is a complete Hugging Face checkpoint (config.json, model.safetensors, tokenizer files,
chat template, generation_config.json) that vLLM serves as NemotronHForCausalLM. Its name is a
fingerprint of everything that goes into it, so a changed template or new weights give a new folder
and an old one is never served by mistake. It is written into a temporary sibling folder and renamed
into place, so a half-built directory is never visible under the final name.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

from nanokit.errors import ConfigError
from nanokit.tiny.architecture import MAX_MODEL_LEN, model_config
from nanokit.tiny.tokenizer import write_tokenizer_files

SERVED_NAME = "tiny-nemotron-h"
BUILD_FORMAT = 1  # bump when the directory layout changes without any input changing
INIT_SEED = 0

_PACKAGE = resources.files("nanokit.tiny")


def chat_template() -> str:
    """The embedded model's chat template (Jinja source)."""
    return (_PACKAGE / "chat_template.jinja").read_text(encoding="utf-8")


def shipped_file(name: str, weights_dir: Path | None = None) -> Path | None:
    """A file shipped in nanokit/tiny/weights/ (or in `weights_dir`), or None when it is not there."""
    path = (weights_dir or Path(str(_PACKAGE / "weights"))) / name
    return path if path.is_file() else None


def tokenizer_json(weights_dir: Path | None = None) -> str:
    """The shipped tokenizer.json (learnt by `nanokit tiny train` together with the weights)."""
    path = shipped_file("tokenizer.json", weights_dir)
    if path is None:
        where = weights_dir or "nanokit/tiny/weights"
        raise ConfigError(f"{where}/tokenizer.json is missing; run `nanokit tiny train` to create it.")
    return path.read_text(encoding="utf-8")


def served_template(weights_dir: Path | None = None, *, trained: bool = True) -> str:
    """The template the weights are served with: a chat_template.jinja beside them (the one they were
    trained on, kept when the package's template moved on), else the package's."""
    kept = shipped_file("chat_template.jinja", weights_dir) if trained else None
    return kept.read_text(encoding="utf-8") if kept is not None else chat_template()


def weights_config(weights_dir: Path | None = None) -> dict:
    """The model shape the weights were trained with: training.json's `model_config` (a retrain that
    changes architecture.py keeps the weights it replaced servable), else architecture.py's."""
    record = shipped_file("training.json", weights_dir)
    if record is not None:
        recorded = json.loads(record.read_text(encoding="utf-8")).get("model_config")
        if recorded:
            return recorded
    return model_config()


def cache_root() -> Path:
    """$NANOKIT_CACHE, or ~/.cache/nanokit."""
    return Path(os.environ.get("NANOKIT_CACHE") or Path.home() / ".cache" / "nanokit").expanduser()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fingerprint(*, trained: bool = True, weights_dir: Path | None = None) -> str:
    """A short hash of every input of the build; equal fingerprints mean byte-identical directories."""
    weights = shipped_file("model.safetensors", weights_dir) if trained else None
    inputs = {
        "format": BUILD_FORMAT,
        "config": weights_config(weights_dir) if trained else model_config(),
        "template": _sha256(served_template(weights_dir, trained=trained).encode()),
        "tokenizer": _sha256(tokenizer_json(weights_dir).encode()),
        "weights": _sha256(weights.read_bytes()) if weights else f"random-init-seed-{INIT_SEED}",
    }
    return _sha256(json.dumps(inputs, sort_keys=True).encode())[:16]


def default_dir(*, trained: bool = True) -> Path:
    """Where `build()` puts the embedded model by default: $NANOKIT_CACHE/tiny/<fingerprint>."""
    return cache_root() / "tiny" / fingerprint(trained=trained)


def _built_fingerprint(directory: Path) -> str | None:
    try:
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return (config.get("nanokit") or {}).get("fingerprint")


def _write_checkpoint(directory: Path, *, trained: bool, fp: str, weights_dir: Path | None = None) -> None:
    import torch
    from transformers import NemotronHConfig, NemotronHForCausalLM

    weights = shipped_file("model.safetensors", weights_dir) if trained else None
    config = NemotronHConfig(**(weights_config(weights_dir) if weights is not None else model_config()))
    if weights is not None:
        shutil.copyfile(weights, directory / "model.safetensors")
    else:
        torch.manual_seed(INIT_SEED)
        model = NemotronHForCausalLM(config)
        model.save_pretrained(directory, safe_serialization=True)
    data = config.to_dict()
    data["architectures"] = ["NemotronHForCausalLM"]
    data["nanokit"] = {"fingerprint": fp, "trained": weights is not None, "served_model_name": SERVED_NAME}
    (directory / "config.json").write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    generation = {"bos_token_id": 1, "eos_token_id": [2, 11], "pad_token_id": 3}
    (directory / "generation_config.json").write_text(json.dumps(generation, indent=2), encoding="utf-8")
    template = served_template(weights_dir, trained=weights is not None)
    write_tokenizer_files(directory, tokenizer_json(weights_dir), template, model_max_length=MAX_MODEL_LEN)


def build(out_dir: str | Path | None = None, *, trained: bool = True, force: bool = False,
          progress: bool = True, weights_dir: str | Path | None = None) -> Path:
    """Build the embedded model's checkpoint directory (or reuse it) and return its path.

    trained=True uses the weights shipped in nanokit/tiny/weights/ (or those `nanokit tiny train` wrote
    into `weights_dir`) when they are there, else a seeded random initialisation. force=True rebuilds
    even when the directory already exists.
    """
    weights_dir = Path(weights_dir).expanduser() if weights_dir is not None else None
    fp = fingerprint(trained=trained, weights_dir=weights_dir)
    target = Path(out_dir).expanduser() if out_dir is not None else cache_root() / "tiny" / fp
    if target.exists() and not force:
        if _built_fingerprint(target) == fp:
            return target
        raise ConfigError(
            f"{target} exists but does not hold this embedded model (fingerprint {fp}); "
            "pass force=True to replace it or choose another out_dir."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    if progress:
        print(f"Building the embedded model {SERVED_NAME} ({fp}) into {target} ...", file=sys.stderr)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=target.parent))
    try:
        _write_checkpoint(staging, trained=trained, fp=fp, weights_dir=weights_dir)
        _make_readable(staging)
        _move_into_place(staging, target, replace=force)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _make_readable(directory: Path) -> None:
    # mkdtemp creates 0700 folders; the cache is shared like any other model cache.
    directory.chmod(0o755)
    for path in directory.iterdir():
        path.chmod(0o644)


def _move_into_place(staging: Path, target: Path, *, replace: bool) -> None:
    """Rename `staging` to `target`; another process winning the race is fine, its copy is identical."""
    if replace and target.exists():
        retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.rename(target, retired / "model")
        shutil.rmtree(retired, ignore_errors=True)
    try:
        os.rename(staging, target)
    except OSError:
        if _built_fingerprint(target) is None:
            raise
