"""Training the embedded model on synthetic chats, on CPU, reproducibly from a seed.

`train(TrainConfig(...))` learns the tokenizer from rendered synthetic conversations, then trains
transformers' NemotronH (the same weight names vLLM loads) with the loss on the assistant's turn only,
and writes model.safetensors, tokenizer.json and training.json into the output folder (by default the
package's weights/ folder, which `build()` ships).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import multiprocessing
import os
import random
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from nanokit.errors import ConfigError
from nanokit.tiny.architecture import MAX_MODEL_LEN, model_config
from nanokit.tiny.checkpoint import chat_template
from nanokit.tiny.corpus import encode, hf_tokenizer, render_prompt
from nanokit.tiny.data import conversations, examples
from nanokit.tiny.tokenizer import build_tokenizer

WEIGHTS_DIR = Path(__file__).parent / "weights"
PAD_ID = 3


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 0
    # The defaults are the shipped weights' recipe: trained with device='cuda' in 786 s on an H100 (see
    # weights/training.json); on 2 CPU cores the same recipe takes hours.
    steps: int = 8000
    batch_size: int = 32
    learning_rate: float = 3e-3
    warmup_steps: int = 30
    weight_decay: float = 0.01
    tokenizer_examples: int = 4000
    threads: int = 2
    device: str = "cpu"
    encode_workers: int = 0  # processes rendering the training data (0: one per CPU core); the result is the same
    # "single": one example per row, loss on its last turn only (the shipped weights' recipe);
    # "conversations": multi-exchange chats with loss on every assistant turn (data.conversation), an
    # experiment that has not beaten "single" yet (see the issue notes).
    data: str = "single"
    max_exchanges: int = 4
    # The output layer shares the input embedding while training (saved as two equal tensors, since vLLM's
    # NemotronH loads lm_head.weight on its own), so copying a word from the question into a tool argument
    # writes the token it read. Started side by side from one seed on one GPU, the tied run's loss was the
    # lower one (0.38 against 0.46 at step 1,650).
    tie_embeddings: bool = True
    save_every: int = 0  # also write a checkpoint to out/step-N every N steps (0: only the final one)
    # Continue from a checkpoint folder (its weights and its tokenizer) instead of starting from scratch:
    # how a later stage of a recipe runs. The folder's training.json is kept in this run's record.
    init_from: str = ""


@dataclass(frozen=True)
class TrainReport:
    out_dir: Path
    seconds: float
    final_loss: float
    tokens_seen: int
    parameters: int
    steps_done: int  # less than config.steps in a save_every snapshot


def _log(progress: bool, message: str) -> None:
    if progress:
        print(message, file=sys.stderr, flush=True)


def _batches(encoded: list[tuple[list[int], list[int]]], batch_size: int, rng: random.Random):
    """Batches of similar length (less padding), in a seeded random order."""
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i][0]))
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


def _tensor_batch(encoded, indices, torch, device):
    width = max(len(encoded[i][0]) for i in indices)
    ids = torch.full((len(indices), width), PAD_ID, dtype=torch.long)
    labels = torch.full((len(indices), width), -100, dtype=torch.long)
    for row, i in enumerate(indices):
        x, y = encoded[i]
        ids[row, :len(x)] = torch.tensor(x)
        labels[row, :len(y)] = torch.tensor(y)
    return ids.to(device), labels.to(device)


_WORKER_TOKENIZER = None


def _init_worker(tokenizer_json: str, template: str) -> None:
    global _WORKER_TOKENIZER
    _WORKER_TOKENIZER = hf_tokenizer(tokenizer_json, template)


def _encode_in_worker(example):
    return encode(_WORKER_TOKENIZER, example)


def train(config: TrainConfig = TrainConfig(), out_dir: str | Path | None = None, *, progress: bool = True) -> TrainReport:
    """Train the embedded model from `config.seed` and write its weights and tokenizer to `out_dir`."""
    import torch
    from transformers import NemotronHConfig, NemotronHForCausalLM

    start = time.monotonic()
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    out = Path(out_dir) if out_dir is not None else WEIGHTS_DIR
    template = chat_template()

    if config.data not in ("conversations", "single"):
        raise ConfigError(f"data must be 'conversations' or 'single', got {config.data!r}.")
    if config.device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device={config.device!r} but torch sees no CUDA GPU here; train with device='cpu'.")
    init = _checkpoint(config.init_from) if config.init_from else None
    if init is not None:
        tokenizer_json = init["tokenizer"]
        _log(progress, f"continuing from {config.init_from} (its tokenizer and weights)")
    else:  # the tokenizer is learnt from rendered conversations of a separate seeded stream
        stream = examples(config.seed + 1_000_003)
        scratch = hf_tokenizer(build_tokenizer(["x"]).to_str(), template)
        corpus = [render_prompt(scratch, ex) + ex.completion()
                  for ex in (next(stream) for _ in range(config.tokenizer_examples))]
        tokenizer_json = build_tokenizer(corpus).to_str()
        _log(progress, f"tokenizer learnt from {len(corpus)} conversations ({time.monotonic() - start:.0f}s)")

    stream = (conversations(config.seed, max_exchanges=config.max_exchanges) if config.data == "conversations"
              else examples(config.seed))
    pending = [dataclasses.replace(next(stream), meta={}) for _ in range(config.steps * config.batch_size)]
    cores = os.cpu_count() or 1
    workers = max(1, min(config.encode_workers or cores, cores))
    # Rendering is the slow part of data preparation; pool.map keeps the order, so the result is the same.
    with multiprocessing.get_context("spawn").Pool(workers, _init_worker, (tokenizer_json, template)) as pool:
        encoded = pool.map(_encode_in_worker, pending, chunksize=256)
    encoded = [(x[:MAX_MODEL_LEN], y[:MAX_MODEL_LEN]) for x, y in encoded]
    batches = _batches(encoded, config.batch_size, rng)
    _log(progress, f"{len(encoded)} training conversations encoded, mean {sum(len(x) for x, _ in encoded) / len(encoded):.0f} "
                   f"tokens ({time.monotonic() - start:.0f}s)")

    model = NemotronHForCausalLM(NemotronHConfig(**model_config()))
    if init is not None:
        # save_pretrained writes NemotronH's backbone under its checkpoint name, "backbone." (what vLLM loads).
        model.load_state_dict({k.replace("backbone.", "model.", 1): v.float() for k, v in init["weights"].items()})
    model = model.to(config.device)
    if config.tie_embeddings:
        model.lm_head.weight = model.model.embeddings.weight
    model.train()
    parameters = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay,
                                  betas=(0.9, 0.98))

    def lr_at(step: int) -> float:
        if step < config.warmup_steps:
            return (step + 1) / config.warmup_steps
        progress_ = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress_))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_at)
    tokens, recent = 0, []
    for step, indices in enumerate(batches[:config.steps]):
        ids, labels = _tensor_batch(encoded, indices, torch, config.device)
        loss = assistant_loss(model, ids, labels, torch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        tokens += ids.numel()
        recent = (recent + [loss.item()])[-20:]
        if config.save_every and (step + 1) % config.save_every == 0 and step + 1 < config.steps:
            snapshot = TrainReport(out / f"step-{step + 1}", time.monotonic() - start, sum(recent) / len(recent),
                                   tokens, parameters, step + 1)
            _save_model(copy.deepcopy(model), tokenizer_json, snapshot.out_dir, config, snapshot, torch, init)
        if progress and (step % (25 if config.device != "cpu" else 5) == 0 or step == config.steps - 1):
            _log(progress, f"step {step + 1}/{config.steps} loss {sum(recent) / len(recent):.4f} "
                           f"({time.monotonic() - start:.0f}s)")

    seconds = time.monotonic() - start
    report = TrainReport(out, seconds, sum(recent) / len(recent), tokens, parameters, config.steps)
    _save_model(model, tokenizer_json, out, config, report, torch, init)
    _log(progress, f"wrote {out} in {seconds:.0f}s")
    return report


def assistant_loss(model, ids, labels, torch):
    """Mean next-token cross-entropy over the labelled positions, as `model(labels=...)` computes it, but
    with the output layer applied to those positions only (most of a row is prompt, which has no labels)."""
    hidden = model.model(input_ids=ids).last_hidden_state[:, :-1]
    targets = labels[:, 1:]
    keep = targets != -100
    logits = model.lm_head(hidden[keep]).float()
    return torch.nn.functional.cross_entropy(logits, targets[keep])


def _checkpoint(folder: str) -> dict:
    from safetensors.torch import load_file

    path = Path(folder)
    missing = [name for name in ("model.safetensors", "tokenizer.json") if not (path / name).is_file()]
    if missing:
        raise ConfigError(f"init_from={folder} lacks {', '.join(missing)}; point it at a folder that "
                         "`nanokit tiny train` or `nanokit tiny build` wrote.")
    record = path / "training.json"
    return {"weights": load_file(path / "model.safetensors"), "tokenizer": (path / "tokenizer.json").read_text("utf-8"),
            "record": json.loads(record.read_text("utf-8")) if record.is_file() else None}


def _save_model(model, tokenizer_json: str, out: Path, config: TrainConfig, report: TrainReport, torch,
                init: dict | None = None) -> None:
    if config.tie_embeddings:  # two tensors on disk: vLLM's NemotronH loads lm_head.weight on its own
        model.lm_head.weight = torch.nn.Parameter(model.model.embeddings.weight.detach().clone())
    _save(model.to("cpu"), tokenizer_json, out, config, report, torch, init)


def _save(model, tokenizer_json: str, out: Path, config: TrainConfig, report: TrainReport, torch,
          init: dict | None = None) -> None:
    """Write the three files next to their final names first, then rename them in: an interrupted save
    leaves the previous checkpoint whole instead of new weights beside an old tokenizer."""
    record = {"config": asdict(config), "seconds": round(report.seconds, 1), "final_loss": round(report.final_loss, 4),
              "steps_done": report.steps_done, "tokens_seen": report.tokens_seen, "parameters": report.parameters,
              "torch_threads": config.threads}
    if init is not None:  # the earlier stage(s) this run continued from
        record["init"] = init["record"]
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".saving-", dir=out) as staging:
        # bfloat16 halves the shipped file; vLLM upcasts to the config's float32 on load.
        model.to(torch.bfloat16).save_pretrained(staging, safe_serialization=True)
        (Path(staging) / "tokenizer.json").write_text(tokenizer_json, encoding="utf-8")
        (Path(staging) / "training.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
        for name in ("model.safetensors", "tokenizer.json", "training.json"):
            os.replace(Path(staging) / name, out / name)


def _parse(key: str, text: str):
    default = getattr(TrainConfig, key)
    if isinstance(default, bool):
        if text.lower() not in ("true", "false", "1", "0"):
            raise ValueError(f"{key} takes true or false, not {text!r}.")
        return text.lower() in ("true", "1")
    return type(default)(text)


if __name__ == "__main__":  # python -m nanokit.tiny.train KEY=VALUE ... [out=DIR]
    options = dict(arg.split("=", 1) for arg in sys.argv[1:])
    target = options.pop("out", None)
    train(TrainConfig(**{k: _parse(k, v) for k, v in options.items()}), target)
