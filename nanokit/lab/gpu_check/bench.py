"""The GPU check's `bench` step: `vllm bench serve` and `nanokit bench` on one server, in ABBA rounds.

At each --bench-concurrency the two clients run as validate.py's child processes (each with its CPU time), each
going first once per pair of rounds; output throughput, median TPOT and median TTFT are compared as the median and
range of per-round ratios, and each client's median TTFT is held against the server's own histogram for the same
run (validate.py says why they differ).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict, replace

from nanokit import VLLMServer
from nanokit.lab.gpu_check.report import Report, estimate_seconds
from nanokit.lab.validate import Workload, print_round, run_nanokit, run_vllm, summarize, with_server_ttft

__all__ = ["MIN_ROUNDS", "step_bench"]

# Two rounds (the 2026-12-01 H200 check: throughput ratios 1.014 and 1.087) cannot settle a 5% claim.
MIN_ROUNDS = 4


def step_bench(server: VLLMServer, args: argparse.Namespace, report: Report) -> None:
    results = report.data.setdefault("bench", [])
    for i, concurrency in enumerate(args.bench_concurrency):
        prompts = args.bench_prompts_per_concurrency * concurrency
        need = (estimate_seconds(report, concurrency, prompts, args) * 2 + 40) * args.bench_rounds + 30 * args.bench_warmup
        if report.left() < need:
            report.skip(f"bench c={concurrency}", f"{report.left():.0f} s left, about {need:.0f} s needed")
            continue
        w = Workload(server.base_url, server.model_name, str(args.tokenizer), args.input_len, args.output_len,
                     prompts, concurrency)
        folder = args.out / "bench_runs" / f"c{concurrency}"
        folder.mkdir(parents=True, exist_ok=True)
        warmup_s = None
        if args.bench_warmup:
            # The first run after a start at a new batch shape was 6-12% slower on the H200, whichever client
            # ran it; one unmeasured pass at this concurrency keeps that out of round 0.
            t0 = time.monotonic()
            run_nanokit(replace(w, num_prompts=concurrency, output_len=min(64, args.output_len)), -1, folder,
                        args.client_timeout)
            warmup_s = round(time.monotonic() - t0, 1)
            print(f"  c={concurrency} warm-up pass: {warmup_s} s", flush=True)
        runs = []
        for round_ in range(args.bench_rounds):  # ABBA: each client goes first once per pair of rounds
            order = (run_vllm, run_nanokit) if (i + round_) % 2 == 0 else (run_nanokit, run_vllm)
            for client in order:
                r = with_server_ttft(client, w, round_, folder, args.client_timeout)
                runs.append(r)
                print_round(r, label=f"c={concurrency} ")
        results.append({"concurrency": concurrency, "num_prompts": prompts, "input_len": args.input_len,
                        "output_len": args.output_len, "warmup_s": warmup_s, "order": [r.client for r in runs],
                        "runs": [asdict(r) | {"cpu_us_per_token": r.cpu_us_per_token} for r in runs],
                        "summary": summarize(runs)})
        report.save()
