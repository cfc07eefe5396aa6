"""A slice of `nanokit tiny eval` against the served embedded model."""

from __future__ import annotations

import pytest

from nanokit.tiny.evaluate import TARGETS, evaluate, format_table, score

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def rates(server):
    return score(evaluate(server.client(), server.model_name, 60, stream_every=3))


def _assert_at_least(rates, metric: str, threshold: float) -> None:
    passed, counted = rates[metric]
    assert counted and passed / counted >= threshold, format_table(rates)


@pytest.mark.parametrize("metric", ["thinking_on", "thinking_off", "stream_match"])
def test_protocol_rates_meet_issue_targets(rates, metric):
    _assert_at_least(rates, metric, TARGETS[metric][0])


@pytest.mark.parametrize("metric", ["tool_call", "tool_result"])
def test_tool_rates_meet_issue_targets(rates, metric):
    # At n=600 the shipped weights make 91% of tool calls exactly right and state 100% of tool results.
    # The 60-case slice (ten tool questions) is fixed and answered at temperature 0, so it is no sampling
    # lottery; with 91% at n=600 the weights sit near the line, and a weaker retrain fails here first.
    _assert_at_least(rates, metric, TARGETS[metric][0])
