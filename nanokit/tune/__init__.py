"""`nanokit tune`: the server setting and client concurrency that serve a workload best for a goal, measured.

    space.py    ServerSetting (one restart's flags), SearchSpace and search_space(device, goal, variant)
    (nanokit.goal: Goal, latency | balanced | throughput | slo -> one score per point)
    servers.py  VLLMEvaluator: a VLLMServer per setting, one benchmark per point (nanokit.bench.run_sweep)
    search.py   tune(TuneConfig): optuna TPE + Hyperband in a JournalStorage file, within a time budget
    recommend.py  recommended_spec(spec, goal, user_set): the planner fills what the user left unset, with why
    card.py     the run card: JSON + Markdown of hardware, versions, workload, every point and the choice
    plot.py     TuneFigure: the Pareto chart that fills in as points come (imported on first use, so a GPU box
                without plotly can still tune)
"""

from nanokit.goal import Goal
from nanokit.tune.card import find_run_cards, load_run_card, render_markdown, write_run_card
from nanokit.tune.recommend import recommend, recommended_spec
from nanokit.tune.search import TuneConfig, TuneResult, choose, command_for, tune
from nanokit.tune.servers import SettingFailed, VLLMEvaluator
from nanokit.tune.space import SearchSpace, ServerSetting, search_space

__all__ = [
    "Goal",
    "SearchSpace",
    "ServerSetting",
    "SettingFailed",
    "TuneConfig",
    "TuneFigure",
    "TuneResult",
    "VLLMEvaluator",
    "choose",
    "command_for",
    "find_run_cards",
    "load_run_card",
    "recommend",
    "recommended_spec",
    "render_markdown",
    "search_space",
    "tune",
    "write_run_card",
]


def __getattr__(name: str):
    if name == "TuneFigure":
        from nanokit.tune.plot import TuneFigure

        return TuneFigure
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
