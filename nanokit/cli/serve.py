"""`nanokit serve`: run a vLLM server in the foreground; Ctrl-C stops it and its whole process tree."""

from __future__ import annotations

import signal
import sys
import threading

import typer

from nanokit.cli._app import app, fail
from nanokit.errors import NanokitError, cli_spelling


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def serve(
    ctx: typer.Context,
    model: str = typer.Option(None, help="Checkpoint directory or hub id; default: the embedded tiny model."),
    host: str = typer.Option("127.0.0.1", help="Interface to bind; anything but loopback needs --api-key."),
    port: int = typer.Option(None, min=1, max=65535, help="Port to bind; default: a free one."),
    api_key: str = typer.Option(None, envvar="NANOKIT_API_KEY", show_envvar=True,
                                help="Require this key from clients (read from NANOKIT_API_KEY if set)."),
    timeout: float = typer.Option(600, min=0, help="Seconds to wait for the server to become healthy."),
) -> None:
    """Serve a model with vLLM until Ctrl-C. Arguments after `--` go to vLLM unchanged.

    Example: nanokit serve --port 8000 -- --max-num-seqs 8
    """
    from nanokit.server import VLLMServer

    try:
        server = VLLMServer(model, host=host, port=port, api_key=api_key, extra_args=list(ctx.args))
        server.follow_logs(lambda line: print(line, file=sys.stderr, flush=True))
        server.start(timeout=timeout, on_status=lambda message: typer.echo(f"[nanokit] {message}", err=True))
    except NanokitError as exc:
        fail(exc)
    except KeyboardInterrupt:
        typer.echo("[nanokit] interrupted while starting; stopped.", err=True)
        raise typer.Exit(130) from None
    banner = (
        f"\n{server.startup_timeline().describe()}\n"
        f"\nServing {server.model_name} at {server.base_url}\n"
        f"Try:  curl {server.base_url}/chat/completions -H 'Content-Type: application/json' "
        f"""-d '{{"model": "{server.model_name}", "messages": [{{"role": "user", "content": "Hello"}}]}}'"""
        + ("  (add -H 'Authorization: Bearer $NANOKIT_API_KEY')" if api_key else "")
        + "\nPress Ctrl-C to stop.\n"
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    # From here on, Ctrl-C at any moment (even while the banner prints) takes the clean stop path below.
    try:
        typer.echo(banner)
        while not stopped.wait(1.0):
            if not server.is_alive():
                try:
                    server.wait()  # raises the error that says how it ended
                except NanokitError as exc:
                    typer.echo(f"error: {exc.render(cli_spelling)}", err=True)
                server.stop()
                raise typer.Exit(1)
    except KeyboardInterrupt:
        pass
    typer.echo("[nanokit] stopping…", err=True)
    server.stop()
    typer.echo("[nanokit] stopped.", err=True)
