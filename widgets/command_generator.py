"""CommandGenerator: numbered choices -> the launch command, its warnings and a live memory bar.

Like the SGLang page's generator (numbered option groups of toggle buttons), for vLLM, SGLang and TRT-LLM, plus
the doctor's findings, a plotly bar of one GPU's memory (weights / activations / KV cache / Mamba state / free)
updated in place, and "Launch here" for vLLM specs this machine can run. Whether it can is nanokit's answer
(`launch_problem`, over the GPUs `local_gpus` finds); serving goes through a ServerPanel's `launch(spec)`.

A goal (latency, balanced, throughput, or under TTFT/TPOT bounds) lets the planner choose what is left empty
(concurrency, KV-cache dtype, vLLM's batched tokens and CUDA-graph capture size): an empty field shows the chosen
value as its placeholder, and "Chosen for the goal" lists one reason per choice (nanokit.tune.recommended_spec),
"measured on this GPU" where a run card in notebooks/results/ was tuned on it. What the user types is kept.

Copying without JavaScript: browsers only let page scripts write the clipboard, and ipywidgets (in Jupyter and
Voila alike) gives Python no way to run one. So "Copy" puts the one-line command into a text field, already
selected by a triple-click, for Ctrl/Cmd-C, and "Save script" writes the full script (files included) to disk.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as W
import plotly.graph_objects as go

from nanokit import (
    GPUS,
    VARIANTS,
    LaunchSpec,
    NanokitError,
    custom_gpu,
    diagnose,
    launch_problem,
    local_gpus,
    plan_launch,
)
from nanokit.catalog import GIB, GPU
from nanokit.nodes import node_commands
from nanokit.parallel import strategy_name
from nanokit.tune import Goal, find_run_cards, recommended_spec
from widgets.server_panel import ServerPanel

__all__ = ["CommandGenerator"]

_COLORS = {"error": "#b91c1c", "warning": "#b45309", "note": "#1d4ed8"}
_SEGMENTS = (("weights", "Weights", "#4b5563"), ("overhead", "Activations", "#9ca3af"),
             ("kv", "KV cache", "#76b900"), ("mamba", "Mamba state", "#2563eb"), ("free", "Free", "#e5e7eb"))  # fmt: skip
_GOALS = (("Latency", "latency"), ("Balanced", "balanced"), ("Throughput", "throughput"), ("Under SLOs", "slo"))
_CONTEXTS = (("8k", 8192), ("32k", 32768), ("128k", 131072), ("256k", 262144), ("512k", 524288), ("1M", 1048576))


def _toggle(options: Sequence[tuple[str, Any]], value: Any) -> W.ToggleButtons:
    return W.ToggleButtons(options=list(options), value=value, style={"button_width": "auto"})


def _number(field: W.Text, label: str) -> int | None:
    """A whole number typed into `field`, or None (the planner's choice) when it is empty."""
    text = field.value.strip().replace(",", "")
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise NanokitError(f"{label} must be a whole number of at least 1; clear the field for the planner's choice.")
    return int(text)


def _planner_field(value: int | None) -> W.Text:
    return W.Text(value="" if value is None else str(value), layout=W.Layout(width="150px"))


def _group(number: int, title: str, *children: W.Widget) -> W.VBox:
    header = W.HTML(f"<b>{number}. {html.escape(title)}</b>")
    return W.VBox([header, W.HBox(list(children), layout=W.Layout(flex_flow="row wrap"))])


class CommandGenerator(W.VBox):
    """Pick engine, hardware and options; read the command, the warnings and the memory plan.

    `generator.spec` is the current LaunchSpec (None while the choices are invalid), with the planner's choices in
    it. A `spec` passed in counts as chosen by the user (its concurrency and KV dtype fill their fields); without
    one, the planner chooses them for the goal. "Launch here" hands the spec to `on_launch(spec)` (the app's
    Server tab), or else to a ServerPanel that appears under the buttons (`generator.server_panel`).
    `gpu_probe` replaces the local GPU lookup and `run_cards` the cards found in notebooks/results/
    (nanokit.tune.find_run_cards), for tests.
    """

    def __init__(self, spec: LaunchSpec | None = None, *, on_launch: Callable[[LaunchSpec], Any] | None = None,
                 gpu_probe: Callable[[], list[GPU]] = local_gpus,
                 run_cards: list[tuple[Path, dict[str, Any]]] | None = None) -> None:  # fmt: skip
        given = spec is not None
        spec = spec or LaunchSpec()
        self.spec: LaunchSpec | None = spec
        self.chosen_reasons: list[str] = []
        self._run_cards = find_run_cards() if run_cards is None else run_cards
        self.server_panel: ServerPanel | None = None
        self._on_launch = on_launch
        self._gpu_probe = gpu_probe

        self.engine = _toggle([("vLLM", "vllm"), ("SGLang", "sglang"), ("TRT-LLM", "trtllm")], spec.engine)
        gpu_options = [(g.name, g.key) for g in GPUS.values()] + [("Custom GPU", "custom")]
        custom = spec.gpu_info.key.startswith("custom:")
        self.gpu = W.Dropdown(options=gpu_options, value="custom" if custom else spec.gpu_info.key)
        self.custom_memory = W.BoundedFloatText(value=spec.gpu_info.memory_gib, min=1, max=4096,
                                                description="GiB", layout=W.Layout(width="150px"))  # fmt: skip
        self.custom_cc = W.Text(value=spec.gpu_info.compute_capability_text, description="sm",
                                layout=W.Layout(width="120px"))  # fmt: skip
        self.gpus = _toggle([(str(n), n) for n in (1, 2, 4, 8)], spec.gpus)
        self.variant = _toggle([(v.label, v.key) for v in VARIANTS.values()], spec.variant)
        contexts = list(_CONTEXTS)
        if spec.context not in dict(_CONTEXTS).values():  # an unusual length from a preset gets its own button
            contexts.append((f"{spec.context:,}", spec.context))
        self.context = _toggle(sorted(contexts, key=lambda kv: kv[1]), spec.context)
        goal = spec.goal or Goal(name="latency")
        self.goal = _toggle(_GOALS, goal.name)
        self.ttft_ms = W.FloatText(value=goal.ttft_ms or 0, description="p90 TTFT ms (0: none)",
                                   style={"description_width": "initial"}, layout=W.Layout(width="200px"))
        self.tpot_ms = W.FloatText(value=goal.tpot_ms or 0, description="p90 TPOT ms (0: none)",
                                   style={"description_width": "initial"}, layout=W.Layout(width="200px"))
        self.concurrency = _planner_field(spec.concurrency if given else None)
        self.batched_tokens = _planner_field(spec.max_num_batched_tokens)
        self.capture_size = _planner_field(spec.max_cudagraph_capture_size)
        self.chosen = W.HTML()
        self.kv_cache_dtype = _toggle([("for the variant", ""), ("auto", "auto"), ("FP8", "fp8")],
                                      spec.kv_cache_dtype if given else "")
        self.mamba_cache_dtype = _toggle([("float32", "float32"), ("bfloat16", "bfloat16")], spec.mamba_ssm_cache_dtype)
        self.reasoning = _toggle([("On", True), ("Off", False)], spec.reasoning)
        self.tools = _toggle([("On", True), ("Off", False)], spec.tools)
        self.host = W.Text(value=spec.host, description="host", layout=W.Layout(width="220px"))
        self.port = W.IntText(value=spec.port or 0, description="port (0: default)", layout=W.Layout(width="220px"),
                              style={"description_width": "initial"})  # fmt: skip
        self.api_key = W.Password(value=spec.api_key or "", description="API key", layout=W.Layout(width="240px"))
        self.engine_version = W.Text(value=spec.engine_version or "", placeholder="newest",
                                     description="version", layout=W.Layout(width="200px"))  # fmt: skip

        # ----- parallel strategy (nanokit.parallel); gpus above is GPUs per node -----
        self.tp = W.Dropdown(options=[("auto", None), *[(str(n), n) for n in (1, 2, 4, 8)]], value=spec.tp,
                             description="TP", layout=W.Layout(width="130px"))  # fmt: skip
        self.dp = W.Dropdown(options=[(str(n), n) for n in (1, 2, 4, 8, 16)], value=spec.dp, description="DP",
                             layout=W.Layout(width="130px"))  # fmt: skip
        self.pp = W.Dropdown(options=[(str(n), n) for n in (1, 2, 4)], value=spec.pp, description="PP",
                             layout=W.Layout(width="130px"))  # fmt: skip
        self.ep = _toggle([("EP off", False), ("EP on", True)], spec.ep)
        self.nodes = W.Dropdown(options=[(str(n), n) for n in (1, 2, 4)], value=spec.nodes, description="nodes",
                                layout=W.Layout(width="140px"))  # fmt: skip
        self.head_address = W.Text(value=spec.head_address or "", placeholder="HOST:PORT of node 0",
                                   description="head", layout=W.Layout(width="260px"))  # fmt: skip
        self.strategy = W.HTML()
        self.multiline = W.Checkbox(value=True, description="one option per line", indent=False)
        self.command = W.Textarea(layout=W.Layout(width="100%", height="260px"))
        self.copy_button = W.Button(description="Copy", icon="copy")
        self.save_button = W.Button(description="Save script", icon="save")
        self.copy_field = W.Text(layout=W.Layout(width="100%", display="none"))
        self.warnings = W.HTML()
        self.plan_text = W.Textarea(layout=W.Layout(width="100%", height="170px"), disabled=True)
        self.figure = go.FigureWidget(
            data=[go.Bar(name=label, y=["GPU 0"], x=[0], orientation="h", marker_color=color,
                         hovertemplate=f"{label}: %{{x:.1f}} GiB<extra></extra>") for _, label, color in _SEGMENTS],
            layout=go.Layout(barmode="stack", height=170, margin={"l": 10, "r": 10, "t": 30, "b": 30},
                             xaxis_title="GiB of one GPU", legend={"orientation": "h", "y": -0.6}),
        )  # fmt: skip
        self.launch_button = W.Button(description="Launch here", icon="play", button_style="success")
        self.message = W.HTML()

        controls = [self.engine, self.gpu, self.custom_memory, self.custom_cc, self.gpus, self.variant, self.context,
                    self.goal, self.ttft_ms, self.tpot_ms, self.concurrency, self.batched_tokens, self.capture_size,
                    self.kv_cache_dtype, self.mamba_cache_dtype, self.reasoning, self.tools,
                    self.host, self.port, self.api_key, self.engine_version, self.multiline,
                    self.tp, self.dp, self.pp, self.ep, self.nodes, self.head_address]  # fmt: skip
        self.output = W.Output()  # handlers run inside it, so an unexpected traceback shows in the view
        for control in controls:
            control.observe(lambda _: self._run(self.refresh), names="value")
        self.copy_button.on_click(lambda _: self._run(self.copy))
        self.save_button.on_click(lambda _: self._run(self.save_script))
        self.launch_button.on_click(lambda _: self._run(self.launch))

        super().__init__(children=[
            _group(1, "Engine", self.engine),
            _group(2, "Hardware", self.gpu, self.custom_memory, self.custom_cc, W.Label("GPUs:"), self.gpus),
            _group(3, "Model variant", self.variant),
            _group(4, "Maximum context", self.context),
            _group(5, "Goal", self.goal, self.ttft_ms, self.tpot_ms),
            _group(6, "Batching (empty: the planner's choice)", W.Label("Concurrent sequences:"), self.concurrency,
                   W.Label("Batched tokens:"), self.batched_tokens, W.Label("CUDA-graph capture size:"),
                   self.capture_size),
            W.HTML("<b>Chosen for the goal</b>"), self.chosen,
            _group(7, "Cache dtypes", W.Label("KV:"), self.kv_cache_dtype, W.Label("Mamba SSM:"),
                   self.mamba_cache_dtype),
            _group(8, "Parsers", W.Label("Reasoning:"), self.reasoning, W.Label("Tools:"), self.tools),
            _group(9, "Serving", self.host, self.port, self.api_key, self.engine_version),
            _group(10, "Parallel strategy", self.tp, self.dp, self.pp, self.ep, self.nodes, self.head_address,
                   self.strategy),
            W.HTML("<b>Command</b>"), self.multiline, self.command,
            W.HBox([self.copy_button, self.save_button, self.launch_button]), self.copy_field, self.message,
            self.output,
            W.HTML("<b>Doctor</b>"), self.warnings,
            W.HTML("<b>Memory of one GPU</b>"), self.figure, self.plan_text,
        ])  # fmt: skip
        self.refresh()

    def _run(self, handler: Callable[[], Any]) -> None:
        with self.output:
            handler()

    # --- state --------------------------------------------------------------------------------

    def _read_spec(self) -> tuple[LaunchSpec, list[str]]:
        """The spec of the choices with the planner's for the empty ones, and the reasons for those."""
        custom = self.gpu.value == "custom"
        gpu = custom_gpu(self.custom_memory.value, self.custom_cc.value.strip()) if custom else self.gpu.value
        slo = self.goal.value == "slo"
        goal = Goal(name=self.goal.value, ttft_ms=self.ttft_ms.value or None if slo else None,
                    tpot_ms=self.tpot_ms.value or None if slo else None)
        concurrency = _number(self.concurrency, "Concurrent sequences")
        spec = LaunchSpec(
            engine=self.engine.value, gpu=gpu, gpus=self.gpus.value, variant=self.variant.value,
            context=self.context.value, concurrency=concurrency or 1,
            kv_cache_dtype=self.kv_cache_dtype.value or "auto",
            mamba_ssm_cache_dtype=self.mamba_cache_dtype.value, reasoning=self.reasoning.value,
            tools=self.tools.value, host=self.host.value.strip() or "127.0.0.1", port=self.port.value or None,
            api_key=self.api_key.value or None, engine_version=self.engine_version.value.strip() or None,
            max_num_batched_tokens=_number(self.batched_tokens, "Batched tokens"),
            max_cudagraph_capture_size=_number(self.capture_size, "The CUDA-graph capture size"),
            tp=self.tp.value, dp=self.dp.value, pp=self.pp.value, ep=self.ep.value, nodes=self.nodes.value,
            head_address=self.head_address.value.strip() or None,
        )  # fmt: skip
        user_set = {"concurrency"} if concurrency else set()
        if self.kv_cache_dtype.value:  # "": the dtype the variant's anchors serve it with
            user_set.add("kv_cache_dtype")
        return recommended_spec(spec, goal, user_set=user_set, run_cards=self._run_cards)

    def _show_choices(self, spec: LaunchSpec, reasons: list[str]) -> None:
        for field, value in ((self.concurrency, spec.concurrency), (self.batched_tokens, spec.max_num_batched_tokens),
                             (self.capture_size, spec.max_cudagraph_capture_size)):
            field.placeholder = f"planner: {value}" if value else "engine default"
        items = "".join(f"<li>{html.escape(why)}</li>".replace("measured on this GPU",
                        "<b style='color:#15803d'>measured on this GPU</b>") for why in reasons)
        self.chosen.value = f"<ul style='margin:0'>{items}</ul>" if items else "Everything was set by you."

    def refresh(self) -> None:
        """Re-read the choices and redraw command, warnings and memory bar."""
        custom = self.gpu.value == "custom"
        for widget in (self.custom_memory, self.custom_cc):
            widget.layout.display = None if custom else "none"
        for widget in (self.ttft_ms, self.tpot_ms):
            widget.layout.display = None if self.goal.value == "slo" else "none"
        self.copy_field.layout.display = "none"
        try:
            spec, self.chosen_reasons = self._read_spec()
            plan = plan_launch(spec)
            findings = diagnose(spec, plan)
        except NanokitError as exc:
            self.spec = None
            self.chosen.value = ""
            self.command.value = ""
            self.warnings.value = self._render_findings([("error", str(exc))])
            return
        self.spec = spec
        self._show_choices(spec, self.chosen_reasons)
        self.command.value = self._command_text(spec)
        self.strategy.value = f"<i>{html.escape(strategy_name(spec))}</i>"
        self.warnings.value = self._render_findings([(f.severity, f.message) for f in findings])
        self.plan_text.value = plan.explain()
        usage = plan.usage_at(spec.concurrency)
        with self.figure.batch_update():
            for trace, (key, _, _) in zip(self.figure.data, _SEGMENTS):
                trace.x = [usage[key] / GIB]
            self.figure.layout.title = (f"{spec.gpu_info.name}: {plan.gpu_memory_bytes / GIB:.0f} GiB, "
                                        f"{strategy_name(spec)}")  # fmt: skip
        self.launch_button.disabled = spec.engine != "vllm"
        self.launch_button.tooltip = "" if spec.engine == "vllm" else "Launch here runs vLLM specs only."

    def _command_text(self, spec: LaunchSpec) -> str:
        """The script for one node, or each node's commands under a `# node R (role)` header."""
        if spec.nodes == 1:
            return spec.script(multiline=self.multiline.value)
        try:
            nodes = node_commands(spec)
        except NanokitError as exc:  # no head address yet: the doctor's finding says what to add
            return f"# {exc}"
        return "\n\n".join(f"# node {n.node_rank} ({n.role})\n{n.shell(multiline=self.multiline.value)}"
                             for n in nodes)  # fmt: skip

    @staticmethod
    def _render_findings(findings: list[tuple[str, str]]) -> str:
        if not findings:
            return "<span style='color:#15803d'>No problems found.</span>"
        items = "".join(f"<li style='color:{_COLORS[sev]}'><b>{sev}</b>: {html.escape(msg)}</li>"
                        for sev, msg in findings)  # fmt: skip
        return f"<ul style='margin:0'>{items}</ul>"

    # --- actions ------------------------------------------------------------------------------

    def copy(self) -> None:
        """Show the one-line command in a text field: triple-click it and press Ctrl/Cmd-C."""
        if self.spec is None:
            return
        self.copy_field.value = self.spec.shell()
        self.copy_field.layout.display = None
        note = " (write the files shown above first)" if self.spec.files() else ""
        self.message.value = f"Triple-click the line below and press Ctrl/Cmd-C{note}."

    def save_script(self, path: str | Path | None = None) -> Path | None:
        """Write the command (and its files, as heredocs) to a shell script; returns the path."""
        if self.spec is None:
            return None
        path = Path(path or f"launch-{self.spec.engine}.sh")
        path.write_text("#!/usr/bin/env bash\nset -euo pipefail\n" + self.spec.script() + "\n")
        path.chmod(0o755)
        self.message.value = f"Saved {html.escape(str(path.resolve()))}."
        return path

    def launch_problem(self) -> str | None:
        """Why this machine cannot run the current spec, or None when it can."""
        if self.spec is None:
            return "The choices above do not make a valid spec; fix the error shown under Doctor."
        return launch_problem(self.spec, self._gpu_probe())

    def launch(self) -> None:
        """Serve the spec here when this machine can: through on_launch, or a ServerPanel under the buttons."""
        problem = self.launch_problem()
        if problem:
            self.message.value = f"<span style='color:#b91c1c'>{html.escape(problem)}</span>"
            return
        assert self.spec is not None
        if self._on_launch is not None:
            self._on_launch(self.spec)
            self.message.value = "Handed the spec to the launcher."
            return
        if self.server_panel is None:
            self.server_panel = ServerPanel(start_timeout=1800)  # a first start downloads weights and compiles
            at = self.children.index(self.message) + 1
            self.children = [*self.children[:at], self.server_panel, *self.children[at:]]
        if self.server_panel.launch(self.spec):
            self.message.value = "Starting vLLM in the server panel below (the first start downloads the weights)."
