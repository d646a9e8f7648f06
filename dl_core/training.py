"""Small shared pieces of every trainer: seeds, divergence, timing."""

from __future__ import annotations

import math
import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Generic, TypeVar

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


C = TypeVar("C")  # a frozen config
R = TypeVar("R")  # its result, with a ``config`` attribute


class ResultCache(Generic[C, R]):
    """A bounded, thread-safe memo of ``train`` by config, shared by every session of the
    app (a page keeps one in ``st.cache_resource``; ``st.cache_data`` cannot replay the
    live progress a training run draws). Keys are frozen configs; a result holds its
    ``config``. Results are frozen and never mutated, so sharing them is safe. The oldest
    entry goes first beyond ``max_entries``. ``get_or_train``
    makes identical settings train once even when two sessions ask at the same moment: the
    second waits for the first instead of training the same model again."""

    def __init__(self, max_entries: int = 32) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[C, R] = OrderedDict()
        self._running: dict[C, threading.Event] = {}  # configs being trained now
        self._lock = threading.Lock()

    def get(self, cfg: C) -> R | None:
        with self._lock:
            res = self._data.get(cfg)
            if res is not None:
                self._data.move_to_end(cfg)
            return res

    def put(self, res: R) -> R:
        with self._lock:
            self._data[res.config] = res
            self._data.move_to_end(res.config)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)
        return res

    def get_or_train(
        self,
        cfg: C,
        train_fn: Callable[[C], R],
        waiting: Callable[[], None] | None = None,
        poll_s: float = 0.2,
    ) -> R:
        """The cached result, else ``train_fn(cfg)`` stored. If another thread is training the
        same config, wait for it, calling ``waiting()`` every ``poll_s`` seconds (a caller can
        raise there to give up). If that other run fails or is cancelled, train here."""
        while True:
            with self._lock:
                if (res := self._data.get(cfg)) is not None:
                    self._data.move_to_end(cfg)
                    return res
                done = self._running.get(cfg)
                if done is None:
                    done = self._running[cfg] = threading.Event()
                    break  # this thread trains
            while not done.wait(poll_s):
                if waiting is not None:
                    waiting()
        try:
            return self.put(train_fn(cfg))
        finally:
            with self._lock:
                self._running.pop(cfg, None)
            done.set()


def slots_from_env(default: int | None = None) -> int:
    """How many trainings this process runs at once: ``$DLML_TRAINING_SLOTS``, else one per
    core (each session trains on one thread). ``deploy/serve.sh`` sets it to cores/workers."""
    raw = os.environ.get("DLML_TRAINING_SLOTS", "")
    n = int(raw) if raw.isdigit() else (default or os.cpu_count() or 1)
    return max(1, n)


class TrainingSlots:
    """At most ``n`` trainings at once in this process, first come, first served.

    Thirty learners who each start a training at the same moment on a 2-core machine all
    finish at about the end when they share the cores (their threads interleave); with two
    slots the first two finish after one training's time, the next two after two, and the
    last no later than before. Waiting is polite: ``waiting(ahead)`` is called every
    ``poll_s`` seconds with the number of trainings ahead (a caller may raise there to give
    up its place, e.g. a Streamlit rerun)."""

    def __init__(self, n: int) -> None:
        if n < 1:
            raise ValueError("a process needs at least one training slot")
        self.n = n
        self._cond = threading.Condition()
        self._queue: deque[object] = deque()
        self.running = 0

    @contextmanager
    def slot(self, waiting: Callable[[int], None] | None = None, poll_s: float = 0.2):
        ticket = object()
        with self._cond:
            self._queue.append(ticket)
        try:
            while True:
                with self._cond:
                    if self._queue[0] is ticket and self.running < self.n:
                        self._queue.popleft()
                        self.running += 1
                        self._cond.notify_all()  # the next in line may fit too
                        break
                    self._cond.wait(poll_s)
                    if self._queue[0] is ticket and self.running < self.n:
                        continue
                    ahead = self._queue.index(ticket) + self.running
                if waiting is not None:
                    waiting(ahead)
        except BaseException:
            with self._cond:
                if ticket in self._queue:
                    self._queue.remove(ticket)
                self._cond.notify_all()
            raise
        try:
            yield
        finally:
            with self._cond:
                self.running -= 1
                self._cond.notify_all()

    @property
    def queued(self) -> int:
        with self._cond:
            return len(self._queue)
