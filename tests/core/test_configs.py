"""Property-based tests over every topic's config (the reliability sweep).

1. Any value of the right type in any field (huge, negative, zero, NaN, inf, junk text)
   either builds a valid config or raises a ValueError whose message names the problem;
   never another exception.
2. Any rate-like hyperparameter (learning rates, betas, noise, clipping, dropout ...)
   over a wide range, on the topic's tiny config: training returns a result whose losses
   are finite, or that says where it diverged (diverged_at). Never an exception.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dl_core import autoencoder, backprop, cnn, gan, mlp, optim, regression, rnn

TRAINERS: dict[str, tuple[type, Callable]] = {
    "optim.OptimConfig": (optim.OptimConfig, None),
    "optim.SurfaceConfig": (optim.SurfaceConfig, None),
    "regression.LinRegConfig": (regression.LinRegConfig, regression.train_linreg),
    "regression.LogRegConfig": (regression.LogRegConfig, regression.train_logreg),
    "backprop.TinyConfig": (backprop.TinyConfig, None),  # no training: a walkthrough
    "backprop.DeepConfig": (backprop.DeepConfig, backprop.train),
    "mlp.Config": (mlp.Config, mlp.train),
    "cnn.CNNConfig": (cnn.CNNConfig, cnn.train),
    "rnn.RNNConfig": (rnn.RNNConfig, rnn.train),
    "autoencoder.AEConfig": (autoencoder.AEConfig, autoencoder.train),
    "gan.GanConfig": (gan.GanConfig, gan.train),
}

RATES = ("lr", "beta", "noise", "clip", "momentum", "eps", "dropout", "reg_rate", "scale",
         "forget_bias", "separation", "true_w", "true_b", "condition", "angle")  # fmt: skip


def base(cls: type):
    return cls.tiny() if hasattr(cls, "tiny") else cls()


def hostile_value(example):
    """A strategy of values of the same type as ``example``, far outside any sane range."""
    if isinstance(example, bool):
        return st.booleans()
    if isinstance(example, int):
        return st.one_of(st.integers(-(10**12), 10**12), st.sampled_from([0, -1, 1, 2**63 - 1]))
    if isinstance(example, float):
        return st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                         st.sampled_from([0.0, -0.0, 1e308, -1e308, 5e-324]))  # fmt: skip
    if isinstance(example, str):
        return st.one_of(st.text(max_size=12), st.sampled_from(["", "<script>", "../etc"]))
    if isinstance(example, tuple) and all(isinstance(v, int) for v in example):
        return st.lists(st.integers(-5, 10**7), max_size=9).map(tuple)
    if isinstance(example, tuple):
        return st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=2, max_size=2).map(tuple)  # fmt: skip
    return st.just(example)


@pytest.mark.parametrize("name", TRAINERS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_field_value_builds_or_raises_a_clear_value_error(name, data):
    cls, _ = TRAINERS[name]
    cfg = base(cls)
    fields = [f.name for f in dataclasses.fields(cls)
              if not dataclasses.is_dataclass(getattr(cfg, f.name))]  # fmt: skip
    field = data.draw(st.sampled_from(fields), label="field")
    value = data.draw(hostile_value(getattr(cfg, field)), label="value")
    try:
        dataclasses.replace(cfg, **{field: value})
    except ValueError as e:
        assert len(str(e)) >= 10, f"unclear message for {field}={value!r}: {e!r}"


def losses_of(result) -> list[np.ndarray]:
    """Every loss-like history of a result: fields named *loss*, *mse*, *recon*, kl."""
    out = []
    for f in dataclasses.fields(result):
        v = getattr(result, f.name)
        if f.name == "history" and dataclasses.is_dataclass(v):
            out += losses_of(v)
        elif any(s in f.name.lower() for s in ("loss", "mse", "recon", "kl")):
            try:
                arr = np.asarray(v, dtype=float).ravel()
            except (TypeError, ValueError):
                continue
            out.append(arr)
    return out


@pytest.mark.parametrize("name", [n for n, (_, train) in TRAINERS.items() if train is not None])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_rate_trains_to_finite_or_explained_results(name, data):
    cls, train = TRAINERS[name]
    cfg = base(cls)
    rates = [f.name for f in dataclasses.fields(cls)
             if isinstance(getattr(cfg, f.name), float) and any(r in f.name for r in RATES)]  # fmt: skip
    if not rates:
        pytest.skip("no rate-like field")
    field = data.draw(st.sampled_from(rates), label="field")
    magnitude = data.draw(st.floats(-8, 4), label="log10 |value|")
    sign = data.draw(st.sampled_from([1.0, -1.0, 0.0]), label="sign")
    value = sign * 10**magnitude
    try:
        cfg = dataclasses.replace(cfg, **{field: value})
    except ValueError:
        return  # rejected with a message: the first test checks those
    res = train(cfg)
    assert losses_of(res), "the result holds no loss to check"
    diverged = getattr(res, "diverged_at", None)
    if diverged is None:
        for arr in losses_of(res):
            finite = arr[~np.isnan(arr)] if "acc" in name else arr
            assert np.isfinite(finite).all() or arr.size == 0, f"{field}={value}: non-finite loss, no diverged_at"  # fmt: skip
    else:
        assert isinstance(diverged, int) and diverged >= 0
        assert not math.isnan(float(diverged))
