"""The generated sequence tasks: shapes, determinism, and the Reber grammar."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dl_core import sequences as seq


def test_sine_windows_shapes_target_is_next_value_and_deterministic():
    w = seq.sine_windows(5, 12, seed=3)
    assert w.x.shape == w.y.shape == w.y_clean.shape == (5, 12, 1)
    torch.testing.assert_close(w.x[:, 1:], w.y[:, :-1])  # y_t = s_{t+1} = x_{t+1}
    assert float(w.x.abs().max()) <= 1.0
    lo, hi = seq.PERIOD_RANGE
    assert bool(((w.period >= lo) & (w.period <= hi)).all())
    w2 = seq.sine_windows(5, 12, seed=3)
    assert torch.equal(w.x, w2.x)
    assert not torch.equal(w.x, seq.sine_windows(5, 12, seed=4).x)


def test_noisy_windows_add_noise_of_the_stated_size_to_the_clean_signal():
    w = seq.sine_windows(400, 50, seed=0, noise=0.3)
    resid = w.y - w.y_clean
    assert abs(float(resid.std()) - 0.3) < 0.01
    assert abs(float(resid.mean())) < 0.01


@given(gap=st.integers(1, 60), seed=st.integers(0, 1000))
@settings(max_examples=25, deadline=None)
def test_memory_task_layout(gap, seed):
    m = seq.memory_task(16, gap, seed)
    assert m.x.shape == (16, gap + 2, seq.MEMORY_INPUTS)
    assert torch.equal(m.x.sum(-1), torch.ones(16, gap + 2))  # one-hot at every step
    ch = m.x.argmax(-1)  # (16, T)
    assert torch.equal(ch[:, 0], m.label)  # the symbol at t = 0 is the answer
    assert bool((ch[:, 1 : gap + 1] >= seq.N_SYMBOLS).all())  # only distractors in the gap
    assert bool((ch[:, 1 : gap + 1] < seq.MEMORY_INPUTS - 1).all())
    assert bool((ch[:, -1] == seq.MEMORY_INPUTS - 1).all())  # the cue last
    assert torch.equal(m.x, seq.memory_task(16, gap, seed).x)


def test_embedded_reber_strings_are_valid_deterministic_and_varied():
    s = seq.embedded_reber(200, seed=1)
    assert all(seq.is_embedded_reber(x) for x in s)
    assert all(len(x) <= seq.MAX_REBER_LEN for x in s)
    assert s == seq.embedded_reber(200, seed=1)
    assert {x[1] for x in s} == {"T", "P"}
    assert len(set(s)) > 50


def test_validity_checker_on_known_strings():
    assert seq.is_embedded_reber("BTBTXSETE")
    assert seq.is_embedded_reber("BPBPVVEPE")
    assert seq.is_embedded_reber("BTBTSSXXTVVETE")
    assert not seq.is_embedded_reber("BTBTXSEPE")  # closing symbol must repeat the branch
    assert not seq.is_embedded_reber("BTBTXSE")  # incomplete
    assert not seq.is_embedded_reber("BTBTXXSETE")  # X then X goes to the T/V loop, not S
    assert not seq.is_embedded_reber("BTBTXSETEE")  # trailing symbol
    assert not seq.is_embedded_reber("")


def test_legal_next_follows_the_automaton():
    assert seq.legal_next("") == {"B"}
    assert seq.legal_next("B") == {"T", "P"}
    assert seq.legal_next("BT") == {"B"}
    assert seq.legal_next("BTB") == {"T", "P"}
    assert seq.legal_next("BTBT") == {"S", "X"}
    assert seq.legal_next("BPBTXSE") == {"P"}  # the long-range dependency
    assert seq.legal_next("BPBTXSEP") == {"E"}
    assert seq.legal_next("BPBTXSEPE") == set()
    assert seq.legal_next("BQ") == set()


def test_every_prefix_of_a_valid_string_allows_its_next_symbol():
    for s in seq.embedded_reber(50, seed=2):
        for t in range(len(s)):
            assert s[t] in seq.legal_next(s[:t])


def test_encode_and_legal_mask_line_up():
    strings = ["BTBTXSETE", "BPBPVVEPE"]
    x, target = seq.encode(strings, 10)
    assert x.shape == (2, 10, 7) and target.shape == (2, 10)
    assert seq.ALPHABET[int(x[0, 0].argmax())] == "B"
    assert seq.ALPHABET[int(target[0, 0])] == "T"
    assert int((target[0] >= 0).sum()) == 8 and bool((target[0, 8:] == -100).all())
    assert float(x[0, 8:].abs().sum()) == 0.0  # past the end: zeros
    mask = seq.legal_mask(strings, 10)
    picked = mask.gather(-1, target.clamp(min=0)[..., None])[..., 0]  # the true next symbol
    assert bool(picked[target >= 0].all())
