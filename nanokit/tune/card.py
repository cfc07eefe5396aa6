"""The run card: what a tune measured, as JSON (for the generator to load) and Markdown (for a person).

A card is a plain dict: `hardware`, `versions`, `model`, `workload`, `goal`, `search_space`, `budget_s`,
`elapsed_s`, `points` (every benchmark run: trial, rung, setting, client concurrency, prompts, metrics, score)
and `chosen` (the best trial's setting, its metrics and its exact command). Both files are written through a
temporary file and a rename, so a reader never sees half a card, even when the tune is interrupted.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from nanokit.bench import write_json_atomic

__all__ = ["RUN_CARDS_DIR", "find_run_cards", "hardware_facts", "load_run_card", "render_markdown", "write_run_card"]

# Where the project keeps the cards it measured; the generator looks here for "measured on this GPU".
RUN_CARDS_DIR = Path(__file__).resolve().parents[2] / "notebooks" / "results"

CARD_KIND = "nanokit-tune-run-card"
POINT_COLUMNS = (("output_throughput", "out tok/s", "{:,.1f}"), ("median_ttft_ms", "median TTFT ms", "{:,.1f}"),
                 ("median_tpot_ms", "median TPOT ms", "{:,.2f}"), ("p90_tpot_ms", "p90 TPOT ms", "{:,.2f}"))


def _version(package: str) -> str | None:
    for name in (package, f"{package}-cpu"):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def hardware_facts(device: str, gpu_name: str | None = None) -> dict[str, Any]:
    """The machine and the package versions a card records."""
    facts: dict[str, Any] = {"device": device, "cpu_count": os.cpu_count(), "machine": platform.machine(),
                             "system": platform.system()}
    if gpu_name:
        facts["gpu"] = gpu_name
    return facts


def versions() -> dict[str, str | None]:
    return {"python": platform.python_version(), **{name: _version(name) for name in ("nanokit", "vllm", "optuna")}}


def _write_text_atomic(text: str, path: Path) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_run_card(card: dict[str, Any], out_dir: str | os.PathLike, *, name: str = "run_card") -> tuple[Path, Path]:
    """Write `name`.json and `name`.md into `out_dir`; returns both paths."""
    out = Path(out_dir)
    json_path = write_json_atomic({"kind": CARD_KIND, **card}, out / f"{name}.json")
    return json_path, _write_text_atomic(render_markdown(card), out / f"{name}.md")


def load_run_card(path: str | os.PathLike) -> dict[str, Any]:
    """A card written by write_run_card (the JSON file)."""
    from nanokit.errors import ConfigError

    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("kind") != CARD_KIND:
        raise ConfigError(f"{path} is not a nanokit tune run card; pass the run_card.json that `nanokit tune` wrote.")
    return data


def find_run_cards(directory: str | os.PathLike | None = None) -> list[tuple[Path, dict[str, Any]]]:
    """(path, card) for every run card among the JSON files of `directory` (default RUN_CARDS_DIR), by name."""
    found = []
    for path in sorted(Path(directory or RUN_CARDS_DIR).glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # other results live beside the cards; a file that is not JSON is not one
        if isinstance(data, dict) and data.get("kind") == CARD_KIND:
            found.append((path, data))
    return found


def _setting_text(setting: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in setting.items() if value is not None)


def render_markdown(card: dict[str, Any]) -> str:
    hardware, workload, chosen = card["hardware"], card["workload"], card.get("chosen")
    lines = [f"# Tune run card: {card['goal']['description']} on {hardware.get('gpu') or hardware['device']}", "",
             f"- model: `{card['model']}`",
             f"- hardware: {', '.join(f'{k} {v}' for k, v in hardware.items())}",
             f"- versions: {', '.join(f'{k} {v}' for k, v in card['versions'].items())}",
             f"- workload: {', '.join(f'{k} {v}' for k, v in workload.items() if v is not None)}",
             (f"- search: {card['search']}; {len(card['points'])} runs ({card['trials']} trials) over "
             f"{len({json.dumps(p['setting'], sort_keys=True) for p in card['points']})} server settings in "
             f"{card['elapsed_s']:.0f} s of a {card['budget_s']:.0f} s budget (a grid of this space is "
             f"{card['search_space']['grid_size']} runs, about {card.get('grid_estimate_s', 0):,} s)"),
             *[f"- caveat: {caveat}" for caveat in card.get("caveats", ())], ""]
    if chosen:
        lines += ["## Chosen", "", (f"Trial {chosen['trial']}, client concurrency {chosen['concurrency']}: "
                  f"{_setting_text(chosen['setting'])} (score {chosen['score']:,.2f}"
                  f"{'' if chosen['meets_goal'] else ', outside the SLO: nothing measured met it'})"), "",
                  "```sh", chosen["command"], "```", ""]
    else:
        lines += ["## Chosen", "", "No setting finished a run; see the points below.", ""]
    header = ["trial", "rung", "concurrency", "prompts", *[label for _, label, _ in POINT_COLUMNS], "score", "setting"]
    lines += ["## Every measured point", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for point in card["points"]:
        metrics = point["metrics"]
        cells = [str(point["trial"]), str(point["rung"]), str(point["concurrency"]), str(point["num_prompts"]),
                 *[fmt.format(metrics[key]) for key, _, fmt in POINT_COLUMNS], f"{point['score']:,.2f}",
                 _setting_text(point["setting"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
