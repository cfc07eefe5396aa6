"""The declared public API: every name in __all__ exists, and nothing private leaks into it."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = ["nanokit", "nanokit.tiny", "nanokit.bench", "nanokit.agents", "nanokit.tune"]


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
