"""Small shared pieces of every trainer: seeds, divergence, timing."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch


def generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A local, seeded generator. Never use the global seed: sessions of the
    app are threads of one process and would share it."""
    g = torch.Generator(device=device)
    g.manual_seed(int(seed))
    return g


def first_divergence(values: Sequence[float], limit: float = math.inf) -> int | None:
    """Index of the first value that is non-finite or whose magnitude exceeds
    ``limit``; None when every value is finite and within the limit."""
    for i, v in enumerate(values):
        if not math.isfinite(v) or abs(v) > limit:
            return i
    return None


def is_bad(x: float, limit: float = math.inf) -> bool:
    """True for NaN, inf, or a magnitude beyond ``limit``."""
    return not math.isfinite(x) or abs(x) > limit


@contextmanager
def timer() -> Iterator[list[float]]:
    """``with timer() as t: ...`` then ``t[0]`` holds the wall time in seconds."""
    out = [0.0]
    start = time.perf_counter()
    try:
        yield out
    finally:
        out[0] = time.perf_counter() - start


@contextmanager
def one_thread(device: torch.device | str = "cpu") -> Iterator[None]:
    """Run the block on one intra-op CPU thread, then restore the previous count.

    The models here are tiny: every op is a few microseconds, and with two threads each op
    pays a hand-off; on a busy 2-core machine that made runs 3-30x slower (measured for the
    MLP step, the GAN step and the deep MLP of the backprop page). Nothing changes for a
    CUDA device, or when the count is already 1 (so it never sticks at 1)."""
    before = torch.get_num_threads()
    change = torch.device(device).type == "cpu" and before != 1
    if change:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if change:
            torch.set_num_threads(before)


def check_range(name: str, value: float, lo: float, hi: float) -> None:
    """Raise a ValueError a learner can read when ``value`` is outside [lo, hi]."""
    if not (isinstance(value, (int, float)) and math.isfinite(value) and lo <= value <= hi):
        raise ValueError(f"{name} must be between {lo:g} and {hi:g}, got {value!r}")


def check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
