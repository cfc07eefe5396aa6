"""`nanokit tiny ...`: build, train and evaluate the embedded model."""

from __future__ import annotations

from pathlib import Path

import typer

from nanokit.cli._app import app

tiny_app = typer.Typer(help="The embedded tiny NemotronH model: build, train, evaluate.", no_args_is_help=True)
app.add_typer(tiny_app, name="tiny")


@tiny_app.command("build")
def build_command(
    out: Path | None = typer.Option(None, "--out", help="Directory to build into (default: the nanokit cache)."),
    random: bool = typer.Option(False, "--random", help="Seeded random weights instead of the shipped trained ones."),
    force: bool = typer.Option(False, "--force", help="Rebuild even if the directory exists."),
) -> None:
    """Build the embedded model's checkpoint directory and print its path."""
    from nanokit.tiny import build

    typer.echo(build(out, trained=not random, force=force))
