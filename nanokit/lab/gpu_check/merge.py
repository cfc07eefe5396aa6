"""One result out of several GPU-check calls (`--merge`), for a GPU box lent a few minutes at a time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nanokit.lab.validate import ClientRun, summarize

__all__ = ["MERGEABLE", "merge_results", "read_merge_source"]

MERGEABLE = {"launch", "planner", "bench", "sweep"}


def merge_results(results: list[dict[str, Any]]) -> dict[str, Any]:
    """One result out of several calls' gpu_check.json (oldest first), for a GPU box lent a few minutes at a time.

    The newest call's machine, launch and sweep win; planner entries are kept per (KV dtype, context, max-num-seqs),
    newest first; bench rounds at the same concurrency are pooled (renumbered, still in their run order) and
    summarized again. `sources` keeps each call's date, steps, arguments and what it skipped.
    """
    merged: dict[str, Any] = {"skipped": [], "sources": []}
    planner: dict[tuple, dict] = {}
    bench: dict[int, dict] = {}
    for data in results:
        date = data.get("machine", {}).get("date")
        merged["sources"].append({"date": date, "steps": data.get("args", {}).get("steps"),
                                  "elapsed_s": data.get("elapsed_s"), "skipped": data.get("skipped", []),
                                  "args": data.get("args")})
        for key in ("machine", "launch", "sweep"):
            if key in data:
                merged[key] = data[key]
        merged["caveats"] = list(dict.fromkeys([*merged.get("caveats", []), *data.get("caveats", [])]))
        for entry in data.get("planner", []):
            planner[(entry["kv_cache_dtype"], entry["context"], entry["max_num_seqs"])] = entry | {"date": date}
        for b in data.get("bench", []):
            pooled = bench.setdefault(b["concurrency"], {k: v for k, v in b.items() if k not in ("runs", "order")}
                                      | {"runs": [], "order": [], "dates": []})
            if (b["num_prompts"], b["input_len"], b["output_len"]) != (
                    pooled["num_prompts"], pooled["input_len"], pooled["output_len"]):
                raise ValueError(f"bench c={b['concurrency']} differs between calls ({b['num_prompts']} prompts, "
                                 f"{b['input_len']}/{b['output_len']} tokens); merge only the same workload.")
            offset = 1 + max((r["round"] for r in pooled["runs"]), default=-1)
            pooled["runs"] += [r | {"round": r["round"] + offset, "date": date} for r in b["runs"]]
            pooled["order"] += b["order"]
            pooled["dates"].append(date)
    merged["planner"] = list(planner.values())
    for pooled in bench.values():
        runs = [ClientRun(**{k: (tuple(v) if k == "errors" else v) for k, v in r.items()
                             if k in ClientRun.__dataclass_fields__}) for r in pooled["runs"]]
        pooled["summary"] = summarize(runs)
    merged["bench"] = [bench[c] for c in sorted(bench)]
    return merged


def read_merge_source(item: str) -> dict[str, Any]:
    path, sep, sections = item.rpartition(":")
    if not sep or not set(sections.split("+")) <= MERGEABLE:
        path, sections = item, ""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise SystemExit(f"--merge could not read {path}: {exc}; pass gpu_check.json files.") from None
    keep = set(sections.split("+")) if sections else MERGEABLE
    return {k: v for k, v in data.items() if k in keep or k not in MERGEABLE}
