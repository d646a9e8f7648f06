"""How long the app takes to answer a slider, as a learner feels it.

``python -m tools.latency [--pages cnn rnn] [--repeats 3] [--json PATH] [--max-sliders N]
[--no-cold | --cold-only] [--cold-repeats 3]`` starts its own ``streamlit run app.py`` and opens every page (all but Home by
default) in headless Chromium, 1400 x 1000. It reports:

- per slider: every visible ``stSlider`` (``st.slider`` and ``st.select_slider``, main area
  and sidebar; not in a closed expander or a hidden tab, not disabled) has its thumb
  focused and nudged with ArrowRight, then ArrowLeft, alternately (ArrowLeft first at the
  maximum), ``--repeats`` times; the median time from the key press to *settled*;
- per page: the deep link's load time, the server's rerun time with nothing to train
  (``AppTest``: one run, then the median of three reruns, one torch thread like the app's
  server), and the number and bytes of the charts' JSON a rerun sends;
- the cold start: from launching a fresh server to the first chart of a deep link to
  ``/gradient_descent`` being visible.

Settled. The server says when a run ends: a ``script_finished`` message on the app's
websocket (read here from Playwright's view of the socket), for a fragment's run as for the
page's. A nudge has settled when, after the keydown event,

1. a run's ``script_finished`` has arrived (and no other run started within ``QUIET_S``
   after it: a chained rerun belongs to the same nudge);
2. the app's state (``[data-testid="stApp"][data-test-script-state]``) is ``notRunning``
   and no ``stSkeleton`` (an element still loading) shows.

The time is read in the page, on the browser's clock: from keydown to the later of the
first animation frame after the run's last websocket message was handled and the end of the
last long task (Plotly's drawing). ``started`` is keydown to the first sign of the run (the
state turning ``running``, or a message): from then on the app shows the previous result
faded. Neither DOM signal alone is enough: ``stStatusWidget`` appears only 500 ms into a
run, and a fragment's run can turn the state ``running`` and back within one render, so a
MutationObserver never sees it change.

A benchmark, not a test: it never judges a time. Every wait is bounded (``--timeout`` per
nudge); a timeout or an exception shown on a page is recorded and the run goes on.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]  # fmt: skip
VIEWPORT = {"width": 1400, "height": 1000}
COLD_PAGE = "gradient_descent"
TIMEOUT_S = 120.0  # per nudge, and per page load
START_S = 5.0  # a nudge that starts no run within this is an error (the value did not change)
QUIET_S = 0.3  # a run starting this soon after settling belongs to the same nudge
RERUNS = 3  # AppTest reruns per page
SERVER_LOG = Path(tempfile.gettempdir()) / "dl-math-lab-latency-server.log"  # tracebacks too

# Installed before the page's own scripts: the time of the first frame after each websocket
# message was handled, and the end of each long task.
_INIT_JS = """
window.__latencyLog = {msgs: [], tasks: []};
(() => {
  const Native = window.WebSocket;
  window.WebSocket = function (...args) {
    const ws = new Native(...args);
    ws.addEventListener('message', () => requestAnimationFrame(
      () => window.__latencyLog.msgs.push(performance.now())));
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, Native);
  const keep = entries => {
    for (const e of entries) window.__latencyLog.tasks.push(e.startTime + e.duration);
  };
  const observer = new PerformanceObserver(list => keep(list.getEntries()));
  observer.observe({type: 'longtask', buffered: true});
  // A long task's entry reaches the callback only some time after the task: whoever reads
  // the log first takes the entries still queued (see _SETTLED_JS).
  window.__latencyLog.flush = () => keep(observer.takeRecords());
})();
"""
# Installed once per page load: the keydown, and when the script state turns "running".
_INSTALL_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const L = window.__latency = {keyAt: null, startedAt: null};
  new MutationObserver(() => {
    if (app.getAttribute('data-test-script-state') !== 'running') return;
    if (L.keyAt !== null && L.startedAt === null) L.startedAt = performance.now();
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
  document.addEventListener('keydown', () => {
    if (L.keyAt === null) L.keyAt = performance.now();
  }, true);
}"""
_RESET_JS = "() => Object.assign(window.__latency, {keyAt: null, startedAt: null})"
# After the run: is the page idle, and when did it settle (see the module's docstring)?
_SETTLED_JS = """async () => {
  // Once the browser is idle (a chart's drawing, queued after the messages, has run), take
  // the long tasks whose entries are still queued.
  await new Promise(r => requestAnimationFrame(() => requestIdleCallback(r, {timeout: 2000})));
  const L = window.__latency, log = window.__latencyLog;
  log.flush();
  const app = document.querySelector('[data-testid="stApp"]');
  const idle = app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stSkeleton"]');
  const after = xs => xs.filter(t => t > L.keyAt);
  const msgs = after(log.msgs), end = Math.max(...msgs, ...after(log.tasks));
  const first = Math.min(L.startedAt ?? Infinity, msgs.length ? msgs[0] : Infinity);
  return {idle, keyed: L.keyAt !== null, settled: end - L.keyAt, started: first - L.keyAt};
}"""
_SLIDERS_JS = """() => [...document.querySelectorAll('[data-testid="stSlider"]')].map((el, dom) => {
  const box = el.getBoundingClientRect();
  const thumb = el.querySelector('input[type="range"], [role="slider"]');
  const label = el.querySelector('[data-testid="stWidgetLabel"]');
  const num = (prop, aria) => Number(thumb && (thumb[prop] ?? thumb.getAttribute(aria)));
  return {
    dom,
    visible: box.width > 0 && box.height > 0 && el.checkVisibility({visibilityProperty: true}),
    label: ((label && label.innerText) || (thumb && thumb.getAttribute('aria-label')) || '').trim(),
    sidebar: el.closest('[data-testid="stSidebar"]') !== null,
    disabled: !thumb || thumb.disabled === true || thumb.getAttribute('aria-disabled') === 'true',
    value: num('value', 'aria-valuenow'), min: num('min', 'aria-valuemin'),
    max: num('max', 'aria-valuemax'),
  };
})"""
_STATE_JS = """() => document.querySelector('[data-testid="stApp"]')
  ?.getAttribute('data-test-script-state')"""


@dataclass(frozen=True)
class SliderTiming:
    label: str
    sidebar: bool
    settled_s: tuple[float, ...]  # per nudge: key press to settled
    started_s: tuple[float, ...]  # per nudge: key press to the run's start
    median_s: float | None  # of settled_s
    error: str | None = None


@dataclass(frozen=True)
class ServerTiming:
    first_run_s: float  # trains the defaults (unless this process has them cached)
    rerun_ms: float  # median of RERUNS reruns with nothing to train
    charts: int
    chart_bytes: int  # the Plotly JSON of one rerun
    exceptions: tuple[str, ...]  # shown by the page (redacted; the traceback goes to stderr)


@dataclass(frozen=True)
class PageReport:
    page: str
    load_s: float | None  # deep link to settled (the first visit trains the defaults)
    sliders: tuple[SliderTiming, ...]
    median_s: float | None  # over the sliders' medians
    server: ServerTiming | None
    skipped: tuple[str, ...]  # visible sliders not nudged (disabled, or min == max)
    errors: tuple[str, ...]  # exceptions the page showed, timeouts


@dataclass(frozen=True)
class Report:
    machine: dict[str, Any]
    pages: tuple[PageReport, ...]
    median_slider_s: float | None  # over every slider of every page
    cold_start_s: float | None  # the median of cold_starts_s
    cold_starts_s: tuple[float, ...] = ()


def _median(xs: Sequence[float]) -> float | None:
    return statistics.median(xs) if xs else None


# --- the server and the browser ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(timeout_s: float = 90.0) -> Iterator[str]:
    """A fresh ``streamlit run app.py`` on a free loopback port (the browser tests' flags);
    yields its URL once ``/_stcore/health`` answers. Its output goes to ``SERVER_LOG``."""
    port = _free_port()
    with open(SERVER_LOG, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"streamlit did not become healthy; see {SERVER_LOG}")
                time.sleep(0.05)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def launch_browser(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def wait_loaded(pg: Any, timeout_s: float = TIMEOUT_S, quiet_s: float = 0.5) -> None:
    """Wait until the page has run (a title or an exception is there), its state has been
    ``notRunning`` with no skeleton for ``quiet_s``."""
    pg.wait_for_selector('h1, [data-testid="stException"]', timeout=timeout_s * 1000)
    deadline = time.monotonic() + timeout_s
    quiet_since = None
    while time.monotonic() < deadline:
        idle = pg.evaluate(_STATE_JS) == "notRunning"
        if idle and pg.locator('[data-testid="stSkeleton"]').count() == 0:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= quiet_s:
                return
        else:
            quiet_since = None
        time.sleep(0.05)
    raise TimeoutError(f"the page kept running for {timeout_s:.0f} s")


# --- measuring -----------------------------------------------------------------------------


def visible_sliders(pg: Any) -> list[dict[str, Any]]:
    return [s for s in pg.evaluate(_SLIDERS_JS) if s["visible"]]


class RunLog:
    """The runs a page's server has finished, from its websocket: ``script_finished``
    messages (a page's or a fragment's run; not one cut short by a newer widget value)."""

    def __init__(self, pg: Any) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self._msg, self.finished = ForwardMsg, 0
        self._early = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_EARLY_FOR_RERUN")
        pg.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload: Any) -> None:
        if not isinstance(payload, (bytes, bytearray)):
            return
        try:
            m = self._msg.FromString(bytes(payload))
        except Exception:
            return
        if m.WhichOneof("type") == "script_finished" and m.script_finished != self._early:
            self.finished += 1


def nudge(
    pg: Any, runs: RunLog, dom_index: int, key: str, timeout_s: float = TIMEOUT_S
) -> tuple[float, float]:
    """Press ``key`` on the thumb of the ``dom_index``-th ``stSlider``; (settled, started) in
    seconds from the key press. Raises TimeoutError when it does not settle."""
    thumb = (
        pg.locator('[data-testid="stSlider"]')
        .nth(dom_index)
        .locator('input[type="range"], [role="slider"]')
        .first
    )
    thumb.focus(timeout=timeout_s * 1000)
    pg.evaluate(_RESET_JS)
    before = runs.finished
    pressed = time.monotonic()
    pg.keyboard.press(key)
    while True:  # Playwright delivers websocket events only while it is called: poll with it
        pg.wait_for_timeout(10)
        waited = time.monotonic() - pressed
        if runs.finished > before:
            seen = runs.finished
            pg.wait_for_timeout(QUIET_S * 1000)
            r = pg.evaluate(_SETTLED_JS)
            if runs.finished == seen and r["idle"]:
                return round(r["settled"] / 1000, 4), round(r["started"] / 1000, 4)
        elif waited > START_S and not math.isfinite(pg.evaluate(_SETTLED_JS)["started"]):
            raise TimeoutError(f"no rerun within {START_S:.0f} s")
        if waited > timeout_s:
            raise TimeoutError(f"not settled after {timeout_s:.0f} s")


def _page_errors(pg: Any) -> list[str]:
    boxes = pg.locator('[data-testid="stException"]')
    # The app hides the details (showErrorDetails = "none"); the traceback is in SERVER_LOG.
    return [f"exception shown: {t.strip()[:100]}" for t in boxes.all_inner_texts()]


def measure_sliders(
    pg: Any, runs: RunLog, repeats: int, max_sliders: int, timeout_s: float = TIMEOUT_S
) -> tuple[list[SliderTiming], list[str], list[str]]:
    """Nudge the visible sliders of a loaded page, one after the other, by their index in
    the visible list (re-read after every nudge: a nudge may add or remove sliders).
    Returns (timings, skipped, errors)."""
    timings: list[SliderTiming] = []
    skipped: list[str] = []
    errors: list[str] = []
    i = 0
    while i < len(visible_sliders(pg)) and len(timings) < max_sliders:
        s = visible_sliders(pg)[i]
        i += 1
        if s["disabled"] or not s["min"] < s["max"]:
            skipped.append(s["label"])
            continue
        right = s["value"] < s["max"]
        settled: list[float] = []
        started: list[float] = []
        error = None
        for _ in range(repeats):
            try:
                key = "ArrowRight" if right else "ArrowLeft"
                t, t0 = nudge(pg, runs, s["dom"], key, timeout_s)
            except Exception as e:  # a hung or broken page: record it, go on
                error = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
                break
            settled.append(t)
            started.append(t0)
            now = visible_sliders(pg)
            if i - 1 >= len(now) or now[i - 1]["label"] != s["label"]:
                break  # the page changed under this slider
            s = now[i - 1]
            right = not right if s["min"] < s["value"] < s["max"] else s["value"] <= s["min"]
        timings.append(
            SliderTiming(
                s["label"], s["sidebar"], tuple(settled), tuple(started), _median(settled), error
            )
        )
        errors += [e for e in _page_errors(pg) if e not in errors]
        if error and "not settled" in error:
            errors.append(f"{s['label']}: {error}; the page's other sliders were not measured")
            break
    return timings, skipped, errors


def server_timing(page: str, reruns: int = RERUNS) -> ServerTiming:
    """The page's script in ``AppTest`` (this process, one torch thread): one run, then the
    median of ``reruns`` reruns with nothing to train, and the charts of the last one."""
    from streamlit.testing.v1 import AppTest

    from dl_core.training import one_thread

    with one_thread():
        at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=600)
        t = time.perf_counter()
        at.run()
        first = time.perf_counter() - t
        times = []
        for _ in range(reruns):
            t = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - t)
    charts = at.get("plotly_chart")
    return ServerTiming(
        first_run_s=first,
        rerun_ms=statistics.median(times) * 1000,
        charts=len(charts),
        chart_bytes=sum(len(c.proto.spec) for c in charts),
        exceptions=tuple(e.message.splitlines()[0][:100] for e in at.exception),
    )


def measure_page(
    browser: Any,
    url: str,
    page: str,
    repeats: int = 3,
    max_sliders: int = 40,
    timeout_s: float = TIMEOUT_S,
    with_server: bool = True,
) -> PageReport:
    """One page in a fresh browser context: its load, its sliders; then its server rerun."""
    ctx = browser.new_context(viewport=VIEWPORT)
    load_s = None
    timings: list[SliderTiming] = []
    skipped: list[str] = []
    errors: list[str] = []
    try:
        ctx.add_init_script(_INIT_JS)
        pg = ctx.new_page()
        runs = RunLog(pg)
        t = time.perf_counter()
        pg.goto(f"{url}/{page}", timeout=timeout_s * 1000)
        wait_loaded(pg, timeout_s)
        load_s = time.perf_counter() - t
        errors += _page_errors(pg)
        pg.evaluate(_INSTALL_JS)
        timings, skipped, more = measure_sliders(pg, runs, repeats, max_sliders, timeout_s)
        errors += [e for e in more if e not in errors]
    except Exception as e:  # the page did not load: record it, go on
        errors.append(f"{type(e).__name__}: {str(e).splitlines()[0][:200]}")
    finally:
        ctx.close()
    server = None
    if with_server:
        try:
            server = server_timing(page)
        except Exception as e:
            errors.append(f"server timing: {type(e).__name__}: {e}")
        errors += [f"server rerun: exception: {e}" for e in server.exceptions] if server else []
    medians = [s.median_s for s in timings if s.median_s is not None]
    return PageReport(
        page, load_s, tuple(timings), _median(medians), server, tuple(skipped), tuple(errors)
    )


def cold_start(browser: Any, page: str = COLD_PAGE, timeout_s: float = TIMEOUT_S) -> float:
    """Seconds from launching a fresh server to the first chart of a deep link being visible."""
    t = time.perf_counter()
    with streamlit_server() as url:
        ctx = browser.new_context(viewport=VIEWPORT)
        try:
            pg = ctx.new_page()
            pg.goto(f"{url}/{page}", timeout=timeout_s * 1000)
            pg.wait_for_selector(".js-plotly-plot", state="visible", timeout=timeout_s * 1000)
            return time.perf_counter() - t
        finally:
            ctx.close()


def machine_info(browser_version: str = "") -> dict[str, Any]:
    import plotly
    import streamlit
    import torch

    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "streamlit": streamlit.__version__,
        "plotly": plotly.__version__,
        "chromium": browser_version,
        "viewport": f"{VIEWPORT['width']}x{VIEWPORT['height']}",
    }


def make_report(
    machine: dict[str, Any], pages: Sequence[PageReport], cold_starts_s: Sequence[float] = ()
) -> Report:
    medians = [s.median_s for p in pages for s in p.sliders if s.median_s is not None]
    cold = tuple(cold_starts_s)
    return Report(machine, tuple(pages), _median(medians), _median(cold), cold)


def run(
    pages: Sequence[str],
    repeats: int = 3,
    max_sliders: int = 40,
    cold: int = 1,
    timeout_s: float = TIMEOUT_S,
    progress: Callable[[str], None] = print,
) -> Report:
    from playwright.sync_api import sync_playwright

    machine = machine_info()  # the load average before the run
    with sync_playwright() as p:
        browser = launch_browser(p)
        try:
            machine["chromium"] = browser.version
            cold_s = []
            for _ in range(cold):
                cold_s.append(cold_start(browser, timeout_s=timeout_s))
                progress(f"cold start to the first chart of /{COLD_PAGE}: {cold_s[-1]:.2f} s\n")
            reports = []
            with streamlit_server() as url:
                for page in pages:
                    reports.append(
                        measure_page(browser, url, page, repeats, max_sliders, timeout_s)
                    )
                    progress(format_page(reports[-1]))
        finally:
            browser.close()
    return make_report(machine, reports, cold_s)


# --- output --------------------------------------------------------------------------------


def _s(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def format_page(p: PageReport) -> str:
    lines = [f"{p.page}  (load {_s(p.load_s)} s)", f"  {'slider':44s} {'where':8s} {'settled s':>9s} {'started s':>9s}"]  # fmt: skip
    for s in p.sliders:
        where = "sidebar" if s.sidebar else "main"
        lines.append(
            f"  {s.label[:44]:44s} {where:8s} {_s(s.median_s):>9s} {_s(_median(s.started_s)):>9s}"
            + (f"  ! {s.error}" if s.error else "")
        )
    lines += [f"  skipped: {', '.join(p.skipped)}"] if p.skipped else []
    lines += [f"  ! {e}" for e in p.errors]
    return "\n".join(lines) + "\n"


def format_summary(r: Report) -> str:
    head = f"{'page':18s} {'sliders':>7s} {'median s':>8s} {'max s':>6s} {'server ms':>9s} {'charts':>6s} {'chart MB':>8s} {'load s':>6s} errors"  # fmt: skip
    lines = [head]
    for p in r.pages:
        medians = [s.median_s for s in p.sliders if s.median_s is not None]
        sv = p.server
        lines.append(
            f"{p.page:18s} {len(p.sliders):7d} {_s(p.median_s):>8s} "
            f"{_s(max(medians) if medians else None):>6s} "
            f"{_s(sv.rerun_ms if sv else None, 0):>9s} {sv.charts if sv else '-':>6} "
            f"{_s(sv.chart_bytes / 1e6 if sv else None):>8s} {_s(p.load_s, 1):>6s} {len(p.errors)}"
        )
    n = sum(len(p.sliders) for p in r.pages)
    lines.append(f"median over all {n} sliders: {_s(r.median_slider_s)} s")
    lines.append(
        f"cold start to the first chart of /{COLD_PAGE}: median {_s(r.cold_start_s)} s of "
        + (", ".join(_s(t) for t in r.cold_starts_s) or "none")
    )
    m = r.machine
    lines.append(
        f"{m['date']}, {m['cpus']} CPUs (load {m['load_average'][0]:.1f} before), torch {m['torch']}, "
        f"streamlit {m['streamlit']}, plotly {m['plotly']}, chromium {m['chromium']}"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    from ui.nav import available

    names = [p.url_path for p in available() if p.url_path != "home"]
    ap = argparse.ArgumentParser(prog="python -m tools.latency", description=__doc__.split("\n")[0])  # fmt: skip
    ap.add_argument("--pages", nargs="+", choices=[*names, "home"], default=names)
    ap.add_argument("--repeats", type=int, default=3, help="nudges per slider (median)")
    ap.add_argument("--max-sliders", type=int, default=40, help="per page")
    ap.add_argument("--timeout", type=float, default=TIMEOUT_S, help="seconds per nudge")
    ap.add_argument("--no-cold", action="store_true", help="skip the cold start")
    ap.add_argument("--cold-repeats", type=int, default=3, help="cold starts (median)")
    ap.add_argument("--cold-only", action="store_true", help="only the cold start")
    ap.add_argument("--json", type=Path, help="write the whole report here")
    a = ap.parse_args(argv)
    # AppTest in this process's main thread: Streamlit warns that there is no session (a
    # filter, since Streamlit resets its loggers' levels when AppTest loads its config).
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        lambda r: "missing ScriptRunContext" not in r.getMessage()
    )
    if a.repeats < 1 or a.max_sliders < 0 or not math.isfinite(a.timeout) or a.timeout <= 0:
        ap.error("--repeats must be >= 1, --max-sliders >= 0, --timeout > 0")
    cold = 0 if a.no_cold else max(a.cold_repeats, 1)
    report = run([] if a.cold_only else a.pages, a.repeats, a.max_sliders, cold, a.timeout)
    print(format_summary(report))
    if a.json:
        a.json.write_text(json.dumps(asdict(report), indent=1) + "\n")
        print(f"wrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
