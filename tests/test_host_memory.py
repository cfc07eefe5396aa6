"""Room for the embedded server: container limits read from cgroup files, and the sentence VLLMServer raises
instead of starting a server the OOM killer would end."""

from __future__ import annotations

import pytest

from nanokit import ServerError, VLLMServer, host_memory

MIB = 2**20


def _cgroup(root, files: dict[str, str]):
    for name, text in files.items():
        path = root / name.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    return root


def test_cgroup_v2_limit_less_usage(tmp_path):
    root = _cgroup(tmp_path, {"/sys/fs/cgroup/memory.max": str(2048 * MIB),
                              "/sys/fs/cgroup/memory.current": str(700 * MIB)})
    assert host_memory.cgroup_headroom(root) == 1348 * MIB
    assert host_memory.available_bytes(root) == 1348 * MIB  # the container, not the host, is the limit


def test_no_limit_in_either_cgroup_version(tmp_path):
    assert host_memory.cgroup_headroom(tmp_path) is None
    _cgroup(tmp_path, {"/sys/fs/cgroup/memory.max": "max", "/sys/fs/cgroup/memory.current": "5"})
    assert host_memory.cgroup_headroom(tmp_path) is None
    v1 = _cgroup(tmp_path / "v1", {"/sys/fs/cgroup/memory/memory.limit_in_bytes": str(2**63 - 4096),
                                   "/sys/fs/cgroup/memory/memory.usage_in_bytes": "5"})
    assert host_memory.cgroup_headroom(v1) is None


def test_cgroup_v1_limit(tmp_path):
    root = _cgroup(tmp_path, {"/sys/fs/cgroup/memory/memory.limit_in_bytes": str(1024 * MIB),
                              "/sys/fs/cgroup/memory/memory.usage_in_bytes": str(1100 * MIB)})
    assert host_memory.cgroup_headroom(root) == 0


def test_the_sentence_names_what_is_needed():
    assert host_memory.room_for_embedded_server(4096 * MIB) is None
    message = host_memory.room_for_embedded_server(900 * MIB)
    assert "Only 900 MiB" in message and "1,503 MiB" in message and "2 GB" in message


def test_embedded_server_refuses_to_start_without_room(monkeypatch):
    monkeypatch.setattr(host_memory, "available_bytes", lambda root=None: 600 * MIB)
    server = VLLMServer()
    with pytest.raises(ServerError, match="Only 600 MiB of memory is free"):
        server.start(timeout=30)
    assert server.state.value == "failed" and server.pid is None  # nothing was started
