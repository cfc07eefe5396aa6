"""Child processes that cannot outlive their parent: spawn under the guard, wait until ready, stop the whole tree.

    child = spawn(argv, name="vLLM", on_line=print)    # argv is a list; never a shell line
    if not child.wait_ready(lambda: is_listening("127.0.0.1", 8000), timeout=600):
        ...                                             # not ready in time (a death raises ServerError at once)
    child.stop()                                        # SIGTERM, keep signalling, SIGKILL; returns once none is left

`spawn` runs the command under the guard (`nanokit/_guard.py`) in a new session: the guard ends the tree when
this process dies, and the command dies with the guard. This side watches the guard on a thread: when it
exits on its own (killed, or the command died), whatever it left is ended here, so no phase of a start or
stop leaves a process behind. Members are found by session id and by the parent chain recorded while it ran.

Also the small network checks every launcher needs: `is_loopback`, `port_is_free`, `is_listening`, `free_port`.
"""

from __future__ import annotations

import collections
import contextlib
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from nanokit import _guard
from nanokit.errors import ServerError, StartCancelled

__all__ = ["Child", "free_port", "is_listening", "is_loopback", "port_is_free", "spawn"]

GUARD = Path(_guard.__file__)
RECORD_SECONDS = 0.5  # how often the parent chain is recorded


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses: a server bound there is not reachable from other machines."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def port_is_free(host: str, port: int) -> bool:
    """True when nothing holds `port` on `host` (a bind succeeds, as the server's own would).

    SO_REUSEADDR as uvicorn (vLLM's HTTP server) and Voila's tornado set it: connections of a server just stopped
    linger in TIME_WAIT for a minute, and without it a restart on the same port was refused here although the
    server itself would have bound. A bound or listening socket still makes the bind fail.
    """
    with socket.socket(_family(host)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def is_listening(host: str, port: int) -> bool:
    """True when something accepts connections on `host:port`."""
    with socket.socket(_family(host)) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) == 0


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS reports free on `host` right now."""
    with socket.socket(_family(host)) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def describe_exit(code: int) -> str:
    """"exited with code 1", or "exited with code -9 (SIGKILL)" for a death by signal."""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"exited with code {code} ({signal.Signals(-code).name})"
    return f"exited with code {code}"


class Child:
    """A command running under the guard in its own session; made by `spawn`."""

    def __init__(self, name: str, argv: list[str], process: subprocess.Popen, *, on_line: Callable[[str], None] | None,
                 log_file: Path | None, tail_lines: int) -> None:
        self.name = name
        self.argv = argv
        self.process = process
        self.tail: collections.deque[str] = collections.deque(maxlen=tail_lines)
        self.stop_requested = False
        self._on_line = on_line
        self._log_file = log_file
        self._known: set[psutil.Process] = set()
        self._exited = threading.Event()
        self._stop_lock = threading.Lock()
        self._reader = None
        if process.stdout is not None:
            self._reader = threading.Thread(target=self._read, daemon=True, name=f"nanokit-{name}-log")
            self._reader.start()
        self._watcher = threading.Thread(target=self._watch, daemon=True, name=f"nanokit-{name}-watch")
        self._watcher.start()

    @property
    def pid(self) -> int:
        """The guard's pid, which is also the session and process-group id of the tree."""
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.poll()

    def is_alive(self) -> bool:
        return self.process.poll() is None

    def command_process(self) -> psutil.Process | None:
        """The command itself (the guard's child), e.g. to read its CPU times; None once it is gone."""
        with contextlib.suppress(psutil.Error, IndexError):
            return psutil.Process(self.pid).children()[0]
        return None

    def members(self) -> list[psutil.Process]:
        """Every live process of the tree: the session's and the recorded descendants that left it."""
        self._record()
        return _guard.tree_members(self.pid, self._known)

    def log_tail(self, lines: int = 25) -> str:
        return "\n".join(list(self.tail)[-lines:])

    def wait_ready(self, ready: Callable[[], bool], timeout: float, *, cancelled: Callable[[], bool] | None = None,
                   on_wait: Callable[[float], None] | None = None, interval: float = 0.25) -> bool:
        """Poll `ready()` until it is true (True) or `timeout` s pass (False), watching the child meanwhile.

        Raises ServerError at once, with the exit code and the last log lines, if the child dies first, and
        StartCancelled if `cancelled()` turns true. `on_wait(seconds_so_far)` is called about every 5 s.
        """
        started = time.monotonic()
        last_report = started
        while True:
            if cancelled is not None and cancelled():
                raise StartCancelled(f"{self.name} was stopped before it finished starting; call start() to try again.")
            if self.process.poll() is not None:
                error = self.exit_error("before it became ready")
                if cancelled is not None and cancelled():  # the death was the stop that cancelled us
                    continue
                raise error
            if ready():
                return True
            now = time.monotonic()
            if now - started > timeout:
                return False
            if on_wait is not None and now - last_report > 5:
                on_wait(now - started)
                last_report = now
            time.sleep(interval)

    def exit_error(self, when: str) -> ServerError:
        """The error that says the child ended on its own `when` ("before it became ready", "while it was running")."""
        code = self.wait()
        tail = self.log_tail()
        where = ("its last log lines follow" if tail else "it logged nothing") if self._reader else "see its output above"
        return ServerError(f"{self.name} {describe_exit(code)} {when}; {where}.", returncode=code, log_tail=tail)

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait until the tree is gone (the guard exited and its leftovers were ended); the guard's exit code."""
        self._exited.wait(timeout)
        if self._reader is not None and self._exited.is_set():
            self._reader.join(timeout=2)  # the last lines, for the error message
        return self.process.poll()

    def stop(self, grace: float = _guard.GRACE_SECONDS) -> int | None:
        """End the whole tree: SIGTERM, keep signalling newcomers, SIGKILL after `grace` s. Safe to call twice."""
        self.stop_requested = True
        with self._stop_lock:
            self._end(grace)
        return self.wait(timeout=5)

    # --- threads ---------------------------------------------------------------------------------

    def _record(self) -> None:
        with contextlib.suppress(psutil.Error):
            self._known.update(psutil.Process(self.pid).children(recursive=True))

    def _end(self, grace: float) -> None:
        self._record()
        _guard.end_tree(self.pid, self._known, grace=grace, reap=self.process.poll)
        self.process.wait()

    def _watch(self) -> None:
        while True:
            try:
                self.process.wait(timeout=RECORD_SECONDS)
                break
            except subprocess.TimeoutExpired:
                self._record()
        # The guard is gone; if it was killed, its command died with it but the command's children may not have.
        with self._stop_lock:
            self._end(grace=_guard.GRACE_SECONDS)
        self._exited.set()

    def _read(self) -> None:
        sink = open(self._log_file, "a", encoding="utf-8") if self._log_file else contextlib.nullcontext()  # noqa: SIM115
        with sink:
            for raw in iter(self.process.stdout.readline, b""):
                line = raw.decode("utf-8", errors="replace").rstrip("\n")
                self.tail.append(line)
                if self._log_file:
                    sink.write(line + "\n")
                    sink.flush()
                if self._on_line is not None:
                    with contextlib.suppress(Exception):  # a broken view must not stop log capture
                        self._on_line(line)

    def __repr__(self) -> str:
        state = "running" if self.is_alive() else f"exited {self.process.poll()}"
        return f"<Child {self.name} pid={self.pid} {state}>"


def spawn(argv: list[str], *, name: str, env: dict[str, str] | None = None, cwd: str | os.PathLike | None = None,
          capture: bool = True, on_line: Callable[[str], None] | None = None, log_file: str | os.PathLike | None = None,
          tail_lines: int = 200) -> Child:
    """Start `argv` under the guard in a new session; its output is captured line by line unless capture=False.

    `env` replaces the environment (pass {**os.environ, ...} to extend it). `name` is how errors refer to it.
    """
    if isinstance(argv, str):
        raise TypeError("argv must be a list of arguments, not one shell string.")
    # The guard runs on this interpreter (it needs psutil), whatever interpreter argv names.
    guarded = [sys.executable, str(GUARD), str(os.getpid()), "--", *map(str, argv)]
    process = subprocess.Popen(
        guarded,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.STDOUT if capture else None,
        env=env,
        cwd=cwd,
        start_new_session=True,  # its own session and process group: the tree's id is the guard's pid
    )
    return Child(name, list(argv), process, on_line=on_line, log_file=Path(log_file) if log_file else None,
                 tail_lines=tail_lines)
