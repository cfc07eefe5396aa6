"""`nanokit lab`: open the tutorials (notebooks/) in JupyterLab, on this environment's Python, until Ctrl-C.

The notebooks name the kernel `python3`. Jupyter looks kernels up along JUPYTER_PATH before the user's and
the system's folders, so a `python3` kernelspec written there (pointing at this interpreter, the one nanokit
and vLLM are installed in) wins over any other `python3` the machine has: the tutorials run on the project's
environment whichever Jupyter installs live beside it.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

import typer

import nanokit
from nanokit.cli._app import app, fail
from nanokit.cli.webapp import HOST, notebooks_path, pick_port, run_browser_server

DEFAULT_PORT = 8888  # JupyterLab's own default
KERNEL_NAME = "python3"  # the name every notebook's metadata gives


def kernel_path() -> Path:
    """The folder `nanokit lab` puts on JUPYTER_PATH (it holds kernels/python3/kernel.json)."""
    return Path(os.environ.get("NANOKIT_CACHE", "~/.cache/nanokit")).expanduser() / "jupyter"


def write_kernelspec(root: Path, python: str = sys.executable) -> Path:
    """Write the `python3` kernelspec for `python` under `root`/kernels; returns its kernel.json."""
    spec = {"argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (nanokit)", "language": "python", "metadata": {"debugger": True}}
    path = root / "kernels" / KERNEL_NAME / "kernel.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return path


def lab_argv(notebooks: Path, port: int) -> list[str]:
    """JupyterLab on `notebooks`, loopback only, on exactly `port`, no browser of its own."""
    argv = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={notebooks}", f"--ServerApp.ip={HOST}",
            f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--ServerApp.open_browser=False"]
    # Jupyter refuses to start as root unless told; containers (CI, Docker) run as root, and the server
    # listens on loopback only with a token.
    return argv + ["--ServerApp.allow_root=True"] if os.geteuid() == 0 else argv


def lab_env(root: Path, token: str) -> dict[str, str]:
    """This environment with `root` first on JUPYTER_PATH and the server's token (kept off the command line)."""
    path = os.pathsep.join(p for p in (str(root), os.environ.get("JUPYTER_PATH", "")) if p)
    return {**os.environ, "JUPYTER_PATH": path, "JUPYTER_TOKEN": token}


@app.command(name="lab")
def lab_command(
    port: int = typer.Option(None, min=1, max=65535,
                             help=f"Port to serve on; default {DEFAULT_PORT}, or a free one if it is taken."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Only print the URL; do not open a browser."),
    timeout: float = typer.Option(120, min=0, help="Seconds to wait for JupyterLab before printing the URL anyway."),
) -> None:
    """Open the tutorials (notebooks/) in JupyterLab with the project's Python as the notebooks' kernel.

    Example: nanokit lab --port 8888 --no-browser
    """
    try:
        notebooks = notebooks_path(command="nanokit lab")
        port = pick_port(port, DEFAULT_PORT)
    except nanokit.NanokitError as exc:
        fail(exc)
    root = kernel_path()
    write_kernelspec(root)
    token = os.environ.get("JUPYTER_TOKEN") or secrets.token_urlsafe(24)  # a given token is kept (Jupyter's own rule)
    run_browser_server(lab_argv(notebooks, port), name="JupyterLab", what="The nanokit tutorials",
                       cwd=notebooks, url=f"http://{HOST}:{port}/lab?token={token}", port=port,
                       timeout=timeout, no_browser=no_browser, env=lab_env(root, token))
