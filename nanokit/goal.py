"""What a deployment is for: latency, balanced, throughput or slo (TTFT/TPOT bounds).

The generator plans the options a user left unset for a Goal (nanokit.tune.recommend); a tune scores every
measured point with it: one number per point, higher is better, comparable across points.

- throughput: output tokens per second.
- latency: minus the median end-to-end latency (ms) of a request.
- balanced: the geometric mean of the server's output tok/s and one user's decode speed (1000 / median TPOT),
  so doubling either counts the same: the knee of the throughput-latency curve, not either end.
- slo: output tok/s among points whose p90 TTFT and p90 TPOT are within the bounds; a point outside them scores
  minus its relative overshoot, so every point within beats every point outside, and the search is pulled
  towards the bounds when none is within yet.

A point with failed requests scores as if nothing came back: a setting that drops requests is not a candidate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from nanokit.errors import ConfigError, argument

__all__ = ["GOALS", "Goal"]

GOALS = ("latency", "balanced", "throughput", "slo")

FAILED = -1e9  # below any real score, and finite, because optuna stores intermediate values as JSON numbers


@dataclass(frozen=True, kw_only=True)
class Goal:
    """The tuning goal; `ttft_ms` / `tpot_ms` bound the p90 latencies of the slo goal."""

    name: str = "throughput"
    ttft_ms: float | None = None
    tpot_ms: float | None = None

    def __post_init__(self) -> None:
        if self.name not in GOALS:
            raise ConfigError(f"Unknown goal {self.name!r}; pick latency, balanced, throughput or slo.")
        if self.name == "slo" and self.ttft_ms is None and self.tpot_ms is None:
            raise ConfigError(f"The slo goal needs a bound; pass {argument('ttft_ms')}, {argument('tpot_ms')} or both.")
        if self.name != "slo" and (self.ttft_ms is not None or self.tpot_ms is not None):
            raise ConfigError(f"{argument('ttft_ms')} and {argument('tpot_ms')} bound the slo goal only; "
                              f"pass {argument('goal', 'slo')} with them.")
        for name in ("ttft_ms", "tpot_ms"):
            if getattr(self, name) is not None and getattr(self, name) <= 0:
                raise ConfigError(f"{argument(name)} must be positive milliseconds, not {getattr(self, name)}; "
                                  f"pass for example {argument(name, 50)}.")

    def overshoot(self, metrics: Mapping[str, float]) -> float:
        """How far past the SLO bounds a point is: the largest measured/bound - 1, or 0 when within them."""
        worst = 0.0
        for bound, key in ((self.ttft_ms, "p90_ttft_ms"), (self.tpot_ms, "p90_tpot_ms")):
            if bound is not None:
                worst = max(worst, metrics[key] / bound - 1.0)
        return worst

    def meets(self, metrics: Mapping[str, float]) -> bool:
        return self.name != "slo" or self.overshoot(metrics) == 0.0

    def score(self, metrics: Mapping[str, float]) -> float:
        """The point's value for this goal (higher is better); FAILED when any request failed or none came back."""
        if metrics.get("failed", 0) or not metrics.get("completed", 0) or not metrics.get("output_throughput"):
            return FAILED
        if self.name == "throughput":
            return float(metrics["output_throughput"])
        if self.name == "latency":
            return -float(metrics["median_e2el_ms"])
        if self.name == "balanced":
            per_user = 1000.0 / max(float(metrics["median_tpot_ms"]), 1e-6)
            return math.sqrt(float(metrics["output_throughput"]) * per_user)
        over = self.overshoot(metrics)
        return float(metrics["output_throughput"]) if over == 0.0 else -over

    def describe(self) -> str:
        if self.name != "slo":
            return self.name
        bounds = [f"p90 {name} <= {value:g} ms" for name, value in (("TTFT", self.ttft_ms), ("TPOT", self.tpot_ms))
                  if value is not None]
        return "slo (" + ", ".join(bounds) + ")"
