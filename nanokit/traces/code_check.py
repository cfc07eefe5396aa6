"""Code verification: the model's Python, run in the sandbox, against a reference on generated inputs.

A problem's verifier spec for code (all JSON):

    {"kind": "code", "entry": "softmax_rows",          the function the answer must define
     "reference": "<python source>",                    defines `reference(*args)` and `make_inputs(count, seed)`
     "cases": 5, "seed": 0, "rtol": 1e-4, "atol": 1e-5,
     "runtime": "python" | "triton", "time_s": 20, "memory_mb": 1536}

Two sandboxed runs per check (sandbox.py): the reference makes the inputs and its outputs (cached per
spec, so n samples of one problem pay for it once), then the candidate gets the same inputs. Outputs come
back as JSON and are compared here: same structure, integers and strings equal, floats and tensors close
(|a - b| <= atol + rtol * |b|, NaN only where the reference has NaN). With runtime "triton" the job gets
TRITON_INTERPRET=1, Triton's interpreter, which runs kernels on CPU tensors with NumPy (works with
triton 3.9 and torch 2.13+cpu, measured 2026-12-01; speed-up figures need a GPU and runtime "triton" there
without the interpreter). Triton is found through $NANOKIT_TRITON_PATH (a directory holding the `triton`
package) or the interpreter's own site-packages.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nanokit.traces.sandbox import Limits, SandboxResult, run_python
from nanokit.traces.verdict import Verdict

HARNESS = Path(__file__).with_name("_harness.py")
RESULT_MARK = "NANOKIT-RESULT "
_FENCE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.DOTALL)
_reference_cache: dict[str, dict[str, Any]] = {}
_cache_lock = threading.Lock()


def extract_code(answer: str) -> str:
    """The last fenced Python block of an answer, else the whole answer."""
    blocks = _FENCE.findall(answer)
    return (blocks[-1] if blocks else answer).strip() + "\n"


def triton_path() -> str | None:
    """The directory that holds the `triton` package, or None where Triton is not installed."""
    explicit = os.environ.get("NANOKIT_TRITON_PATH")
    if explicit:
        return explicit if Path(explicit, "triton").is_dir() else None
    spec = importlib.util.find_spec("triton")
    return str(Path(spec.origin).parent.parent) if spec and spec.origin else None


def _result_json(run: SandboxResult) -> dict[str, Any] | None:
    for line in reversed(run.stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            try:
                return json.loads(line[len(RESULT_MARK):])
            except json.JSONDecodeError:
                return None
    return None


def _job(spec: Mapping[str, Any], mode: str, files: Mapping[str, str]) -> SandboxResult:
    runtime = spec.get("runtime", "python")
    paths, env = [], {}
    if runtime == "triton":
        found = triton_path()
        paths, env = [found], {"TRITON_INTERPRET": "1"}
    config = {"paths": paths, "entry": spec.get("entry", "solve"), "reference_entry": spec.get("reference_entry",
              "reference"), "cases": int(spec.get("cases", 5)), "seed": int(spec.get("seed", 0))}
    limits = Limits(time_s=float(spec.get("time_s", 60 if runtime == "triton" else 20)),
                    memory_mb=int(spec.get("memory_mb", 2048 if runtime == "triton" else 1536)))
    job_files = {"nanokit_harness.py": HARNESS.read_text(), "config.json": json.dumps(config), **files}
    return run_python(job_files, "nanokit_harness.py", args=(mode, "config.json"), limits=limits, env=env,
                      read_paths=paths)


def reference_outputs(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs and reference outputs for a spec (one sandboxed run, then cached); raises on a broken reference."""
    key = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()
    with _cache_lock:
        if key in _reference_cache:
            return _reference_cache[key]
    run = _job(spec, "reference", {"reference.py": spec["reference"]})
    result = _result_json(run)
    if not run.ok or result is None:
        raise RuntimeError(f"the reference implementation failed ({run.describe()}); fix the problem's reference")
    with _cache_lock:
        _reference_cache[key] = result
    return result


def close(candidate: Any, reference: Any, rtol: float, atol: float, where: str = "output") -> str | None:
    """None when `candidate` matches `reference`, else one sentence on the first difference."""
    if isinstance(reference, dict) and "__tensor__" in reference:
        if not (isinstance(candidate, dict) and "__tensor__" in candidate):
            return f"{where}: expected a tensor, got {type(candidate).__name__}"
        ref, got = reference["__tensor__"], candidate["__tensor__"]
        if ref["shape"] != got["shape"]:
            return f"{where}: shape {got['shape']} where the reference has {ref['shape']}"
        return close(got["data"], ref["data"], rtol, atol, where)
    if isinstance(reference, dict) and "__float__" in reference:
        same = isinstance(candidate, dict) and candidate.get("__float__") == reference["__float__"]
        return None if same else f"{where}: expected {reference['__float__']}"
    if isinstance(reference, list):
        if not isinstance(candidate, list) or len(candidate) != len(reference):
            return f"{where}: expected {len(reference)} items"
        for index, (got, ref) in enumerate(zip(candidate, reference, strict=True)):
            problem = close(got, ref, rtol, atol, where)
            if problem:
                return f"{problem} (item {index})" if where == "output" else problem
        return None
    if isinstance(reference, float) or (isinstance(reference, int) and isinstance(candidate, float)):
        if isinstance(candidate, bool) or not isinstance(candidate, int | float):
            return f"{where}: expected a number, got {type(candidate).__name__}"
        if math.isnan(reference):
            return None if math.isnan(candidate) else f"{where}: expected NaN"
        bound = atol + rtol * abs(reference)
        return None if abs(candidate - reference) <= bound else f"{where}: {candidate!r} != {reference!r}"
    return None if candidate == reference else f"{where}: {str(candidate)[:80]} != {str(reference)[:80]}"


def check_code(answer: str, spec: Mapping[str, Any]) -> Verdict:
    """Run the answer's code against the reference; never raises."""
    if spec.get("runtime") == "triton" and triton_path() is None:
        return Verdict(False, "Triton is not installed: pip install triton (or set NANOKIT_TRITON_PATH).",
                       "code", verifier_error=True)
    try:
        expected = reference_outputs(spec)
    except (RuntimeError, KeyError) as exc:
        return Verdict(False, str(exc), "code", verifier_error=True)
    run = _job(spec, "candidate", {"candidate.py": extract_code(answer), "inputs.json": json.dumps(expected["inputs"])})
    result = _result_json(run)
    if result is None:
        return Verdict(False, f"the candidate {run.describe()}", "code")
    rtol, atol = float(spec.get("rtol", 1e-4)), float(spec.get("atol", 1e-5))
    for index, (got, ref) in enumerate(zip(result["outputs"], expected["outputs"], strict=False)):
        if "error" in got:
            return Verdict(False, f"case {index} raised {got['error']}", "code")
        problem = close(got["value"], ref, rtol, atol)
        if problem:
            return Verdict(False, f"case {index}: {problem}", "code")
    if len(result["outputs"]) != len(expected["outputs"]):
        return Verdict(False, "the candidate returned fewer outputs than there were cases", "code")
    return Verdict(True, f"{len(expected['outputs'])} cases match the reference ({run.duration_s:.1f} s)", "code")
