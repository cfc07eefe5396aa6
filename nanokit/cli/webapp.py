"""`nanokit app`: serve the Voila app (notebooks/app.ipynb) on loopback until Ctrl-C."""

from __future__ import annotations

import signal
import sys
import time
import webbrowser
from pathlib import Path

import typer

import nanokit
from nanokit.cli._app import app
from nanokit.errors import ConfigError, PortInUseError, ServerError
from nanokit.process import Child, free_port, is_listening, spawn

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


def _pick_port(port: int | None) -> int:
    if port is None:
        return DEFAULT_PORT if not is_listening(HOST, DEFAULT_PORT) else free_port(HOST)
    if is_listening(HOST, port):
        raise PortInUseError(f"Port {port} on {HOST} is already in use; pass another --port, or leave it out "
                             "to pick a free one.")
    return port


def _serve_until_stopped(voila: Child, url: str, port: int, timeout: float, no_browser: bool) -> None:
    # Ready once the port listens: a GET of the page would execute the notebook in a kernel of its own.
    if not voila.wait_ready(lambda: is_listening(HOST, port), timeout):
        typer.echo(f"[nanokit] Voila did not open port {port} within {timeout:.0f} s; see its log above.", err=True)
    typer.echo(f"\nThe nanokit app is at {url}\nPress Ctrl-C to stop.\n")
    if not no_browser:
        webbrowser.open(url)
    terminated: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, _: terminated.append(signum))
    while not terminated and voila.is_alive():
        time.sleep(0.5)
    if not terminated:
        raise voila.exit_error("while it was serving")


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
    run_app(notebook, port, timeout=timeout, no_browser=no_browser)


def run_app(notebook: Path, port: int, *, timeout: float = 120, no_browser: bool = True) -> None:
    """Serve `notebook` with Voila on loopback until Ctrl-C or SIGTERM; raises typer.Exit(1) if Voila dies."""
    url = f"http://{HOST}:{port}/"
    typer.echo(f"[nanokit] starting Voila on {url} …", err=True)
    # Under the guard in its own session: Ctrl-C reaches only us and we stop Voila with SIGTERM (its SIGINT
    # handler asks y/n); Voila shuts its kernels down on SIGTERM, and if this process is killed the guard ends
    # Voila, whose kernels exit when their parent does (ipykernel polls it), taking their servers' guards along.
    voila = spawn(voila_argv(notebook, port), name="Voila", cwd=notebook.parent, capture=False)
    failure: ServerError | None = None
    try:
        _serve_until_stopped(voila, url, port, timeout, no_browser)
    except ServerError as exc:
        failure = exc
    except KeyboardInterrupt:
        pass
    finally:
        typer.echo("[nanokit] stopping Voila…", err=True)
        voila.stop(grace=30)
        typer.echo("[nanokit] stopped.", err=True)
    if failure is not None:
        typer.echo(f"error: {failure}", err=True)
        raise typer.Exit(1)
