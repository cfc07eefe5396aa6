"""VLLMServer and attach(): what can be checked without starting vLLM (argv, safety, fast failures)."""

from __future__ import annotations

import json
import socket
import time

import pytest

from nanokit import (
    ConfigError,
    ModelNotFoundError,
    PortInUseError,
    ServerError,
    ServerState,
    VLLMServer,
)


def test_argv_is_a_list_with_loopback_and_parsers():
    server = VLLMServer("/models/x", port=8123, extra_args=["--max-num-seqs", "4"])
    argv = server.command("/models/x")
    assert argv[1:3] == ["-m", "vllm.entrypoints.openai.api_server"]
    assert argv[argv.index("--host") + 1] == "127.0.0.1"
    assert argv[argv.index("--port") + 1] == "8123"
    assert argv[argv.index("--reasoning-parser") + 1] == "nemotron_v3"
    assert argv[argv.index("--tool-call-parser") + 1] == "qwen3_coder"
    assert "--enable-auto-tool-choice" in argv
    assert argv[-2:] == ["--max-num-seqs", "4"]


def test_parsers_can_be_turned_off():
    argv = VLLMServer("/m", reasoning_parser=None, tool_call_parser=None).command("/m")
    assert "--reasoning-parser" not in argv and "--tool-call-parser" not in argv
    assert "--enable-auto-tool-choice" not in argv


def test_embedded_default_turns_prefix_caching_off():
    assert "--no-enable-prefix-caching" in VLLMServer().command("/cache/tiny")


def test_any_tiny_checkpoint_gets_the_embedded_flags_and_other_models_do_not(tmp_path):
    tiny, other = tmp_path / "tiny", tmp_path / "other"
    for folder, config in ((tiny, {"model_type": "nemotron_h", "nanokit": {"fingerprint": "f"}}),
                           (other, {"model_type": "nemotron_h"})):
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps(config))
    argv = VLLMServer(str(tiny)).command(str(tiny))
    assert "--no-enable-prefix-caching" in argv and "--kv-cache-memory-bytes" in argv
    argv = VLLMServer(str(other)).command(str(other))
    assert "--no-enable-prefix-caching" not in argv and "--kv-cache-memory-bytes" not in argv


def test_api_key_never_in_argv_or_repr():
    server = VLLMServer("/m", api_key="sk-secret-123")
    assert "sk-secret-123" not in " ".join(server.command("/m"))
    assert "sk-secret-123" not in repr(server)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::"])
def test_wide_bind_without_key_is_refused(host):
    with pytest.raises(ConfigError, match="api_key"):
        VLLMServer("/m", host=host)


def test_wide_bind_with_key_is_allowed():
    server = VLLMServer("/m", host="0.0.0.0", api_key="k")
    assert server.host == "0.0.0.0"


def test_extra_args_as_one_string_is_refused():
    with pytest.raises(ConfigError, match="list"):
        VLLMServer("/m", extra_args="--max-num-seqs 4")


def test_missing_model_path_fails_fast_without_a_process(tmp_path):
    server = VLLMServer(tmp_path / "nope")
    started = time.monotonic()
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        server.start()
    assert time.monotonic() - started < 2
    assert server.state is ServerState.FAILED and server.pid is None


def test_directory_without_config_is_reported(tmp_path):
    with pytest.raises(ModelNotFoundError, match="config.json"):
        VLLMServer(tmp_path).start()


def test_port_in_use_is_reported_before_spawning(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = VLLMServer(tmp_path, port=port)
        with pytest.raises(PortInUseError, match=f"Port {port} is already in use.*leave port unset"):
            server.start()
    assert server.pid is None


def test_stop_is_idempotent_and_safe_before_start():
    server = VLLMServer("/m")
    server.stop()
    server.stop()
    assert server.state is ServerState.NEW


def test_stop_during_start_cancels_it_and_leaves_no_process(never_healthy_vllm):
    import threading

    import psutil

    from nanokit import StartCancelled

    model, env = never_healthy_vllm
    server = VLLMServer(model, env=env)
    outcome: list[BaseException] = []

    def start():
        try:
            server.start(timeout=60)
        except BaseException as exc:  # noqa: BLE001 - the test asserts which one the thread saw
            outcome.append(exc)

    starter = threading.Thread(target=start)
    starter.start()
    deadline = time.monotonic() + 20
    while "loading weights" not in server.log_tail() and time.monotonic() < deadline:
        time.sleep(0.05)
    pid = server.pid
    assert pid is not None and server.state is ServerState.STARTING
    server.stop()
    starter.join(timeout=10)
    assert not starter.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], StartCancelled), outcome
    assert "call start() to try again" in str(outcome[0])
    assert server.state is ServerState.STOPPED and server.pid is None
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_a_stop_landing_between_the_health_wait_and_running_wins(fake_vllm):
    import threading

    import psutil

    from nanokit import StartCancelled

    model, env = fake_vllm()
    server = VLLMServer(model, env=env)
    seen: dict[str, object] = {}

    def on_status(message: str) -> None:
        if message == "vLLM answers /health":  # the window between the health wait and the state change
            seen["tree"] = [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True)]
            stopper = threading.Thread(target=server.stop)  # a stop button pressed in another thread
            stopper.start()
            stopper.join(timeout=20)
            seen["state after stop"] = server.state

    with pytest.raises(StartCancelled, match="call start\\(\\) to try again"):
        server.start(timeout=60, on_status=on_status)
    assert seen["state after stop"] is ServerState.STOPPED
    assert server.state is ServerState.STOPPED and server.pid is None and not server.is_alive()
    _gone, alive = psutil.wait_procs(seen["tree"], timeout=10)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]


def test_a_server_that_dies_while_running_is_reported_by_wait_and_leaves_nothing(fake_vllm):
    import psutil

    model, env = fake_vllm()
    server = VLLMServer(model, env=env).start(timeout=60)
    try:
        guard = psutil.Process(server.pid)
        api_server = guard.children()[0]
        tree = [guard, *guard.children(recursive=True)]
        assert len(tree) == 3, "guard, API server, engine core"
        api_server.kill()
        with pytest.raises(ServerError, match=r"^vLLM exited with code -9 \(SIGKILL\) while it was running"):
            server.wait(timeout=20)
        _gone, alive = psutil.wait_procs(tree, timeout=10)
        assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE], "the engine core outlived its API server"
    finally:
        server.stop()
    server.wait()  # after stop(): quiet


def test_spec_and_model_together_and_unknown_parsers_are_refused():
    from nanokit import LaunchSpec

    with pytest.raises(ConfigError, match="either spec= or model="):
        VLLMServer("/m", spec=LaunchSpec())
    with pytest.raises(ConfigError, match="extra_args"):
        VLLMServer("/m", reasoning_parser="deepseek_r1")
