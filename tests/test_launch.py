"""Golden commands for representative specs of each engine."""

import shlex

import pytest
import yaml

from nanokit.errors import ConfigError
from nanokit.launch import (
    EMBEDDED_KV_CACHE_BYTES,
    LaunchSpec,
    cpu_thread_binding,
    parse_version,
    render_shell,
)

BF16 = "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16"
FP8 = "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-FP8"
NVFP4 = "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-NVFP4"


def test_vllm_bf16_h200_golden():
    spec = LaunchSpec(engine="vllm", gpu="h200", variant="bf16", context=32768, concurrency=64)
    assert spec.argv() == [
        "vllm", "serve", BF16, "--host", "127.0.0.1", "--port", "8000", "--max-model-len", "32768",
        "--trust-remote-code", "--async-scheduling", "--max-num-seqs", "64", "--mamba-ssm-cache-dtype", "float32",
        "--enable-auto-tool-choice", "--tool-call-parser", "qwen3_coder", "--reasoning-parser", "nemotron_v3",
    ]  # fmt: skip
    assert spec.env() == {}
    assert spec.files() == {}


def test_vllm_old_version_uses_the_nano_v3_plugin_and_fp8_env():
    spec = LaunchSpec(engine="vllm", variant="fp8", engine_version="0.11.2", tools=False)
    argv = spec.argv()
    assert argv[-4:] == ["--reasoning-parser-plugin", "nano_v3_reasoning_parser.py", "--reasoning-parser", "nano_v3"]
    assert "--tool-call-parser" not in argv and "--moe-backend" not in argv
    assert spec.env() == {"VLLM_USE_FLASHINFER_MOE_FP8": "1", "VLLM_FLASHINFER_MOE_BACKEND": "throughput"}


def test_vllm_nvfp4_old_env_and_new_flag():
    old = LaunchSpec(variant="nvfp4", gpu="b200", engine_version="0.12.0")
    assert old.env() == {"VLLM_USE_FLASHINFER_MOE_FP4": "1", "VLLM_FLASHINFER_MOE_BACKEND": "throughput"}
    new = LaunchSpec(variant="nvfp4", gpu="b200")
    assert new.env() == {} and "--moe-backend" in new.argv() and new.argv()[2] == NVFP4


def test_vllm_parallel_kv_fp8_long_context_and_key():
    spec = LaunchSpec(gpu="h100", gpus=4, dp=2, ep=True, kv_cache_dtype="fp8", context=524288,
                      host="0.0.0.0", api_key="s3cret", served_name="nano")  # fmt: skip
    argv = spec.argv()
    for flags in (["--tensor-parallel-size", "2"], ["--data-parallel-size", "2"], ["--kv-cache-dtype", "fp8"],
                  ["--served-model-name", "nano"], ["--max-model-len", "524288"]):  # fmt: skip
        i = argv.index(flags[0])
        assert argv[i : i + len(flags)] == flags
    assert "--enable-expert-parallel" in argv and "s3cret" not in argv
    assert spec.env() == {"VLLM_ALLOW_LONG_MAX_MODEL_LEN": "1", "VLLM_API_KEY": "s3cret"}


def test_sglang_golden():
    spec = LaunchSpec(engine="sglang", gpu="b200", variant="fp8", context=65536, concurrency=128, api_key="k")
    assert spec.argv() == [
        "python3", "-m", "sglang.launch_server", "--model-path", FP8, "--trust-remote-code",
        "--host", "127.0.0.1", "--port", "30000", "--tp", "1", "--context-length", "65536",
        "--max-running-requests", "128", "--mamba-ssm-dtype", "float32", "--attention-backend", "flashinfer",
        "--tool-call-parser", "qwen3_coder", "--reasoning-parser", "nemotron_3", "--api-key", "k",
    ]  # fmt: skip
    assert LaunchSpec(engine="sglang", engine_version="0.5.6").reasoning_parser == "nano_v3"


def test_trtllm_golden_and_yaml():
    spec = LaunchSpec(engine="trtllm", gpu="h200", gpus=2, context=131072, concurrency=256, kv_cache_dtype="fp8")
    assert spec.argv() == [
        "trtllm-serve", BF16, "--backend", "_autodeploy", "--trust_remote_code", "--host", "127.0.0.1",
        "--port", "8000", "--tp_size", "2", "--config", "nano_v3.yaml", "--reasoning_parser", "nano-v3",
        "--tool_parser", "qwen3_coder",
    ]  # fmt: skip
    assert spec.env() == {"TRTLLM_ENABLE_PDL": "1"}
    config = yaml.safe_load(spec.files()["nano_v3.yaml"])
    assert config["runtime"] == "trtllm" and config["compile_backend"] == "torch-cudagraph"
    assert config["max_batch_size"] == 256 and config["max_seq_len"] == 131072
    assert config["attn_backend"] == "flashinfer" and config["enable_chunked_prefill"] is True
    assert config["cuda_graph_batch_sizes"][-1] == 256
    kv = config["kv_cache_config"]
    assert kv["enable_block_reuse"] is False and kv["mamba_ssm_cache_dtype"] == "float32" and kv["dtype"] == "fp8"
    assert {"detect_sharding", "multi_stream_moe", "gather_logits_before_lm_head", "fuse_mamba_a_log"} <= set(
        config["transforms"]
    )


def test_shell_round_trips_through_shlex():
    spec = LaunchSpec(api_key="it's secret", served_name="my model", context=300000)
    line = spec.shell()
    words = shlex.split(line)
    assert words[:2] == ["VLLM_ALLOW_LONG_MAX_MODEL_LEN=1", "VLLM_API_KEY=it's secret"]
    assert words[2:] == spec.argv()
    multi = spec.shell(multiline=True)
    assert " \\\n  --port 8000" in multi
    assert shlex.split(multi.replace("\\\n", " ")) == words


def test_render_shell_keeps_program_words_together():
    text = render_shell(["python3", "-m", "sglang.launch_server", "--tp", "1"], multiline=True)
    assert text == "python3 -m sglang.launch_server \\\n  --tp 1"


def test_engine_args_and_vllm_server_kwargs():
    spec = LaunchSpec(gpus=2, kv_cache_dtype="fp8", context=8192, api_key="k", extra=("--seed", "1"))
    args = spec.engine_args()
    assert "--model" not in args and "--host" not in args and "--port" not in args
    assert args[:4] == ["--trust-remote-code", "--async-scheduling", "--max-num-seqs", "64"]
    assert args[-2:] == ["--seed", "1"]
    kwargs = spec.vllm_server_kwargs()
    assert kwargs == {"spec": spec, "env": None}  # the key reaches VLLMServer through the spec, never argv
    with pytest.raises(ConfigError):
        LaunchSpec(engine="sglang").engine_args()


def test_the_module_entry_gets_the_same_words_as_vllm_serve():
    spec = LaunchSpec(variant="fp8", context=4096, served_name="nano", extra=("--seed", "1"))
    served, module = spec.argv(), spec.argv(entry="module", python="/venv/bin/python")
    assert served[:3] == ["vllm", "serve", FP8]
    assert module[:5] == ["/venv/bin/python", "-m", "vllm.entrypoints.openai.api_server", "--model", FP8]
    assert module[5:] == served[3:]
    with pytest.raises(ConfigError, match="entry"):
        spec.argv(entry="docker")


def test_vllm_server_runs_the_command_a_gpu_spec_renders():
    from nanokit.server import VLLMServer

    spec = LaunchSpec(gpu="h100", gpus=2, kv_cache_dtype="fp8", context=8192, concurrency=32, port=8123,
                      engine_version="0.11.2", api_key="k")
    server = VLLMServer(**spec.vllm_server_kwargs())
    assert server.command(spec.model_id) == spec.argv(entry="module", python=server.python)
    assert server.api_key == "k" and "k" not in server.command(spec.model_id)
    # a hub id resolved to a local snapshot keeps serving under its id
    local = server.command("/hub/snapshots/abc")
    assert local[local.index("--served-model-name") + 1] == spec.model_id


def test_vllm_server_runs_the_cpu_spec_for_the_embedded_model():
    from nanokit.server import VLLMServer
    from nanokit.tiny import SERVED_NAME

    server = VLLMServer(port=8123)
    spec = LaunchSpec.embedded("/cache/tiny", served_name=SERVED_NAME, port=8123)
    argv = server.command("/cache/tiny")
    assert argv == spec.argv(entry="module", python=server.python)
    assert argv[argv.index("--kv-cache-memory-bytes") + 1] == str(EMBEDDED_KV_CACHE_BYTES)
    assert "--no-enable-prefix-caching" in argv
    for gpu_only in ("--async-scheduling", "--trust-remote-code", "--mamba-ssm-cache-dtype", "--max-model-len"):
        assert gpu_only not in argv
    assert argv[argv.index("--reasoning-parser") + 1] == "nemotron_v3"
    assert spec.shell().startswith("vllm serve /cache/tiny --served-model-name tiny-nemotron-h")


@pytest.mark.parametrize(("ranks", "cpus", "binding"), [
    (2, [0, 1], "0|1"), (2, list(range(8)), "0-3|4-7"), (2, [0, 2, 4, 6], "0,2|4,6"),
    (3, list(range(7)), "0-1|2-3|4-5"), (4, [0, 1], "0|1|0|1"), (1, [0, 1], "0-1")])
def test_cpu_workers_get_a_share_of_the_cores_each(ranks, cpus, binding):
    assert cpu_thread_binding(ranks, cpus) == binding


def test_the_cpu_spec_takes_the_parallel_flags_and_binds_tp_workers():
    tp = LaunchSpec.embedded("/m", gpus=2)
    assert tp.argv()[tp.argv().index("--tensor-parallel-size") + 1] == "2"
    assert tp.env()["VLLM_CPU_OMP_THREADS_BIND"].count("|") == 1  # two workers
    dp_ep = LaunchSpec.embedded("/m", dp=2, ep=True)
    assert {"--data-parallel-size", "--enable-expert-parallel"} <= set(dp_ep.argv())
    assert "--tensor-parallel-size" not in dp_ep.argv()
    assert "VLLM_CPU_OMP_THREADS_BIND" not in dp_ep.env()  # one worker per engine: vllm-cpu's own binding works
    assert "VLLM_CPU_OMP_THREADS_BIND" not in LaunchSpec.embedded("/m").env()


def test_vllm_server_runs_with_the_specs_environment_under_the_callers():
    from nanokit.server import VLLMServer

    spec = LaunchSpec.embedded("/m", gpus=2, api_key="secret-key")
    server = VLLMServer(spec=spec, env={"EXTRA": "1"})
    assert server.env["VLLM_CPU_OMP_THREADS_BIND"] == spec.env()["VLLM_CPU_OMP_THREADS_BIND"]
    assert server.env["EXTRA"] == "1" and "VLLM_API_KEY" not in server.env
    assert VLLMServer(spec=spec, env={"VLLM_CPU_OMP_THREADS_BIND": "0"}).env["VLLM_CPU_OMP_THREADS_BIND"] == "0"


def test_the_cpu_spec_is_for_vllm_and_only_it_may_leave_context_out():
    with pytest.raises(ConfigError, match="CPU spec"):
        LaunchSpec(context=None)
    with pytest.raises(ConfigError, match="vLLM"):
        LaunchSpec(engine="sglang", device="cpu")
    with pytest.raises(ConfigError, match="device"):
        LaunchSpec(device="tpu")


def test_vllm_server_accepts_the_kwargs():
    from nanokit.server import VLLMServer

    server = VLLMServer(**LaunchSpec(context=4096, concurrency=8).vllm_server_kwargs())
    argv = server.command("/models/nano")
    assert argv[1:3] == ["-m", "vllm.entrypoints.openai.api_server"]
    assert "--max-num-seqs" in argv and "--reasoning-parser" in argv


@pytest.mark.parametrize(
    ("changes", "match"),
    [({"engine": "ollama"}, "engine"), ({"pp": 0}, "at least 1"), ({"kv_cache_dtype": "int4"}, "KV-cache"),
     ({"variant": "int8"}, "variant"), ({"engine_version": "banana"}, "version"), ({"context": 0}, "context must be at least 1"),
     ({"concurrency": 0}, "^concurrency must be at least 1")],
)  # fmt: skip
def test_bad_specs_raise_sentences(changes, match):
    with pytest.raises(ConfigError, match=match):
        LaunchSpec(**changes)


def test_parse_version():
    assert parse_version("v0.11.2rc1") == (0, 11, 2)
    assert parse_version(None) is None and parse_version("latest") is None


def test_sglang_uses_flashinfer_on_hopper_and_blackwell_only():
    assert "--attention-backend" in LaunchSpec(engine="sglang", gpu="h200").argv()
    assert "--attention-backend" not in LaunchSpec(engine="sglang", gpu="a100", context=8192).argv()


def test_batching_fields_render_each_engines_flag():
    spec = LaunchSpec(concurrency=768, max_num_batched_tokens=16384, max_cudagraph_capture_size=768, goal="throughput")
    argv = spec.argv()
    assert argv[argv.index("--max-num-batched-tokens") + 1] == "16384"
    assert argv[argv.index("--max-cudagraph-capture-size") + 1] == "768"
    assert spec.goal.name == "throughput" and "throughput" not in argv  # the goal renders no flag
    sglang = spec.with_(engine="sglang").argv()
    assert sglang[sglang.index("--chunked-prefill-size") + 1] == "16384"
    assert sglang[sglang.index("--cuda-graph-max-bs") + 1] == "768"
    config = yaml.safe_load(spec.with_(engine="trtllm", max_cudagraph_capture_size=1024).trtllm_yaml())
    assert config["max_num_tokens"] == 16384 and config["cuda_graph_batch_sizes"][-2:] == [512, 1024]
    plain = LaunchSpec().argv()
    assert "--max-num-batched-tokens" not in plain and "--max-cudagraph-capture-size" not in plain
    assert "max_num_tokens" not in yaml.safe_load(LaunchSpec(engine="trtllm").trtllm_yaml())
    cpu = LaunchSpec.embedded("/m", max_num_batched_tokens=1024, max_cudagraph_capture_size=8).argv()
    assert "--max-num-batched-tokens" in cpu and "--max-cudagraph-capture-size" not in cpu  # no graphs on CPU
    with pytest.raises(ConfigError, match="at least 1|positive"):
        LaunchSpec(max_num_batched_tokens=0)
    with pytest.raises(ConfigError, match="Unknown goal"):
        LaunchSpec(goal="fast")


@pytest.mark.integration  # imports the real vLLM (about 25 s here), like the tests that start it
def test_vllm_own_parser_accepts_the_batching_flags():
    """The installed vLLM (vllm-cpu 0.32 here) parses the flags the planner adds, with the values given."""
    from vllm.entrypoints.launchers.cli_args import make_arg_parser
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    spec = LaunchSpec(concurrency=768, max_num_batched_tokens=16384, max_cudagraph_capture_size=768)
    argv = spec.argv(entry="module")
    args = make_arg_parser(FlexibleArgumentParser()).parse_args(argv[3:])
    assert (args.max_num_seqs, args.max_num_batched_tokens, args.max_cudagraph_capture_size) == (768, 16384, 768)
