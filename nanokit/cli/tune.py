"""`nanokit tune`: find the server setting and client concurrency that serve a workload best for a goal."""

from __future__ import annotations

from pathlib import Path

import typer

from nanokit.cli._app import app, fail
from nanokit.errors import ConfigError, NanokitError

# TuneConfig's parameters whose option is named otherwise
TUNE_OPTIONS = {"budget_s": "--budget", "max_trials": "--trials", "study_path": "--study", "out_dir": "--out"}


def _base_spec(device: str | None, model: str | None, gpu: str | None, variant: str, context: int | None):
    from nanokit.catalog import local_gpus
    from nanokit.launch import LaunchSpec

    gpus = local_gpus() if device != "cpu" else []
    device = device or ("gpu" if gpus else "cpu")
    if device not in ("cpu", "gpu"):
        raise ConfigError(f"--device takes cpu or gpu, not {device!r}.")
    if device == "cpu":
        if model is None:
            from nanokit import tiny

            model = str(tiny.build())
        return LaunchSpec.embedded(model, **({"context": context} if context else {}))
    if gpu is None and not gpus:
        raise ConfigError("This machine has no NVIDIA GPU the driver can see; pass --device cpu (the embedded model).")
    return LaunchSpec(gpu=gpu or gpus[0], variant=variant, model=model, **({"context": context} if context else {}))


@app.command(name="tune")
def tune_command(
    goal: str = typer.Option("throughput", help="latency, balanced, throughput or slo (with --ttft-ms/--tpot-ms)."),
    budget: float = typer.Option(300.0, min=0, help="Seconds the whole tune may take, server restarts included."),
    model: str = typer.Option(None, help="Checkpoint directory or hub id; default: the embedded model on CPU, "
                                         "the variant's checkpoint on a GPU."),
    device: str = typer.Option(None, help="cpu or gpu; default: gpu when the driver sees one."),
    gpu: str = typer.Option(None, help="Catalogue GPU (h200, b200, ...); default: this machine's."),
    variant: str = typer.Option("bf16", help="Checkpoint on a GPU: bf16, fp8 or nvfp4."),
    context: int = typer.Option(None, min=1, help="--max-model-len of every server; default: the spec's (32768 on a GPU)."),
    input_len: int = typer.Option(None, min=1, help="Prompt length in tokens (random prompts); default 128."),
    output_len: int = typer.Option(None, min=1, help="Tokens generated per request; default 128."),
    dataset: Path = typer.Option(None, help="JSONL file of {\"prompt\": ...} or {\"messages\": [...]} lines."),
    ttft_ms: float = typer.Option(None, min=0, help="slo goal: bound on p90 time to first token, ms."),
    tpot_ms: float = typer.Option(None, min=0, help="slo goal: bound on p90 time per output token, ms."),
    study: Path = typer.Option(None, help="Optuna journal file; an existing one resumes. Default: OUT/study.journal."),
    out: Path = typer.Option(Path("tune-results"), help="Directory for the run card, study and server logs."),
    trials: int = typer.Option(None, min=1, help="At most this many server settings; default: as many as the budget allows."),
    rungs: int = typer.Option(3, min=1, help="Run lengths per setting (x3 prompts each); unpromising settings stop early."),
    min_prompts: int = typer.Option(8, min=1, help="Prompts in the shortest run (at least two per concurrent request)."),
    seed: int = typer.Option(0, min=0, help="Seed of the search and the prompts."),
    search: str = typer.Option("hyperband", help="hyperband (TPE + early stopping) or grid (every setting and "
                                                 "concurrency at full length: the baseline to compare with)."),
) -> None:
    """Tune server settings and client concurrency for a goal within a time budget; writes a run card.

    Example: nanokit tune --device cpu --goal latency --budget 300
    """
    from tqdm import tqdm

    from nanokit.bench import WorkloadSpec
    from nanokit.tune import Goal, TuneConfig, tune

    try:
        if dataset is not None and input_len is not None:
            raise ConfigError("Pass --dataset or --input-len, not both: a dataset's prompts have their own lengths.")
        if dataset is not None:
            workload = WorkloadSpec(kind="jsonl", path=str(dataset), output_len=output_len or 128, seed=seed)
        else:
            workload = WorkloadSpec(input_len=input_len or 128, output_len=output_len or 128, seed=seed)
        config = TuneConfig(base=_base_spec(device, model, gpu, variant, context), workload=workload,
                            goal=Goal(name=goal, ttft_ms=ttft_ms, tpot_ms=tpot_ms), budget_s=budget, rungs=rungs,
                            min_prompts=min_prompts, max_trials=trials, study_path=study, out_dir=out, seed=seed,
                            search=search)
        bar = tqdm(total=round(budget), unit="s", desc=f"tune {goal}", bar_format="{desc}: {n_fmt}/{total_fmt} s "
                   "|{bar}| {postfix}", dynamic_ncols=True)
        best: list[float] = []

        def on_point(point: dict) -> None:
            best.append(point["score"])
            metrics = point["metrics"]
            bar.update(min(round(point["elapsed_s"]), bar.total) - bar.n)
            bar.set_postfix_str(f"{len(best)} runs, best score {max(best):,.1f}")
            bar.write(f"  trial {point['trial']} rung {point['rung']}: c={point['concurrency']} "
                      f"max-num-seqs={point['setting']['max_num_seqs']} -> {metrics['output_throughput']:,.1f} out "
                      f"tok/s, median TPOT {metrics['median_tpot_ms']:,.1f} ms, score {point['score']:,.1f}")

        try:
            result = tune(config, on_point=on_point)
        finally:
            bar.close()
    except NanokitError as exc:
        fail(exc, options=TUNE_OPTIONS)
    except KeyboardInterrupt:
        typer.echo("[nanokit] interrupted; the study keeps what was measured, so the same command resumes.", err=True)
        raise typer.Exit(130) from None
    chosen = result.chosen
    typer.echo(f"\n{len(result.points)} runs in {result.elapsed_s:.0f} s.")
    if chosen is None:
        typer.echo("No setting finished a run; see the server logs in " + str(out) + ".")
        raise typer.Exit(1)
    typer.echo(f"Best for {config.goal.describe()}: client concurrency {chosen['concurrency']}, "
               f"{chosen['metrics']['output_throughput']:,.1f} out tok/s, median TPOT "
               f"{chosen['metrics']['median_tpot_ms']:,.1f} ms\n\n{chosen['command']}\n")
    typer.echo(f"Run card: {result.paths[0]} and {result.paths[1]}")
