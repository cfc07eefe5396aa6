"""Per-replica load of a data-parallel deployment, from the /metrics samples a benchmark took.

vLLM exports each DP rank's gauges with an `engine="N"` label (one API server in front of N engine cores, each
with its own scheduler and KV cache: docs.vllm.ai, "Data Parallel Deployment"), so the same scrape that gives
the whole server's running and waiting requests gives each replica's. A balanced deployment shows similar
figures for every engine; one engine running far more than the others means the load balancer or the
workload keeps one replica busy. Multi-node deployments behind one API server (vLLM's internal load
balancing) show every rank the same way; behind an external router, benchmark each node's endpoint.
"""

from __future__ import annotations

from collections.abc import Iterable

from nanokit.bench.server_view import ServerSample

__all__ = ["format_replica_load", "replica_load"]


def replica_load(samples: Iterable[ServerSample]) -> dict[str, dict[str, float]]:
    """For each engine label: mean and max running requests, mean waiting, max KV-cache usage (0-1)."""
    series: dict[str, dict[str, list[float]]] = {}
    for sample in samples:
        for engine, gauges in sample.per_engine.items():
            store = series.setdefault(engine, {"running": [], "waiting": [], "kv_cache_usage": []})
            for name, values in store.items():
                if name in gauges:
                    values.append(gauges[name])
    load = {}
    for engine, store in sorted(series.items(), key=lambda item: int(item[0]) if item[0].isdigit() else item[0]):
        running, waiting, kv = store["running"], store["waiting"], store["kv_cache_usage"]
        load[engine] = {
            "mean_running": sum(running) / len(running) if running else 0.0,
            "max_running": max(running, default=0.0),
            "mean_waiting": sum(waiting) / len(waiting) if waiting else 0.0,
            "max_kv_cache_usage": max(kv, default=0.0),
        }
    return load


def format_replica_load(load: dict[str, dict[str, float]]) -> str:
    """One line per engine, or "" when the server showed one engine or none."""
    if len(load) < 2:
        return ""
    return "\n".join(f"engine {engine}: running mean {e['mean_running']:.1f} / max {e['max_running']:.0f}, "
                     f"waiting mean {e['mean_waiting']:.1f}, KV cache up to {e['max_kv_cache_usage']:.0%}"
                     for engine, e in load.items())  # fmt: skip
