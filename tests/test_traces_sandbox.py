"""The code verifier's sandbox, tested by trying to break out of it with real processes."""

from __future__ import annotations

import os
import sys
import time

import pytest

from nanokit.traces import (
    REFERENCE_SOLUTIONS,
    Limits,
    check_code,
    isolation_report,
    run_python,
    triton_path,
    triton_problems,
)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox's layers are Linux's")

SECRET = "nanokit-test-secret-5150"


@pytest.fixture
def secret(monkeypatch):
    monkeypatch.setenv("NANOKIT_TEST_SECRET", SECRET)
    return SECRET


def test_the_layers_apply_or_say_why_not():
    """All four apply on the build machine (root, Linux 6.18); where user namespaces are restricted (Ubuntu
    24.04's AppArmor default for non-root) netns is missing and the report says why."""
    report = isolation_report()
    assert {"env", "rlimits", "landlock"} <= set(report.applied), report.describe()
    assert "netns" in report.applied or any(m.startswith("netns:") for m in report.missing), report.describe()


def test_the_candidate_cannot_read_the_parents_secrets(secret):
    probe = (
        "import os\n"
        "print('env:', os.environ.get('NANOKIT_TEST_SECRET'))\n"
        "try:\n"
        "    print('proc:', open(f'/proc/{os.getppid()}/environ', 'rb').read())\n"
        "except OSError as e:\n"
        "    print('proc blocked', type(e).__name__)\n"
        f"print('parent:', open('/proc/{os.getpid()}/environ', 'rb').read() if os.path.exists('/proc') else '')\n"
    )
    result = run_python({"probe.py": probe}, "probe.py")
    assert secret not in result.stdout + result.stderr
    assert "env: None" in result.stdout and "proc blocked" in result.stdout
    # the last line tried the test process's own pid directly: refused, so the job ends with an error
    assert result.returncode != 0 and "PermissionError" in result.stderr


def test_the_candidate_cannot_write_outside_its_directory(tmp_path):
    targets = [tmp_path / "escape.txt", "/tmp/nanokit-escape.txt", os.path.expanduser("~/nanokit-escape.txt")]
    probe = "import sys\n" + "".join(
        f"try:\n    open({str(t)!r}, 'w').write('x'); print('WROTE', {str(t)!r})\n"
        "except OSError as e:\n    print('blocked', type(e).__name__)\n" for t in targets
    ) + "open('inside.txt', 'w').write('ok'); print('inside', open('inside.txt').read())\n"
    result = run_python({"probe.py": probe}, "probe.py")
    assert "WROTE" not in result.stdout
    assert result.stdout.count("blocked PermissionError") == len(targets)
    assert "inside ok" in result.stdout
    assert not any(os.path.exists(t) for t in targets)


def test_the_network_is_cut():
    probe = ("import socket\ntry:\n    socket.create_connection(('1.1.1.1', 53), timeout=2); print('CONNECTED')\n"
             "except OSError as e:\n    print('refused', e.errno)\n"
             "import subprocess\nprint(open('/proc/net/dev').read().count(':'))\n")
    result = run_python({"probe.py": probe}, "probe.py")
    assert "CONNECTED" not in result.stdout and "refused" in result.stdout  # Landlock ABI >= 4 refuses TCP too
    if "netns" in result.isolation:  # a new network namespace has one interface, lo
        assert result.stdout.strip().splitlines()[-1] == "1"


def test_a_busy_loop_is_killed_at_the_time_limit():
    started = time.perf_counter()
    result = run_python({"spin.py": "while True:\n    pass\n"}, "spin.py", limits=Limits(time_s=2))
    assert result.timed_out and not result.ok
    assert 1.9 < time.perf_counter() - started < 10
    sleeper = run_python({"nap.py": "import time\ntime.sleep(60)\n"}, "nap.py", limits=Limits(time_s=1))
    assert sleeper.timed_out and sleeper.duration_s < 5


def test_a_memory_bomb_is_stopped():
    bomb = "chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 2**20))\n"
    result = run_python({"bomb.py": bomb}, "bomb.py", limits=Limits(time_s=20, memory_mb=512))
    assert not result.ok and not result.timed_out
    assert result.memory_exhausted, result.stderr[-400:]


def test_code_check_compares_with_the_reference_on_generated_inputs():
    reference = ("def reference(xs):\n    return sorted(xs)\n\n"
                 "import random\ndef make_inputs(count, seed):\n"
                 "    r = random.Random(seed)\n    return [([r.randint(0, 99) for _ in range(8)],) for _ in range(count)]\n")
    spec = {"kind": "code", "entry": "sort_list", "reference": reference, "cases": 4}
    good = "Here:\n```python\ndef sort_list(xs):\n    return sorted(xs)\n```"
    wrong = "```python\ndef sort_list(xs):\n    return xs\n```"
    crashes = "```python\ndef sort_list(xs):\n    raise ValueError('no')\n```"
    assert check_code(good, spec).passed
    verdict = check_code(wrong, spec)
    assert not verdict.passed and "case 0" in verdict.detail
    assert "ValueError" in check_code(crashes, spec).detail
    assert "defines no function" in check_code("```python\nx = 1\n```", spec).detail


@pytest.mark.skipif(triton_path() is None, reason="Triton is not installed (pip install triton, or NANOKIT_TRITON_PATH)")
def test_triton_problems_accept_a_correct_kernel_and_reject_a_wrong_one():
    problems = {p.id: p for p in triton_problems(cases=2)}
    spec = problems["triton/vector_add"].verifier
    good = f"```python\n{REFERENCE_SOLUTIONS['vector_add']}```"
    assert check_code(good, spec).passed
    assert not check_code(good.replace("+ tl.load(y", "- tl.load(y"), spec).passed
    softmax = problems["triton/row_softmax"].verifier
    assert check_code(REFERENCE_SOLUTIONS["row_softmax"], softmax).passed
