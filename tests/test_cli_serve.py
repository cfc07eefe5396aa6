"""`nanokit serve` in the foreground: answers on loopback, and Ctrl-C stops the whole tree."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
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
    assert "--api-key" in done.stderr and "Traceback" not in done.stderr


def _collect(stream) -> queue.Queue[str]:
    """Drain a pipe on a thread (vLLM's log is long) so the child never blocks, and hand the lines over."""
    lines: queue.Queue[str] = queue.Queue()

    def pump():
        for line in stream:
            lines.put(line)
        lines.put("")  # EOF

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _wait_for_line(lines: queue.Queue[str], text: str, timeout: float = 600) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        assert line, f"nanokit serve closed its output before printing {text!r}"
        if text in line:
            return line
    raise AssertionError(f"nanokit serve did not print {text!r} within {timeout:.0f} s")


def test_serve_answers_a_chat_completion_and_ctrl_c_stops_it():
    port = free_port()
    process = subprocess.Popen([str(NANOKIT), "serve", "--port", str(port), "--", "--max-num-seqs", "4"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        stdout = _collect(process.stdout)
        # The banner is what tells a user the server is ready; /health can answer a moment before it prints.
        timeline = _wait_for_line(stdout, "Start-up timeline: ")  # the phases of this start, before the banner
        assert "to /health" in timeline
        _wait_for_line(stdout, "torch.compile", timeout=10)
        serving = _wait_for_line(stdout, "Serving ")
        base = f"http://127.0.0.1:{port}"
        assert f"{base}/v1" in serving
        _wait_for_line(stdout, "Press Ctrl-C to stop.", timeout=10)
        reply = httpx.post(f"{base}/v1/chat/completions", timeout=60, json={
            "model": "tiny-nemotron-h", "max_tokens": 16,
            "messages": [{"role": "user", "content": "Hello"}],
        })
        assert reply.status_code == 200 and reply.json()["usage"]["completion_tokens"] > 0
        tree = psutil.Process(process.pid).children(recursive=True)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
        _assert_all_gone(tree)
    finally:
        process.kill()
        process.wait()


def test_ctrl_c_while_starting_stops_the_half_started_server_and_exits_130():
    process = subprocess.Popen([str(NANOKIT), "serve", "--", "--max-num-seqs", "4"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        stderr = _collect(process.stderr)
        # "Starting vLLM on URL: 0 s" is printed once the guard process is spawned and the wait for health begins.
        starting = _wait_for_line(stderr, "/v1: ", timeout=120)
        base = starting.split(" on ", 1)[1].split("/v1: ", 1)[0]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base), starting
        time.sleep(3)  # let the guard spawn vLLM too, so there is a real tree to clean up
        tree = psutil.Process(process.pid).children(recursive=True)
        assert process.poll() is None and tree, "nanokit serve should still be starting, with vLLM spawned"
        with pytest.raises(httpx.HTTPError):  # not yet serving: this really interrupts a start
            httpx.get(f"{base}/health", timeout=1).raise_for_status()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 130
        _wait_for_line(stderr, "interrupted while starting", timeout=10)
        _assert_all_gone(tree)
    finally:
        process.kill()
        process.wait()


def _assert_all_gone(tree: list[psutil.Process]) -> None:
    _gone, alive = psutil.wait_procs(tree, timeout=15)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
