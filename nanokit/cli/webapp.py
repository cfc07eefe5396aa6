"""`nanokit app`: serve the Voila app (notebooks/app.ipynb) on loopback until Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import webbrowser
from pathlib import Path

import typer

import nanokit
from nanokit.cli._app import app
from nanokit.errors import ConfigError, PortInUseError
from nanokit.server import free_port

HOST = "127.0.0.1"
DEFAULT_PORT = 8866  # Voila's own default


def app_notebook() -> Path:
    """The app notebook of this checkout (the repository holds notebooks/ next to the nanokit package)."""
    path = Path(nanokit.__file__).resolve().parents[1] / "notebooks" / "app.ipynb"
    if not path.is_file():
        raise ConfigError(f"The app notebook {path} is missing; `nanokit app` runs from a clone of the repository "
                          "installed with `pip install -e .`, where notebooks/app.ipynb sits next to nanokit/.")
    return path


def voila_argv(notebook: Path, port: int) -> list[str]:
    """The Voila command line: one notebook, loopback only, no browser of its own (we open it once it is up)."""
    return [sys.executable, "-m", "voila", str(notebook), f"--port={port}", "--no-browser",
            f"--Voila.ip={HOST}", "--show_tracebacks=True"]


def _port_taken(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex((HOST, port)) == 0


def _pick_port(port: int | None) -> int:
    if port is None:
        return DEFAULT_PORT if not _port_taken(DEFAULT_PORT) else free_port(HOST)
    if _port_taken(port):
        raise PortInUseError(f"Port {port} on {HOST} is already in use; pass another --port, or leave it out "
                             "to pick a free one.")
    return port


def _wait_until_serving(process: subprocess.Popen, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise typer.Exit(process.returncode or 1)
        if _port_taken(port):  # a GET of the page would execute the notebook in a kernel of its own
            return
        time.sleep(0.5)
    typer.echo(f"[nanokit] Voila did not open port {port} within {timeout:.0f} s; see its log above.", err=True)


def _stop(process: subprocess.Popen) -> None:
    # Voila shuts its kernels down on SIGTERM (the kernel's in-app vLLM server dies with its parent).
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@app.command(name="app")
def app_command(
    port: int = typer.Option(None, help=f"Port to serve on; default {DEFAULT_PORT}, or a free one if it is taken."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Only print the URL; do not open a browser."),
    timeout: float = typer.Option(120, help="Seconds to wait for Voila to answer before printing the URL anyway."),
) -> None:
    """Open the nanokit app (Generate, Server, Chat, Tools, Agents, Throughput) in the browser via Voila."""
    try:
        notebook = app_notebook()
        port = _pick_port(port)
    except nanokit.NanokitError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    url = f"http://{HOST}:{port}/"
    typer.echo(f"[nanokit] starting Voila on {url} …", err=True)
    # Its own session, so Ctrl-C reaches only us and we stop Voila with SIGTERM (its SIGINT handler asks y/n).
    process = subprocess.Popen(voila_argv(notebook, port), cwd=notebook.parent, stdin=subprocess.DEVNULL,
                               start_new_session=True)
    exited_alone = False
    try:
        _wait_until_serving(process, port, timeout)
        typer.echo(f"\nThe nanokit app is at {url}\nPress Ctrl-C to stop.\n")
        if not no_browser:
            webbrowser.open(url)
        terminated: list[int] = []
        signal.signal(signal.SIGTERM, lambda signum, _: terminated.append(signum))
        while not terminated and process.poll() is None:
            time.sleep(0.5)
        exited_alone = process.poll() is not None
    except KeyboardInterrupt:
        pass
    finally:
        typer.echo("[nanokit] stopping Voila…", err=True)
        _stop(process)
        typer.echo("[nanokit] stopped.", err=True)
    if exited_alone:
        typer.echo(f"[nanokit] Voila exited on its own (code {process.returncode}); see its log above.", err=True)
        raise typer.Exit(1)
