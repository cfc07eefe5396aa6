"""`nanokit tiny ...`: build, train and evaluate the embedded model."""

from __future__ import annotations

from pathlib import Path

import typer

from nanokit.cli._app import app, fail
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
    """Build the embedded model's checkpoint directory and print its path.

    Example: nanokit tiny build --out ./tiny-model
    """
    from nanokit.tiny import build

    typer.echo(build(out, trained=not random, force=force))


@tiny_app.command("train")
def train_command(
    seed: int = typer.Option(RECIPE.seed, "--seed", min=0, help="Seed for data, initialisation and batch order."),
    steps: int = typer.Option(RECIPE.steps, "--steps", min=1, help="Optimiser steps."),
    batch_size: int = typer.Option(RECIPE.batch_size, "--batch-size", min=1, help="Conversations per step (each one new)."),
    out: Path | None = typer.Option(None, "--out", help="Output folder (default: the package's shipped weights/)."),
    device: str = typer.Option("auto", "--device", help="torch device: cpu, cuda, or auto (cuda when there is one)."),
    threads: int = typer.Option(RECIPE.threads, "--threads", min=1, help="torch CPU threads."),
    learning_rate: float = typer.Option(RECIPE.learning_rate, "--learning-rate", min=0, help="Peak learning rate (cosine schedule)."),
    warmup_steps: int = typer.Option(RECIPE.warmup_steps, "--warmup-steps", min=0, help="Steps of linear learning-rate warm-up."),
    tie_embeddings: bool = typer.Option(RECIPE.tie_embeddings, "--tie-embeddings/--untied", help="Share input and output embeddings."),
    save_every: int = typer.Option(RECIPE.save_every, "--save-every", min=0, help="Also write OUT/step-N every N steps (0: never)."),
    max_seconds: float = typer.Option(
        RECIPE.max_seconds, "--max-seconds", min=0, help="Stop and save once this many seconds have passed (0: no limit)."),
    init_from: Path | None = typer.Option(
        None, "--init-from", help="Continue from this checkpoint folder (its weights and tokenizer): a later stage."),
    hidden_size: int = typer.Option(RECIPE.hidden_size, "--hidden-size", min=128, help="Model width (a multiple of 64; heads follow it)."),
    layer_pattern: str = typer.Option(
        RECIPE.layer_pattern, "--layer-pattern", help="Layers in order: M Mamba-2, * attention, - MLP."),
) -> None:
    """Train the embedded model on synthetic chats and write model.safetensors + tokenizer.json.

    The defaults are stage 1 of the shipped weights' recipe from seed 0, sized for one H200 GPU (about
    18 minutes there; the shipped run passed --max-seconds 1050). Stage 2 continues from it:
    --init-from STAGE1 --steps 3000 --warmup-steps 100 --learning-rate 0.0015 --max-seconds 300
    (weights/training.json records both). On a CPU it runs too, for days.

    Example: nanokit tiny train --steps 200 --out ./my-tiny --device cpu
    """
    from nanokit.errors import ConfigError
    from nanokit.tiny.architecture import check_shape
    from nanokit.tiny.train import train

    try:
        check_shape(hidden_size, layer_pattern, names=("--hidden-size ", "--layer-pattern "))
    except ConfigError as exc:
        fail(exc)
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"

    config = TrainConfig(seed=seed, steps=steps, batch_size=batch_size, device=device, threads=threads,
                         learning_rate=learning_rate, warmup_steps=warmup_steps, tie_embeddings=tie_embeddings, save_every=save_every,
                         max_seconds=max_seconds, init_from=str(init_from) if init_from else "",
                         hidden_size=hidden_size, layer_pattern=layer_pattern)
    try:
        report = train(config, out)
    except ConfigError as exc:  # a bad init folder or option: one sentence, no traceback
        fail(exc)
    typer.echo(f"{report.out_dir}: {report.parameters:,} parameters, final loss {report.final_loss:.4f}, "
               f"{report.seconds:.0f} s")


@tiny_app.command("eval")
def eval_command(
    n: int = typer.Option(600, "--n", min=1, help="Generated held-out cases to run (a sixth of each kind)."),
    cases: str = typer.Option("both", "--set", help="Which set: generated, handwritten or both."),
    weights: Path | None = typer.Option(
        None, "--weights", help="A folder `nanokit tiny train` wrote (model.safetensors, tokenizer.json) to serve."),
    model_dir: Path | None = typer.Option(None, "--model-dir", help="A built checkpoint to serve (default: the embedded model)."),
    base_url: str | None = typer.Option(None, "--base-url", help="Evaluate an already running server instead."),
    seed: int = typer.Option(1234, "--seed", min=0, help="Seed of the generated held-out set."),
    mix: str = typer.Option("current", "--mix", help="Generated set's data: current (with invented tools) or "
                            "shipped (stage 2's data: the catalogue's tools only)."),
    show_failures: bool = typer.Option(False, "--show-failures", help="Print each failed case."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the rates (and failures) to this file."),
) -> None:
    """Serve the embedded model with vLLM and print its rates on the held-out sets against issue 18's targets.

    Example: nanokit tiny eval --set handwritten --show-failures
    Example: nanokit tiny eval --set generated --mix shipped
    """
    import json

    from nanokit.errors import NanokitError
    from nanokit.server import VLLMServer, attach
    from nanokit.tiny import SERVED_NAME, build
    from nanokit.tiny.data import MIX, SHIPPED_MIX
    from nanokit.tiny.evaluate import (
        evaluate,
        format_table,
        generated_cases,
        handwritten_cases,
        meets_targets,
        missed,
        score,
    )

    if cases not in ("generated", "handwritten", "both"):
        typer.echo("error: --set takes generated, handwritten or both.", err=True)
        raise typer.Exit(2)
    if mix not in ("current", "shipped"):
        typer.echo("error: --mix takes current or shipped.", err=True)
        raise typer.Exit(2)
    sets = {}
    if cases in ("generated", "both"):
        sets["generated"] = generated_cases(n, seed, mix=SHIPPED_MIX if mix == "shipped" else MIX)
    if cases in ("handwritten", "both"):
        sets["handwritten"] = handwritten_cases()

    def report(endpoint) -> bool:
        columns, ok, record = {}, True, {}
        for label, chosen in sets.items():
            results = evaluate(endpoint.client(), endpoint.model_name, chosen)
            columns[label] = rates = score(results)
            ok = meets_targets(rates, handwritten=label == "handwritten") and ok
            failures = [{"id": r.case.id, "failed": missed(r.checks), "replies": [str(reply) for reply in r.replies]}
                        for r in results if missed(r.checks)]
            record[label] = {"rates": rates, "failures": failures}
            if show_failures:
                for failure in failures:
                    typer.echo(f"FAILED {label} {failure['id']} {failure['failed']}: {failure['replies']}")
        typer.echo(format_table(columns))
        if json_out:
            json_out.write_text(json.dumps(record, indent=1), encoding="utf-8")
        return ok

    try:
        if base_url:
            ok = report(attach(base_url, model=SERVED_NAME))
        else:
            if weights is not None:
                model_dir = build(weights_dir=weights, progress=False)
            with VLLMServer(model_dir, served_model_name=SERVED_NAME) as server:
                ok = report(server)
    except NanokitError as exc:  # a server that cannot start or be reached: one sentence, no traceback
        fail(exc)
    raise typer.Exit(0 if ok else 1)
