"""Benchmark every topic's default task on the current device.

    python -m dl_core.bench [--only TOPIC ...] [--repeats N] [--json PATH] [--threads N]

Each topic module ``dl_core.<topic>`` offers ``bench() -> list[dict]``; every
record names its task, metric, target, value, whether the target was reached,
seconds and steps. The runner calls it ``--repeats`` times and reports the
median of each number.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
from pathlib import Path

import torch

from dl_core import device

TOPICS = ("optim", "backprop", "mlp", "regularisation", "cnn", "rnn", "autoencoder", "gan")


def run_topic(topic: str, repeats: int) -> list[dict]:
    """Median over ``repeats`` calls of the topic's ``bench()``."""
    module = importlib.import_module(f"dl_core.{topic}")
    runs = [module.bench() for _ in range(repeats)]
    merged = []
    for i, first in enumerate(runs[0]):
        rec = dict(first)
        for key in ("value", "seconds", "steps"):
            vals = [r[i][key] for r in runs if r[i].get(key) is not None]
            if vals:
                rec[key] = statistics.median(vals)
        if "target" in rec and rec.get("target") is not None:
            reached = [r[i]["reached"] for r in runs]
            rec["reached"] = sum(reached) > len(reached) / 2
        rec["repeats"] = repeats
        merged.append(rec)
    return merged


def available_topics() -> list[str]:
    here = Path(__file__).resolve().parent
    return [t for t in TOPICS if (here / f"{t}.py").exists() or (here / t / "__init__.py").exists()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--only", nargs="+", choices=TOPICS, help="topics to run")
    ap.add_argument("--repeats", type=int, default=3, help="repeats per task (median)")
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    args = ap.parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    topics = args.only or available_topics()
    info = device.info()
    results = []
    for topic in topics:
        results += run_topic(topic, max(1, args.repeats))
    out = {
        "device": info.kind,
        "device_name": info.name,
        "torch": info.torch_version,
        "threads": torch.get_num_threads(),
        "results": results,
    }
    head = f"{'topic':<16}{'task':<28}{'metric':<22}{'target':>10}{'value':>12}{'ok':>4}{'seconds':>10}{'steps':>8}"
    print(f"device: {info.label} ({info.name}), torch {info.torch_version}")
    print(head)
    print("-" * len(head))
    for r in results:
        target = "" if r.get("target") is None else f"{r['target']:g}"
        ok = "" if r.get("target") is None else ("yes" if r["reached"] else "NO")
        steps = "" if r.get("steps") is None else f"{r['steps']:.0f}"
        print(
            f"{r['topic']:<16}{r['task']:<28}{r['metric']:<22}{target:>10}"
            f"{r['value']:>12.4g}{ok:>4}{r['seconds']:>10.3f}{steps:>8}"
        )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
