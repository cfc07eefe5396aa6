"""Every notebook is valid nbformat 4.5 with an id on every cell (nbformat warns of, and will refuse, cells without)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_has_a_unique_id_and_the_notebook_validates(path):
    import nbformat

    raw = json.loads(path.read_text(encoding="utf-8"))
    ids = [cell.get("id") for cell in raw["cells"]]
    assert all(ids) and len(set(ids)) == len(ids), f"{path.name}: cells without a unique id"
    nbformat.validate(nbformat.reads(path.read_text(encoding="utf-8"), as_version=4))
