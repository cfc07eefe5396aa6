"""The fine-tuning loop's pieces that need no server: problems, the tool-call verifier, SFT rows, encoding, a real step."""

from __future__ import annotations

import json

import pytest

from nanokit.errors import ConfigError
from nanokit.tiny.checkpoint import served_template, tokenizer_json
from nanokit.tiny.train import WEIGHTS_DIR
from nanokit.traces import sft_row, verify
from nanokit.traces.finetune import (
    FinetuneConfig,
    _batches,
    encode_rows,
    finetune,
    held_out_cases,
    tool_call_problems,
    wilson_interval,
)


def _call(name, arguments):
    return {"id": "call_1", "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}


def test_training_and_held_out_problems_come_from_disjoint_splits():
    train = tool_call_problems(40, split="train", seed=0)
    held = held_out_cases(41, seed=7)
    assert len({p.id for p in train}) == 40 and all(p.id.startswith("train-") for p in train)
    assert len(held) == 41 and sum(c.enable_thinking for c in held) == 21
    assert all(c.id.startswith("eval-") and c.kind == "tool_call" for c in held)
    # the split partition keeps tool names apart: no held-out call is to a train problem's random tool name
    from nanokit.tiny.catalogue import EXAMPLE_SCHEMAS  # the cookbook's own tools are on both sides by design

    train_names = {p.verifier["name"] for p in train} - set(EXAMPLE_SCHEMAS)
    assert not train_names & {c.expect["call"]["name"] for c in held}
    assert tool_call_problems(5, seed=3)[2] == tool_call_problems(5, seed=3)[2]


def test_tool_call_verifier_wants_one_call_with_the_exact_arguments():
    problem = tool_call_problems(1, seed=1)[0]
    spec, name, arguments = problem.verifier, problem.verifier["name"], problem.verifier["arguments"]
    assert verify("", spec, [_call(name, arguments)]).passed
    assert verify("", spec, [_call(name, arguments)] * 2).detail.startswith("made 2 tool calls")
    assert not verify("", spec, [_call("other_tool", arguments)]).passed
    wrong = {key: f"{value}x" if isinstance(value, str) else value + 1 for key, value in arguments.items()}
    assert not verify("", spec, [_call(name, wrong)]).passed
    assert not verify("I cannot help with that.", spec).passed
    broken = {"id": "c", "type": "function", "function": {"name": name, "arguments": "{not json"}}
    assert "not JSON" in verify("", spec, [broken]).detail


def test_sft_rows_carry_the_tools_and_the_reasoning_switch():
    record = {"problem_id": "p", "sample": 0, "status": "ok", "messages": [{"role": "user", "content": "hi"}],
              "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
              "reasoning": "r", "content": "", "tool_calls": [_call("f", {})],
              "sampling": {"thinking": True}, "verdict": {"passed": True, "detail": "ok"}}
    row = sft_row(record)
    assert row["tools"] == record["tools"] and row["metadata"]["enable_thinking"] is True
    assert row["messages"][-1] == {"role": "assistant", "content": "", "reasoning_content": "r",
                                   "tool_calls": [_call("f", {})]}


def _rows(n=3):
    rows = []
    for problem in tool_call_problems(n, seed=5):
        verifier = problem.verifier
        answer = {"role": "assistant", "content": "", "reasoning_content": "\nI will call it.\n",
                  "tool_calls": [_call(verifier["name"], verifier["arguments"])]}
        rows.append({"messages": [*problem.messages, answer], "tools": list(problem.tools),
                     "metadata": {"enable_thinking": True}})
    return rows


def test_encoding_puts_the_loss_on_the_answer_turn_with_the_templates_own_newlines():
    from nanokit.tiny.corpus import hf_tokenizer

    tokenizer_text, template = tokenizer_json(WEIGHTS_DIR), served_template(WEIGHTS_DIR)
    rows = _rows()
    encoded = encode_rows(rows, tokenizer_text, template)
    tokenizer = hf_tokenizer(tokenizer_text, template)
    for (ids, prompt), row in zip(encoded, rows, strict=True):
        answer = tokenizer.decode(ids[prompt:])
        # the generation prompt opens the reasoning; the trimmed reasoning follows it without a blank line
        assert tokenizer.decode(ids[:prompt]).endswith("<|im_start|>assistant\n<think>\n")
        assert answer.startswith("I will call it.\n</think>\n")
        assert f"<function={row['messages'][-1]['tool_calls'][0]['function']['name']}>" in answer
        assert answer.endswith("<|im_end|>")
        assert "<tool_call>" not in tokenizer.decode(ids[:prompt]).split("<|im_start|>assistant")[-1]
    with pytest.raises(ConfigError, match="assistant turn"):
        encode_rows([{"messages": [{"role": "user", "content": "hi"}]}], tokenizer_text, template)


def test_batches_cover_every_row_once_per_epoch():
    encoded = [([1] * (10 + i), 3) for i in range(21)]
    batches = _batches(encoded, FinetuneConfig(epochs=2, batch_size=4))
    assert sum(len(b) for b in batches) == 42
    assert sorted(len(r[0]) for b in batches[:6] for r in b) == [len(r[0]) for r in encoded]
    assert len(_batches(encoded, FinetuneConfig(epochs=2, batch_size=4, max_steps=3))) == 3


def test_wilson_interval():
    low, high = wilson_interval(18, 100)
    assert (round(low, 3), round(high, 3)) == (0.117, 0.267)
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_a_real_fine_tune_step_changes_the_weights_and_writes_a_servable_folder(tmp_path):
    from safetensors.torch import load_file

    from nanokit.tiny import build

    config = FinetuneConfig(epochs=1, batch_size=2, max_steps=1, learning_rate=1e-3)
    report = finetune(_rows(4), tmp_path / "tuned", config, progress=False)
    assert report.steps_done == 1
    before, after = load_file(WEIGHTS_DIR / "model.safetensors"), load_file(tmp_path / "tuned" / "model.safetensors")
    assert before.keys() == after.keys()
    assert any(not before[k].equal(after[k]) for k in before)
    record = json.loads((tmp_path / "tuned" / "training.json").read_text())
    assert record["config"]["init_from"] == str(WEIGHTS_DIR) and record["init"] == json.loads((WEIGHTS_DIR / "training.json").read_text())
    folder = build(tmp_path / "served", weights_dir=tmp_path / "tuned", progress=False)
    assert (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()
    with pytest.raises(ConfigError, match="No SFT rows"):
        finetune([], tmp_path / "none")
