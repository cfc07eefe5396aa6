"""Write a notebook from a compact Python description (used to author notebooks/*.ipynb; outputs stay empty).

Usage in an authoring script:  from make_notebook import write; write(path, [("md", "..."), ("code", "...")])
A code cell whose source starts with "# parameters" is tagged `parameters` (papermill/nbmake style).
"""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def write(path, cells, *, timeout: int = 600) -> None:
    notebook = new_notebook()
    notebook.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "execution": {"timeout": timeout},  # nbmake's per-notebook timeout
    }
    for kind, source in cells:
        source = source.strip("\n")
        if kind == "md":
            notebook.cells.append(new_markdown_cell(source))
        else:
            cell = new_code_cell(source)
            if source.startswith("# parameters"):
                cell.metadata["tags"] = ["parameters"]
            notebook.cells.append(cell)
    for index, cell in enumerate(notebook.cells):  # stable ids keep diffs small
        cell.id = f"cell-{index:02d}"
    nbformat.write(notebook, path)
