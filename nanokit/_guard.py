"""Run a server command and take its whole process group down when the process that started it disappears.

Usage (internal):  python -m nanokit._guard PARENT_PID -- ARGV...

VLLMServer starts this guard in a new session, so the guard, vLLM's API server and vLLM's engine
processes share one process group. The guard polls its parent: when the kernel that started the server
dies (even by SIGKILL), the guard sends the group SIGTERM, then SIGKILL after a grace period, because
vLLM ignores SIGTERM while its engine is still starting. Otherwise it waits for the server and exits
with the server's exit code.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

POLL_SECONDS = 0.5
GRACE_SECONDS = 10.0


def _end_group(child: subprocess.Popen) -> int:
    os.killpg(0, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    while child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(0, signal.SIGKILL)  # ends the engine processes too, and this guard with them
    return 137


def main(argv: list[str]) -> int:
    parent = int(argv[0])
    command = argv[argv.index("--") + 1:]
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # stop() signals the whole group; the guard waits for vLLM
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The guard is single-threaded, so preexec_fn is safe here; it gives vLLM back the default SIGTERM.
    child = subprocess.Popen(command, preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL))  # noqa: PLW1509
    while True:
        code = child.poll()
        if code is not None:
            return code
        if os.getppid() != parent:
            return _end_group(child)
        time.sleep(POLL_SECONDS)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
