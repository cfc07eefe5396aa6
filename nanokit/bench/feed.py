"""What a running benchmark publishes for live views, without ever waiting on them.

The load generator only bumps counters and appends to deques (cheap, no locks needed under the GIL);
a view polls `snapshot()` on its own timer, in its own task or thread, as often as it likes. Nothing a view
does can slow or block a request.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

from nanokit.bench.records import RequestRecord
from nanokit.bench.server_view import ServerSample


@dataclass(frozen=True)
class FeedSnapshot:
    """What changed since the previous snapshot, plus the current totals."""

    time: float
    elapsed: float
    chunks_total: int
    in_flight: int
    finished: int
    total: int
    new_records: tuple[RequestRecord, ...]
    new_server_samples: tuple[ServerSample, ...]
    done: bool


class LiveFeed:
    """Counters and queues a run writes and one live view reads."""

    def __init__(self) -> None:
        self.start: float | None = None
        self.total = 0
        self.chunks = 0
        self.in_flight = 0
        self.finished = 0
        self.done = False
        self._records: deque[RequestRecord] = deque()
        self._samples: deque[ServerSample] = deque()

    # --- written by the run ---
    def begin(self, total: int) -> None:
        self.start, self.total, self.chunks, self.in_flight, self.finished, self.done = \
            time.perf_counter(), total, 0, 0, 0, False

    def chunk(self) -> None:
        self.chunks += 1

    def sent(self) -> None:
        self.in_flight += 1

    def finish(self, record: RequestRecord) -> None:
        self.in_flight -= 1
        self.finished += 1
        self._records.append(record)

    def server_sample(self, sample: ServerSample) -> None:
        self._samples.append(sample)

    def end(self) -> None:
        self.done = True

    # --- read by a view ---
    def snapshot(self) -> FeedSnapshot:
        records = _drain(self._records)
        samples = _drain(self._samples)
        now = time.perf_counter()
        return FeedSnapshot(time=now, elapsed=0.0 if self.start is None else now - self.start,
                            chunks_total=self.chunks, in_flight=self.in_flight, finished=self.finished,
                            total=self.total, new_records=records, new_server_samples=samples, done=self.done)


def _drain(queue: deque) -> tuple:
    items = []
    while queue:
        items.append(queue.popleft())
    return tuple(items)
