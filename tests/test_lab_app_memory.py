"""nanokit.lab.app_memory reads a real process tree with psutil and prints PSS/USS/RSS per process and in all
(the full measurement starts vLLM; `python -m nanokit.lab.app_memory` runs it)."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil

from nanokit.lab.app_memory import format_rows, tree_memory


def test_tree_memory_reads_a_parent_and_its_child():
    script = ("import subprocess, sys, time; "
              "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)']); time.sleep(30)")
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        root = psutil.Process(parent.pid)
        while not root.children():
            time.sleep(0.05)
        rows = tree_memory(root)
        assert rows[0][1] == parent.pid and len(rows) == 2
        for _, _, figures in rows:
            assert figures["rss"] > 1 and figures.get("pss", 1) <= figures["rss"]  # MiB; PSS never above RSS
        table = format_rows(rows)
        total = table.splitlines()[-1].split()
        assert total[0] == "total"
        key = "pss" if "pss" in rows[0][2] else "rss"  # the first column: PSS where Linux reports it
        assert abs(float(total[1].replace(",", "")) - sum(f[key] for *_, f in rows)) <= 1
    finally:
        for child in psutil.Process(parent.pid).children():
            child.kill()
        parent.kill()
        parent.wait()
