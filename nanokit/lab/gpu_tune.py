"""`nanokit tune` and the planner on a GPU: what a tune finds for each goal, and the planner at several settings.

    python -m nanokit.lab.gpu_tune --model DIR --out DIR --goals throughput:360      # a GPU box with vLLM
    python -m nanokit.lab.gpu_tune --cpu-smoke --out DIR                             # the same steps, embedded model

DIR for --model holds the real config.json and the stand-in tokenizer beside it (the server runs
`--load-format dummy`, as nanokit.lab.gpu_check does). Steps (`--steps`, in this order):

    probe  the planner against the figures vLLM logs while starting, at each --settings max-num-seqs:batched-tokens
           pair; each server is stopped once it has logged its KV-cache capacity (nanokit.lab.gpu_check.probe)
    tune   nanokit.tune for each --goals NAME:SECONDS on random --input-len / --output-len prompts. A goal's study
           lives in OUT/tune-NAME/study.journal, so calling again with the same OUT resumes it with more budget.
           Every server a tune starts is one more planner check: its log's figures against the planner's for
           the setting it ran.

What this lab narrows, and why: a GPU session has minutes, and on an H200 a restart cost 173-221 s (vLLM 0.26.0,
BF16, dummy weights, 2026-12-01) while one run of 2 x 512 requests of 1024 + 1024 tokens takes 90-110 s. So each trial is
one run of 2 prompts per concurrent request (`--rungs 1`, the size of the 13,422 tok/s reference run of
2026-12-01), and the throughput goal's client side is 256 and 512 (1,024 collapsed there, and would cost 160 s a
run). The server flags are the product's search space (nanokit.tune.space), and the first trial is the
generator's recommendation for the goal (nanokit.tune.recommend.starting_params).

Each card names the checkpoint whose architecture was served (`stamp_card`), so the generator shows it as
"measured on this GPU" for that checkpoint, with the caveats. Everything lands in OUT/gpu_tune.json, rewritten
after every probe and tune, with the run cards in OUT/tune-NAME/ and the probe logs in OUT/probes.log.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from nanokit import LaunchSpec, tiny
from nanokit.bench import WorkloadSpec, write_json_atomic
from nanokit.goal import Goal
from nanokit.lab.gpu_check import (
    GPU_ENV,
    SERVED_NAME,
    Report,
    build_spec,
    machine_facts,
    planner_entry,
)
from nanokit.lab.gpu_check.probes import probe_entry
from nanokit.lab.vllm_log import parse_startup_log
from nanokit.tune import TuneConfig, load_run_card, search_space, tune, write_run_card
from nanokit.tune.servers import VLLMEvaluator
from nanokit.tune.space import SearchSpace, ServerSetting

# The throughput goal's client concurrencies in this lab (module docstring); the other goals keep the product's.
LAB_CLIENTS = {"throughput": (256, 512)}
CAVEATS = (("dummy weights (--load-format dummy) in the real architecture: random values route tokens to experts "
            "unlike the trained checkpoint"), "random prompts of exact lengths, --ignore-eos",
           "one run per point (each the size of the 2026-12-01 reference run); no spread")
# the best measured before this lab: H200, vLLM 0.26.0, BF16, c=512 of a 1024-sequence server, 1024 in / 1024 out
EARLIER_BEST = {"throughput": 13422.0}


class TuneReport(Report):
    """gpu_check's report, kept in OUT/gpu_tune.json and continued by a later call with the same OUT."""

    name = "gpu_tune.json"

    def save(self) -> None:
        self.data["elapsed_s"] = round(time.monotonic() - self.started, 1)
        write_json_atomic(self.data, self.out / self.name)

    def load(self) -> None:
        path = self.out / self.name
        self.data = (json.loads(path.read_text()) if path.exists() else {}) | {"skipped": []}


def _pairs(text: str) -> list[tuple[int, int]]:
    pairs = []
    for item in (part.strip() for part in text.split(",") if part.strip()):
        seqs, _, tokens = item.partition(":")
        pairs.append((int(seqs), int(tokens)))
    return pairs


def _goals(text: str) -> list[tuple[str, float]]:
    goals = []
    for item in (part.strip() for part in text.split(",") if part.strip()):
        name, _, seconds = item.partition(":")
        goals.append((name, float(seconds or 300)))
    return goals


def step_probe(args: argparse.Namespace, report: Report) -> None:
    entries = report.data.setdefault("planner", [])
    for seqs, tokens in args.settings:
        if any(e["source"] == "probe" and (e["max_num_seqs"], e["max_num_batched_tokens"]) == (seqs, tokens)
               for e in entries):
            continue
        if report.left() < args.probe_budget:
            report.skip(f"probe {seqs}:{tokens}", f"{report.left():.0f} s left")
            continue
        spec = build_spec(args, concurrency=seqs, max_num_batched_tokens=tokens)
        print(f"probe max-num-seqs={seqs} max-num-batched-tokens={tokens}", flush=True)
        entry, _ = probe_entry(spec, args, f"{seqs}-{tokens}")
        _record(entries, entry, spec, "probe")
        report.save()


def _record(entries: list[dict[str, Any]], entry: dict[str, Any], spec: LaunchSpec, source: str) -> None:
    """Add gpu_check's planner entry with what varies in this lab (and where the start came from); print it."""
    entries.append(entry | {"source": source, "max_num_batched_tokens": spec.max_num_batched_tokens,
                            "capture_size": spec.max_cudagraph_capture_size,
                            "gpu_memory_utilization": spec.gpu_memory_utilization,
                            "mamba_ssm_cache_dtype": spec.mamba_ssm_cache_dtype})
    worst = entry["worst_error"]
    print(f"  planner vs vLLM ({source}) seqs={spec.concurrency} tokens={spec.max_num_batched_tokens}: worst error "
          f"{'n/a' if worst is None else f'{100 * worst:+.2f}%'}", flush=True)


def tune_base(args: argparse.Namespace) -> LaunchSpec:
    if args.cpu_smoke:
        return LaunchSpec.embedded(str(args.model))
    spec = build_spec(args)
    return spec.with_(extra=(*spec.extra, "--load-format", "dummy", "--tokenizer", str(args.tokenizer)),
                      served_name=SERVED_NAME)


def lab_space(base: LaunchSpec, goal: str) -> SearchSpace:
    space = search_space(base.device, goal, variant=base.variant)
    clients = LAB_CLIENTS.get(goal) if base.device == "gpu" else None
    return replace(space, concurrency=clients) if clients else space


def step_tune(args: argparse.Namespace, report: Report) -> None:
    base = tune_base(args)
    workload = WorkloadSpec(input_len=args.input_len, output_len=args.output_len, seed=args.seed)
    for name, budget in args.goals:
        budget = min(budget, report.left() - 30)
        if budget < 60:
            report.skip(f"tune {name}", f"{report.left():.0f} s left")
            continue
        out = args.out / f"tune-{name}"
        config = TuneConfig(base=base, workload=workload, goal=Goal(name=name), budget_s=budget, rungs=args.rungs,
                            min_prompts=args.min_prompts, choices=lab_space(base, name), out_dir=out, seed=args.seed)
        evaluator = VLLMEvaluator(base, workload, log_dir=str(out), start_timeout=args.start_timeout,
                                  request_timeout=args.client_timeout, env=None if args.cpu_smoke else GPU_ENV)
        print(f"tune {name}: budget {budget:.0f} s", flush=True)
        began = time.monotonic()
        result = tune(config, evaluator=evaluator, on_point=_print_point)
        if not args.cpu_smoke:
            stamp_card(out / "run_card.json", build_spec(args).with_(model=None).model_id)
        summary = summarize_tune(result.card, name, time.monotonic() - began)
        report.data.setdefault("tunes", {}).setdefault(name, []).append(summary)
        if not args.cpu_smoke:  # the CPU tune varies the KV bytes the probe planner assumes; its checks are probes
            for start in evaluator.started:
                text = Path(start["log"]).read_text(errors="replace")
                spec = ServerSetting(**start["setting"]).apply(base)
                entry = planner_entry(spec, args, parse_startup_log(text), text) | {"start_s": start["seconds"]}
                _record(report.data.setdefault("planner", []), entry, spec, f"tune {name}")
        report.save()


def stamp_card(path: Path, checkpoint: str, caveats: tuple[str, ...] = CAVEATS) -> None:
    """Name in a card the checkpoint whose architecture was served (so the generator matches it to that
    checkpoint's recommendation), keep the directory actually served, and add the caveats; both files rewritten."""
    card = load_run_card(path)
    served = card.get("served_model", card["model"])
    card.update(model=checkpoint, served_model=served, caveats=list(caveats))
    card.pop("kind", None)
    write_run_card(card, path.parent, name=path.stem)


def _print_point(point: dict[str, Any]) -> None:
    m = point["metrics"]
    print(f"  trial {point['trial']} c={point['concurrency']} {point['setting']}: {m['output_throughput']:,.1f} out "
          f"tok/s, median TPOT {m['median_tpot_ms']:.2f} ms, median TTFT {m['median_ttft_ms']:,.0f} ms, score "
          f"{point['score']:,.2f} (start {point['start_s']} s, run {point['seconds']:.0f} s)", flush=True)


def summarize_tune(card: dict[str, Any], goal: str, seconds: float) -> dict[str, Any]:
    """What the closing note needs of one tune: the choice, the recommendation's ratio to it, the time spent."""
    chosen, start = card.get("chosen"), card.get("starting_point") or {}
    summary = {"seconds": round(seconds, 1), "trials": card["trials"], "runs": len(card["points"]),
               "settings_started": len(card["start_seconds"]), "start_seconds": card["start_seconds"],
               "grid_estimate_s": card["grid_estimate_s"], "recommended": start.get("params"),
               "recommended_score": start.get("score"), "recommended_vs_chosen": start.get("score_vs_chosen")}
    if chosen:
        summary.update(chosen_setting=chosen["setting"], chosen_concurrency=chosen["concurrency"],
                       chosen_score=chosen["score"], chosen_metrics=chosen["metrics"], command=chosen["command"])
        if goal in EARLIER_BEST and card["hardware"].get("gpu"):
            summary["chosen_vs_earlier_best"] = round(chosen["score"] / EARLIER_BEST[goal], 4)
    print(f"tune {goal}: " + str({k: v for k, v in summary.items() if k != "chosen_metrics"}), flush=True)
    return summary


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m nanokit.lab.gpu_tune", description=__doc__.split("\n")[0])
    p.add_argument("--model", type=Path, help="Directory with the real config.json and the stand-in tokenizer.")
    p.add_argument("--tokenizer", type=Path, help="Tokenizer directory (default: --model).")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--cpu-smoke", action="store_true", help="Run the steps on the embedded model on CPU.")
    p.add_argument("--python", default=None, help="Interpreter that has vLLM (default: this one).")
    p.add_argument("--steps", default="probe,tune")
    p.add_argument("--context", type=int, default=32768)
    p.add_argument("--max-num-seqs", type=int, default=64, help="The probes' and the tune base's default.")
    p.add_argument("--settings", type=_pairs, default=_pairs("64:8192,256:8192,512:16384"),
                   help="max-num-seqs:max-num-batched-tokens pairs to probe.")
    p.add_argument("--goals", type=_goals, default=_goals("throughput:360"), help="NAME:SECONDS,... to tune.")
    p.add_argument("--input-len", type=int, default=1024)
    p.add_argument("--output-len", type=int, default=1024)
    p.add_argument("--rungs", type=int, default=1)
    p.add_argument("--min-prompts", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--probe-budget", type=float, default=150.0, help="Seconds one probe needs at most.")
    p.add_argument("--start-timeout", type=float, default=420.0)
    p.add_argument("--client-timeout", type=float, default=300.0)
    p.add_argument("--deadline", type=float, default=None, help="Seconds this whole call may take.")
    args = p.parse_args(argv)
    if args.cpu_smoke:
        args.model = args.tokenizer = tiny.build()
    if args.model is None:
        p.error("pass --model (or --cpu-smoke)")
    args.tokenizer = (args.tokenizer or args.model).resolve()
    args.model = args.model.resolve()
    args.steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    return args


def main(argv: list[str] | None = None) -> int:
    started = time.monotonic()
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    report = TuneReport(args.out, started, args.deadline)
    report.load()
    report.data.setdefault("machines", []).append(machine_facts())
    report.save()
    if "probe" in args.steps:
        step_probe(args, report)
    if "tune" in args.steps:
        step_tune(args, report)
    report.save()
    print(f"done in {time.monotonic() - started:.0f} s; results in {args.out / report.name}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
