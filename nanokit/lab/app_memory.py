"""The app's resident memory on the embedded model: the kernel, the server's process tree, and Voila.

    python -m nanokit.lab.app_memory            # kernel + embedded server (one vLLM start, about a minute)
    python -m nanokit.lab.app_memory --voila    # also the Voila server process on its own
    python -m nanokit.lab.app_memory -- --kv-cache-memory-bytes 67108864   # words after -- go to vLLM

A child Python plays the Voila kernel: it builds `NanokitApp()` as notebooks/app.ipynb does, starts the
embedded server through the app's Server tab (as the Start button does) and waits while the tabs fill in.
This process then reads every process of that tree with psutil and prints one line each.

Figures: PSS (proportional set size: each shared page counted once, split between the processes sharing it)
and USS (pages only that process holds) from /proc/PID/smaps_rollup, where psutil can read them (Linux);
RSS otherwise, which counts shared libraries once per process and so over-states a tree. The sum of PSS is
what the tree costs the machine; it is the figure to hold against a Binder session's memory limit.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import psutil

from nanokit import free_port

_KERNEL = r"""
import sys, time
from nanokit import VLLMServer
from widgets.app import NanokitApp
app = NanokitApp(VLLMServer(extra_args=sys.argv[1:]) if sys.argv[1:] else None)
panel = app.server_panel
panel.start()  # synchronous: returns once the server is healthy
if panel.endpoint is None:
    sys.exit("the server did not start: " + panel.message.value)
print("READY", flush=True)
sys.stdin.readline()  # held until the parent has measured
panel.stop()
"""


def _role(process: psutil.Process) -> str:
    """A short name for a process of the app's tree, from its command line."""
    try:
        line = " ".join(process.cmdline())
        name = process.name()
    except psutil.Error:
        return "?"
    if "_guard" in line:
        return "guard"
    if "resource_tracker" in line:
        return "resource tracker"
    if "widgets.app" in line:
        return "kernel"
    if "api_server" in line or "vllm serve" in line:
        return "API server"
    if "voila" in line:
        return "Voila server"
    return name  # vLLM names its engine core and worker processes (VLLM::EngineCore, VLLM::Worker...)


def memory_of(process: psutil.Process) -> dict[str, float]:
    """MiB of one process: rss always, pss and uss where the platform reports them."""
    info = process.memory_full_info()
    figures = {"rss": info.rss}
    for key in ("pss", "uss"):
        if hasattr(info, key):
            figures[key] = getattr(info, key)
    return {key: value / 2**20 for key, value in figures.items()}


def tree_memory(root: psutil.Process) -> list[tuple[str, int, dict[str, float]]]:
    """(role, pid, MiB figures) for `root` and every descendant still alive."""
    rows = []
    for process in [root, *root.children(recursive=True)]:
        try:
            rows.append((_role(process), process.pid, memory_of(process)))
        except psutil.Error:
            continue
    return rows


def format_rows(rows: list[tuple[str, int, dict[str, float]]]) -> str:
    keys = [key for key in ("pss", "uss", "rss") if all(key in figures for _, _, figures in rows)]
    lines = [f"{'process':<22}{'pid':>8}" + "".join(f"{key.upper() + ' MiB':>11}" for key in keys)]
    for role, pid, figures in rows:
        lines.append(f"{role:<22}{pid:>8}" + "".join(f"{figures[key]:>11,.0f}" for key in keys))
    lines.append(f"{'total':<30}" + "".join(f"{sum(f[key] for *_, f in rows):>11,.0f}" for key in keys))
    return "\n".join(lines)


def measure_app(vllm_args: list[str] = (), settle: float = 5.0) -> list[tuple[str, int, dict[str, float]]]:
    """Start the kernel stand-in with its embedded server (`vllm_args` added to vLLM's), measure the tree."""
    repo = Path(__file__).resolve().parents[2]
    kernel = subprocess.Popen([sys.executable, "-c", _KERNEL, *vllm_args], cwd=repo, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        for line in kernel.stdout:
            if line.startswith("READY"):
                break
        else:
            raise SystemExit(f"the kernel stand-in ended with status {kernel.wait()} before the server was up")
        time.sleep(settle)  # let the tabs built for the new endpoint finish importing
        return tree_memory(psutil.Process(kernel.pid))
    finally:
        if kernel.poll() is None:
            kernel.stdin.write("\n")
            kernel.stdin.flush()
            kernel.wait(timeout=120)


def measure_voila(settle: float = 8.0) -> list[tuple[str, int, dict[str, float]]]:
    """The Voila server process on its own (no page open, so no kernel), as `nanokit app` starts it."""
    from nanokit.cli import app_notebook, voila_argv  # here: the CLI package imports every sub-command

    notebook = app_notebook()
    voila = subprocess.Popen(voila_argv(notebook, free_port()), cwd=notebook.parent, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        time.sleep(settle)
        return tree_memory(psutil.Process(voila.pid))
    finally:
        voila.terminate()
        voila.wait(timeout=30)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voila", action="store_true", help="Also measure the Voila server process.")
    parser.add_argument("vllm_args", nargs="*", help="Arguments for vLLM, after --.")
    args = parser.parse_args(argv)
    print("kernel stand-in and the embedded server:", format_rows(measure_app(args.vllm_args)), sep="\n", flush=True)
    if args.voila:
        print("\nthe Voila server, no page open:", format_rows(measure_voila()), sep="\n")


if __name__ == "__main__":
    main()
