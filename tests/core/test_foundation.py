"""The layering rule, the shared helpers, the bench and the data."""

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from dl_core import bench, data, device, training
from tests.conftest import ROOT
from viz import latex


def _imported_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return {m.split(".")[0] for m in json.loads(out.stdout.strip().splitlines()[-1])}


def test_dl_core_imports_neither_streamlit_nor_plotly():
    modules = sorted(  # every module, packages included (dl_core/toolkit/linalg.py ...)
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for p in (ROOT / "dl_core").rglob("*.py")
        if p.stem not in ("__init__", "__main__")
    )
    assert "dl_core.toolkit.linalg" in modules and "dl_core.export.params" in modules
    code = "\n".join(f"import {m}" for m in modules)
    loaded = _imported_after(code)
    assert "streamlit" not in loaded and "plotly" not in loaded


def test_viz_does_not_import_streamlit():
    modules = sorted(p.stem for p in (ROOT / "viz").glob("*.py") if p.stem != "__init__")
    loaded = _imported_after("\n".join(f"import viz.{m}" for m in modules))
    assert "streamlit" not in loaded


def test_pick_returns_cuda_exactly_when_available():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert device.pick().type == expected
    assert device.pick(small=True).type == "cpu"
    assert device.info().kind == expected


def test_local_generators_are_independent_of_the_global_seed():
    a = torch.rand(3, generator=training.generator(7))
    torch.manual_seed(123)
    b = torch.rand(3, generator=training.generator(7))
    assert torch.equal(a, b)


def test_first_divergence():
    assert training.first_divergence([1.0, 2.0, 3.0]) is None
    assert training.first_divergence([1.0, float("nan"), 3.0]) == 1
    assert training.first_divergence([1.0, 5.0, float("inf")], limit=4.0) == 1


def test_digits_bundle_checksum_and_split():
    raw = data.DIGITS_FILE.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == data.DIGITS_SHA256
    d = data.load_digits()
    assert d.X_train.shape == (1438, 1, 8, 8) and d.X_test.shape == (359, 1, 8, 8)
    assert float(d.X_train.min()) == 0.0 and float(d.X_train.max()) == 1.0
    assert sorted(set(d.y_test.tolist())) == list(range(10))
    again = data.load_digits()
    assert torch.equal(d.y_test, again.y_test)


@pytest.mark.parametrize(
    "x,expected",
    [(0.0, "0"), (1.5, "1.5"), (-0.25, "-0.25"), (123456.0, r"1.235\times 10^{5}"),
     (1e-5, r"1\times 10^{-5}"), (float("nan"), r"\text{NaN}"), (float("inf"), r"\infty")],
)  # fmt: skip
def test_latex_numbers(x, expected):
    assert latex.num(x) == expected


def test_latex_vector():
    assert latex.vec([1.0, -2.0]) == r"\begin{pmatrix}1\\ -2\end{pmatrix}"


def test_bench_writes_the_documented_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert bench.main(["--only", "optim", "--repeats", "1", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["device"] in ("cpu", "cuda") and report["torch"] == torch.__version__
    rec = {r["task"]: r for r in report["results"]}
    adam = rec["adam_rosenbrock"]
    assert adam["reached"] is True and adam["value"] < adam["target"] == 1e-3
    assert 0 < adam["steps"] <= 1000 and np.isfinite(adam["seconds"])
    assert "adam_rosenbrock" in capsys.readouterr().out


def test_one_thread_runs_the_block_on_one_thread_and_restores_the_count():
    import torch

    from dl_core.training import one_thread

    torch.set_num_threads(2)
    with one_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2
    with one_thread("cuda"):  # a GPU run leaves the CPU setting alone
        assert torch.get_num_threads() == 2
    torch.set_num_threads(1)
    with one_thread():
        pass
    assert torch.get_num_threads() == 1
    torch.set_num_threads(2)


def test_training_slots_serve_first_come_first_served_and_bound_concurrency():
    import threading
    import time

    from dl_core.training import TrainingSlots

    slots = TrainingSlots(2)
    order, peak, lock = [], [0], threading.Lock()
    waits: dict[int, list[int]] = {}

    def learner(i: int) -> None:
        with slots.slot(lambda ahead: waits.setdefault(i, []).append(ahead), poll_s=0.01):
            with lock:
                order.append(i)
                peak[0] = max(peak[0], slots.running)
            time.sleep(0.05)

    threads = []
    for i in range(6):
        threads.append(threading.Thread(target=learner, args=(i,)))
        threads[-1].start()
        time.sleep(0.005)  # arrive in order 0, 1, 2, ...
    for t in threads:
        t.join(5)
    assert order == list(range(6))
    assert peak[0] == 2 and slots.running == 0 and slots.queued == 0
    assert max(waits[5]) >= 3  # the last learner was told how many trainings were ahead


def test_a_learner_who_gives_up_waiting_leaves_the_queue():
    import threading

    import pytest

    from dl_core.training import TrainingSlots

    slots = TrainingSlots(1)
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with slots.slot():
            held.set()
            release.wait(5)

    t = threading.Thread(target=holder)
    t.start()
    held.wait(5)

    def give_up(ahead: int) -> None:
        raise KeyboardInterrupt  # as a Streamlit rerun interrupts a waiting script

    with pytest.raises(KeyboardInterrupt), slots.slot(give_up, poll_s=0.01):
        pass
    assert slots.queued == 0
    release.set()
    t.join(5)
    with slots.slot():  # the slot is free again
        assert slots.running == 1
