"""How notebooks run under pytest (nbmake): the kernel's replies are waited for in one-second polls.

nbclient waits for a cell's `execute_reply` with one `shell_channel.get_msg(timeout=<the cell's whole budget,
900 s here>)`: a single `zmq.asyncio` poll. Under heavy CPU load that poll can miss its wake-up. Measured
2026-12-01 with notebook 05 and 12 CPU burners on the 2-core CI machine: the kernel had finished the cell and
sat idle (its execution count showed the cell had run; it answered kernel_info at once), the reply was already
queued in nbclient's shell socket (ZMQ_EVENTS read POLLIN), and nbclient's task still waited in
`shell_channel.get_msg`. Such a poll ends only at its own timeout, where pyzmq checks the socket once more and
finds the reply, so the cell passes 900 s late (cell 16 took 900.0 s, the notebook 966 s against 57 s alone):
the ~14-minute notebook 05 of the loaded CI run. The vLLM server and nanokit's clients had no part in it: no
agent request was pending, and the kernel's CLOSE-WAIT socket was the health check's pooled connection (the
server log's one GET /health came from its port), idle since the server answered.

The remedy keeps every timeout and slices the wait: `get_msg` polls at most POLL_SLICE seconds at a time until
its own deadline, and each slice that times out ends with that same last look at the socket, so a lost wake-up
costs at most a second. nbclient's iopub waits (unbounded) get the same treatment.
"""

from __future__ import annotations

import time
from queue import Empty

from jupyter_client.channels import AsyncZMQSocketChannel

POLL_SLICE = 1.0  # seconds: the most a missed wake-up can cost

_whole_wait = AsyncZMQSocketChannel.get_msg


async def get_msg_in_slices(self: AsyncZMQSocketChannel, timeout: float | None = None) -> dict:
    """`AsyncZMQSocketChannel.get_msg` with the same contract (None waits for ever, Empty at the deadline)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        left = POLL_SLICE if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            return await _whole_wait(self, timeout=min(POLL_SLICE, left))
        except Empty:
            if deadline is not None and time.monotonic() >= deadline:
                raise


def pytest_configure(config) -> None:
    AsyncZMQSocketChannel.get_msg = get_msg_in_slices
