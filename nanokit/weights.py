"""Real weights from the Hugging Face hub, fetched with huggingface_hub before a server starts.

The cache is huggingface_hub's own (HF_HOME / HF_HUB_CACHE), so weights fetched here are the ones
`vllm serve` and transformers find too. HF_TOKEN is read by huggingface_hub itself; nanokit never
prints it. On an offline machine (HF_HUB_OFFLINE=1, or no route to the hub) only the local cache is used.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from nanokit.errors import ModelNotFoundError

__all__ = ["check_disk_space", "ensure_local"]

GIB = 1024**3


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def check_disk_space(model_id: str, needed_bytes: int, directory: Path) -> None:
    """Raise when `directory`'s file system has less than `needed_bytes` free (plus 1 GiB headroom)."""
    directory = directory if directory.exists() else next(p for p in directory.parents if p.exists())
    free = shutil.disk_usage(directory).free
    if needed_bytes + GIB > free:
        raise ModelNotFoundError(
            f"{model_id} needs {needed_bytes / GIB:.1f} GiB more disk but {directory} has {free / GIB:.1f} GiB free; "
            "free some space or point HF_HUB_CACHE at a larger disk."
        )


def _bytes_to_download(plan: Iterable) -> int:
    return sum(entry.file_size or 0 for entry in plan if entry.will_download)


def _from_cache(model_id: str, revision: str | None) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(model_id, revision=revision, local_files_only=True))
    except LocalEntryNotFoundError as exc:
        raise ModelNotFoundError(
            f"{model_id} is not in the local Hugging Face cache and this machine is offline; "
            f"run `hf download {model_id}` where there is network access and copy the cache "
            "(HF_HUB_CACHE) here, or pass a local checkpoint directory."
        ) from exc


def ensure_local(model_id: str, *, revision: str | None = None, progress: bool = True) -> Path:
    """A local snapshot directory of `model_id`, downloading what is missing (disk space checked first)."""
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import GatedRepoError, OfflineModeIsEnabled, RepositoryNotFoundError

    if _offline():
        return _from_cache(model_id, revision)
    try:
        plan = snapshot_download(model_id, revision=revision, dry_run=True)
    except (GatedRepoError, RepositoryNotFoundError) as exc:
        raise ModelNotFoundError(
            f"The hub has no accessible repository {model_id}; check the id, accept its licence on the hub, "
            "and set HF_TOKEN for a gated model."
        ) from exc
    except (OfflineModeIsEnabled, OSError) as exc:  # no route to the hub: fall back to the cache
        try:
            return _from_cache(model_id, revision)
        except ModelNotFoundError:
            raise ModelNotFoundError(
                f"{model_id} is not in the local Hugging Face cache and the hub cannot be reached "
                f"({type(exc).__name__}); connect this machine, or copy a cache that has it, then try again."
            ) from exc
    check_disk_space(model_id, _bytes_to_download(plan), Path(constants.HF_HUB_CACHE))
    from tqdm.auto import tqdm  # a widget bar in a notebook, a text bar in a terminal

    path = snapshot_download(model_id, revision=revision, tqdm_class=tqdm if progress else None)
    return Path(path)
