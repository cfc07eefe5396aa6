"""The package's import graph: the checker on a made-up package, then the rules on nanokit itself."""

from __future__ import annotations

from pathlib import Path

from nanokit.lab.import_graph import build_graph, cycles, layer, main, upward_imports

ROOT = Path(__file__).resolve().parents[1]


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_edges_count_lazy_and_relative_imports_and_resolve_names_to_modules(tmp_path):
    root = write(tmp_path, {
        "nanokit/__init__.py": "from nanokit.chat import chat\n",
        "nanokit/chat.py": "def chat():\n    from nanokit import tools\n",
        "nanokit/tools.py": "from .chat import chat\nimport json\n",
        "nanokit/bench/__init__.py": "from nanokit.bench.runner import run\n",
        "nanokit/bench/runner.py": "from . import feed\nfrom ..errors import Oops\n",
        "nanokit/bench/feed.py": "",
        "nanokit/errors.py": "",
        "widgets/__init__.py": "",
    })
    graph = build_graph(root)
    assert graph["nanokit"] == {"nanokit.chat"}
    assert graph["nanokit.chat"] == {"nanokit.tools"}  # inside a function still counts
    assert graph["nanokit.tools"] == {"nanokit.chat"}
    assert graph["nanokit.bench"] == {"nanokit.bench.runner"}
    assert graph["nanokit.bench.runner"] == {"nanokit.bench.feed", "nanokit.errors"}
    assert cycles(graph) == [["nanokit.chat", "nanokit.tools"]]


def test_layers_and_upward_imports(tmp_path):
    assert [layer(m) for m in ("nanokit.bench.runner", "nanokit.plots", "nanokit.lab.gpu_check", "nanokit.cli.bench",
                               "nanokit.server", "nanokit", "widgets.app")] == [
        "bench", "plots", "lab", "cli", "library", "library", "widgets"]
    graph = {"nanokit.bench.overhead": {"nanokit.plots", "nanokit.bench.feed"}, "nanokit.bench.feed": set(),
             "nanokit.plots": {"nanokit.bench.feed"}, "nanokit.server": {"nanokit.cli.serve"},
             "nanokit.cli.serve": {"nanokit.server"}, "nanokit.lab.overhead": {"nanokit.plots"},
             "nanokit.cli.app": {"widgets.app"}, "widgets.app": {"widgets.chat_panel", "nanokit.server"},
             "widgets.chat_panel": set()}
    assert upward_imports(graph) == [("nanokit.bench.overhead", "nanokit.plots"),
                                     ("nanokit.cli.app", "widgets.app"),
                                     ("nanokit.server", "nanokit.cli.serve")]


def test_main_prints_and_fails_on_a_cycle(tmp_path, capsys):
    root = write(tmp_path, {"nanokit/__init__.py": "", "nanokit/a.py": "import nanokit.b\n",
                            "nanokit/b.py": "import nanokit.a\n", "widgets/__init__.py": ""})
    assert main(["--root", str(root)]) == 1
    out = capsys.readouterr().out
    assert "nanokit.a -> nanokit.b" in out and "nanokit.a <-> nanokit.b" in out and "upward imports: none" in out


def test_nanokit_has_no_upward_imports():
    assert upward_imports(build_graph(ROOT)) == []


def test_nanokit_has_no_import_cycles():
    assert cycles(build_graph(ROOT)) == []
