"""The package's import graph: which nanokit and widgets modules each module imports, its cycles, its upward imports.

    python -m nanokit.lab.import_graph              # this checkout
    python -m nanokit.lab.import_graph --root DIR   # another checkout (the folder holding nanokit/ and widgets/)

Every `import` statement counts, at module level or inside a function: a lazy import that stands in for an
import loop is still a loop. An import of `nanokit.bench.feed` is an edge to that module only, not to the
`nanokit.bench` package it sits in (Python runs the package's __init__ first, but that is not a dependency the
importing module chose).

Layers, lowest first, and what each may not import:

    bench    nanokit.bench.*            not plots, widgets, cli, lab
    library  the rest of nanokit        not lab, cli (nor widgets)
    lab      nanokit.lab.*              not widgets
    cli      nanokit.cli.*              not widgets
    widgets  widgets.*                  (nothing outside widgets imports it)

Prints the edges, then the cycles, then the upward imports; exits 1 if there is any cycle or upward import.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

PACKAGES = ("nanokit", "widgets")

# layer -> the layers it may not import
FORBIDDEN = {
    "bench": {"plots", "widgets", "cli", "lab"},
    "plots": {"widgets", "cli", "lab"},
    "library": {"widgets", "cli", "lab"},
    "lab": {"widgets"},
    "cli": {"widgets"},
    "widgets": set(),
}


def layer(module: str) -> str:
    """The layer a module belongs to (see the module docstring)."""
    parts = module.split(".")
    if parts[0] == "widgets":
        return "widgets"
    if len(parts) > 1 and parts[1] in ("bench", "cli", "lab"):
        return parts[1]
    if module == "nanokit.plots":
        return "plots"
    return "library"


def find_modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the packages under `root`."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _resolve(name: str, modules: Mapping[str, Path]) -> str | None:
    """The longest known module that `name` starts with (an imported attribute resolves to its module)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str, path: Path, modules: Mapping[str, Path]) -> set[str]:
    """The package modules `module` imports anywhere in its file."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([base] if base else []))
            # `from nanokit.bench import runner` imports a module; `from nanokit.bench import run_benchmark` a name.
            names = [f"{base}.{alias.name}" for alias in node.names] or [base]
        else:
            continue
        for name in names:
            target = _resolve(name, modules)
            if target is not None and target != module:
                found.add(target)
    return found


def build_graph(root: Path) -> dict[str, set[str]]:
    modules = find_modules(root)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted, sorted by first name."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def upward_imports(graph: Mapping[str, Iterable[str]]) -> list[tuple[str, str]]:
    """(importer, imported) pairs that break the layer rules."""
    return sorted((a, b) for a, targets in graph.items() for b in targets if layer(b) in FORBIDDEN[layer(a)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nanokit.lab.import_graph", description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2],
                        help="The folder that holds nanokit/ and widgets/ (default: this checkout).")
    args = parser.parse_args(argv)
    graph = build_graph(args.root)
    print("edges (module -> the package modules it imports):")
    for module in sorted(graph):
        print(f"  {module} -> {', '.join(sorted(graph[module])) or '-'}")
    loops, upward = cycles(graph), upward_imports(graph)
    print("cycles:" if loops else "cycles: none")
    for loop in loops:
        print("  " + " <-> ".join(loop))
    print("upward imports:" if upward else "upward imports: none")
    for a, b in upward:
        print(f"  {a} ({layer(a)}) -> {b} ({layer(b)})")
    return 1 if loops or upward else 0


if __name__ == "__main__":
    sys.exit(main())
