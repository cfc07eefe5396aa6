"""A slice of `nanokit tiny eval` against the served embedded model: 60 generated held-out cases.

The shipped weights (stage 3, 2026-12-01; notebooks/results/tiny_2026-12-01b/rates.json, n=600 on the mix the
slice draws) meet issue 18's targets for reasoning off, streaming, tool results and refusals; those are asserted
here. They do not yet meet the targets for exact tool calls (33%), false refusals (36%), memory (52%), reasoning
on (98.0%) and two-step loops (1%): the slice holds them to floors under what they measured, so a broken
retrain fails, and the targets themselves are strict expected failures, which turn into failures (to be
promoted to assertions) once a retrain reaches them.
"""

from __future__ import annotations

import pytest

from nanokit.tiny.data import SHIPPED_MIX
from nanokit.tiny.evaluate import TARGETS, evaluate, format_table, generated_cases, meets, score

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def rates(server):
    # The split the shipped weights were measured on (their training data's mix); on the generator's current
    # mix, with invented tools, they make 2% exact calls (README).
    return score(evaluate(server.client(), server.model_name, generated_cases(60, mix=SHIPPED_MIX), stream_every=3))


def _assert_meets(rates, metric: str) -> None:
    assert rates.get(metric, (0, 0))[1], f"no case counted towards {metric}"
    assert meets(metric, rates[metric]), format_table({"generated slice": rates})


# Floors for the metrics whose targets the shipped weights miss: (bound, "min" or "max"), under (or over) their
# n=600 figures by a margin that a 10-case slice at temperature 0 stays inside.
FLOORS = {"tool_call": (0.15, "min"), "false_refusal": (0.7, "max"), "memory": (0.3, "min"),
          "thinking_on": (0.85, "min")}
UNMET = ("tool_call", "false_refusal", "memory", "thinking_on", "two_step")


@pytest.mark.parametrize("metric", ["thinking_off", "stream_match", "tool_result", "refusal"])
def test_rates_meet_issue_targets(rates, metric):
    _assert_meets(rates, metric)


@pytest.mark.parametrize("metric", sorted(FLOORS))
def test_unmet_rates_hold_their_floors(rates, metric):
    (passed, counted), (bound, side) = rates[metric], FLOORS[metric]
    assert counted, f"no case counted towards {metric}"
    value = passed / counted
    assert (value >= bound if side == "min" else value <= bound), format_table({"generated slice": rates})


@pytest.mark.parametrize("metric", UNMET)
@pytest.mark.xfail(strict=True, reason="issue 18's target is not reached by the shipped weights (stage 3, 2026-12-01)")
def test_unmet_rates_reach_issue_targets(rates, metric):
    _assert_meets(rates, metric)


def test_the_slice_counts_every_metric(rates):
    assert set(TARGETS) <= set(rates)
