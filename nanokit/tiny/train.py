"""Training the embedded model on synthetic chats, reproducibly from a seed, on CPU or one GPU.

`train(TrainConfig(...))` learns the tokenizer from rendered synthetic conversations, then trains
transformers' NemotronH (the same weight names vLLM loads) with the loss on the answer turn only, and
writes model.safetensors, tokenizer.json and training.json into the output folder (by default the
package's weights/ folder, which `build()` ships). Worker processes draw and render the data while the
model trains: chunk k of the stream is drawn from its own seed and sorted by length into batches, so
the data and its order depend on the seed only, never on how many workers there are. Progress goes to
stdout about every 30 s; snapshots go to out/step-N every `save_every` steps, so a run cut short
still leaves weights. Only torch, transformers, tokenizers, safetensors, jinja2 and numpy are needed.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import multiprocessing
import os
import random
import sys
import tempfile
import time
import types
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

if __name__ in ("__main__", "__mp_main__") and not __package__:
    # Run as a file (`python nanokit/tiny/train.py KEY=VALUE ...`, and the data workers it spawns): import
    # nanokit as a bare package, without nanokit/__init__.py, which imports the client libraries (openai,
    # httpx, ...) that a machine lent only for training may lack; and take this folder off sys.path, where
    # its modules (evaluate.py, data.py) would shadow libraries of those names.
    _PACKAGE_DIR = Path(__file__).resolve().parent.parent
    sys.path[0] = str(_PACKAGE_DIR.parent)
    _bare = types.ModuleType("nanokit")
    _bare.__path__ = [str(_PACKAGE_DIR)]
    sys.modules.setdefault("nanokit", _bare)

from nanokit.errors import ConfigError
from nanokit.tiny.architecture import (
    HIDDEN_SIZE,
    LAYER_PATTERN,
    MAX_MODEL_LEN,
    layer_pattern_of,
    model_config,
)
from nanokit.tiny.checkpoint import chat_template
from nanokit.tiny.corpus import encode, hf_tokenizer, prompt_and_completion
from nanokit.tiny.data import example, examples
from nanokit.tiny.tokenizer import build_tokenizer

WEIGHTS_DIR = Path(__file__).parent / "weights"
PAD_ID = 3
PROGRESS_SECONDS = 30.0


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 0
    # The defaults are stage 1 of the shipped weights' recipe on one H200 (weights/training.json; stage 2
    # continues from it: init_from=STAGE1 steps=3000 warmup_steps=100 learning_rate=0.0015 max_seconds=300).
    # With the scan in chunks of 32 an H200 runs 9 steps a second at 64 rows (22.5 GiB), so 10,000 steps are
    # about 18 minutes; the shipped stage 1 ran with max_seconds=1050, which ended it (cosine and all) at 9,321.
    steps: int = 10000
    batch_size: int = 64
    learning_rate: float = 3e-3
    warmup_steps: int = 200
    weight_decay: float = 0.01
    tokenizer_examples: int = 4000
    threads: int = 2
    device: str = "cpu"
    encode_workers: int = 0  # processes drawing and rendering the data (0: one per CPU core but one)
    window: int = 32  # batches drawn, sorted by length and shuffled together (less padding)
    max_tokens_per_pass: int = 65536  # a step's rows go through the model in passes of at most this many tokens
    # The output layer shares the input embedding while training (saved as two equal tensors, since vLLM's
    # NemotronH loads lm_head.weight on its own), so copying a word from the question into a tool argument
    # writes the token it read.
    tie_embeddings: bool = True
    save_every: int = 1000  # also write a checkpoint to out/step-N every N steps (0: only the final one)
    # Stop early (saving what there is, steps_done < steps in the record) once this many seconds have
    # passed, the learning-rate schedule shortened to end there; 0: no limit. A guard for lent machines
    # with a hard wall-clock limit; with it the run depends on the machine's speed, so CPU runs leave it 0.
    max_seconds: float = 0.0
    # Continue from a checkpoint folder (its weights and its tokenizer) instead of starting from scratch:
    # how a later stage of a recipe runs. The folder's training.json is kept in this run's record.
    init_from: str = ""
    # Speed only (the weights' format and the served model are unchanged): the Mamba-2 scan's chunk length
    # while training (0: the model's own, 128; the chunked scan is exact at any chunk length, and
    # transformers' torch fallback builds chunk x chunk tensors per chunk, so shorter chunks move less
    # memory), and bfloat16 autocast for the linear layers on a GPU (the scan itself stays float32 in that
    # fallback). torch.compile was tried and left out: with dynamic widths inductor (torch 2.13, CPU) fails on
    # this model ("cannot determine truth value of Relational"), and a compile per width is minutes.
    scan_chunk: int = 32
    autocast_bf16: bool = False
    # The model's shape (architecture.model_config): its width and its layers, M Mamba-2, * attention, - MLP.
    # A run that continues a checkpoint (init_from) must keep that checkpoint's shape.
    hidden_size: int = HIDDEN_SIZE
    layer_pattern: str = LAYER_PATTERN


@dataclass(frozen=True)
class TrainReport:
    out_dir: Path
    seconds: float
    final_loss: float
    tokens_seen: int
    parameters: int
    steps_done: int  # less than config.steps in a save_every snapshot or a run stopped by max_seconds


def _log(progress: bool, message: str) -> None:
    if progress:
        print(message, flush=True)


_WORKER_TOKENIZER = None


def _init_worker(tokenizer_json: str, template: str, threads: int) -> None:
    global _WORKER_TOKENIZER
    _WORKER_TOKENIZER = hf_tokenizer(tokenizer_json, template)


def encode_chunk(seed: int, chunk: int, rows: int) -> list[tuple[list[int], int]]:
    """Chunk `chunk` of the training stream: (token ids, prompt length) per row, from its own seed."""
    rng = random.Random(f"train-{seed}-chunk-{chunk}")
    encoded = []
    for _ in range(rows):
        ids, labels = encode(_WORKER_TOKENIZER, example(rng, "train"))
        prompt = labels.count(-100)
        encoded.append((ids[:MAX_MODEL_LEN], min(prompt, MAX_MODEL_LEN)))
    return encoded


def _chunk_batches(encoded: list[tuple[list[int], int]], batch_size: int, rng: random.Random):
    """A chunk's rows as batches of similar length, in a seeded random order."""
    order = sorted(range(len(encoded)), key=lambda i: (len(encoded[i][0]), i))
    batches = [[encoded[i] for i in order[k:k + batch_size]] for k in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


def batch_stream(config: TrainConfig, pool, seed: int):
    """Batches for `config.steps` steps, drawn and rendered in `pool` a few chunks ahead of the training."""
    rows = config.window * config.batch_size
    chunks = math.ceil(config.steps / config.window)
    ahead: deque = deque()
    submitted = 0
    depth = 2 * max(1, getattr(pool, "_processes", 1))
    for chunk in range(chunks):
        while submitted < chunks and len(ahead) < depth:
            ahead.append(pool.apply_async(encode_chunk, (seed, submitted, rows)))
            submitted += 1
        encoded = ahead.popleft().get()
        yield from _chunk_batches(encoded, config.batch_size, random.Random(f"order-{seed}-{chunk}"))


def _tensor_batch(rows, torch, device):
    width = max(len(ids) for ids, _ in rows)
    ids = torch.full((len(rows), width), PAD_ID, dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    for row, (x, prompt) in enumerate(rows):
        ids[row, :len(x)] = torch.tensor(x)
        labels[row, prompt:len(x)] = torch.tensor(x[prompt:])
    return ids.to(device, non_blocking=True), labels.to(device, non_blocking=True)


def learn_tokenizer(config: TrainConfig, template: str) -> str:
    """The tokenizer learnt from rendered conversations of a separate seeded stream (tokenizer.json text)."""
    stream = examples(config.seed + 1_000_003)
    scratch = hf_tokenizer(build_tokenizer(["x"]).to_str(), template)
    corpus = ["".join(prompt_and_completion(scratch, next(stream))) for _ in range(config.tokenizer_examples)]
    return build_tokenizer(corpus).to_str()


def train(config: TrainConfig = TrainConfig(), out_dir: str | Path | None = None, *, progress: bool = True,
          batches: Iterable[list[tuple[list[int], int]]] | None = None) -> TrainReport:
    """Train the embedded model from `config.seed` and write its weights and tokenizer to `out_dir`.

    `batches` (rows of token ids and prompt length, encoded with init_from's tokenizer) replaces the
    generator's stream: a fine-tune on given conversations (nanokit.traces.finetune), in this process.
    """
    import torch
    from transformers import NemotronHConfig, NemotronHForCausalLM

    start = time.monotonic()
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    out = Path(out_dir) if out_dir is not None else WEIGHTS_DIR
    template = chat_template()

    if config.device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device={config.device!r} but torch sees no CUDA GPU here; train with device='cpu'.")
    shape = model_config(config.hidden_size, config.layer_pattern)
    init = _checkpoint(config.init_from) if config.init_from else None
    if init is not None:
        _check_same_shape(config, init, shape)
    if batches is not None and init is None:
        raise ConfigError("train(batches=...) continues a checkpoint; set init_from to the folder whose tokenizer "
                          "encoded the batches.")
    if init is not None:
        tokenizer_json = init["tokenizer"]
        _log(progress, f"continuing from {config.init_from} (its tokenizer and weights)")
    else:
        tokenizer_json = learn_tokenizer(config, template)
        _log(progress, f"tokenizer learnt from {config.tokenizer_examples} conversations ({time.monotonic() - start:.0f}s)")

    model = NemotronHForCausalLM(NemotronHConfig(**shape))
    _set_scan_chunk(model, config.scan_chunk or model.config.chunk_size)
    if init is not None:
        # save_pretrained writes NemotronH's backbone under its checkpoint name, "backbone." (what vLLM loads).
        model.load_state_dict({k.replace("backbone.", "model.", 1): v.float() for k, v in init["weights"].items()})
    model = model.to(config.device)
    if config.device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = True  # GPU runs are not bit-reproducible anyway
    if config.tie_embeddings:
        model.lm_head.weight = model.model.embeddings.weight
    model.train()
    parameters = sum(p.numel() for p in model.parameters())
    forward = _forward(model, config, torch)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay,
                                  betas=(0.9, 0.98))

    def lr_at(step: int, elapsed: float) -> float:
        """Linear warm-up, then a cosine over whichever is further along, the steps or (with max_seconds)
        the clock: a run the time limit cuts short still ends at the low rate, not in mid-schedule."""
        if step < config.warmup_steps:
            return config.learning_rate * (step + 1) / config.warmup_steps
        done = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
        if config.max_seconds:
            done = max(done, elapsed / config.max_seconds)
        return config.learning_rate * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, done))))

    cores = os.cpu_count() or 1
    workers = max(1, min(config.encode_workers or cores - 1, cores))
    tokens, recent, steps_done, last_print = 0, [], 0, time.monotonic()
    _log(progress, f"{parameters:,} parameters on {config.device}; {config.steps} steps of {config.batch_size} "
                   f"rows, " + ("batches given" if batches is not None else f"data drawn by {workers} processes"))
    given = batches is not None  # given batches need no data workers
    with (contextlib.nullcontext() if given else
          multiprocessing.get_context("spawn").Pool(workers, _init_worker, (tokenizer_json, template, 1))) as pool:
        for step, rows in enumerate(batches if given else batch_stream(config, pool, config.seed)):
            if step >= config.steps:
                break
            loss, seen = accumulate_gradients(forward, rows, config.max_tokens_per_pass, torch, config.device)
            tokens += seen
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            lr = lr_at(step, time.monotonic() - start)
            for group in optimizer.param_groups:
                group["lr"] = lr
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            # Kept on the device and read only when printed: a .item() every step would make the CPU wait
            # for the GPU each step instead of queueing the next one while it computes.
            recent = (recent + [loss])[-50:]
            steps_done = step + 1
            now = time.monotonic()
            if config.save_every and steps_done % config.save_every == 0 and steps_done < config.steps:
                snapshot = TrainReport(out / f"step-{steps_done}", now - start, _mean(recent),
                                       tokens, parameters, steps_done)
                _save_model(copy.deepcopy(model), tokenizer_json, snapshot.out_dir, config, snapshot, torch, init)
                _log(progress, f"snapshot {snapshot.out_dir}")
            if now - last_print >= PROGRESS_SECONDS or step == 0 or steps_done == config.steps:
                last_print = now
                memory = (f" peak {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB"
                          if config.device.startswith("cuda") else "")
                _log(progress, f"step {steps_done}/{config.steps} loss {_mean(recent):.4f} "
                               f"lr {lr:.2e} elapsed {now - start:.0f}s{memory}")
            if config.max_seconds and now - start > config.max_seconds:
                _log(progress, f"stopping at step {steps_done}: max_seconds={config.max_seconds:.0f} passed")
                break

    seconds = time.monotonic() - start
    report = TrainReport(out, seconds, _mean(recent), tokens, parameters, steps_done)
    _save_model(model, tokenizer_json, out, config, report, torch, init)
    _log(progress, f"wrote {out} in {seconds:.0f}s")
    return report


def _mean(losses: list) -> float:
    return float(sum(float(x) for x in losses) / len(losses))


def _set_scan_chunk(model, chunk: int) -> None:
    """Run the Mamba-2 scan in chunks of `chunk` tokens (training speed only; the config saved keeps 128)."""
    for module in model.modules():
        if hasattr(module, "chunk_size") and hasattr(module, "ssm_state_size"):
            module.chunk_size = chunk


def _forward(model, config: TrainConfig, torch):
    """The training forward: `(ids, labels, reduction) -> loss`, under config's autocast."""
    backbone = model.model
    device_type = config.device.split(":")[0]
    use_autocast = config.autocast_bf16 and device_type == "cuda"

    def run(ids, labels, reduction: str = "sum"):
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=use_autocast):
            hidden = backbone(input_ids=ids).last_hidden_state
            return _masked_loss(model, hidden, labels, torch, reduction)
    return run


def _masked_loss(model, hidden, labels, torch, reduction: str):
    hidden, targets = hidden[:, :-1], labels[:, 1:]
    keep = targets != -100
    logits = model.lm_head(hidden[keep]).float()
    return torch.nn.functional.cross_entropy(logits, targets[keep], reduction=reduction)


def assistant_loss(model, ids, labels, torch, reduction: str = "mean"):
    """Next-token cross-entropy over the labelled positions (mean, as `model(labels=...)` computes it, or
    sum), with the output layer applied to those positions only (most of a row is prompt, without labels)."""
    return _masked_loss(model, model.model(input_ids=ids).last_hidden_state, labels, torch, reduction)


def accumulate_gradients(forward, rows, max_tokens: int, torch, device):
    """Backpropagate one step's mean loss over `rows` in passes of at most `max_tokens` padded tokens.

    Each pass's loss is summed and divided by the whole step's count of targets, so the passes' gradients
    add up to the one-pass mean's: bounding memory leaves the recipe unchanged. Returns (loss, tokens).
    """
    labelled = sum(len(ids) - prompt for ids, prompt in rows)  # next-token targets in the step
    loss, tokens = 0.0, 0
    for part in passes(rows, max_tokens):
        ids, labels = _tensor_batch(part, torch, device)
        part_loss = forward(ids, labels, "sum") / labelled
        part_loss.backward()
        loss = loss + part_loss.detach()
        tokens += ids.numel()
    return loss, tokens


def passes(rows: list, max_tokens: int) -> list[list]:
    """A step's rows cut into runs of at most `max_tokens` padded tokens each (at least one row per run).

    transformers' torch fallback for Mamba-2 (used where mamba_ssm is not installed, as on the lent GPU)
    builds tensors of batch x length x chunk_size x heads x state floats: 128 rows of ~1,000 tokens asked
    for 54 GiB at once with a state of 64. Bounding a pass bounds that, whatever the rows' lengths.
    """
    runs, current = [], []
    for row in sorted(rows, key=lambda r: len(r[0])):
        width = max([len(row[0])] + [len(r[0]) for r in current])
        if current and width * (len(current) + 1) > max_tokens:
            runs.append(current)
            current = []
        current.append(row)
    return runs + [current] if current else runs


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


def _check_same_shape(config: TrainConfig, init: dict, shape: dict) -> None:
    recorded = (init["record"] or {}).get("model_config")
    if recorded and (recorded["hidden_size"], recorded["layers_block_type"]) != (shape["hidden_size"], shape["layers_block_type"]):
        raise ConfigError(f"init_from={config.init_from} was trained at hidden_size={recorded['hidden_size']} "
                          f"layer_pattern={layer_pattern_of(recorded['layers_block_type'])}; pass those, or leave "
                          "init_from empty to start a new shape.")


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
              "torch_threads": config.threads, "device_name": _device_name(config.device, torch),
              "model_config": model_config(config.hidden_size, config.layer_pattern)}
    if init is not None:  # the earlier stage(s) this run continued from
        record["init"] = init["record"]
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".saving-", dir=out) as staging:
        # bfloat16 halves the shipped file; vLLM upcasts to the config's float32 on load.
        model.to(torch.bfloat16).save_pretrained(staging, safe_serialization=True)
        (Path(staging) / "tokenizer.json").write_text(tokenizer_json, encoding="utf-8")
        (Path(staging) / "training.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
        # The template the training data was rendered through travels with the weights (served_template).
        (Path(staging) / "chat_template.jinja").write_text(chat_template(), encoding="utf-8")
        for name in ("model.safetensors", "tokenizer.json", "training.json", "chat_template.jinja"):
            os.replace(Path(staging) / name, out / name)


def _device_name(device: str, torch) -> str:
    return torch.cuda.get_device_name() if device.startswith("cuda") else "cpu"


def _parse(key: str, text: str):
    default = getattr(TrainConfig, key)
    if isinstance(default, bool):
        if text.lower() not in ("true", "false", "1", "0"):
            raise ValueError(f"{key} takes true or false, not {text!r}.")
        return text.lower() in ("true", "1")
    return type(default)(text)


def main(argv: list[str]) -> None:
    """`python nanokit/tiny/train.py KEY=VALUE ... [out=DIR]`: TrainConfig's fields, no typer needed."""
    import importlib

    module = importlib.import_module("nanokit.tiny.train")  # the package's copy, which the workers import too

    options = dict(arg.split("=", 1) for arg in argv)
    target = options.pop("out", None)
    module.train(module.TrainConfig(**{k: _parse(k, v) for k, v in options.items()}), target)


if __name__ == "__main__":
    main(sys.argv[1:])
