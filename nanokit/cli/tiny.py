"""`nanokit tiny ...`: build, train and evaluate the embedded model."""

from __future__ import annotations

from pathlib import Path

import typer

from nanokit.cli._app import app
from nanokit.tiny.train import TrainConfig

RECIPE = TrainConfig()  # the CLI's defaults are the shipped weights' recipe

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


@tiny_app.command("train")
def train_command(
    seed: int = typer.Option(RECIPE.seed, "--seed", help="Seed for data, initialisation and batch order."),
    steps: int = typer.Option(RECIPE.steps, "--steps", help="Optimiser steps."),
    batch_size: int = typer.Option(RECIPE.batch_size, "--batch-size", help="Conversations per step (each one new)."),
    out: Path | None = typer.Option(None, "--out", help="Output folder (default: the package's shipped weights/)."),
    device: str = typer.Option("auto", "--device", help="torch device: cpu, cuda, or auto (cuda when there is one)."),
    threads: int = typer.Option(RECIPE.threads, "--threads", help="torch CPU threads."),
    learning_rate: float = typer.Option(RECIPE.learning_rate, "--learning-rate", help="Peak learning rate (cosine schedule)."),
    tie_embeddings: bool = typer.Option(RECIPE.tie_embeddings, "--tie-embeddings/--untied", help="Share input and output embeddings."),
    init_from: Path | None = typer.Option(
        None, "--init-from", help="Continue from this checkpoint folder (its weights and tokenizer): a later stage."),
) -> None:
    """Train the embedded model on synthetic chats and write model.safetensors + tokenizer.json.

    The defaults are the shipped weights' recipe, one stage from seed 0 (see weights/training.json):
    `nanokit tiny train --out DIR` took 786 s on an H100. On a CPU it runs too, for hours.
    """
    from nanokit.errors import ConfigError
    from nanokit.tiny.train import train

    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"

    config = TrainConfig(seed=seed, steps=steps, batch_size=batch_size, device=device, threads=threads,
                         learning_rate=learning_rate, tie_embeddings=tie_embeddings,
                         init_from=str(init_from) if init_from else "")
    try:
        report = train(config, out)
    except ConfigError as exc:  # a bad init folder or option: one sentence, no traceback
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{report.out_dir}: {report.parameters:,} parameters, final loss {report.final_loss:.4f}, "
               f"{report.seconds:.0f} s")


@tiny_app.command("eval")
def eval_command(
    n: int = typer.Option(600, "--n", help="Held-out conversations to run (a sixth of them tool questions)."),
    model_dir: Path | None = typer.Option(None, "--model-dir", help="Checkpoint to serve (default: the embedded model)."),
    base_url: str | None = typer.Option(None, "--base-url", help="Evaluate an already running server instead."),
    seed: int = typer.Option(1234, "--seed", help="Seed of the held-out set."),
    show_failures: bool = typer.Option(False, "--show-failures", help="Print each failed case."),
) -> None:
    """Serve the embedded model with vLLM and print its rates on a held-out set against issue 4's targets."""
    from nanokit.server import VLLMServer, attach
    from nanokit.tiny import SERVED_NAME
    from nanokit.tiny.evaluate import evaluate, format_table, meets_targets, score

    def report(endpoint) -> bool:
        results = evaluate(endpoint.client(), endpoint.model_name, n, seed=seed)
        rates = score(results)
        typer.echo(format_table(rates))
        if show_failures:
            for result in results:
                failed = [metric for metric, passed in result.checks.items() if not passed]
                if failed:
                    typer.echo(f"FAILED {failed}: {result.example.messages[-1].get('content')!r}\n"
                               f"  expected {result.example.completion()!r}\n  got      {result.reply}")
        return meets_targets(rates)

    if base_url:
        ok = report(attach(base_url, model=SERVED_NAME))
    else:
        with VLLMServer(model_dir, served_model_name=SERVED_NAME) as server:
            ok = report(server)
    raise typer.Exit(0 if ok else 1)
