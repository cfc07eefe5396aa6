"""The declared public API: every name in __all__ exists, and nothing private leaks into it."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
from pathlib import Path

import pytest

PACKAGES = ["nanokit", "nanokit.tiny", "nanokit.bench", "nanokit.agents", "nanokit.tune", "nanokit.traces",
            "nanokit.cli"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_names_resolve(name):
    module = importlib.import_module(name)
    assert module.__all__, f"{name} declares no public names"
    missing = [attr for attr in module.__all__ if not hasattr(module, attr)]
    assert not missing, f"{name}.__all__ lists names it does not define: {missing}"
    assert not [attr for attr in module.__all__ if attr.startswith("_")]


def test_top_level_is_light():
    """Importing nanokit must not pull in LangGraph or vLLM (a notebook's first cell stays fast)."""
    import subprocess
    import sys

    code = "import sys, nanokit; print(any(m.split('.')[0] in ('langgraph', 'vllm', 'torch') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def _notebook_imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) for every `from module import name` and `import module` in a notebook's code cells."""
    found = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        for node in ast.walk(ast.parse("".join(cell["source"]))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found += [(node.module, alias.name) for alias in node.names]
            elif isinstance(node, ast.Import):
                found += [(alias.name, "") for alias in node.names]
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_import_only_public_names(path):
    """A notebook uses nanokit's declared names (in the `__all__` of the package or module it imports from;
    the packages above, or e.g. a `nanokit.lab` script module) and the view classes of widgets/."""
    private = []
    for module_name, name in _notebook_imports(path):
        top = module_name.split(".")[0]
        if top == "nanokit":
            declared = getattr(importlib.import_module(module_name), "__all__", None)
            if declared is None or any(part.startswith("_") for part in module_name.split(".")) or (
                    name and name not in declared):
                private.append(f"{module_name}.{name}" if name else module_name)
        elif top == "widgets":
            value = getattr(importlib.import_module(module_name), name, None)
            if not (inspect.isclass(value) and value.__module__ == module_name and not name.startswith("_")):
                private.append(f"{module_name}.{name}")
    assert not private, f"{path.name} imports names that are not public: {private}"
