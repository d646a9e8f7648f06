"""Sequence data for the recurrent-network page, generated with a seed.

Nothing is downloaded. Every generator takes a ``seed`` and draws from a local
``torch.Generator`` (dl_core.training.generator), so the same arguments give
the same numbers in every session.

* ``sine_windows``: windows of sine waves (each with its own period and phase),
  optionally noisy; the target is the next value.
* ``memory_task``: a symbol, N distractors, a recall cue; the answer is the
  symbol seen N + 1 steps earlier.
* the embedded Reber grammar: a generator, a validity checker and the set of
  legal next symbols after any prefix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from dl_core.training import generator

PERIOD_RANGE = (10.0, 30.0)  # samples per cycle of the sine windows

# ---------------------------------------------------------------------------
# Sine / noisy time series
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SineWindows:
    x: torch.Tensor  # (N, T, 1) the observed (possibly noisy) values s_1..s_T
    y: torch.Tensor  # (N, T, 1) the next observed values s_2..s_{T+1}: the training target
    y_clean: torch.Tensor  # (N, T, 1) the next values without noise: what we score against
    period: torch.Tensor  # (N,) samples per cycle of each window


def sine_windows(
    n: int,
    length: int,
    seed: int,
    noise: float = 0.0,
    period_range: tuple[float, float] = PERIOD_RANGE,
) -> SineWindows:
    """``n`` windows of ``length`` steps of s_t = sin(2 pi t / P + phi) + noise.

    Each window has its own period P (uniform in ``period_range``) and phase
    phi, so the network must infer the frequency from what it has seen."""
    g = generator(seed)
    phase = torch.rand(n, 1, generator=g) * 2 * math.pi  # (N, 1)
    lo, hi = period_range
    period = lo + (hi - lo) * torch.rand(n, 1, generator=g)  # (N, 1)
    t = torch.arange(length + 1, dtype=torch.float32)  # (T+1,)
    clean = torch.sin(2 * math.pi * t / period + phase)  # (N, T+1)
    noisy = clean + noise * torch.randn(clean.shape, generator=g) if noise > 0 else clean
    return SineWindows(
        x=noisy[:, :-1, None].contiguous(),
        y=noisy[:, 1:, None].contiguous(),
        y_clean=clean[:, 1:, None].contiguous(),
        period=period[:, 0],
    )


# ---------------------------------------------------------------------------
# Memory task: recall the symbol seen N steps earlier
# ---------------------------------------------------------------------------

N_SYMBOLS = 4  # symbols to remember (the classes), channels 0..3
N_DISTRACTORS = 4  # filler symbols shown during the gap, channels 4..7
MEMORY_INPUTS = N_SYMBOLS + N_DISTRACTORS + 1  # + the recall cue, channel 8
SYMBOL_NAMES = "ABCD"


@dataclass(frozen=True)
class MemoryTask:
    x: torch.Tensor  # (N, gap + 2, MEMORY_INPUTS) one-hot inputs
    label: torch.Tensor  # (N,) int64 in 0..N_SYMBOLS-1: the symbol shown at t = 0


def memory_task(n: int, gap: int, seed: int) -> MemoryTask:
    """t = 0: one of 4 symbols; t = 1..gap: random distractors; t = gap + 1: the
    cue "recall now". The answer at the last step is the symbol from t = 0."""
    g = generator(seed)
    T = gap + 2
    label = torch.randint(N_SYMBOLS, (n,), generator=g)  # (N,)
    channel = torch.empty(n, T, dtype=torch.int64)  # (N, T) which input is on
    channel[:, 0] = label
    channel[:, 1 : gap + 1] = N_SYMBOLS + torch.randint(N_DISTRACTORS, (n, gap), generator=g)
    channel[:, gap + 1] = MEMORY_INPUTS - 1
    x = torch.nn.functional.one_hot(channel, MEMORY_INPUTS).float()  # (N, T, 9)
    return MemoryTask(x=x, label=label)


# ---------------------------------------------------------------------------
# The embedded Reber grammar
# ---------------------------------------------------------------------------

ALPHABET = "BTPSXVE"
CHAR_INDEX = {c: i for i, c in enumerate(ALPHABET)}

# The Reber automaton: state -> {symbol: next state}; state 7 is the end.
REBER: dict[int, dict[str, int]] = {
    0: {"B": 1},
    1: {"T": 2, "P": 3},
    2: {"S": 2, "X": 4},
    3: {"T": 3, "V": 5},
    4: {"X": 3, "S": 6},
    5: {"P": 4, "V": 6},
    6: {"E": 7},
}
REBER_END = 7
MAX_REBER_LEN = 40  # longer strings are redrawn (the loops make the length unbounded)


def _reber_inner(g: torch.Generator) -> str:
    state, out = 0, []
    while state != REBER_END:
        options = list(REBER[state].items())
        sym, state = options[int(torch.randint(len(options), (1,), generator=g))]
        out.append(sym)
    return "".join(out)


def embedded_reber(n: int, seed: int, max_len: int = MAX_REBER_LEN) -> list[str]:
    """``n`` strings B T <Reber> T E or B P <Reber> P E, each at most ``max_len``.

    The symbol after the first B must be repeated just before the final E: a
    long-range dependency across the whole inner string."""
    g = generator(seed)
    out: list[str] = []
    while len(out) < n:
        branch = "TP"[int(torch.randint(2, (1,), generator=g))]
        s = "B" + branch + _reber_inner(g) + branch + "E"
        if len(s) <= max_len:
            out.append(s)
    return out


def legal_next(prefix: str) -> set[str]:
    """The symbols that may follow ``prefix`` in the embedded Reber grammar.

    Empty when the prefix is already invalid or complete."""
    if prefix == "":
        return {"B"}
    if prefix[0] != "B":
        return set()
    if len(prefix) == 1:
        return {"T", "P"}
    branch = prefix[1]
    if branch not in "TP":
        return set()
    state = 0
    for i, c in enumerate(prefix[2:], start=2):
        if state == REBER_END:  # inner string done: branch symbol, then E
            rest = prefix[i:]
            if rest == branch:
                return {"E"}
            return set()  # wrong closing symbol, or already complete ("<branch>E")
        if c not in REBER[state]:
            return set()
        state = REBER[state][c]
    if state == REBER_END:
        return {branch}
    return set(REBER[state])


def is_embedded_reber(s: str) -> bool:
    """True when ``s`` is a complete string of the embedded Reber grammar."""
    if len(s) < 2 or s[-1] != "E":
        return False
    # the inner string also ends with E: the outer one is complete only when nothing may follow
    return legal_next(s[:-1]) == {"E"} and legal_next(s) == set()


def encode(strings: list[str], length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and next-symbol targets for a character model.

    Returns x (N, length, 7) one-hot of s[0..L-2] (zeros past the end) and
    target (N, length) int64 index of s[1..L-1], -100 past the end (ignored by
    the loss)."""
    N = len(strings)
    x = torch.zeros(N, length, len(ALPHABET))
    target = torch.full((N, length), -100, dtype=torch.int64)
    for i, s in enumerate(strings):
        idx = torch.tensor([CHAR_INDEX[c] for c in s[: length + 1]])
        x[i, torch.arange(len(idx) - 1), idx[:-1]] = 1.0
        target[i, : len(idx) - 1] = idx[1:]
    return x, target


def legal_mask(strings: list[str], length: int) -> torch.Tensor:
    """(N, length, 7) bool: which symbols may follow s[:t+1], for scoring predictions."""
    mask = torch.zeros(len(strings), length, len(ALPHABET), dtype=torch.bool)
    for i, s in enumerate(strings):
        for t in range(min(len(s) - 1, length)):
            for c in legal_next(s[: t + 1]):
                mask[i, t, CHAR_INDEX[c]] = True
    return mask
