"""A classroom load test: N learners open one page of a running deployment at once.

    python -m tools.loadtest --url http://127.0.0.1:8501 --page cnn --learners 30
    python -m tools.loadtest --url http://127.0.0.1:8080 --page cnn --learners 30 --distinct \
        --server-ports 8081,8082 --json loadtest.json

Each learner is a real Streamlit session driven over Streamlit's own browser protocol,
without a browser: it GETs the page as a browser does (keeping the cookies the response
sets, so a proxy's session cookie routes it like a browser), opens the websocket at
``/_stcore/stream``, sends the ``rerun_script`` BackMsg the frontend sends on page load
(``ClientState``: query string, page name = the page's URL path, context info) and reads
ForwardMsgs until ``script_finished`` says the run finished. A browser per learner is too
heavy for this 2-core machine (30 Chromium renderers would measure Chromium, not the
server); the protocol is the honest way to load the server with 30 real sessions here.

Each learner's session is checked: the ``navigation`` message must name the requested page
as the one that ran, and every exception element the run sent is recorded. Learners start
together (one thread each, released by a barrier) and stay connected until all have
settled, so the server holds all sessions at once, as in a classroom. The server's memory
(resident set of the Streamlit process(es), found by their listening ports or given by
pid) is sampled every 0.2 s.

Traffic goes to loopback addresses only: run it on the machine that serves.
Exit status: 0 when every learner settled on its page without an exception, else 1.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import os
import statistics
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

# For --distinct: the URL setting each page's learners vary, and its first value (learner i
# gets first + i * step). A seed where the page has one: each learner then trains its own model.
DISTINCT: dict[str, tuple[str, float, float]] = {
    "cnn": ("seed", 0, 1),
    "autoencoder": ("seed", 0, 1),
    "gan": ("seed", 0, 1),
    "playground": ("seed", 0, 1),
    "backprop": ("steps", 60, 1),  # the deep MLP's training (its walkthrough seed has 21 values)
    "gradient_descent": ("steps", 100, 1),
    "regression": ("lin_steps", 60, 1),
    "rnn": ("steps", 150, 10),
}
# For --warm: a setting no learner asks for (neither the defaults nor the distinct values),
# so warming imports the page's code in every server process without caching a result that
# the measured learners will then find ready.
WARM: dict[str, str] = {
    "cnn": "seed=99", "autoencoder": "seed=99", "gan": "seed=99", "playground": "seed=99",
    "backprop": "steps=59", "gradient_descent": "steps=99", "regression": "lin_steps=59",
    "rnn": "steps=140",
}  # fmt: skip

SAMPLE_EVERY_S = 0.2


# --- pure pieces (tested in tests/core/test_loadtest.py) ---------------------------------


def is_loopback_url(url: str) -> bool:
    """True when the URL's host is a loopback address (127.0.0.0/8, ::1 or localhost)."""
    host = urllib.parse.urlsplit(url).hostname
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def page_path(page: str) -> str:
    """The page's URL path segment: the home page lives at the root."""
    return "" if page in ("", "home") else page


def learner_query(page: str, i: int, distinct: bool, base: str = "", key: str | None = None) -> str:
    """The query string learner ``i`` opens: ``base`` plus, with ``distinct``, its own value
    of the page's varied setting (``key`` overrides the table)."""
    parts = [p for p in base.lstrip("?").split("&") if p]
    if distinct:
        if key is None:
            if page not in DISTINCT:
                raise ValueError(
                    f"--distinct: no setting to vary on page {page!r}; pass --distinct-key"
                )
            key, first, step = DISTINCT[page]
        else:
            first, step = 0, 1
        value = first + i * step
        parts = [p for p in parts if p.split("=", 1)[0] != key]
        parts.append(f"{key}={int(value) if float(value).is_integer() else value}")
    return "&".join(parts)


def stream_url(url: str) -> str:
    """The websocket URL of Streamlit's stream for an http(s) base URL (keeps a base path)."""
    parts = urllib.parse.urlsplit(url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    base = parts.path.rstrip("/")
    return f"{scheme}://{parts.netloc}{base}/_stcore/stream"


def cookie_header(set_cookies: list[str]) -> str:
    """A Cookie header from Set-Cookie values (name=value pairs only, later ones win)."""
    jar: dict[str, str] = {}
    for raw in set_cookies:
        pair = raw.split(";", 1)[0].strip()
        if "=" in pair:
            name, value = pair.split("=", 1)
            jar[name.strip()] = value.strip()
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def parse_ports(text: str) -> list[int]:
    """ "8081,8082" or "8081-8084" (or a mix) -> sorted unique ports."""
    ports: set[int] = set()
    for chunk in text.split(","):
        chunk = chunk.strip()
        if not chunk:
            continue
        if "-" in chunk:
            lo, hi = (int(x) for x in chunk.split("-", 1))
            if hi < lo or hi - lo > 1024:
                raise ValueError(f"bad port range {chunk!r}")
            ports.update(range(lo, hi + 1))
        else:
            ports.add(int(chunk))
    if not ports or not all(0 < p < 65536 for p in ports):
        raise ValueError(f"bad ports {text!r}")
    return sorted(ports)


def listening_inodes(proc_net_tcp: str, ports: set[int]) -> set[str]:
    """Socket inodes listening (state 0A) on ``ports``, from a /proc/net/tcp{,6} text."""
    inodes: set[str] = set()
    for line in proc_net_tcp.splitlines()[1:]:
        cols = line.split()
        if len(cols) < 10 or cols[3] != "0A":
            continue
        port = int(cols[1].rsplit(":", 1)[1], 16)
        if port in ports:
            inodes.add(cols[9])
    return inodes


def summarize(times: list[float]) -> dict[str, float | None]:
    """Fastest, median and slowest of the learners' settle times (None when none settled)."""
    if not times:
        return {"fastest_s": None, "median_s": None, "slowest_s": None}
    return {
        "fastest_s": round(min(times), 3),
        "median_s": round(statistics.median(times), 3),
        "slowest_s": round(max(times), 3),
    }


# --- server memory -----------------------------------------------------------------------


def pids_listening_on(ports: list[int]) -> list[int]:
    """The processes holding a listening TCP socket on any of ``ports`` (Linux /proc)."""
    text = ""
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            text += Path(name).read_text()
    inodes = listening_inodes(text, set(ports))
    found: list[int] = []
    if not inodes:
        return found
    targets = {f"socket:[{i}]" for i in inodes}
    for pid_dir in Path("/proc").iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            for fd in (pid_dir / "fd").iterdir():
                if os.readlink(fd) in targets:
                    found.append(int(pid_dir.name))
                    break
        except OSError:
            continue
    return sorted(found)


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def stat_cpu_s(stat: str, ticks_per_s: int) -> float:
    """User + system CPU seconds from a /proc/PID/stat line (fields 14 and 15)."""
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": field 3 is fields[0]
    return (int(fields[11]) + int(fields[12])) / ticks_per_s


def cpu_s(pid: int) -> float:
    try:
        return stat_cpu_s(Path(f"/proc/{pid}/stat").read_text(), os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0.0


def process_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


class MemorySampler(threading.Thread):
    """Samples the summed RSS of ``pids`` every 0.2 s; keeps the baseline and the peak."""

    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.pids = pids
        self.stop = threading.Event()
        self.baseline = self._total()
        self.peak = self.baseline
        self.peak_each: dict[int, float] = {p: rss_mb(p) or 0.0 for p in pids}

    def _total(self) -> float:
        return sum(rss_mb(p) or 0.0 for p in self.pids)

    def run(self) -> None:
        while not self.stop.wait(SAMPLE_EVERY_S):
            total = 0.0
            for p in self.pids:
                mb = rss_mb(p) or 0.0
                total += mb
                self.peak_each[p] = max(self.peak_each[p], mb)
            self.peak = max(self.peak, total)


# --- one learner ---------------------------------------------------------------------------


@dataclass
class Learner:
    index: int
    query: str
    worker: str | None = None  # the proxy's X-Upstream header, when it sends one
    status: str = "pending"  # settled | exception | wrong_page | error | timeout
    connect_s: float | None = None  # websocket open
    first_element_s: float | None = None  # first element drawn
    settled_s: float | None = None  # script_finished, FINISHED_SUCCESSFULLY
    ran_page: str | None = None  # the URL path of the page that ran ("" = the default page)
    charts: int = 0  # plotly charts on the page when it settled
    elements: dict[str, int] = field(default_factory=dict)
    exceptions: list[str] = field(default_factory=list)
    error: str | None = None


def _rerun_backmsg(page: str, query: str, url: str) -> bytes:
    """The BackMsg the frontend sends when a page is opened: rerun the script for the page
    at this URL path with this query string (no widget state yet)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    cs = msg.rerun_script
    cs.query_string = query
    cs.page_script_hash = ""  # resolved by the server from page_name (st.navigation)
    cs.page_name = page_path(page)
    ctx = cs.context_info
    ctx.timezone = "UTC"
    ctx.timezone_offset = 0
    ctx.locale = "en-US"
    ctx.url = url
    ctx.is_embedded = False
    ctx.color_scheme = "light"
    return msg.SerializeToString()


def _read_run(ws, lr: Learner, path: str, t0: float, deadline: float) -> None:
    """Read ForwardMsgs until the page's run finishes; fills in ``lr``."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    final: dict[tuple[int, ...], str] = {}  # delta path -> the element there now
    while True:
        left = deadline - time.time()
        if left <= 0:
            lr.status = "timeout"
            return
        try:
            data = ws.recv(timeout=left)
        except TimeoutError:
            lr.status = "timeout"
            return
        if isinstance(data, str):
            continue
        fm = ForwardMsg()
        fm.ParseFromString(data)
        kind = fm.WhichOneof("type")
        if kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
            el = fm.delta.new_element
            etype = el.WhichOneof("type") or "?"
            if lr.first_element_s is None:
                lr.first_element_s = time.perf_counter() - t0
            final[tuple(fm.metadata.delta_path)] = etype
            if etype == "exception":
                lr.exceptions.append(f"{el.exception.type}: {el.exception.message}"[:500])
        elif kind == "navigation":
            pages = {p.page_script_hash: p.url_pathname for p in fm.navigation.app_pages}
            lr.ran_page = pages.get(fm.navigation.page_script_hash, "?")
        elif kind == "page_not_found":
            lr.status, lr.error = "wrong_page", f"page not found: {path!r}"
            return
        elif kind == "script_finished":
            if fm.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                lr.settled_s = time.perf_counter() - t0
                lr.elements = dict(Counter(final.values()))
                lr.charts = lr.elements.get("plotly_chart", 0)
                if lr.exceptions:
                    lr.status = "exception"
                elif lr.ran_page != path:  # the default page's URL path is ""
                    lr.status = "wrong_page"
                    lr.error = f"the server ran {lr.ran_page!r}, not {path!r}"
                else:
                    lr.status = "settled"
                return
            if fm.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                lr.status, lr.error = "error", "the script did not compile"
                return
            # FINISHED_EARLY_FOR_RERUN (st.rerun) or a fragment's run: keep reading.


def run_learner(
    lr: Learner, base_url: str, page: str, deadline: float,
    start: threading.Barrier | None = None, done: threading.Event | None = None,
) -> None:  # fmt: skip
    """One learner opens the page: GET it, open the stream, ask for the run, read it.
    Waits at ``start`` (all learners together) and stays connected until ``done``."""
    from websockets.sync.client import connect

    path = page_path(page)
    page_url = f"{base_url.rstrip('/')}/{path}" + (f"?{lr.query}" if lr.query else "")
    try:
        if start is not None:
            start.wait(timeout=60)
        t0 = time.perf_counter()
        # 1. The page's HTML, as a browser gets it first: a sticky proxy sets its cookie here.
        req = urllib.request.Request(page_url, headers={"User-Agent": "dl-math-lab loadtest"})
        with urllib.request.urlopen(req, timeout=max(1.0, deadline - time.time())) as resp:
            resp.read()
            cookies = cookie_header(resp.headers.get_all("Set-Cookie") or [])
            lr.worker = resp.headers.get("X-Upstream")
        parts = urllib.parse.urlsplit(base_url)
        headers = {"Origin": f"{parts.scheme}://{parts.netloc}"}
        if cookies:
            headers["Cookie"] = cookies
        # 2. The websocket, with Streamlit's subprotocol, then the page-load rerun request.
        with connect(
            stream_url(base_url), subprotocols=["streamlit"], additional_headers=headers,
            max_size=None, open_timeout=max(1.0, deadline - time.time()),
        ) as ws:  # fmt: skip
            lr.connect_s = time.perf_counter() - t0
            ws.send(_rerun_backmsg(page, lr.query, page_url))
            try:
                _read_run(ws, lr, path, t0, deadline)
            finally:
                # Stay connected until every learner is done (or the deadline): the server
                # holds the whole class's sessions at once, as when a class has the page open.
                if done is not None:
                    done.wait(timeout=max(0.0, deadline - time.time()))
    except Exception as exc:  # a learner's failure is data, not a crash of the tool
        if lr.status == "pending":
            lr.status, lr.error = "error", f"{type(exc).__name__}: {exc}"[:500]


# --- the run ---------------------------------------------------------------------------------


def warm_up(url: str, page: str, ports: list[int] | None, timeout_s: float) -> list[dict]:
    """Open the page once in each server process, all at once, at the ``WARM`` setting."""
    parts = urllib.parse.urlsplit(url)
    targets = [f"{parts.scheme}://{parts.hostname}:{p}" for p in ports] if ports else [url]
    query = WARM.get(page, "")
    deadline = time.time() + timeout_s
    warmers = [Learner(i, query) for i in range(len(targets))]
    threads = [
        threading.Thread(target=run_learner, args=(lr, t, page, deadline), daemon=True)
        for lr, t in zip(warmers, targets)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout_s + 10)
    out = [
        {"server": t, "query": lr.query, "status": lr.status, "settled_s": lr.settled_s}
        for lr, t in zip(warmers, targets)
    ]
    if any(lr.status != "settled" for lr in warmers):
        raise RuntimeError(f"warm-up failed: {out}")
    return out


def load_test(
    url: str, page: str, learners: int, distinct: bool = False, query: str = "",
    distinct_key: str | None = None, timeout_s: float = 300.0, pids: list[int] | None = None,
    server_ports: list[int] | None = None, warm: bool = False,
) -> dict:  # fmt: skip
    """Run the load test; returns the report (see the module docstring). With ``warm``,
    every server process (``server_ports``, else the URL) first opens the page once, alone,
    at a setting no learner asks for (``WARM``)."""
    if not is_loopback_url(url):
        raise ValueError(f"{url}: the load test only sends traffic to loopback addresses")
    if not 1 <= learners <= 500:
        raise ValueError("--learners must be between 1 and 500")
    parts = urllib.parse.urlsplit(url)
    if pids is None:
        ports = server_ports or [parts.port or (443 if parts.scheme == "https" else 80)]
        pids = pids_listening_on(ports)
    names = {p: process_name(p) for p in pids}
    warmed = warm_up(url, page, server_ports, timeout_s) if warm else []
    crowd = [
        Learner(i, learner_query(page, i, distinct, query, distinct_key)) for i in range(learners)
    ]
    sampler = MemorySampler(pids)
    sampler.start()
    cpu0 = {p: cpu_s(p) for p in pids}
    client_cpu0 = time.process_time()
    load_before = os.getloadavg()[0]
    start = threading.Barrier(learners + 1)
    done = threading.Event()
    deadline = time.time() + timeout_s
    threads = [
        threading.Thread(
            target=run_learner, args=(lr, url, page, deadline, start, done), daemon=True
        )
        for lr in crowd
    ]
    for t in threads:
        t.start()
    start.wait(timeout=60)
    started = time.time()
    t0 = time.perf_counter()
    while any(lr.status == "pending" for lr in crowd) and time.time() < deadline:
        time.sleep(0.05)
    all_done_s = time.perf_counter() - t0
    peak = sampler.peak
    server_cpu = sum(cpu_s(p) - cpu0[p] for p in pids)
    client_cpu = time.process_time() - client_cpu0
    done.set()
    for t in threads:
        t.join(timeout=10)
    sampler.stop.set()
    sampler.join()
    for lr in crowd:
        if lr.status == "pending":
            lr.status = "timeout"
    settled = [lr.settled_s for lr in crowd if lr.status == "settled"]
    workers = Counter(lr.worker for lr in crowd if lr.worker)
    report = {
        "tool": "tools.loadtest",
        "url": url,
        "page": page,
        "learners": learners,
        "distinct": distinct,
        "queries": sorted({lr.query for lr in crowd}),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
        "cpus": os.cpu_count(),
        # The machine's load: other work on it slows every figure below but the CPU seconds.
        "load_average_1m_before": round(load_before, 2),
        "load_average_1m_after": round(os.getloadavg()[0], 2),
        "all_settled_s": round(all_done_s, 3) if len(settled) == learners else None,
        **summarize(settled),
        "settled": len(settled),
        "exceptions": sum(len(lr.exceptions) for lr in crowd),
        "failed": learners - len(settled),
        "statuses": dict(Counter(lr.status for lr in crowd)),
        "workers": dict(sorted(workers.items())),
        "warm_up": warmed,
        # CPU seconds the server processes spent on the run (until the last learner settled):
        # what the work costs, nearly independent of what else the machine is doing.
        "cpu": {
            "server_s": round(server_cpu, 2),
            "per_learner_s": round(server_cpu / learners, 3) if pids else None,
            "load_tester_s": round(client_cpu, 2),
        },
        "memory": {
            "processes": {str(p): names[p] for p in pids},
            "baseline_mb": round(sampler.baseline, 1),
            "peak_mb": round(peak, 1),
            "peak_per_process_mb": {str(p): round(v, 1) for p, v in sampler.peak_each.items()},
            "per_learner_mb": round((peak - sampler.baseline) / learners, 1) if pids else None,
        },
        "per_learner": [asdict(lr) for lr in crowd],
    }
    if not pids:
        report["memory"]["note"] = "no server process found: pass --pid or --server-ports"
    return report


def _print(report: dict) -> None:
    mem = report["memory"]
    s = report
    print(
        f"{s['learners']} learners on {s['page']!r}{' (distinct settings)' if s['distinct'] else ''}"
        f" at {s['url']}: {s['settled']} settled, {s['failed']} failed, {s['exceptions']} exceptions"
    )

    def f(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f} s"

    print(
        f"  all settled {f(s['all_settled_s'])}   fastest {f(s['fastest_s'])}"
        f"   median {f(s['median_s'])}   slowest {f(s['slowest_s'])}"
    )
    print(
        f"  server memory: {mem['baseline_mb']:.0f} MB before, peak {mem['peak_mb']:.0f} MB"
        f" ({len(mem['processes'])} process(es): {', '.join(sorted(set(mem['processes'].values()))) or 'none found'})"
        + (f", {mem['per_learner_mb']} MB per learner" if mem["per_learner_mb"] is not None else "")
    )
    cpu = s["cpu"]
    if cpu["per_learner_s"] is not None:
        print(
            f"  server CPU: {cpu['server_s']:.1f} s ({cpu['per_learner_s']:.2f} s per learner);"
            f" load average {s['load_average_1m_before']} before, {s['load_average_1m_after']} after"
        )
    if s["workers"]:
        print("  learners per worker: " + ", ".join(f"{k}: {v}" for k, v in s["workers"].items()))
    for lr in s["per_learner"]:
        if lr["status"] != "settled":
            why = lr["error"] or "; ".join(lr["exceptions"]) or lr["status"]
            print(f"  learner {lr['index']} ({lr['query'] or 'defaults'}): {lr['status']}: {why}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m tools.loadtest", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--url", default="http://127.0.0.1:8501", help="the deployment (loopback)")
    ap.add_argument("--page", default="cnn", help="the page's URL path (home, cnn, ...)")
    ap.add_argument("--learners", type=int, default=30)
    ap.add_argument("--distinct", action="store_true", help="each learner its own settings")
    ap.add_argument("--distinct-key", help="the URL setting to vary (default: per page)")
    ap.add_argument("--query", default="", help="settings every learner opens, e.g. 'epochs=10'")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds for the whole run")
    ap.add_argument("--pid", type=int, action="append", help="server process(es) to measure")
    ap.add_argument(
        "--server-ports", help="measure the processes listening on these ports, e.g. 8081-8082 "
        "(default: the URL's port; behind a proxy, give the workers' ports)",
    )  # fmt: skip
    ap.add_argument(
        "--warm", action="store_true", help="first open the page once in every server process "
        "(at a setting no learner uses), so the run measures a server that is up, not cold",
    )  # fmt: skip
    ap.add_argument("--json", type=Path, help="write the report here")
    args = ap.parse_args(argv)
    try:
        report = load_test(
            args.url, args.page, args.learners, args.distinct, args.query, args.distinct_key,
            args.timeout, args.pid, parse_ports(args.server_ports) if args.server_ports else None,
            args.warm,
        )  # fmt: skip
    except (ValueError, RuntimeError) as exc:
        print(f"loadtest: {exc}", file=sys.stderr)
        return 2
    _print(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0 if report["settled"] == args.learners and report["exceptions"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
