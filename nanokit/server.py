"""A vLLM OpenAI-compatible server started from the notebook kernel, or an endpoint attached to.

`VLLMServer` owns a child process: its argv is a `LaunchSpec` rendered for `python -m` (the CPU spec for the
embedded model, the generator's recipe otherwise: nanokit.server_model), so the command the generator shows is
the one that runs. It binds loopback and a free port by default, waits for `/health` while watching the child
(a dead child is reported at once with its exit code and last log lines), keeps logs in a bounded buffer plus
a file, and stops the whole process tree. `nanokit.process` supervises it: no process of the tree outlives the
kernel or the guard between them (even by SIGKILL), and stop() runs at interpreter exit.

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
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Self

import openai

from nanokit import host_memory
from nanokit.endpoint import Endpoint, attach
from nanokit.errors import (
    ConfigError,
    PortInUseError,
    ServerError,
    StartCancelled,
    argument,
)
from nanokit.launch import REASONING_PARSER, TOOL_PARSER, LaunchSpec
from nanokit.process import Child, free_port, is_loopback, port_is_free, spawn
from nanokit.server_model import local_model_path, spec_for_model
from nanokit.startup_timeline import StartupTimeline, timeline_from_lines

DEFAULT_REASONING_PARSER = REASONING_PARSER
DEFAULT_TOOL_CALL_PARSER = TOOL_PARSER

__all__ = ["Endpoint", "ServerState", "VLLMServer", "attach"]


class ServerState(str, enum.Enum):
    NEW = "new"
    STARTING = "starting"
    RUNNING = "running"
    STOPPED = "stopped"
    FAILED = "failed"


_START_LINES = 20_000  # start-up lines kept for the timeline; a start prints a few hundred

_live_servers: weakref.WeakSet[VLLMServer] = weakref.WeakSet()


@atexit.register
def _stop_all_servers() -> None:
    for server in list(_live_servers):
        with contextlib.suppress(Exception):
            server.stop()


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
        spec: LaunchSpec | None = None,
    ) -> None:
        if spec is not None:
            if model is not None:
                raise ConfigError("Pass either spec= or model=, not both: the spec names its model.")
            if spec.engine != "vllm":
                raise ConfigError(f"VLLMServer runs vLLM; this spec is for {spec.engine}.")
            host, port, api_key, served_model_name = spec.host, spec.port, spec.api_key, spec.served_name
        if not is_loopback(host) and not api_key:
            raise ConfigError(
                f"Binding {host} exposes the server beyond this machine; pass {argument('api_key', ...)} to require "
                f"a key, or keep the default {argument('host', '127.0.0.1')}."
            )
        if isinstance(extra_args, str):
            raise ConfigError("extra_args must be a list of arguments such as ['--max-num-seqs', '8'], not one string.")
        self.api_key = api_key
        self._endpoint: Endpoint | None = None
        if spec is None:
            spec = spec_for_model(None if model is None else str(model), host=host,
                                  served_model_name=served_model_name, reasoning_parser=reasoning_parser,
                                  tool_call_parser=tool_call_parser, max_model_len=max_model_len,
                                  extra_args=list(extra_args))
            self.model = None if model is None else str(model)
        else:
            self.model = spec.model_id
        self.spec = spec  # what gets run; its model and port are filled in at start()
        self.host = host
        self.requested_port = port
        self.port: int | None = port
        self.served_model_name = served_model_name
        self.reasoning_parser = spec.reasoning_parser
        self.tool_call_parser = TOOL_PARSER if spec.tools else None
        self.max_model_len = spec.context
        self.extra_args = list(spec.extra)
        # the spec's own variables (a TP spec's CPU binding, the MoE backend of older vLLM) under the caller's;
        # the API key goes in at spawn, from self.api_key
        self.env = {**{k: v for k, v in spec.env().items() if k != "VLLM_API_KEY"}, **dict(env or {})}
        self.python = python or sys.executable
        self.state = ServerState.NEW
        self.log_file = Path(log_file) if log_file else None
        self.logs: collections.deque[str] = collections.deque(maxlen=log_lines)
        self._start_lines: list[tuple[float, str]] = []  # (seconds since spawn, line) while starting
        self.started_at: float | None = None
        self.startup_seconds: float | None = None
        self._listeners: list[Callable[[str], None]] = []
        self._child: Child | None = None
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
        return local_model_path(self.model)

    def command(self, model_path: str | None = None) -> list[str]:
        """The argv that starts the server: `self.spec` rendered for `python -m` (LaunchSpec.argv(entry="module")).

        The API key travels in the environment, never in argv. Before start() the port may read <free port>.
        """
        path = model_path or self.model or "<embedded tiny model>"
        # vLLM names the model after --model; a hub id resolved to a local snapshot keeps its id as the name.
        served = self.served_model_name or (None if path == self.model else self.model_name)
        run = self.spec.with_(model=path, served_name=served, host=self.host, port=self.port)
        argv = run.argv(entry="module", python=self.python)
        if self.port is None:
            argv[argv.index("--port") + 1] = "<free port>"
        return argv

    # --- lifecycle -----------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The guard process's pid (also the process-group and session id of the server's tree)."""
        return self._child.pid if self._child else None

    def is_alive(self) -> bool:
        """True while the child process exists and has not exited."""
        child = self._child
        return child is not None and child.is_alive()

    def start(self, timeout: float = 600.0, on_status: Callable[[str], None] | None = None) -> VLLMServer:
        """Start the server and wait until /health answers; raises ServerError at once if the child dies.

        `on_status(message)` hears each step, the last one ("vLLM answers /health") just before the server
        counts as running; a stop() that lands meanwhile, from any thread, wins: start() raises StartCancelled.
        """
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
            if self.spec.device == "cpu" and (shortage := host_memory.room_for_embedded_server()):
                raise ServerError(shortage)  # a sentence now, instead of the OOM killer ending the kernel later
            status(f"Starting vLLM on {self.base_url}")
            with self._lock:  # stop() holds the lock too, so it cannot slip in between the check and the spawn
                self._raise_if_cancelled()
                self._spawn(argv)
            self._wait_healthy(timeout, status)
            status("vLLM answers /health")
            with self._lock:  # the same lock as stop(): a stop that came in meanwhile is honoured, not overwritten
                self._raise_if_cancelled()
                self.startup_seconds = time.monotonic() - self.started_at
                self.state = ServerState.RUNNING
        except BaseException:
            with self._lock:
                self._kill_tree()
                self.state = ServerState.STOPPED if self._cancel.is_set() else ServerState.FAILED
            raise
        status(f"Running on {self.base_url} (started in {self.startup_seconds:.0f} s)")
        return self

    def _pick_port(self) -> None:
        if self.requested_port is None:
            self.port = free_port(self.host)
        elif not port_is_free(self.host, self.requested_port):
            raise PortInUseError(
                f"Port {self.requested_port} is already in use by another process; pick another, or leave "
                f"{argument('port')} unset to take a free one."
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
        self._start_lines = []
        self.startup_seconds = None
        self.started_at = time.monotonic()
        # Under the guard (nanokit/process.py): the tree ends if this process dies without calling stop(),
        # SIGKILL included, and if the guard itself is killed.
        self._child = spawn(argv, name="vLLM", env=env, on_line=self._on_log_line, log_file=self.log_file)
        _live_servers.add(self)

    def _on_log_line(self, line: str) -> None:
        self.logs.append(line)
        if self.state is ServerState.STARTING and len(self._start_lines) < _START_LINES:
            self._start_lines.append((time.monotonic() - self.started_at, line))
        for listener in list(self._listeners):
            with contextlib.suppress(Exception):  # a broken view must not stop log capture
                listener(line)

    def _wait_healthy(self, timeout: float, status: Callable[[str], None]) -> None:
        def report(seconds: float) -> None:
            status(f"Starting vLLM on {self.base_url}: {seconds:.0f} s"
                   + (f" — {self.logs[-1][-120:]}" if self.logs else ""))

        try:
            ready = self._child.wait_ready(lambda: self.health(timeout=1.0), timeout,
                                           cancelled=self._cancel.is_set, on_wait=report)
        except StartCancelled:
            self._raise_if_cancelled()
            raise
        except ServerError as exc:
            if "address already in use" in exc.log_tail.lower():
                raise PortInUseError(
                    f"Port {self.port} is already in use by another process; pick another, or leave {argument('port')} "
                    "unset to take a free one.",
                    returncode=exc.returncode, log_tail=exc.log_tail,
                ) from exc
            raise
        if not ready:
            raise ServerError(
                f"vLLM did not become healthy within {timeout:.0f} s; it was stopped. "
                "Pass a larger timeout= or read the log at " + str(self.log_file),
                log_tail=self.log_tail(),
            )

    def _raise_if_cancelled(self) -> None:
        if self._cancel.is_set():
            raise StartCancelled("The server was stopped before it finished starting; call start() to try again.")

    def startup_timeline(self) -> StartupTimeline:
        """The last start split into phases (nanokit.startup_timeline), timed by when each log line arrived.

        During a start it holds the phases finished so far; once started, `total_s` is the time to /health.
        """
        return timeline_from_lines(list(self._start_lines), total_s=self.startup_seconds)

    def log_tail(self, lines: int = 25) -> str:
        return "\n".join(list(self.logs)[-lines:])

    def follow_logs(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """Call `callback(line)` for every new log line; returns a function that unsubscribes."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    def wait(self, timeout: float | None = None) -> None:
        """Block until the server's process tree is gone (or `timeout` s pass).

        Returns quietly after stop(); raises ServerError (exit code, last log lines) when it ended on its own.
        """
        child = self._child
        if child is None:
            return
        child.wait(timeout)
        if not child.is_alive() and not child.stop_requested:
            raise child.exit_error("while it was running")

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server and its whole process tree (terminate, wait, kill). Safe to call twice.

        Called from another thread while start() is waiting, it cancels the start: start() raises StartCancelled.
        """
        with self._lock:
            if self.state == ServerState.STARTING:
                self._cancel.set()
            if self._child is None:
                if self.state == ServerState.NEW:
                    return
                self.state = ServerState.STOPPED
                return
            self._kill_tree(timeout)
            self.state = ServerState.STOPPED

    def _kill_tree(self, timeout: float = 15.0) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        _live_servers.discard(self)
        child.stop(grace=timeout)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self.port else f"{self.host}:<free port>"
        key = "set" if self.api_key else "none"
        return f"<VLLMServer {self.state.value} {where} model={self.model_name!r} pid={self.pid} api_key={key}>"
