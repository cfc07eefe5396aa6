"""Verified reasoning traces: generate attempts against a served model, verify them, export training data.

    problems = load_problems("problems.jsonl")                    # problems.py: the JSONL format
    summary = generate_traces(server, problems, "results.jsonl", GenerationConfig(samples=8))
    stats = problem_stats(read_attempts("results.jsonl"))         # pass@k, tokens, per problem
    export_sft("results.jsonl", "sft.jsonl")                      # accepted attempts, reasoning kept

Verifiers (verify.py) check exact and numeric answers, JSON Schema, and code, which runs in a confined
separate process (sandbox.py) against a reference on generated inputs (code_check.py); `triton_problems()`
is a small PyTorch -> Triton set for it. finetune.py closes the loop on CPU with the embedded model:
tool-call problems, a full fine-tune on the verified attempts, held-out rates before and after.
"""

from nanokit.traces.code_check import check_code, extract_code, triton_path
from nanokit.traces.dataset import (
    ProblemStats,
    accepted,
    export_sft,
    mean_pass_at,
    pass_at_k,
    problem_stats,
    sft_row,
    stats_table,
)
from nanokit.traces.figures import pass_rate_figure
from nanokit.traces.finetune import (
    FinetuneConfig,
    HeldOutRate,
    finetune,
    held_out_cases,
    held_out_rate,
    tool_call_problems,
    wilson_interval,
)
from nanokit.traces.generate import GenerationConfig, GenerationSummary, generate_traces, run_attempt
from nanokit.traces.problems import Problem, load_problems, save_problems
from nanokit.traces.results import ResultsFile, latest, read_attempts
from nanokit.traces.sandbox import IsolationReport, Limits, SandboxResult, isolation_report, run_python
from nanokit.traces.triton_problems import REFERENCE_SOLUTIONS, triton_problems
from nanokit.traces.verdict import Verdict
from nanokit.traces.verify import exact_match, json_schema_match, numeric_match, tool_call_match, verify

__all__ = [
    "REFERENCE_SOLUTIONS",
    "FinetuneConfig",
    "GenerationConfig",
    "GenerationSummary",
    "HeldOutRate",
    "IsolationReport",
    "Limits",
    "Problem",
    "ProblemStats",
    "ResultsFile",
    "SandboxResult",
    "Verdict",
    "accepted",
    "check_code",
    "exact_match",
    "export_sft",
    "extract_code",
    "finetune",
    "generate_traces",
    "held_out_cases",
    "held_out_rate",
    "isolation_report",
    "json_schema_match",
    "latest",
    "load_problems",
    "mean_pass_at",
    "numeric_match",
    "pass_at_k",
    "pass_rate_figure",
    "problem_stats",
    "read_attempts",
    "run_attempt",
    "run_python",
    "save_problems",
    "sft_row",
    "stats_table",
    "tool_call_match",
    "tool_call_problems",
    "triton_path",
    "triton_problems",
    "verify",
    "wilson_interval",
]
