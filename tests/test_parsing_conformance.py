"""The conformance matrix (nanokit.lab.parser_conformance) against the installed vLLM's own parsers."""

from __future__ import annotations

import dataclasses

from nanokit.lab.parser_cases import CASES
from nanokit.lab.parser_conformance import Split, compare, load_results, markdown_table, run_nanokit

BY_ID = {case.id: case for case in CASES}


def test_vllm_parsers_agree_and_differ_where_the_cases_say():
    cases = [BY_ID["single-call"], BY_ID["text-after-last-call"], BY_ID["truncated-function-name"]]
    results = compare(cases)  # imports vLLM (~10 s) and runs its nemotron_v3 + qwen3_coder parsers
    rows = {row["id"]: row for row in results["rows"]}
    assert (results["cases"], results["whole_agree"], results["streamed_agree"]) == (3, 1, 2)
    assert rows["single-call"]["vllm_whole"]["calls"] == (("get_weather", {"city": "Paris"}),)
    assert (rows["text-after-last-call"]["whole_agrees"], rows["text-after-last-call"]["streamed_agrees"]) == (
        False, True)
    assert rows["text-after-last-call"]["vllm_whole"]["content"] == ""  # vLLM dropped "I will wait for it."
    assert rows["truncated-function-name"]["vllm_whole"]["calls"] == (("get_wea", {}),)
    assert rows["truncated-function-name"]["why"] == BY_ID["truncated-function-name"].vllm
    table = markdown_table(results)
    assert "1/3 cases agree whole-text, 2/3 streamed" in table
    assert "`text-after-last-call` (whole only)" in table


def test_the_results_file_holds_every_case_and_nanokit_s_current_answers():
    """The committed results must be re-made (`python -m nanokit.lab.parser_conformance`) when cases change."""
    results = load_results()
    assert [row["id"] for row in results["rows"]] == [case.id for case in CASES]
    for row in results["rows"]:
        ours = run_nanokit(BY_ID[row["id"]])
        assert Split(**{**row["nanokit"], "calls": tuple(map(tuple, row["nanokit"]["calls"]))}) == ours, row["id"]
        agrees = row["whole_agrees"] and row["streamed_agrees"]
        assert row["why"] == ("" if agrees else BY_ID[row["id"]].vllm), row["id"]
        assert bool(BY_ID[row["id"]].vllm) != agrees, f"{row['id']}: the case's vllm note does not match the matrix"


def test_splits_agree_up_to_surrounding_whitespace_only():
    ours = Split("think", "answer", (("f", {"a": 1}),))
    assert ours.same_as(dataclasses.replace(ours, content="\n\nanswer\n"))
    assert not ours.same_as(dataclasses.replace(ours, calls=(("f", {"a": "1"}),)))
    assert not ours.same_as(Split(error="TypeError: unhashable type: 'list'"))
