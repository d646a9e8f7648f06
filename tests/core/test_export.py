"""dl_core.export: every page's experiment as a standalone PyTorch script.

* The command line: a script on stdout, exit 0; an unknown page or a bad query, one line
  on stderr and exit 2.
* Every script, at the defaults and at random valid settings, compiles, imports only
  torch, numpy and the standard library, and passes ruff (check and format, ruff's own
  defaults, in a temporary folder); nothing from a link reaches it but validated numbers
  and names from the page's fixed lists.
* Each script reproduces the page: run as a plain program (one torch thread) at the page's
  defaults and at one other link, its last line of JSON matches the dl_core function the
  page calls with the same settings, within the tolerance stated per page below.

Start-up is most of a script's cost (import torch, then torch.optim's first optimizer
imports torch._dynamo: about 3 s here), so the scripts run in two runner processes that
execute each one as ``__main__`` (``runpy.run_path``, stdout captured), in parallel with
the page-side computations in this process; one test also runs a script as its own
``python script.py`` process."""

from __future__ import annotations

import ast
import json
import math
import os
import random
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dl_core import export
from dl_core.export import params as xp
from dl_core.export.__main__ import main as cli
from tests.conftest import ROOT

DIGITS = ROOT / "data" / "digits.csv.gz"
RUFF = Path(sys.executable).with_name("ruff")
ALLOWED_IMPORTS = {"argparse", "gzip", "itertools", "json", "math", "sys", "pathlib", "numpy",
                   "torch", "torch.nn", "torch.nn.functional"}  # fmt: skip
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


# ------------------------------------------------------------------------------- command line
def test_cli_prints_the_script(capsys):
    assert cli(["regression", "--query", "lin_lr=0.4&lin_steps=100"]) == 0
    out, err = capsys.readouterr()
    assert out == export.script("regression", "lin_lr=0.4&lin_steps=100")
    assert "LIN_LR = 0.4  #" in out and "LIN_STEPS = 100\n" in out and err == ""


def test_cli_notes_what_it_clamped_as_the_page_does(capsys):
    assert cli(["cnn", "--query", "?epochs=5000&lr=3e-3"]) == 0
    out, err = capsys.readouterr()
    assert "EPOCHS = 100\n" in out and "LR = 0.003  #" in out
    assert "epochs='5000' out of range, nearest used: 100" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["nope"], "unknown page 'nope'"),
        (["gan", "--query", "lr=0.1"], "unknown setting 'lr'"),
        (["gan", "--query", "d_lr=fast"], "d_lr='fast' is not valid: expected a number"),
        (["gan", "--query", "target=moon"], "target='moon' is not valid: expected one of"),
        (["gan", "--query", "d_lr"], "bad query 'd_lr': expected key=value pairs"),
        (["rnn", "--query", "steps=" + "9" * 80], "steps: value longer than 64 characters"),
    ],
)
def test_cli_rejects_a_bad_page_or_query_with_one_line_and_exit_2(capsys, argv, message):
    assert cli(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and message in err, err


def test_cli_exit_code_from_a_shell():
    bad = subprocess.run([sys.executable, "-m", "dl_core.export", "nope"], cwd=ROOT, env=ENV,
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.startswith("error: unknown page 'nope'; pages: gradient_descent")


# ------------------------------------------------------------------------------- static checks
def imports(code: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module)
    return names


def random_query(page: str, rng: random.Random) -> dict[str, str]:
    """A valid link: every setting at a random allowed value (as text)."""
    q = {}
    for p in export.specs(page):
        if isinstance(p, xp.Slider):
            v = rng.uniform(p.lo, p.hi)
            q[p.key] = str(round(v) if isinstance(p.default_for({"surface": "quadratic"}), int) else v)  # fmt: skip
        elif isinstance(p, (xp.LogSlider, xp.Select)):
            q[p.key] = str(rng.choice(p.options))
        elif isinstance(p, xp.Multi):
            q[p.key] = ",".join(rng.sample(p.options, rng.randint(1, len(p.options))))
        else:
            q[p.key] = rng.choice(["0", "1"])
    return q


@pytest.fixture(scope="module")
def sample_scripts(tmp_path_factory) -> dict[str, str]:
    """Every page at its defaults and at 12 random valid links: file name -> source."""
    rng = random.Random(17)
    out = {}
    for page in export.PAGES:
        out[f"{page}_default.py"] = export.script(page)
        for i in range(12):
            out[f"{page}_{i}.py"] = export.script(page, random_query(page, rng))
    with mnist_available():
        out["cnn_mnist.py"] = export.script("cnn", MNIST_QUERY + "&dropout=0.5&opt=sgd")
    return out


def test_every_script_compiles_and_imports_only_torch_numpy_and_the_standard_library(sample_scripts):  # fmt: skip
    for name, code in sample_scripts.items():
        compile(code, name, "exec")
        assert imports(code) <= ALLOWED_IMPORTS, (name, imports(code) - ALLOWED_IMPORTS)
        assert "dl_core" not in code and "streamlit" not in code
        assert code.rstrip().endswith('if __name__ == "__main__":\n    main()')


def test_every_script_is_ruff_clean(sample_scripts, tmp_path):
    """Checked with ruff's own defaults (88 columns) plus the project's rule set."""
    for name, code in sample_scripts.items():
        (tmp_path / name).write_text(code)
    rules = "E,F,W,I,B,UP,SIM,RUF"
    check = subprocess.run([RUFF, "check", "--isolated", "--select", rules, "--target-version",
                            "py311", "."], cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
    assert check.returncode == 0, check.stdout[-3000:]
    fmt = subprocess.run([RUFF, "format", "--isolated", "--check", "--diff", "."],
                         cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
    assert fmt.returncode == 0, fmt.stdout[-3000:]


def test_scripts_stay_short(sample_scripts):
    longest = {}
    for name, code in sample_scripts.items():
        page = name.rsplit("_", 1)[0]
        longest[page] = max(longest.get(page, 0), code.count("\n"))
    assert max(longest.values()) <= 160, longest


# a value a link may carry: numbers, names, and text meant to do harm
LINK_TEXT = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(-10**6, 10**6).map(str),
    st.sampled_from(["__import__('os').system('touch /tmp/pwned')", '"""; import os; """',
                     "\\n import os", "x1^2,x2'", "1e-3; print(1)", "{lr}", "$lr", "NaN"]),
    st.text(min_size=0, max_size=70),
)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(page=st.sampled_from(export.PAGES), data=st.data())
def test_any_link_gives_a_compilable_script_and_nothing_but_validated_values(page, data):
    specs = export.specs(page)
    keys = data.draw(st.lists(st.sampled_from([p.key for p in specs]), unique=True))
    query = {k: data.draw(LINK_TEXT) for k in keys}
    code = export.script(page, query)  # lenient, as the app: never raises
    compile(code, page, "exec")
    assert imports(code) <= ALLOWED_IMPORTS
    res = export.settings(page, query)
    for k, raw in query.items():  # text that looks like code never reaches the script
        codeish = set(raw) & set("();'\"{}$\\=\n")
        if codeish and len(raw) >= 8 and raw != str(res.values[k]):
            assert raw not in code, f"{k}={raw!r} reached the script"
    bad = "__import__('os')"
    assert bad not in code and "pwned" not in code and "print(1)" not in code


def test_hostile_values_are_clamped_as_on_the_page():
    res = export.settings("gradient_descent", {"lr": "50", "steps": "-3", "mu": "0.333",
                                               "b2": "1e999", "opt": "adam,bogus,sgd,adam",
                                               "eps": "-1", "x0": "9" * 70})  # fmt: skip
    v = res.values
    assert v["lr"] == 10.0 and v["steps"] == 1 and v["mu"] == pytest.approx(0.33)
    assert v["b2"] == 0.999 and v["opt"] == ["adam", "sgd"] and v["eps"] == 1e-10
    assert v["x0"] == -2.5  # too long: ignored, the surface's own start
    assert len(res.notes) == 6


# ------------------------------------------------------------------------------- reproduction
# Per page: (the link, extra script arguments) at the defaults and at one other setting.
CASES = {
    "gradient_descent": [("", []), ("surface=rosenbrock&opt=sgd,nesterov,adam&lr=0.2&steps=200", [])],
    "regression": [("", []), ("lin_batch=mini-batch+of+10&lin_lr=0.4&lin_steps=100&log_sep=0.5&log_batch=stochastic+(1+point)&log_steps=200", [])],
    "backprop": [("", []), ("arch=2-3-2-1&act=relu&loss=softmax_ce&ex=x+%3D+(%2B1%2C+-1)%2C+y+%3D+1&kink=1&prec=float32&init=he&dlr=0.1&depth=4&width=16&steps=40", [])],
    "playground": [("", []), ("data=xor&noise=0.2&n=200&layers=1&h1=6&act=relu&opt=momentum&lr=0.05&batch=20&drop=0.1&reg=l2&rate=0.001&seed=3", ["--steps", "300"])],
    "cnn": [("", []), ("layers=1&filters=4&k=5&pool=avg&dropout=0.2&opt=sgd&lr=0.05&bs=64&epochs=2&seed=5", [])],
    "rnn": [("", []), ("task=memory&cell=gru&gap=5&hidden=16&steps=60&bptt=3&clipon=0", [])],
    "autoencoder": [("", []), ("latent=3&hidden=32&beta=0.5&steps=100&lr=0.01&seed=3&noise=0.5", [])],
    "regularisation": [("", []), ("data=moons&n=40&p=0.2&pen=l1_prox&alpha=0.001&opt=sgd&lr=0.3&steps=300&seed=4", [])],
    "gan": [("", ["--steps", "500"]), ("target=grid&noise=uniform&act=relu&loss=least_squares&d_opt=sgd&g_opt=sgd&d_lr=0.05&g_lr=0.05&batch=64&k=2&seed=2", ["--steps", "200"])],
}  # fmt: skip
JOBS = [(page, i, q, args) for page, cases in CASES.items() for i, (q, args) in enumerate(cases)]

RUNNER = r"""
import contextlib, io, json, os, runpy, sys, time
for job in json.load(open(sys.argv[1])):
    sys.argv = [job["path"], *job["args"]]
    buf, start, code = io.StringIO(), time.perf_counter(), 0
    try:
        with contextlib.redirect_stdout(buf):
            runpy.run_path(job["path"], run_name="__main__")
    except SystemExit as e:
        code = e.code
    out = {"stdout": buf.getvalue(), "exit": str(code), "seconds": time.perf_counter() - start}
    json.dump(out, open(job["out"] + ".part", "w"))
    os.replace(job["out"] + ".part", job["out"])
"""


class Runs:
    """The scripts of every case, started at once in two runner processes (in the order
    the tests need them); ``get(id)`` waits for one job's result."""

    def __init__(self, tmp: Path) -> None:
        self.tmp, jobs = tmp, []
        for page, i, query, args in JOBS:
            path = tmp / f"{page}_{i}.py"
            path.write_text(export.script(page, query, strict=True))
            data = ["--data", str(DIGITS)] if page in NEEDS_DIGITS else []
            jobs.append({"id": f"{page}_{i}", "path": str(path), "args": [*args, *data]})
        jobs.append({"id": "no_data", "path": str(tmp / "cnn_0.py"), "args": ["--data", "nowhere.gz"]})  # fmt: skip
        # MNIST (offered by the page when its files are in data/mnist): small fake files
        fake_mnist(tmp / "mnist")
        with mnist_available():
            (tmp / "cnn_mnist.py").write_text(export.script("cnn", MNIST_QUERY, strict=True))
        jobs.append({"id": "cnn_mnist", "path": str(tmp / "cnn_mnist.py"), "args": ["--data", str(tmp / "mnist")]})  # fmt: skip
        for j in jobs:
            j["out"] = str(tmp / f"{j['id']}.json")
        self.procs = []
        for k in range(2):
            (tmp / f"jobs{k}.json").write_text(json.dumps(jobs[k::2]))
            cmd = [sys.executable, "-c", RUNNER, str(tmp / f"jobs{k}.json")]
            self.procs.append(subprocess.Popen(cmd, cwd=tmp, env=ENV, stderr=subprocess.PIPE))

    def get(self, job: str, timeout: float = 1200) -> dict:
        out, start = self.tmp / f"{job}.json", time.monotonic()
        while not out.exists():
            dead = [p for p in self.procs if p.poll() not in (None, 0)]
            assert not dead, dead[0].stderr.read().decode()[-3000:]
            assert time.monotonic() - start < timeout, f"{job}: no result"
            time.sleep(0.1)
        return json.loads(out.read_text())


NEEDS_DIGITS = ("cnn", "autoencoder")
MNIST_QUERY = "ds=mnist&ntrain=1000&epochs=2&filters=4"


def fake_mnist(folder: Path) -> None:
    """1,200 training and 300 test 28x28 images (a bar whose height is the class), as the
    four IDX files, the training ones gzipped."""
    import numpy as np

    from dl_core import mnist

    folder.mkdir()
    rng = np.random.default_rng(0)
    for split, n in (("train", 1200), ("t10k", 300)):
        y = rng.integers(0, 10, n)
        X = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        for i, c in enumerate(y):
            X[i, 2 * c + 4 : 2 * c + 7, 4:24] = 255
        gz = ".gz" if split == "train" else ""
        mnist.write_idx(folder / f"{split}-images-idx3-ubyte{gz}", X)
        mnist.write_idx(folder / f"{split}-labels-idx1-ubyte{gz}", y.astype(np.uint8))


@contextmanager
def mnist_available():
    """The page offers MNIST only when its files are present: pretend they are."""
    from dl_core import mnist

    before = mnist.available
    mnist.available = lambda folder=None: True
    try:
        yield
    finally:
        mnist.available = before


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    r = Runs(tmp_path_factory.mktemp("scripts"))
    yield r
    for p in r.procs:
        if p.poll() is None:
            p.kill()


def result(runs: Runs, page: str, i: int) -> dict:
    run = runs.get(f"{page}_{i}")
    assert run["exit"] in ("0", "None"), run["stdout"][-2000:]
    TIMES[f"{page}_{i}"] = (run["seconds"], export.script(page, CASES[page][i][0]).count("\n"))
    return json.loads(run["stdout"].strip().splitlines()[-1])


TIMES: dict[str, tuple[float, int]] = {}


def close(a, b, rel, abs_=0.0) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


AGREEMENT: list[tuple[str, float, float]] = []  # (case and metric, script, page)


def agree(what: str, mine, page, rel: float, abs_: float = 0.0) -> None:
    """The script's number matches the page's within rel (or abs_); recorded for the report."""
    AGREEMENT.append((what, mine, page))
    assert close(mine, page, rel, abs_), f"{what}: script {mine!r}, page {page!r}"


def values(page: str, i: int) -> dict:
    return export.settings(page, CASES[page][i][0]).values


# Tolerances. Exact where the script and the page run the same ops from the same seeds
# (torch.optim vs the page's hand-written update on float64 surfaces, nn layers vs the
# page's nn layers); otherwise the page's hand-written float32 forward/backward and the
# script's nn.Module + autograd round differently in the last bit, and that grows with
# training: the playground (1,000 Adam steps) and the backprop page's float32 deep MLP.
EXACT = 1e-6  # relative: float noise only


def test_gradient_descent_reproduces_the_page(runs):
    from dl_core import optim

    for i in range(2):
        v = values("gradient_descent", i)
        surface = optim.SurfaceConfig(v["surface"], v["kappa"], v["angle"])
        f_min = optim.surface_info(surface).f_min
        out = result(runs, "gradient_descent", i)
        job = f"gradient_descent_{i}"
        for name in v["opt"]:
            cfg = optim.OptimConfig(name, v["lr"], momentum=v["mu"], beta1=v["b1"],
                                    beta2=v["b2"], eps=v["eps"])  # fmt: skip
            traj = optim.run(optim.RunConfig(surface, cfg, (v["x0"], v["y0"]), v["steps"]))
            assert out["diverged_at"][name] == traj.diverged_at, (i, name)
            if traj.diverged_at is None:
                gap = float(traj.loss[-1]) - f_min
                agree(f"{job} {name} f - f*", out["final_gap"][name], gap, EXACT, 1e-12)


def test_regression_reproduces_the_page(runs):
    from dl_core import regression as R

    batches = {"full batch": 0, "mini-batch of 10": 10, "stochastic (1 point)": 1}
    for i in range(2):
        v = values("regression", i)
        lin = R.train_linreg(R.LinRegConfig(n=v["lin_n"], noise=v["lin_noise"], lr=v["lin_lr"],
                                            steps=v["lin_steps"], batch_size=batches[v["lin_batch"]]))  # fmt: skip
        log = R.train_logreg(R.LogRegConfig(separation=v["log_sep"], lr=v["log_lr"],
                                            steps=v["log_steps"], batch_size=batches[v["log_batch"]]))  # fmt: skip
        out = result(runs, "regression", i)
        job = f"regression_{i}"
        agree(f"{job} linear loss", out["linear"]["loss"], float(lin.loss[-1]), EXACT)
        agree(f"{job} linear w", out["linear"]["w"], float(lin.theta[-1, 0]), EXACT)
        agree(f"{job} linear w_star", out["linear"]["w_star"], lin.closed_form[0], EXACT)
        assert out["linear"]["diverged_at"] == lin.diverged_at
        agree(f"{job} logistic loss", out["logistic"]["loss"], float(log.loss[-1]), EXACT)
        agree(f"{job} logistic accuracy", out["logistic"]["accuracy"], float(log.accuracy[-1]), 0)


def test_backprop_reproduces_the_page(runs, one_torch_thread):
    """The tiny network is float64: exact. Its gradient check compares autograd (script)
    or the hand-written backward (page) with central differences computed through each
    one's own forward pass: in float64 both errors are rounding noise of 1e-10 to 1e-9, so
    they agree within a factor of 10 (across a kink, where the error is large, to 10%).
    The deep MLP is float32 (as on the page): accuracy within one of the 128 points."""
    from dl_core import backprop as bp

    examples = [f"x = ({a:+g}, {b:+g}), y = {y}" for (a, b), y in zip(bp.EXAMPLES_X, bp.EXAMPLES_Y)]  # fmt: skip
    for i in range(2):
        v = values("backprop", i)
        tiny = bp.TinyConfig(v["arch"], v["act"], v["loss"], v["seed"], v["scale"],
                             examples.index(v["ex"]), v["lr"])  # fmt: skip
        wt = bp.walkthrough(tiny, v["eps"] if v["kink"] else None)
        fd = bp.grad_check(tiny, v["eps"], v["prec"], v["kink"]).max_rel_fd
        deep = bp.DeepConfig(v["depth"], v["width"], v["act"], v["init"], v["steps"], v["dlr"])
        res = bp.train(replace_steps(deep, bp.affordable_steps(deep)))
        out = result(runs, "backprop", i)
        job = f"backprop_{i}"
        agree(f"{job} tiny loss", out["tiny"]["loss"], wt.L, EXACT)
        agree(f"{job} tiny loss_after_step", out["tiny"]["loss_after_step"], wt.L_after, EXACT)
        mine = out["tiny"]["max_rel_error"]
        AGREEMENT.append((f"{job} tiny max rel. error vs finite differences", mine, fd))
        if fd > 1e-3:
            assert close(mine, fd, 0.1)
        else:
            assert abs(math.log10(max(mine, 1e-16) / max(fd, 1e-16))) < 1, (mine, fd)
        agree(
            f"{job} deep accuracy",
            out["deep"]["accuracy"],
            float(res.accuracy[-1]),
            0,
            1 / 128 + 1e-9,
        )
        agree(f"{job} deep loss", out["deep"]["loss"], float(res.loss[-1]), 1e-3)
        g0 = res.grad_norms[0]
        ratio = float(g0[0] / g0[-1])
        agree(f"{job} deep grad ratio", out["deep"]["grad_ratio_first_last"], ratio, 1e-3)
        assert out["deep"]["diverged_at"] == res.diverged_at


def replace_steps(cfg, steps):
    from dataclasses import replace

    return replace(cfg, steps=steps)


def test_playground_reproduces_the_page(runs):
    """The page trains with its hand-written float32 step, the script with nn.Linear,
    autograd and torch.optim: the same data, initial weights, batches and dropout masks,
    but the last bit of each op rounds differently, and 300-1,000 steps grow that. Losses
    within 5% (relative, or 1e-4 absolute near 0), test accuracy within 2 points of 100."""
    from dl_core import mlp

    for i, steps in ((0, 1000), (1, 300)):
        v = values("playground", i)
        cfg = mlp.Config(
            dataset=v["data"], n_points=v["n"], noise=v["noise"], test_fraction=v["test"],
            data_seed=v["dseed"], features=tuple(v["feat"]),
            hidden=tuple(v[f"h{k}"] for k in range(1, v["layers"] + 1)), activation=v["act"],
            init=v["init"], batch_norm=v["bn"], dropout=v["drop"], optimizer=v["opt"],
            lr=v["lr"], batch_size=v["batch"], regularization=v["reg"],
            reg_rate=v["rate"] if v["reg"] != "none" else 0.0, seed=v["seed"], steps=steps,
        )  # fmt: skip
        res = mlp.train(cfg)
        out = result(runs, "playground", i)
        job = f"playground_{i}"
        assert out["steps"] == int(res.step[-1]) == steps and out["diverged_at"] is None
        agree(f"{job} train_loss", out["train_loss"], float(res.train_loss[-1]), 0.05, 1e-4)
        agree(f"{job} test_loss", out["test_loss"], float(res.test_loss[-1]), 0.05, 1e-4)
        agree(f"{job} test_accuracy", out["test_accuracy"], float(res.test_acc[-1]), 0, 0.02)


def test_cnn_reproduces_the_page(runs, one_torch_thread):
    from dl_core import cnn

    for i in range(2):
        v = values("cnn", i)
        bs = int(v["bs"])
        epochs = min(v["epochs"], cnn.max_epochs(v["ds"], bs, v["ntrain"]))
        cfg = cnn.CNNConfig(v["ds"], v["layers"], v["filters"], int(v["k"]), v["pool"],
                            v["dropout"], v["opt"], v["lr"], epochs, bs, v["ntrain"], seed=v["seed"])  # fmt: skip
        res = cnn.train(cfg, device="cpu")
        out = result(runs, "cnn", i)
        job = f"cnn_{i}"
        assert out["steps"] == res.steps
        agree(f"{job} test_accuracy", out["test_accuracy"], res.test_acc, EXACT)
        agree(f"{job} test_loss", out["test_loss"], float(res.history.test_loss[-1]), EXACT)
    no_data = runs.get("no_data")
    assert "nowhere.gz not found: pass --data" in no_data["exit"]


def test_cnn_on_mnist_reproduces_the_page(runs, one_torch_thread, monkeypatch):
    """With MNIST's files present (here: small fake ones) the page offers it; the script
    reads the same IDX files and trains the same steps: exact."""
    from dl_core import cnn, mnist
    from dl_core.cnn import config  # cnn.dataset looks up _dataset here

    folder, calls = runs.tmp / "mnist", []

    def fake_files(name: str, n: int):
        calls.append((name, n))
        return mnist.load_mnist(folder, n, cnn.MNIST_TEST)

    monkeypatch.setattr(config, "_dataset", fake_files)
    with mnist_available():
        v = export.settings("cnn", MNIST_QUERY).values
    assert v["ds"] == "mnist" and v["ntrain"] == 1000
    cfg = cnn.CNNConfig("mnist", v["layers"], v["filters"], int(v["k"]), v["pool"],
                        v["dropout"], v["opt"], v["lr"], v["epochs"], int(v["bs"]), v["ntrain"], seed=v["seed"])  # fmt: skip
    res = cnn.train(cfg, device="cpu")
    assert calls == [("mnist", 1000)]  # the patch took effect: train read the fake files
    run = runs.get("cnn_mnist")
    out = json.loads(run["stdout"].strip().splitlines()[-1])
    assert out["steps"] == res.steps == 6
    agree("cnn_mnist test_accuracy", out["test_accuracy"], res.test_acc, EXACT)
    agree("cnn_mnist test_loss", out["test_loss"], float(res.history.test_loss[-1]), EXACT)


def test_rnn_reproduces_the_page(runs, one_torch_thread):
    from dl_core import rnn

    keys = {"sine": "test_mse", "noisy": "test_mse_vs_clean", "memory": "test_accuracy",
            "reber": "legal_next_symbol_rate"}  # fmt: skip
    for i in range(2):
        v = values("rnn", i)
        cfg = rnn.within_budget(rnn.RNNConfig(
            task=v["task"], cell=v["cell"], hidden=v["hidden"], seq_len=v["T"], gap=v["gap"],
            noise=v["noise"], bptt=v["bptt"], clip=v["clip"] if v["clipon"] else 0.0,
            optimizer=v["opt"], lr=v["lr"], steps=v["steps"],
        ))  # fmt: skip
        res = rnn.train(cfg, device="cpu")
        out = result(runs, "rnn", i)
        job = f"rnn_{i}"
        assert out["steps"] == len(res.loss) and out["diverged_at"] == res.diverged_at
        agree(f"{job} {keys[cfg.task]}", out[keys[cfg.task]], res.final_metric, EXACT)


def test_autoencoder_reproduces_the_page(runs, one_torch_thread):
    import numpy as np

    from dl_core import autoencoder as ae

    for i in range(2):
        v = values("autoencoder", i)
        common = dict(latent=v["latent"], hidden=v["hidden"], steps=v["steps"], lr=v["lr"],
                      seed=v["seed"])  # fmt: skip
        res_ae = ae.train(ae.AEConfig("ae", **common), device="cpu")
        res_vae = ae.train(ae.AEConfig("vae", beta=v["beta"], **common), device="cpu")
        dn = dict(common, latent=16)
        plain = ae.train(ae.AEConfig("ae", **dn), device="cpu")
        dae = ae.train(ae.AEConfig("ae", noise=v["noise"], **dn), device="cpu")
        noisy = ae.noisy_test(plain, v["noise"], 10, seed=v["seed"])
        clean = plain.x_test[:10]
        out = result(runs, "autoencoder", i)
        job = f"autoencoder_{i}"
        agree(f"{job} ae_test_mse", out["ae_test_mse"], res_ae.final_mse, EXACT)
        agree(f"{job} vae_test_mse", out["vae_test_mse"], res_vae.final_mse, EXACT)
        for name, m in (("plain", plain), ("denoising", dae)):
            page = float(np.mean((ae.reconstruct(m, noisy) - clean) ** 2))
            agree(f"{job} {name} AE to clean", out[f"{name}_ae_mse_to_clean"], page, EXACT)


def test_gan_reproduces_the_page(runs, one_torch_thread):
    """The page's fused hand-written step and the script's autograd step give the same
    numbers here to float rounding (the Jensen-Shannon divergence to 1e-5)."""
    from dl_core import gan

    for i in range(2):
        v = values("gan", i)
        steps = int(CASES["gan"][i][1][1])
        cfg = gan.GanConfig(
            target=v["target"], noise=v["noise"], noise_dim=v["nz"],
            g_hidden=(v["g_width"],) * v["g_layers"], d_hidden=(v["d_width"],) * v["d_layers"],
            activation=v["act"], loss=v["loss"], d_optimizer=v["d_opt"], g_optimizer=v["g_opt"],
            d_lr=v["d_lr"], g_lr=v["g_lr"], d_steps=v["k"], batch_size=v["batch"],
            seed=v["seed"], steps=steps,
        )  # fmt: skip
        res = gan.train(cfg, device="cpu")
        out = result(runs, "gan", i)
        job = f"gan_{i}"
        assert out["steps"] == steps and out["diverged_at"] == res.diverged_at
        agree(f"{job} modes_covered", out["modes_covered"], int(res.modes[-1]), 0)
        agree(f"{job} quality", out["quality"], float(res.quality[-1]), 0, 2 / 1024)
        agree(f"{job} js", out["js"], float(res.js[-1]), 1e-4, 1e-5)


def test_regularisation_reproduces_the_page(runs):
    """float64 on both sides; the page's tanh is 2 sigmoid(2a) - 1 (faster on this CPU),
    the script's torch.tanh: after 1,000 Adam steps they agree to about 1e-8."""
    from dl_core import regularisation as R

    for i in range(2):
        v = values("regularisation", i)
        cfg = R.FitConfig(data=v["data"], n=v["n"], noise=v["noise"], width=v["width"],
                          optimizer=v["opt"], lr=v["lr"], steps=v["steps"], penalty=v["pen"],
                          alpha=v["alpha"], p=v["p"], seed=v["seed"], data_seed=v["seed"])  # fmt: skip
        res = R.train(cfg)
        out = result(runs, "regularisation", i)
        job = f"regularisation_{i}"
        assert out["steps"] == int(res.steps[-1]) and out["diverged_at"] == res.diverged_at[0]
        for name, curve in (("train", res.train), ("val", res.val), ("test", res.test)):
            agree(f"{job} {name}_loss", out[f"{name}_loss"], float(curve[0, -1]), 1e-6)
        agree(f"{job} best_step", out["best_step"], int(res.best_step[0]), 0)
        agree(f"{job} test_loss_at_best", out["test_loss_at_best"], float(res.at_best(res.test)[0]), 1e-6)  # fmt: skip
        if cfg.task == "binary":
            agree(f"{job} test_accuracy", out["test_accuracy"], float(res.accuracy[0, -1]), 0)


def test_a_script_runs_as_a_plain_program(tmp_path):
    path = tmp_path / "gradient_descent.py"
    path.write_text(export.script("gradient_descent", "steps=5"))
    run = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=ENV,
                         capture_output=True, text=True, timeout=600)  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    last = json.loads(run.stdout.strip().splitlines()[-1])
    assert last["steps"] == 5 and set(last["final_gap"]) == {"sgd", "momentum", "adam"}


def test_report_times_lengths_and_agreement():
    """Not a check: each script's length and run time, and every number compared above
    (script, page, relative difference), for the record (-s shows them)."""
    for job, (seconds, lines) in sorted(TIMES.items()):
        print(f"{job:20s} {lines:4d} lines {seconds:6.2f} s")
    for what, mine, page in AGREEMENT:
        diff = abs(mine - page) / max(abs(page), 1e-300) if None not in (mine, page) else 0.0
        print(f"{what:55s} {mine!s:>24s} {page!s:>24s} {diff:9.1e}")
