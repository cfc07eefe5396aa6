"""A slice of `nanokit tiny eval` against the served embedded model: 60 generated held-out cases.

The slice draws the shipped mix (`--mix shipped`, the catalogue's tools only), which has not changed since
stage 2, so its floors keep their meaning across retrains. The shipped weights (stage 5, 2026-12-02;
notebooks/results/tiny_2026-12-02/, n=600 on this mix) meet issue 18's targets there for reasoning off,
streaming, memory and refusals; those are asserted. They miss them for exact tool calls (45%), tool results
(91%), reasoning on (97.0%), false refusals (30%) and two-step loops (19%): the slice holds those to floors
under what they measured, so a broken retrain fails. The three far from their targets are also strict expected
failures, which turn into failures (to be promoted to assertions) once a retrain reaches them; the two near
theirs are floors only, since a 10-case slice can reach a target the 600 cases miss.
"""

from __future__ import annotations

import pytest

from nanokit.tiny.data import SHIPPED_MIX
from nanokit.tiny.evaluate import TARGETS, evaluate, format_table, generated_cases, meets, score

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def rates(server):
    # The shipped mix: unchanged since stage 2, so the floors mean the same for every retrain (README has the
    # current mix's figures too).
    return score(evaluate(server.client(), server.model_name, generated_cases(60, mix=SHIPPED_MIX), stream_every=3))


def _assert_meets(rates, metric: str) -> None:
    assert rates.get(metric, (0, 0))[1], f"no case counted towards {metric}"
    assert meets(metric, rates[metric]), format_table({"generated slice": rates})


# Floors for the metrics whose targets the shipped weights miss: (bound, "min" or "max"), under (or over) their
# n=600 figures by a margin that a 10-case slice at temperature 0 stays inside.
FLOORS = {"tool_call": (0.1, "min"), "tool_result": (0.7, "min"), "thinking_on": (0.85, "min"),
          "false_refusal": (0.6, "max"), "two_step": (0.1, "min")}
UNMET = ("tool_call", "false_refusal", "two_step")


@pytest.mark.parametrize("metric", ["thinking_off", "stream_match", "memory", "refusal"])
def test_rates_meet_issue_targets(rates, metric):
    _assert_meets(rates, metric)


@pytest.mark.parametrize("metric", sorted(FLOORS))
def test_unmet_rates_hold_their_floors(rates, metric):
    (passed, counted), (bound, side) = rates[metric], FLOORS[metric]
    assert counted, f"no case counted towards {metric}"
    value = passed / counted
    assert (value >= bound if side == "min" else value <= bound), format_table({"generated slice": rates})


@pytest.mark.parametrize("metric", UNMET)
@pytest.mark.xfail(strict=True, reason="issue 18's target is not reached by the shipped weights (stage 5, 2026-12-02)")
def test_unmet_rates_reach_issue_targets(rates, metric):
    _assert_meets(rates, metric)


def test_the_slice_counts_every_metric(rates):
    assert set(TARGETS) <= set(rates)
