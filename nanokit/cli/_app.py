"""The Typer application every `nanokit` sub-command registers on."""

import typer

app = typer.Typer(
    name="nanokit",
    help="Learn, launch and measure NVIDIA Nemotron-3-Nano from Jupyter or the terminal.",
    no_args_is_help=True,
    add_completion=False,
)
