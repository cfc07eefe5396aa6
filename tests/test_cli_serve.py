"""`nanokit serve` in the foreground: answers on loopback, and Ctrl-C stops the whole tree."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from nanokit.server import free_port

pytestmark = pytest.mark.integration
NANOKIT = Path(sys.executable).with_name("nanokit")


def test_bad_host_without_key_exits_with_one_sentence():
    done = subprocess.run([str(NANOKIT), "serve", "--host", "0.0.0.0"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 1
    assert "api_key" in done.stderr and "Traceback" not in done.stderr


def test_serve_answers_a_chat_completion_and_ctrl_c_stops_it():
    port = free_port()
    process = subprocess.Popen([str(NANOKIT), "serve", "--port", str(port), "--", "--max-num-seqs", "4"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            assert process.poll() is None, "nanokit serve exited before the server became healthy"
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        reply = httpx.post(f"{base}/v1/chat/completions", timeout=60, json={
            "model": "tiny-nemotron-h", "max_tokens": 16,
            "messages": [{"role": "user", "content": "Hello"}],
        })
        assert reply.status_code == 200 and reply.json()["usage"]["completion_tokens"] > 0
        tree = psutil.Process(process.pid).children(recursive=True)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
        _gone, alive = psutil.wait_procs(tree, timeout=15)
        assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
    finally:
        process.kill()
        process.wait()
