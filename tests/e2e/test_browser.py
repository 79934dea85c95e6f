"""The dashboard in a real browser, with the network cut off.

Headless Chromium (Debian's ``chromium``, driven by Playwright) loads the dashboard from a server
started on a free loopback port, with every request to anything else aborted, as on a public-sector
network without internet. The page must load with no failed request and no console error, and Step,
Play/Pause, Reset, a change of policy and the choice of a province must all show in the page, with no
traceback. A screenshot is kept in ``outputs/test-artifacts/``; the page load and Step round-trip times
at 5,000 citizens are printed (and written beside the screenshot), not asserted: timings belong to
benchmarks.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from sim.config import SimConfig
from tests.conftest import REPO

HORIZON = SimConfig().steps  # the dashboard runs the declared horizon (2020-01 to 2029-12)

app = pytest.importorskip("sim.app", reason="the dashboard needs solara: pip install -e '.[test]'")

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed: pip install -e '.[test]'"
)

ARTEFACTS = REPO / "outputs" / "test-artifacts"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = ("no Chromium found (looked for $CHROMIUM and " + ", ".join(BROWSERS) + " on PATH); "
                "install Debian's with `apt-get install chromium` (as root) to run the browser test")


def find_chromium() -> str | None:
    """The browser to drive: $CHROMIUM if set, else the first Chromium on PATH.

    Playwright's own browser download is not used: it needs internet at install time, while a
    distribution's package installs from the usual package mirror.
    """
    candidates = [os.environ["CHROMIUM"]] if os.environ.get("CHROMIUM") else []
    candidates += [path for name in BROWSERS if (path := shutil.which(name))]
    return next((c for c in candidates if Path(c).is_file() and os.access(c, os.X_OK)), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_serving(url: str, server: subprocess.Popen, log: Path, timeout: float = 90.0) -> None:
    """Poll the server until it answers; fail with the end of its log if it dies or stays silent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"dashboard server exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"dashboard server did not answer at {url} within {timeout:.0f} s:\n"
                f"{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def dashboard_url() -> Iterator[str]:
    """`solara run sim/app.py` on a free loopback port, stopped when the tests are done."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = ARTEFACTS / "dashboard-server.log"
    env = os.environ | {"SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "solara", "run", "sim/app.py", "--host", "127.0.0.1",
             "--port", str(port), "--production"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(url, server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# What Python's and Mesa's error reports put on the page.
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|error in step|error in visualization")


def month_shown(page) -> int:
    """The month in the headline ("12 of 120")."""
    text = page.locator(".headline-stat").first.inner_text()
    return int(re.search(r"(\d+) of \d+", text).group(1))


# Clicks Step in the page and resolves, in milliseconds, when the headline shows the month wanted and
# the browser has painted it: the round trip a user sees (click, server step and render, update).
STEP_ROUND_TRIP_JS = """
async (want) => {
  const headline = document.querySelector('.headline');
  const step = [...document.querySelectorAll('button')].find(b => b.textContent.trim() === 'Step');
  const shows = () => headline.querySelector('.headline-stat').textContent.includes(want);
  const start = performance.now();
  await new Promise(resolve => {
    const observer = new MutationObserver(() => {
      if (shows()) { observer.disconnect(); resolve(); }
    });
    observer.observe(headline, {subtree: true, childList: true, characterData: true});
    step.click();
  });
  await new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  return performance.now() - start;
}
"""

# The page is loaded when the headline is there and the six charts (five and the province view's) have
# been drawn.
LOADED_JS = ("document.querySelector('.headline-stat') !== null && "
             "document.querySelectorAll('.solara-echarts canvas').length === 6")


def choose_province(page, name: str) -> None:
    """Pick ``name`` in the province view's select as a user does: type the start of it, click it."""
    field = page.locator(".province-select input[type=text]")
    field.click()
    field.fill(name)
    page.get_by_role("option", name=name, exact=True).click()


def province_figure(page, label: str) -> str:
    """The value of the province view's figure labelled ``label``."""
    return page.locator(".province-stat", has_text=label).locator("div").nth(1).inner_text()


def set_slider(page, text: str, presses: list[str]) -> None:
    """Move the slider under the label starting with ``text`` with the keyboard, as a user can."""
    box = page.locator(".labelled-slider", has_text=text)
    box.locator("[role=slider]").focus()
    for key in presses:
        box.locator("[role=slider]").press(key)


@pytest.fixture(scope="module")
def chromium() -> str:
    """The browser's path; the test is skipped, saying how to get one, on a machine without it."""
    path = find_chromium()
    if path is None:
        pytest.skip(INSTALL_HINT)
    return path


def test_dashboard_offline_in_chromium(chromium: str, dashboard_url: str) -> None:
    origin = dashboard_url.rstrip("/")
    blocked: list[str] = []
    failed: list[str] = []
    console_errors: list[str] = []

    def only_the_dashboard(route) -> None:
        url = route.request.url
        if url == origin or url.startswith(origin + "/"):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.route("**/*", only_the_dashboard)
            page.on("requestfailed", lambda r: failed.append(f"{r.url}: {r.failure}"))
            page.on("response", lambda r: failed.append(f"{r.url}: HTTP {r.status}") if r.status >= 400
                    else None)
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: console_errors.append(str(e)))
            expect = sync_api.expect

            # Load: from navigation to the headline at month 0 and the five charts drawn.
            page.goto(dashboard_url)
            page.wait_for_function(LOADED_JS, polling="raf", timeout=90_000)
            load_s = page.evaluate("performance.now()") / 1000
            expect(page.locator(".headline-stat").first).to_contain_text(f"0 of {HORIZON}")
            assert page.title() == "Digital public services in Indonesia"
            expect(page.get_by_text("Changes to these settings apply when you press Reset")).to_be_visible()
            expect(page.locator(".parameters-note")).to_contain_text("Parameters: calibrated (draw ")
            expect(page.locator(".island-tile")).to_have_count(6)
            expect(page.locator(".province-tile")).to_have_count(38)

            # Step: the month counter and the charts move on; time each round trip.
            chart = page.locator(".solara-echarts").first
            before = chart.screenshot()
            step_s = []
            for month in range(1, 6):
                step_s.append(page.evaluate(STEP_ROUND_TRIP_JS, f"{month} of {HORIZON}") / 1000)
                expect(page.locator(".headline-stat").first).to_contain_text(f"{month} of {HORIZON}")
            page.wait_for_timeout(200)  # the chart redraws after the text arrives
            assert chart.screenshot() != before, "the adoption chart did not change after five Steps"

            # The province filter: the whole country first, then a province's own figures, its tile
            # outlined, the noise warning where few agents live there; it follows the next Step.
            view = page.locator(".province-view")
            expect(view.locator(".province-name")).to_contain_text("the whole country")
            expect(view.locator(".province-stat")).to_have_count(6)
            expect(view.locator(".province-stat", has_text="Citizen agents")).to_contain_text("5,000")
            choose_province(page, "Jawa Barat")
            expect(view.locator(".province-name")).to_contain_text("Jawa Barat only")
            expect(page.locator(".province-tile.selected")).to_have_count(1)
            expect(page.locator(".province-tile.selected")).to_have_attribute("title",
                                                                              re.compile("^Jawa Barat:"))
            agents = int(province_figure(page, "Citizen agents").replace(",", ""))
            assert 0 < agents < 5000
            expect(view.locator(".province-stat").first).to_contain_text(f"5 of {HORIZON}")
            trust = view.locator(".province-stat", has_text="Mean trust")
            expect(trust).to_contain_text(re.compile(r"[01]\.\d\d"))  # on 0-1, not in %
            choose_province(page, "Papua")
            expect(view.locator(".province-name")).to_contain_text("Papua only")
            expect(view.locator(".province-warning")).to_contain_text("citizen agents live in Papua")
            page.evaluate(STEP_ROUND_TRIP_JS, f"6 of {HORIZON}")
            expect(view.locator(".province-stat").first).to_contain_text(f"6 of {HORIZON}")
            expect(view.locator(".province-name")).to_contain_text("Papua only")
            assert not TRACEBACK.search(page.inner_text("body")), page.inner_text("body")[:2000]
            choose_province(page, "All Indonesia")
            expect(view.locator(".province-name")).to_contain_text("the whole country")
            expect(view.locator(".province-warning")).to_have_count(0)
            expect(page.locator(".province-tile.selected")).to_have_count(0)

            # Play, then pause: the months run on and stop.
            page.get_by_role("button", name="▶").click()
            expect(page.locator(".headline-stat").first).not_to_contain_text(f"5 of {HORIZON}",
                                                                             timeout=20_000)
            page.get_by_role("button", name="❚❚").click()
            expect(page.get_by_role("button", name="▶")).to_be_visible()
            page.wait_for_timeout(400)  # a month already under way when Pause arrived may still show
            paused_at = month_shown(page)
            assert paused_at > 5
            page.wait_for_timeout(800)
            assert month_shown(page) == paused_at, "the model kept stepping after Pause"

            # Play with the pause at its minimum: the months run on and no traceback replaces the
            # page (a render racing the Play thread once did). Reset stops Play and starts again.
            set_slider(page, "Pause between months", ["Home"])
            expect(page.get_by_text(f"Pause between months: {app.MIN_PLAY_INTERVAL_MS} ms")).to_be_visible()
            page.get_by_role("button", name="▶").click()
            for _ in range(15):  # about three seconds
                page.wait_for_timeout(200)
                assert not TRACEBACK.search(page.inner_text("body")), page.inner_text("body")[:2000]
            expect(page.locator(".headline-stat").first).to_be_visible()
            assert month_shown(page) > paused_at, "Play at the minimum pause did not advance"
            page.get_by_role("button", name="Reset").click()
            expect(page.locator(".headline-stat").first).to_contain_text(f"0 of {HORIZON}", timeout=30_000)
            expect(page.get_by_role("button", name="▶")).to_be_visible()

            # Play to the horizon with several months per redraw: it stops at the horizon, not past it.
            set_slider(page, "Months per Step", ["ArrowRight"] * 6)  # 7: does not divide the horizon
            expect(page.get_by_text("Months per Step and per redraw: 7")).to_be_visible()
            page.get_by_role("button", name="▶").click()
            expect(page.locator(".headline-stat").first).to_contain_text(f"{HORIZON} of {HORIZON}",
                                                                         timeout=30_000)
            page.wait_for_timeout(500)
            assert month_shown(page) == HORIZON
            expect(page.get_by_role("button", name="Step")).to_be_disabled()
            page.set_viewport_size({"width": 1400, "height": 1500})  # the page scrolls inside itself
            page.wait_for_timeout(300)
            ARTEFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=ARTEFACTS / "dashboard.png")

            # Change the policy: the page says it applies on Reset; Reset rebuilds the model with it.
            page.locator(".v-select", has_text="Policy scenario").locator(".v-select__slot").click()
            page.get_by_role("option", name="Baseline").click()
            expect(page.get_by_text("Not applied yet")).to_be_visible()
            expect(page.locator(".headline")).to_contain_text("Comprehensive:")
            page.get_by_role("button", name="Reset").click()
            expect(page.locator(".headline")).to_contain_text("Baseline:", timeout=30_000)
            expect(page.locator(".headline-stat").first).to_contain_text(f"0 of {HORIZON}")
            expect(page.get_by_text("Not applied yet")).to_have_count(0)
            page.get_by_role("button", name="Step").click()  # seven months at a time now
            expect(page.locator(".headline-stat").first).to_contain_text(f"7 of {HORIZON}")
            expect(page.locator(".headline")).to_contain_text("IDR 0 bn this month")
            page.wait_for_timeout(300)  # let any late request or console message arrive
        finally:
            browser.close()

    each = ", ".join(f"{1000 * s:.0f}" for s in step_s)
    timings = (f"dashboard at 5,000 citizens, offline: page load {load_s:.2f} s, Step round trip "
               f"median {1000 * statistics.median(step_s):.0f} ms (each: {each} ms)")
    print(timings)
    (ARTEFACTS / "dashboard-timings.txt").write_text(timings + "\n")
    assert failed == [], f"failed requests: {failed}"
    assert console_errors == [], f"console errors: {console_errors}"
    assert blocked == [], f"the page asked for something outside the dashboard: {blocked}"
