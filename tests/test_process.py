"""nanokit.process without a server: the port checks, spawn under the guard, the death report, ending a tree."""

from __future__ import annotations

import socket
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from nanokit import ServerError, StartCancelled
from nanokit.process import describe_exit, free_port, is_listening, is_loopback, port_is_free, spawn


@pytest.mark.parametrize(("host", "loopback"), [("localhost", True), ("127.0.0.1", True), ("::1", True),
                                                ("0.0.0.0", False), ("192.168.1.5", False), ("example.org", False)])
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_port_checks_tell_bound_listening_and_free_apart():
    port = free_port()
    assert port_is_free("127.0.0.1", port) and not is_listening("127.0.0.1", port)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        assert not port_is_free("127.0.0.1", port) and not is_listening("127.0.0.1", port)
        sock.listen()
        assert is_listening("127.0.0.1", port)


def test_a_port_left_in_time_wait_by_a_stopped_server_is_free():
    # a server that closes its side of a connection first leaves that connection in TIME_WAIT on its port
    port = free_port()
    listener = socket.create_server(("127.0.0.1", port))
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    accepted.close()
    listener.close()
    client.recv(1)  # the server's FIN
    client.close()
    local_states = [line.split()[1:4:2] for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    assert [f"0100007F:{port:04X}", "06"] in local_states  # 06: TIME_WAIT
    assert port_is_free("127.0.0.1", port)


def test_a_shell_string_is_refused():
    with pytest.raises(TypeError, match="list"):
        spawn("echo hi", name="echo")


def test_an_early_death_is_reported_at_once_with_its_code_and_last_lines():
    child = spawn([sys.executable, "-c", "print('cannot load the model'); raise SystemExit(3)"], name="vLLM")
    started = time.monotonic()
    with pytest.raises(ServerError) as caught:
        child.wait_ready(lambda: False, timeout=60)
    assert time.monotonic() - started < 10
    assert str(caught.value).startswith("vLLM exited with code 3 before it became ready; its last log lines follow.")
    assert caught.value.returncode == 3 and "cannot load the model" in caught.value.log_tail


def test_a_death_by_signal_is_named_and_passed_through_the_guard():
    child = spawn([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"], name="x")
    assert child.wait(timeout=20) == -9
    assert describe_exit(-9) == "exited with code -9 (SIGKILL)"


def test_ready_timeout_and_cancel():
    child = spawn([sys.executable, "-c", "import time; time.sleep(60)"], name="sleeper")
    try:
        assert child.wait_ready(lambda: False, timeout=0.5) is False
        with pytest.raises(StartCancelled, match="call start"):
            child.wait_ready(lambda: False, timeout=10, cancelled=lambda: True)
    finally:
        child.stop()
    assert not child.is_alive()


# A command whose child ignores SIGTERM and leaves the session (setsid): stop() finds it by the parent chain
# recorded while it ran, and SIGKILLs it after the grace period.
STUBBORN = textwrap.dedent("""
    import os, signal, subprocess, sys, time
    code = "import os, signal, time; os.setsid(); signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    child = subprocess.Popen([sys.executable, "-c", code])
    print("child", child.pid, flush=True)
    time.sleep(60)
""")


def test_stop_ends_a_child_that_left_the_session_and_ignores_sigterm():
    child = spawn([sys.executable, "-c", STUBBORN], name="stubborn")
    deadline = time.monotonic() + 20
    while not any(line.startswith("child ") for line in child.tail) and time.monotonic() < deadline:
        time.sleep(0.05)
    grandchild = psutil.Process(int(next(line for line in child.tail if line.startswith("child ")).split()[1]))
    time.sleep(1.0)  # let the watcher record it (every 0.5 s)
    started = time.monotonic()
    child.stop(grace=1.0)
    assert time.monotonic() - started < 10
    assert not child.is_alive() and not child.members()
    assert not grandchild.is_running() or grandchild.status() == psutil.STATUS_ZOMBIE
