"""Train every page's defaults in a running server before a class arrives.

    python -m tools.warm --url http://127.0.0.1:8502                 # every page
    python -m tools.warm --url http://127.0.0.1:8502 --pages cnn autoencoder

A server keeps trained results in its process's caches, shared by every session that asks
for the same settings; a fresh process has none, so the first learners of a class wait for
the defaults to train (the autoencoder page: its AE and VAE, one after the other). This
opens each page once, at its defaults, as one learner of the load test (Streamlit's own
protocol, no browser), one page after the other, so those results are ready before anyone
comes. ``deploy/serve.sh`` runs it against every worker before it says "serving".

Loopback addresses only, like the load test. Prints one line per page; exit status 0 when
every page settled without an exception, else 1 (the server keeps running either way).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from tools.loadtest import Learner, is_loopback_url, run_learner
from ui.nav import PAGES

DEFAULT_PAGES = tuple(p.url_path for p in PAGES)


def warm(url: str, pages: Sequence[str] = DEFAULT_PAGES, timeout_s: float = 300.0) -> list[Learner]:
    """Open each page once at its defaults, in order; the learners, with their status."""
    if not is_loopback_url(url):
        raise ValueError(f"{url}: warming only sends traffic to loopback addresses")
    out = []
    for i, page in enumerate(pages):
        lr = Learner(i, "")
        run_learner(lr, url, page, time.time() + timeout_s)
        out.append(lr)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.warm", description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True, help="one server process (loopback)")
    ap.add_argument("--pages", nargs="+", default=list(DEFAULT_PAGES), choices=DEFAULT_PAGES)
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per page")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        learners = warm(args.url, args.pages, args.timeout)
    except ValueError as exc:
        print(f"warm: {exc}", file=sys.stderr)
        return 2
    for page, lr in zip(args.pages, learners, strict=True):
        why = lr.error or "; ".join(lr.exceptions)
        took = f"{lr.settled_s:.1f} s" if lr.settled_s is not None else "-"
        print(f"warm {args.url} {page}: {lr.status} {took}" + (f" ({why})" if why else ""))
    ok = all(lr.status == "settled" for lr in learners)
    print(
        f"warm {args.url}: {len(learners)} pages in {time.perf_counter() - t0:.1f} s"
        + ("" if ok else ", some failed")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
