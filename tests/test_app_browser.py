"""The Voila app in a real browser: Debian's chromium, driven by Playwright, against Voila on loopback.

One walk through the app, as a newcomer would: the page renders; choices in Generate change the command;
Server starts the embedded model and says "running"; Chat answers with a reasoning pane (sent with Enter);
Tools declares a tool of the test's own, the model is made to call it (tool_choice, first turn only) and the
test answers the call by hand until the loop finishes; Throughput draws points and its plots follow the page
theme. Each step leaves a screenshot in the artifacts folder (look at them: a green test with a blank page
would be a lie) and its wall time in artifacts/app-browser-times.json; the README's pictures are copied into
notebooks/images/ by the same run (PICTURES), so they show the app as it is.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[1]
# Flags for a headless chromium in a container: no sandbox (no user namespaces), no GPU, no phoning home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip
SERVER_START_S = 900  # the embedded CPU model: 30-90 s alone; ~5 min measured on a 2-core machine shared with 6 servers
MINUTE_MS = 60_000
IMAGES = REPO / "notebooks" / "images"
# step name -> the picture the README and the notebooks show
PICTURES = {"generate-sglang-fp8-b200": "generator.png", "server-running": "server.png", "chat-answered": "chat-reasoning.png",
            "tools-ran": "tool-loop.png", "agents-ran": "agent-trace.png", "throughput-points": "dashboard.png",
            "dark-theme": "dark-theme.png"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_url(process: subprocess.Popen, log: Path, timeout: float) -> str:
    """The URL `nanokit app` prints once Voila listens."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"`nanokit app` exited with code {process.returncode}:\n{log.read_text()[-3000:]}")
        match = re.search(r"The nanokit app is at (http://127\.0\.0\.1:\d+/)", log.read_text())
        if match:
            return match.group(1)
        time.sleep(0.5)
    pytest.fail(f"`nanokit app` printed no URL within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def voila_url(artifacts_dir):
    """`nanokit app --no-browser` (Voila on 127.0.0.1, from this venv, so its kernel finds nanokit); Ctrl-C ends it."""
    log = artifacts_dir / "app-browser-voila.log"
    argv = [sys.executable, "-c", "from nanokit.cli import main; main()", "app", "--no-browser",
            "--port", str(_free_port())]  # fmt: skip
    # The test's declared tools go to a scratch config folder, never the user's.
    env = {**os.environ, "NANOKIT_CONFIG_DIR": str(artifacts_dir / "app-browser-config")}
    shutil.rmtree(env["NANOKIT_CONFIG_DIR"], ignore_errors=True)
    with log.open("w") as out:
        process = subprocess.Popen(argv, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env=env)
    try:
        yield _wait_for_url(process, log, 120)
    finally:
        process.send_signal(signal.SIGINT)  # what Ctrl-C does: it stops Voila, its kernel and the kernel's vLLM
        try:
            process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail("`nanokit app` did not stop within 90 s of Ctrl-C.")
        assert "[nanokit] stopped." in log.read_text()


@pytest.fixture(scope="module")
def browser():
    # A missing browser fails rather than skips: a skipped browser test would count as a green app.
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is not installed; run binder/setup.sh as root or apt-get install chromium "
                    "(the test never downloads a browser).")
    from playwright import sync_api

    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _wait_for_text(page, selector: str, pattern: str, timeout_s: float) -> str:
    """Wait until the element at `selector` (looked up afresh each time: HTML widgets replace their insides)
    has text matching the regular expression `pattern`; returns that text."""
    page.wait_for_function(
        "([sel, pat]) => { const el = document.querySelector(sel); return el && new RegExp(pat).test(el.textContent); }",
        arg=[selector, pattern], timeout=timeout_s * 1000)  # fmt: skip
    return page.locator(selector).first.text_content().strip()


class Walk:
    """Screenshots and wall times of one walk through the app."""

    def __init__(self, page, folder: Path) -> None:
        self.page, self.folder = page, folder
        self.times: dict[str, float] = {}
        self.shots: list[Path] = []
        self._t0 = time.monotonic()

    def done(self, step: str) -> Path:
        self.times[step] = round(time.monotonic() - self._t0, 1)
        self._t0 = time.monotonic()
        path = self.folder / f"app-{len(self.shots) + 1:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        if step in PICTURES:
            IMAGES.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, IMAGES / PICTURES[step])
        (self.folder / "app-browser-times.json").write_text(json.dumps(self.times, indent=2) + "\n")
        return path

    def failed(self) -> None:
        """A screenshot of the page as it was when a step failed."""
        self.page.screenshot(path=str(self.folder / "app-failed.png"), full_page=True)

    def tab(self, title: str) -> None:
        self.page.locator(".nanokit-tabs .lm-TabBar-tab", has_text=title).first.click()
        self.page.locator(f".nanokit-tab-{title.lower()}").first.wait_for(state="visible")


def test_a_newcomer_walks_through_every_tab(voila_url, browser, artifacts_dir):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    walk = Walk(page, artifacts_dir)
    try:
        problems = _walk(page, walk, voila_url)
    except BaseException:
        walk.failed()
        raise
    finally:
        page.close()
    assert not problems, "; ".join(problems) + f" (screenshots: {', '.join(str(p) for p in walk.shots)})"


def _walk(page, walk: Walk, voila_url: str) -> list[str]:
    problems: list[str] = []  # later tabs are still walked (and photographed) when one of these fails

    # 1. The page renders: Voila executes the notebook, the widgets appear.
    page.goto(voila_url, timeout=3 * MINUTE_MS)
    page.locator(".nanokit-app").wait_for(timeout=5 * MINUTE_MS)
    page.locator(".nanokit-command textarea").wait_for()
    walk.done("rendered")

    # 2. Generate: engine, GPU and variant each change the rendered command.
    command = page.locator(".nanokit-command textarea")
    first = command.input_value()
    assert first.startswith("vllm serve"), first
    page.locator(".nanokit-variant button", has_text="FP8").first.click()
    page.wait_for_function("t => t.value.includes('FP8')", arg=command.element_handle(), timeout=MINUTE_MS)
    # (the textarea element persists while its value changes, so a handle to it stays valid)
    page.locator(".nanokit-gpu select").select_option(label="B200 180GB")
    page.locator(".nanokit-engine button", has_text="SGLang").click()
    page.wait_for_function("t => t.value.includes('sglang')", arg=command.element_handle(), timeout=MINUTE_MS)
    second = command.input_value()
    assert second != first and "FP8" in second and "sglang.launch_server" in second, second
    walk.done("generate-sglang-fp8-b200")

    # 3. Server: "Start server" serves the embedded CPU model; the status line says "running".
    walk.tab("Server")
    start = page.locator(".nanokit-start")
    start.click()
    _wait_for_text(page, ".nanokit-status", "starting", 60)
    assert start.is_disabled(), "the Start button should be disabled while the server starts"
    _wait_for_text(page, ".nanokit-server-message", "Starting", 60)  # the status line says what it is doing
    walk.done("server-starting")
    state = _wait_for_text(page, ".nanokit-status", "running|failed", SERVER_START_S)
    walk.done("server-running")
    assert state == "running", page.locator(".nanokit-server-message").text_content()

    # 4. Chat: a message gets an answer, with the reasoning in its own pane.
    walk.tab("Chat")
    chat = page.locator(".nanokit-tab-chat")
    try:
        box = chat.locator(".nanokit-chat-input textarea")
        box.fill("What is 2 + 3?")
        box.press("Tab")  # keyboard only: the box, then Send
        assert page.evaluate("() => !!document.activeElement.closest('.nanokit-chat-send')"), "Tab skips Send"
        box.press("Shift+Enter")  # a new line, not a send
        assert box.input_value() == "What is 2 + 3?\n"
        box.press("Backspace")
        box.press("Enter")  # sends
        _wait_for_text(page, ".nanokit-tab-chat .nanokit-chat-status", "completion|Error", 180)
        answer = chat.locator(".nanokit-chat-answer").text_content().strip()
        reasoning = chat.locator(".nanokit-chat-reasoning-text").text_content().strip()
        assert answer, "the answer is empty"
        assert chat.locator(".nanokit-chat-reasoning").is_visible(), "the reasoning pane is hidden"
        assert reasoning, "the reasoning pane is empty"
    except Exception as exc:  # noqa: BLE001  (recorded; the walk goes on to the Throughput tab)
        problems.append(f"Chat: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    walk.done("chat-answered")

    # 5. Tools: declare a tool of our own, make the first turn call it, answer the call by hand, see the loop end.
    walk.tab("Tools")
    try:
        _declare_and_answer_by_hand(page)
    except Exception as exc:  # noqa: BLE001
        problems.append(f"Tools: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    walk.done("tools-ran")
    walk.tab("Agents")
    try:
        page.locator(".nanokit-tab-agents .nanokit-agents-input input").fill("What is the weather in Paris?")
        page.locator(".nanokit-tab-agents .nanokit-agents-run").click()
        page.wait_for_function(
            """() => { const b = document.querySelector('.nanokit-tab-agents .nanokit-agents-run');
                       const t = document.querySelector('.nanokit-tab-agents .nanokit-agents-transcript');
                       return b && !b.disabled && t && t.querySelectorAll('div').length >= 2; }""",
            timeout=3 * MINUTE_MS)  # the question, then its steps (an answer or an error)
    except Exception as exc:  # noqa: BLE001
        problems.append(f"Agents: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    walk.done("agents-ran")

    # 6. Throughput: a short benchmark draws points on the live plot.
    walk.tab("Throughput")
    tab = page.locator(".nanokit-tab-throughput")
    tab.locator(".nanokit-bench-run").click()
    status_text = _wait_for_text(page, ".nanokit-tab-throughput .nanokit-bench-status", "finished|rror|failed", 300)
    # Points per trace of each plotly graph in the tab, read from plotly's own data on the graph div.
    count_points = """() => [...document.querySelectorAll('.nanokit-tab-throughput .js-plotly-plot')]
        .map(gd => (gd.data || []).map(t => (t.x || []).length))"""
    page.wait_for_function(f"({count_points})().some(graph => graph.some(n => n >= 2))", timeout=MINUTE_MS)
    page.set_viewport_size({"width": 1400, "height": 1900})  # the live figure and the Pareto chart below it
    walk.done("throughput-points")
    graphs = page.evaluate(count_points)
    # The plots follow the page theme: flip JupyterLab's theme flag and the figure's text turns light.
    font = """() => getComputedStyle(document.querySelector('.nanokit-tab-throughput .js-plotly-plot .gtitle')
        || document.querySelector('.nanokit-tab-throughput .js-plotly-plot text')).fill"""
    light_font = page.evaluate(font)
    page.evaluate("() => { document.body.dataset.jpThemeLight = 'false'; }")
    try:
        page.wait_for_function(f"({font})() !== {json.dumps(light_font)}", timeout=MINUTE_MS)
    except Exception as exc:  # noqa: BLE001
        problems.append(f"Theme: the plots kept their light template ({type(exc).__name__})")
    page.evaluate("() => { document.body.dataset.jpThemeLight = 'true'; }")
    # Save results writes the files and says where.
    tab.locator(".nanokit-bench-save").click()
    _wait_for_text(page, ".nanokit-tab-throughput .nanokit-bench-saved", "Saved|rror", 60)
    assert "finished" in status_text, status_text
    live, pareto = graphs[0], graphs[1]
    assert live[0] >= 2, f"the live out tok/s line has {live[0]} points"
    assert pareto[0] >= 1, "the finished run is not on the Pareto chart"
    assert tab.locator(".js-plotly-plot .scatterlayer .point").count() >= 1  # drawn, not just in the data
    assert "Saved runs.json" in tab.locator(".nanokit-bench-saved").text_content()
    return problems


def _declare_and_answer_by_hand(page) -> None:
    """Declare get_stock_price (answered by hand), force the first call to it, answer each call, wait for the end.

    The tiny model has never seen this tool, so the first turn is forced (tool_choice). A hand-answered tool
    is shown every call, arguments that miss the schema included (the person decides); a run in which no
    call reached the answer box (the model's choice, not the app's) is run once more.
    """
    tab = page.locator(".nanokit-tab-tools")
    tab.locator(".nanokit-toolform-name input").fill("get_stock_price")
    tab.locator(".nanokit-toolform-description input").fill("Get the latest price of a stock.")
    tab.locator(".nanokit-toolform-parameters textarea").fill("symbol?: string  # the ticker, e.g. NVDA")
    tab.locator(".nanokit-toolform-add").click()
    _wait_for_text(page, ".nanokit-tab-tools .nanokit-toolform-message", "Added get_stock_price", 30)
    page.wait_for_function("() => [...document.querySelectorAll('.nanokit-tab-tools .nanokit-tools-first-call option')]"
                           ".some(o => o.textContent === 'get_stock_price')", timeout=30_000)
    tab.locator(".nanokit-tools-first-call select").select_option(label="get_stock_price")
    tab.locator(".nanokit-tools-input input").fill("What is the price of NVDA stock?")
    finished = r"Answered after|Stopped at the step limit|Error"
    for attempt in range(2):
        tab.locator(".nanokit-tools-run").click()
        answered = 0
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if tab.locator(".nanokit-tools-callbox").is_visible():
                assert "get_stock_price(" in tab.locator(".nanokit-tools-callbox").text_content()
                tab.locator(".nanokit-tools-result textarea").fill("123.45 USD")
                tab.locator(".nanokit-tools-send-result").click()
                answered += 1
                tab.locator(".nanokit-tools-callbox").wait_for(state="hidden", timeout=30_000)
            status = tab.locator(".nanokit-tools-status").text_content()
            if re.search(finished, status) and not tab.locator(".nanokit-tools-run").is_disabled():
                break
            time.sleep(0.5)
        else:
            raise AssertionError("the tool loop did not finish within 240 s")
        if answered:
            break
    assert answered, f"the model's call never reached the hand answer: {tab.locator('.nanokit-tools-steps').text_content()}"
    assert re.search(r"Answered after|Stopped at the step limit", status), status
    assert "123.45 USD" in tab.locator(".nanokit-tools-steps").text_content()


def test_the_dark_theme_renders_readably(voila_url, browser, artifacts_dir):
    """Voila's dark theme (`?theme=dark`): the app renders on it (a second kernel; no server is started)."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        page.goto(voila_url + "?theme=dark", timeout=3 * MINUTE_MS)
        page.locator(".nanokit-app").wait_for(timeout=5 * MINUTE_MS)
        page.locator(".nanokit-command textarea").wait_for()
        shot = artifacts_dir / "app-dark-theme.png"
        page.screenshot(path=str(shot), full_page=True)
        IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, IMAGES / PICTURES["dark-theme"])
        assert page.evaluate("() => document.body.dataset.jpThemeLight") == "false"
    finally:
        page.close()
