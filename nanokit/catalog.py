"""Facts as data: the model's variants, the GPUs people run it on, and the GPUs of this machine.

Numbers come from the model's public documentation and from measurements recorded in nanokit/REFERENCE.md;
where a number is an approximation (published checkpoint sizes) the field name says so. Nothing here computes;
the planner and the doctor read these records. `local_gpus()` asks the NVIDIA driver (through NVML) which GPUs
this machine has and answers with the same records.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from nanokit.errors import ConfigError

__all__ = [
    "ARCHITECTURE",
    "GPU",
    "GPUS",
    "VARIANTS",
    "Architecture",
    "Variant",
    "custom_gpu",
    "get_gpu",
    "get_variant",
    "local_gpus",
]

GIB = 1024**3


@dataclass(frozen=True, kw_only=True)
class Architecture:
    """The shape of Nemotron-3-Nano-30B-A3B (the hub config's numbers; nanokit/REFERENCE.md, 'Model numbers')."""

    pattern: str  # M = Mamba-2, E = MoE, * = attention, - = dense MLP
    hidden_size: int
    vocab_size: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    mamba_num_heads: int
    mamba_head_dim: int
    ssm_state_size: int
    conv_kernel: int
    n_groups: int
    n_routed_experts: int
    num_experts_per_tok: int
    moe_intermediate_size: int
    shared_expert_intermediate_size: int
    max_position_embeddings: int
    max_context: int
    total_params_b: float
    active_params_b: float

    @property
    def num_layers(self) -> int:
        return len(self.pattern)

    def count(self, kind: str) -> int:
        """How many layers of one kind ("M", "E", "*", "-") the pattern holds."""
        return self.pattern.count(kind)


ARCHITECTURE = Architecture(
    pattern="MEMEM*EMEMEM*EMEMEM*EMEMEM*EMEMEM*EMEMEMEM*EMEMEMEME",
    hidden_size=2688,
    vocab_size=131072,
    num_attention_heads=32,
    num_key_value_heads=2,
    head_dim=128,
    mamba_num_heads=64,
    mamba_head_dim=64,
    ssm_state_size=128,
    conv_kernel=4,
    n_groups=8,
    n_routed_experts=128,
    num_experts_per_tok=6,
    moe_intermediate_size=1856,
    shared_expert_intermediate_size=3712,
    max_position_embeddings=262144,  # 256k: the config's limit
    max_context=1048576,  # 1M: the documented maximum, past the config's limit
    total_params_b=31.6,
    active_params_b=3.5,
)


@dataclass(frozen=True, kw_only=True)
class Variant:
    """One released checkpoint of the model."""

    key: str  # "bf16", "fp8", "nvfp4"
    label: str
    hub_id: str
    weight_dtype: str
    approx_weight_gib: float  # what engines report loading; see the note on each entry
    min_compute_capability: tuple[int, int]
    needs_blackwell: bool


VARIANTS: dict[str, Variant] = {
    "bf16": Variant(
        key="bf16",
        label="BF16",
        hub_id="nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16",
        weight_dtype="bfloat16",
        approx_weight_gib=58.92,  # vLLM 0.26.0 logged on H200 (nanokit/REFERENCE.md, 'H200 memory figures')
        min_compute_capability=(8, 0),
        needs_blackwell=False,
    ),
    "fp8": Variant(
        key="fp8",
        label="FP8",
        hub_id="nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-FP8",
        weight_dtype="fp8",
        approx_weight_gib=32e9 / GIB,  # "≈ 32 GB" from the model's documentation
        min_compute_capability=(8, 9),  # FP8 tensor cores: Ada and Hopper onwards
        needs_blackwell=False,
    ),
    "nvfp4": Variant(
        key="nvfp4",
        label="NVFP4",
        hub_id="nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-NVFP4",
        weight_dtype="nvfp4",
        approx_weight_gib=19e9 / GIB,  # "≈ 17–20 GB" from the model's documentation
        min_compute_capability=(10, 0),  # NVFP4 kernels need Blackwell
        needs_blackwell=True,
    ),
}


@dataclass(frozen=True, kw_only=True)
class GPU:
    """One GPU model: memory as the driver reports it, and its compute capability."""

    key: str
    name: str
    memory_gib: float
    compute_capability: tuple[int, int]
    unified_memory: bool = False
    note: str = ""

    @property
    def memory_bytes(self) -> int:
        return int(self.memory_gib * GIB)

    @property
    def is_blackwell(self) -> bool:
        return self.compute_capability[0] >= 10

    @property
    def supports_fp8(self) -> bool:
        return self.compute_capability >= (8, 9)

    @property
    def compute_capability_text(self) -> str:
        return f"{self.compute_capability[0]}.{self.compute_capability[1]}"


# memory_gib is what nvidia-smi reports (MiB / 1024), a little under the marketing figure.
GPUS: dict[str, GPU] = {
    gpu.key: gpu
    for gpu in (
        GPU(key="h100", name="H100 80GB", memory_gib=79.65, compute_capability=(9, 0)),
        GPU(key="h200", name="H200 141GB", memory_gib=140.4, compute_capability=(9, 0)),
        GPU(key="b200", name="B200 180GB", memory_gib=179.06, compute_capability=(10, 0)),
        GPU(key="gb200", name="GB200 (per GPU, 186GB)", memory_gib=184.0, compute_capability=(10, 0)),
        GPU(key="a100", name="A100 80GB", memory_gib=79.25, compute_capability=(8, 0)),
        GPU(key="l40s", name="L40S 48GB", memory_gib=44.99, compute_capability=(8, 9)),
        GPU(key="rtx-pro-6000", name="RTX PRO 6000 96GB", memory_gib=95.59, compute_capability=(12, 0)),
        GPU(
            key="dgx-spark",
            name="DGX Spark 128GB unified",
            memory_gib=119.7,
            compute_capability=(12, 1),
            unified_memory=True,
            note="NVFP4 kernels have failed on sm_121; the CPU shares this memory.",
        ),
    )
}


def custom_gpu(memory_gib: float, compute_capability: str | tuple[int, int], name: str | None = None) -> GPU:
    """A GPU the catalog does not list: N GiB of memory and compute capability "X.Y"."""
    if isinstance(compute_capability, str):
        try:
            major, minor = (int(part) for part in compute_capability.split("."))
        except ValueError:
            raise ConfigError(
                f"Compute capability {compute_capability!r} is not of the form MAJOR.MINOR; "
                "pass something like '9.0'."
            ) from None
        compute_capability = (major, minor)
    if memory_gib <= 0:
        raise ConfigError(f"GPU memory must be positive, not {memory_gib} GiB; pass the memory in GiB.")
    cc = f"{compute_capability[0]}.{compute_capability[1]}"
    return GPU(
        key=f"custom:{memory_gib:g}:{cc}",
        name=name or f"custom GPU ({memory_gib:g} GiB, sm {cc})",
        memory_gib=float(memory_gib),
        compute_capability=compute_capability,
    )


def get_gpu(name: str | GPU) -> GPU:
    """Look a GPU up by key ("h200") or name ("H200 141GB"), or parse "custom:GIB:CC" ("custom:96:9.0")."""
    if isinstance(name, GPU):
        return name
    text = name.strip().lower()
    if text.startswith("custom:"):
        parts = text.split(":")
        if len(parts) != 3:
            raise ConfigError(f"Custom GPU {name!r} must read custom:GIB:CC, for example custom:96:9.0.")
        try:
            memory = float(parts[1])
        except ValueError:
            raise ConfigError(f"Custom GPU memory {parts[1]!r} is not a number; write custom:96:9.0.") from None
        return custom_gpu(memory, parts[2])
    for gpu in GPUS.values():
        if text in (gpu.key, gpu.name.lower()):
            return gpu
    known = ", ".join(GPUS)
    raise ConfigError(f"Unknown GPU {name!r}; pick one of {known}, or write custom:GIB:CC.")


def get_variant(key: str | Variant) -> Variant:
    """Look a variant up by key ("bf16", "fp8", "nvfp4") or hub id."""
    if isinstance(key, Variant):
        return key
    text = key.strip().lower()
    for variant in VARIANTS.values():
        if text in (variant.key, variant.hub_id.lower()):
            return variant
    raise ConfigError(f"Unknown variant {key!r}; pick one of {', '.join(VARIANTS)}.")


def local_gpus(nvml: ModuleType | None = None) -> list[GPU]:
    """The NVIDIA GPUs this machine's driver reports, as GPU records named as the driver names them.

    The answer is [] when there is nothing to launch on: nvidia-ml-py not installed, no driver (NVML's library
    not found), no device, or any other NVML error. `nvml` replaces the pynvml module (tests).
    """
    if nvml is None:
        try:
            import pynvml as nvml
        except ImportError:
            return []
    try:
        nvml.nvmlInit()
    except nvml.NVMLError:
        return []
    try:
        gpus = []
        for index in range(nvml.nvmlDeviceGetCount()):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            name = nvml.nvmlDeviceGetName(handle)
            memory_gib = nvml.nvmlDeviceGetMemoryInfo(handle).total / GIB
            capability = tuple(nvml.nvmlDeviceGetCudaComputeCapability(handle))
            gpus.append(custom_gpu(round(memory_gib, 2), capability,
                                   name=name if isinstance(name, str) else name.decode()))  # older nvidia-ml-py: bytes
        return gpus
    except nvml.NVMLError:
        return []
    finally:
        nvml.nvmlShutdown()
