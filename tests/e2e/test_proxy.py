"""The classroom setup: deploy/serve.sh starts two Streamlit workers behind nginx.

Through the proxy: a page renders in a real browser and a slider reruns it (the websocket
is proxied), an upload reaches the worker that holds its session, the load tester's
learners all finish their page without an exception, each session runs on the worker its
cookie chose, the learners spread over both workers, and a SIGTERM to serve.sh stops nginx
and every worker.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import assert_no_exception, digit_one_png, wait_idle
from tools.loadtest import load_test

pytestmark = pytest.mark.e2e

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@dataclass
class Deployment:
    url: str
    worker_ports: list[int]
    run_dir: Path
    proc: subprocess.Popen


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _three_free_ports() -> int:
    """A port P with P+1 and P+2 free too (the proxy and its two workers)."""
    for _ in range(200):
        p = random.randint(20000, 40000)
        if all(_free(p + i) for i in range(3)):
            return p
    raise RuntimeError("no three consecutive free ports")


def _get(url: str, cookie: str | None = None) -> tuple[int, str, Message]:
    req = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, r.read().decode(), r.headers


def _route(headers: Message) -> str:
    """The value of the stroute cookie the proxy set."""
    (c,) = [c for c in headers.get_all("Set-Cookie") if c.startswith("stroute=")]
    return c.split(";")[0].split("=", 1)[1]


def _connects(port: int) -> int:
    """Sessions a worker has accepted so far (its Streamlit /_stcore/metrics)."""
    _, text, _ = _get(f"http://127.0.0.1:{port}/_stcore/metrics")
    for line in text.splitlines():
        if line.startswith('session_events_total{type="connect"}'):
            return int(float(line.split()[-1]))
    raise AssertionError("no session_events_total in the worker's metrics")


@pytest.fixture(scope="module")
def proxy(tmp_path_factory) -> Iterator[Deployment]:
    if not Path(NGINX).exists():
        if os.environ.get("CI"):
            pytest.fail("nginx is missing: .ci/run must apt-get install -y nginx")
        pytest.skip("nginx not installed (apt-get install -y nginx)")
    port = _three_free_ports()
    run_dir = tmp_path_factory.mktemp("serve")
    log = open(run_dir / "serve.out", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        ["bash", str(ROOT / "deploy" / "serve.sh"), "--workers", "2", "--port", str(port),
         "--run-dir", str(run_dir), "--warm", "home,backprop"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "PYTHON": sys.executable},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 240
        while "serving http" not in (run_dir / "serve.out").read_text():
            if proc.poll() is not None:
                raise RuntimeError(f"serve.sh exited: {(run_dir / 'serve.out').read_text()}")
            if time.time() > deadline:
                raise RuntimeError("serve.sh did not come up in 240 s")
            time.sleep(0.5)
        yield Deployment(url, [port + 1, port + 2], run_dir, proc)
    finally:
        if proc.poll() is None:  # the whole process group: serve.sh, nginx, the workers
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()


def test_health_through_the_proxy_and_sticky_cookie(proxy):
    status, body, headers = _get(f"{proxy.url}/_stcore/health")
    assert (status, body) == (200, "ok")
    assert any(c.startswith("stroute=") for c in headers.get_all("Set-Cookie"))
    # Without a cookie, requests alternate between the workers (the fewest open connections:
    # none here) and the cookie names the worker; with it, they stay on that worker.
    firsts = [_get(f"{proxy.url}/_stcore/health")[2] for _ in range(6)]
    workers = {f"127.0.0.1:{p}" for p in proxy.worker_ports}
    assert {h["X-Upstream"] for h in firsts} == workers
    assert [h["X-Upstream"] for h in firsts].count(firsts[0]["X-Upstream"]) == 3  # evenly
    for h in firsts:
        assert _route(h) == h["X-Upstream"]
    for w in workers:
        stuck = {
            _get(f"{proxy.url}/_stcore/health", f"stroute={w}")[2]["X-Upstream"] for _ in range(6)
        }
        assert stuck == {w}
    # A cookie that names no worker (forged, or from an earlier run) is never an address to
    # connect to: the request goes to a worker, and the answer's cookie names that worker.
    for forged in ("abc", "evil.example:80", "127.0.0.1:22"):
        h = _get(f"{proxy.url}/_stcore/health", f"stroute={forged}")[2]
        assert h["X-Upstream"] in workers and _route(h) == h["X-Upstream"]


def test_every_worker_was_warmed_before_serving(proxy):
    """serve.sh opened the --warm pages at their defaults in each worker, then served."""
    out = (proxy.run_dir / "serve.out").read_text()
    assert out.index("warmed home,backprop in every worker") < out.index("serving http")
    for port in proxy.worker_ports:
        log = (proxy.run_dir / f"warm-{port}.log").read_text()
        for page in ("home", "backprop"):
            assert f"warm http://127.0.0.1:{port} {page}: settled" in log, log
        assert _connects(port) >= 2  # the two warming sessions reached this worker


def test_a_page_renders_and_a_slider_reruns_through_the_proxy(proxy, page):
    page.goto(f"{proxy.url}/gradient_descent")
    wait_idle(page, timeout_s=120)
    assert_no_exception(page)
    page.wait_for_selector(".js-plotly-plot", timeout=30_000)
    assert any(c["name"] == "stroute" for c in page.context.cookies())
    slider = page.locator('[data-testid="stSlider"]').filter(has_text="Steps").get_by_role("slider")
    slider.focus()
    for _ in range(5):
        page.keyboard.press("ArrowLeft")
    wait_idle(page, timeout_s=120)  # the rerun went over the proxied websocket
    assert_no_exception(page)
    assert "steps=95" in page.url
    assert page.locator(".js-plotly-plot").count() >= 1


def test_an_upload_reaches_the_worker_that_holds_its_session(proxy, page):
    """An upload goes to /_stcore/upload_file/<session>, which only the worker holding the
    session knows: the cookie must send it there, as it sends every other request."""
    page.goto(f"{proxy.url}/cnn")
    wait_idle(page, timeout_s=180)
    assert_no_exception(page)
    page.get_by_role("tab", name="Test it: your digit").click()  # a lazy tab: it reruns
    wait_idle(page, timeout_s=120)
    page.get_by_role("tab", name="Upload an image").click()
    upload = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    upload.set_input_files({"name": "one.png", "mimeType": "image/png", "buffer": digit_one_png()})
    wait_idle(page, timeout_s=120)
    assert_no_exception(page)
    assert (
        page.locator('[data-testid="stAlert"]').filter(has_text="reads your digit as").count() == 1
    )
    route = next(c["value"] for c in page.context.cookies() if c["name"] == "stroute")
    log = [
        ln
        for ln in (proxy.run_dir / "nginx-access.log").read_text().splitlines()
        if f"route={route}" in ln
    ]
    assert any("/_stcore/upload_file/" in ln for ln in log)
    assert len({ln.split("upstream=")[1].split()[0] for ln in log}) == 1, log


def test_load_test_learners_finish_on_the_worker_their_cookie_chose(proxy):
    """Batches of 4 learners until both workers have had some (a batch lands on one worker
    with probability 1/8): every learner settles on its page without an exception, and each
    worker accepted exactly the sessions of the learners the proxy sent to it."""
    workers = {f"127.0.0.1:{p}": p for p in proxy.worker_ports}
    seen: set[str] = set()
    for _ in range(5):
        before = {w: _connects(p) for w, p in workers.items()}
        report = load_test(
            proxy.url, "gradient_descent", 4, timeout_s=240, server_ports=proxy.worker_ports
        )
        failed = [lr for lr in report["per_learner"] if lr["status"] != "settled"]
        assert not failed, failed
        assert report["exceptions"] == 0
        assert all(lr["ran_page"] == "gradient_descent" for lr in report["per_learner"])
        assert all(lr["charts"] >= 1 for lr in report["per_learner"])
        assert sum(report["workers"].values()) == 4 and set(report["workers"]) <= set(workers)
        after = {w: _connects(p) for w, p in workers.items()}
        assert {w: after[w] - before[w] for w in workers} == {
            w: report["workers"].get(w, 0) for w in workers
        }
        assert report["memory"]["peak_mb"] > 0 and len(report["memory"]["processes"]) == 2
        seen |= set(report["workers"])
        if seen == set(workers):
            break
    assert seen == set(workers), "every learner went to the same worker in 5 batches"


def test_sigterm_stops_nginx_and_every_worker(proxy):
    pids = [int(line.split()[1]) for line in (proxy.run_dir / "workers").read_text().splitlines()]
    assert len(pids) == 3  # two workers and nginx
    proxy.proc.send_signal(signal.SIGTERM)  # serve.sh alone, as Ctrl-C or `docker stop` would
    proxy.proc.wait(timeout=30)
    deadline = time.time() + 10
    while time.time() < deadline and any(Path(f"/proc/{p}").exists() for p in pids):
        time.sleep(0.2)
    assert not [p for p in pids if Path(f"/proc/{p}").exists()], "a process outlived serve.sh"
    port = int(proxy.url.rsplit(":", 1)[1])
    for p in (port, *proxy.worker_ports):  # nothing listens any more
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", p), timeout=2).close()
