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


def positive_ints(text: str, option: str, example: str) -> list[int]:
    """A comma-separated option value (`--sweep 1,4,16`) as whole numbers of at least 1, or one sentence why not."""
    from nanokit.errors import ConfigError

    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"{option} takes comma-separated whole numbers like {example}, not {text!r}.") from None
    if not values or min(values) < 1:
        raise ConfigError(f"{option} needs values of at least 1, like {example}; got {text!r}.")
    return values
