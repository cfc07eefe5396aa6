"""The embedded default model: a few-million-parameter NemotronH stand-in for Nemotron-3-Nano on CPU.

`build()` returns a checkpoint directory that vLLM serves as NemotronHForCausalLM under SERVED_NAME.
"""

from nanokit.tiny.checkpoint import SERVED_NAME, build, default_dir

__all__ = ["SERVED_NAME", "build", "default_dir"]
