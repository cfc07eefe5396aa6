"""`nanokit app`: serve the Voila app (notebooks/app.ipynb) on loopback until Ctrl-C.

`run_browser_server` is how both `nanokit app` (Voila) and `nanokit lab` (JupyterLab) run a local web server:
under the guard, the URL printed once the port listens, Ctrl-C or SIGTERM stops it cleanly.
"""

from __future__ import annotations

import signal
import sys
import time
import webbrowser
from pathlib import Path

import typer

import nanokit
from nanokit.cli._app import app, fail
from nanokit.errors import ConfigError, PortInUseError, ServerError
from nanokit.process import Child, free_port, is_listening, spawn

HOST = "127.0.0.1"
DEFAULT_PORT = 8866  # Voila's own default


def notebooks_path(name: str = "", *, command: str = "nanokit app") -> Path:
    """notebooks/ (or a file in it) of this checkout: the repository holds it next to the nanokit package."""
    path = Path(nanokit.__file__).resolve().parents[1] / "notebooks" / name
    if not path.exists():
        raise ConfigError(f"{path} is missing; `{command}` runs from a clone of the repository installed with "
                          "`pip install -e .`, where notebooks/ sits next to nanokit/.")
    return path


def app_notebook() -> Path:
    """The app notebook of this checkout."""
    return notebooks_path("app.ipynb")


def voila_argv(notebook: Path, port: int) -> list[str]:
    """The Voila command line: one notebook, loopback only, no browser of its own (we open it once it is up)."""
    return [sys.executable, "-m", "voila", str(notebook), f"--port={port}", "--no-browser",
            f"--Voila.ip={HOST}", "--show_tracebacks=True"]


def pick_port(port: int | None, default: int = DEFAULT_PORT) -> int:
    """`port` if it is free (else a PortInUseError), or `default`, or any free port when `default` is taken."""
    if port is None:
        return default if not is_listening(HOST, default) else free_port(HOST)
    if is_listening(HOST, port):
        raise PortInUseError(f"Port {port} on {HOST} is already in use; pass another --port, or leave it out "
                             "to pick a free one.")
    return port


def _serve_until_stopped(child: Child, what: str, url: str, port: int, timeout: float, no_browser: bool) -> None:
    # Ready once the port listens: a GET of Voila's page would execute the notebook in a kernel of its own.
    if not child.wait_ready(lambda: is_listening(HOST, port), timeout):
        typer.echo(f"[nanokit] {child.name} did not open port {port} within {timeout:.0f} s; see its log above.",
                   err=True)
    typer.echo(f"\n{what} is at {url}\nPress Ctrl-C to stop.\n")
    if not no_browser:
        webbrowser.open(url)
    terminated: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, _: terminated.append(signum))
    while not terminated and child.is_alive():
        time.sleep(0.5)
    if not terminated:
        raise child.exit_error("while it was serving")


@app.command(name="app")
def app_command(
    port: int = typer.Option(None, min=1, max=65535, help=f"Port to serve on; default {DEFAULT_PORT}, or a free one if it is taken."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Only print the URL; do not open a browser."),
    timeout: float = typer.Option(120, min=0, help="Seconds to wait for Voila to answer before printing the URL anyway."),
) -> None:
    """Open the nanokit app (Generate, Server, Chat, Tools, Agents, Throughput) in the browser via Voila.

    Example: nanokit app --port 8866 --no-browser
    """
    try:
        notebook = app_notebook()
        port = pick_port(port)
    except nanokit.NanokitError as exc:
        fail(exc)
    run_app(notebook, port, timeout=timeout, no_browser=no_browser)


def run_app(notebook: Path, port: int, *, timeout: float = 120, no_browser: bool = True) -> None:
    """Serve `notebook` with Voila on loopback until Ctrl-C or SIGTERM; raises typer.Exit(1) if Voila dies."""
    run_browser_server(voila_argv(notebook, port), name="Voila", what="The nanokit app", cwd=notebook.parent,
                       url=f"http://{HOST}:{port}/", port=port, timeout=timeout, no_browser=no_browser)


def run_browser_server(argv: list[str], *, name: str, what: str, cwd: Path, url: str, port: int,
                       timeout: float, no_browser: bool, env: dict[str, str] | None = None) -> None:
    """Run a Jupyter-family web server on loopback until Ctrl-C or SIGTERM; typer.Exit(1) if it dies."""
    typer.echo(f"[nanokit] starting {name} on {url} …", err=True)
    # Under the guard in its own session: Ctrl-C reaches only us and we stop the server with SIGTERM (Voila's
    # and Jupyter's SIGINT handlers ask y/n); both shut their kernels down on SIGTERM, and if this process is
    # killed the guard ends the server, whose kernels exit when their parent does (ipykernel polls it), taking
    # the guards of any vLLM servers they started along.
    child = spawn(argv, name=name, cwd=cwd, env=env, capture=False)
    failure: ServerError | None = None
    try:
        _serve_until_stopped(child, what, url, port, timeout, no_browser)
    except ServerError as exc:
        failure = exc
    except KeyboardInterrupt:
        pass
    finally:
        typer.echo(f"[nanokit] stopping {name}…", err=True)
        child.stop(grace=30)
        typer.echo("[nanokit] stopped.", err=True)
    if failure is not None:
        fail(failure)
