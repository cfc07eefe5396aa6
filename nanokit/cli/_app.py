"""The Typer application every `nanokit` sub-command registers on, and how a command reports an error."""

from __future__ import annotations

from functools import partial
from typing import NoReturn

import typer

from nanokit.errors import NanokitError, cli_spelling

app = typer.Typer(
    name="nanokit",
    help="Learn, launch and measure NVIDIA Nemotron-3-Nano from Jupyter or the terminal.",
    no_args_is_help=True,
    add_completion=False,
)


def fail(error: NanokitError, *, options: dict[str, str] | None = None, code: int = 1) -> NoReturn:
    """Print `error` on stderr as the command line names things, then exit with `code`.

    The error's parameters become options (`api_key=...` reads `--api-key ...`); `options` maps the Python
    names whose option is called otherwise (a benchmark's `max_concurrency` is `--concurrency`).
    """
    typer.echo(f"error: {error.render(partial(cli_spelling, options=options))}", err=True)
    raise typer.Exit(code)
