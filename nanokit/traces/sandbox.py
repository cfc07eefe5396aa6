"""Run model-written Python in a separate, confined process; never in the caller's interpreter.

`run_python(files, main)` writes `files` into a fresh temporary directory and runs `main` there with the
project's interpreter, through a small launcher (`_launcher.py`) that confines itself and then `exec`s the
job, so nothing runs between fork and exec in a parent that may have threads (a `preexec_fn` would). The
layers, each applied where the OS allows it; `SandboxResult.isolation` names those that were:

- `env`: a fresh environment (PATH, HOME and TMPDIR pointing into the directory, LANG, and only the
  variables the caller passes): nothing of the caller's environment (API keys, HF_TOKEN) is inherited.
  Python runs with `-I` (no PYTHON* variables, no user site, no current directory on sys.path).
- `rlimits`: CPU seconds, address space (memory), size of any file written, open files, no core dumps
  (`resource.setrlimit`, POSIX). A wall-clock timeout kills the whole process group in any case.
- `netns`: a new, empty network namespace (`unshare(CLONE_NEWNET)`; as a non-root user with
  `CLONE_NEWUSER` too, where unprivileged user namespaces are enabled): no interface but a down loopback.
- `landlock`: Linux Landlock (kernel >= 5.13; ABI 4 adds TCP, ABI 6 signal scoping): reads only where
  Python and its libraries live plus the job's own /proc entry, writes only inside the directory, no TCP
  bind/connect (ABI >= 4), no signals to processes outside the sandbox (ABI >= 6). This is what stops
  writing outside the directory and reading the parent's `/proc/PID/environ`, even for root.

Where a layer is missing (macOS, an old kernel, user namespaces off) the job still runs and the result
says which layers were not applied; `require=("landlock", "netns")` refuses to run without them instead.
Measured on the build machine (2026-12-01, Linux 6.18, root, Landlock ABI 7): every layer applies.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from nanokit.errors import ConfigError

LAUNCHER = Path(__file__).with_name("_launcher.py")
ALL_LAYERS = ("env", "rlimits", "netns", "landlock")


@dataclass(frozen=True)
class Limits:
    """What one job may use. Memory is address space, which Python's allocator counts in full."""

    time_s: float = 10.0
    memory_mb: int = 1536  # `import torch` fits in 1 GiB of address space (measured 2026-12-01)
    file_mb: int = 16
    open_files: int = 256
    output_kb: int = 512  # of stdout and of stderr kept; the rest is dropped


@dataclass(frozen=True)
class SandboxResult:
    returncode: int | None
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool = False
    isolation: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()  # layers asked for and not applied, with why
    memory_exhausted: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def describe(self) -> str:
        if self.timed_out:
            return f"killed at the time limit after {self.duration_s:.1f} s"
        if self.memory_exhausted:
            return "stopped at the memory limit (MemoryError)"
        if self.returncode and self.returncode < 0:
            return f"killed by signal {signal.Signals(-self.returncode).name}"
        if self.returncode:
            tail = self.stderr.strip().splitlines()[-1:] or ["no error output"]
            return f"exited with code {self.returncode}: {tail[0][:300]}"
        return "exited normally"


def _python_paths(extra: Iterable[str]) -> list[str]:
    """Directories the interpreter and its libraries are read from (resolved: Landlock sees real paths)."""
    names = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    for key in ("stdlib", "platstdlib", "purelib", "platlib", "include"):
        names.add(sysconfig.get_paths().get(key, ""))
    names.update(p for p in sys.path if p and os.path.isdir(p) and "site-packages" in p)
    names.update(extra)
    return sorted({os.path.realpath(n) for n in names if n and os.path.exists(n)})


# System locations the dynamic loader and Python's start-up read; /etc is named file by file so
# /etc/shadow and the like stay out of reach.
SYSTEM_READ = ("/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc/ld.so.cache", "/etc/localtime",
               "/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/dev/urandom", "/dev/random",
               "/sys/devices/system/cpu", "/proc/cpuinfo", "/proc/meminfo")


def clean_env(workdir: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The job's whole environment: nothing from the caller's but what `extra` names."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": workdir, "TMPDIR": workdir, "LANG": "C.UTF-8",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    env.update(extra or {})
    return env


def _read_capped(path: Path, limit: int) -> str:
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    text = data[:limit].decode("utf-8", "replace")
    return text + ("\n[output cut]" if len(data) > limit else "")


def run_python(files: Mapping[str, str], main: str, *, args: Iterable[str] = (), limits: Limits = Limits(),
               env: Mapping[str, str] | None = None, read_paths: Iterable[str] = (),
               layers: Iterable[str] = ALL_LAYERS, require: Iterable[str] = ()) -> SandboxResult:
    """Run `main` (one of `files`, written into a fresh temporary directory) in a confined Python process.

    `read_paths` adds directories the job may read (a Triton install outside the venv, say); `env` adds
    variables (TRITON_INTERPRET=1). Never raises for what the job does; a ConfigError when a layer in
    `require` cannot be applied.
    """
    if main not in files:
        raise ConfigError(f"run_python's main {main!r} must be one of the files passed to it.")
    wanted = [layer for layer in layers if layer in ALL_LAYERS and layer != "env"]
    with tempfile.TemporaryDirectory(prefix="nanokit-job-") as outside, \
            tempfile.TemporaryDirectory(prefix="nanokit-sandbox-") as workdir:
        for name, text in files.items():
            target = Path(workdir, name)
            if target.resolve().parent != Path(workdir).resolve():
                raise ConfigError(f"Sandbox file names must be plain names, not {name!r}.")
            target.write_text(text)
        plan = {"workdir": os.path.realpath(workdir), "layers": wanted,
                "read": _python_paths(read_paths) + [p for p in SYSTEM_READ if os.path.exists(p)],
                "time_s": limits.time_s, "memory_mb": limits.memory_mb, "file_mb": limits.file_mb,
                "open_files": limits.open_files,
                "argv": [sys.executable, "-I", "-B", main, *args]}
        out_path, err_path = Path(outside, "stdout"), Path(outside, "stderr")
        status_read, status_write = os.pipe()
        start = time.perf_counter()
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            process = subprocess.Popen(
                [sys.executable, "-I", "-B", str(LAUNCHER), json.dumps(plan), str(status_write)],
                cwd=workdir, env=clean_env(os.path.realpath(workdir), env), stdin=subprocess.DEVNULL,
                stdout=out, stderr=err, pass_fds=(status_write,), start_new_session=True)
            os.close(status_write)
            timed_out = False
            try:
                process.wait(timeout=limits.time_s)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:  # the job's whole process group goes, whatever it left running
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()
        with os.fdopen(status_read) as status_pipe:
            status = json.loads(status_pipe.read() or '{"applied": [], "missing": {}}')
        duration = time.perf_counter() - start
        stderr = _read_capped(err_path, limits.output_kb * 1024)
        applied = ("env", *status["applied"])
        missing = tuple(f"{name}: {why}" for name, why in status["missing"].items())
        refused = [name for name in require if name not in applied]
        if refused:
            raise ConfigError(f"The sandbox could not apply {', '.join(refused)} on this machine "
                              f"({'; '.join(missing) or 'not attempted'}); run where they are available "
                              "or drop them from require=.")
        return SandboxResult(process.returncode, _read_capped(out_path, limits.output_kb * 1024), stderr,
                             duration, timed_out=timed_out, isolation=applied, missing=missing,
                             memory_exhausted="MemoryError" in stderr)


@dataclass(frozen=True)
class IsolationReport:
    applied: tuple[str, ...]
    missing: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        text = f"sandbox layers applied: {', '.join(self.applied)}"
        return text + (f"; not applied: {'; '.join(self.missing)}" if self.missing else "")


def isolation_report() -> IsolationReport:
    """Which layers this machine applies (one trivial job)."""
    result = run_python({"probe.py": "print('ok')\n"}, "probe.py", limits=Limits(time_s=30))
    return IsolationReport(result.isolation, result.missing)
