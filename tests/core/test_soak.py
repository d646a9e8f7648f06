"""Soak tests of the live views: a few hundred ticks of what the playground and the GAN
fragments run per tick, and the session's state must stay flat (bounded), not grow with
the ticks. AppTest cannot tick fragments, so these call the same dl_core functions the
fragments call (Net.advance + the grids; gan.advance + gan.snapshot)."""

from __future__ import annotations

import dataclasses
import sys

import torch

from dl_core import gan, mlp


def footprint(obj, seen: set[int] | None = None) -> int:
    """Bytes held by a session object: tensor storages (each once) plus Python containers
    and numbers, walked through attributes, dataclasses, dicts, lists and tuples."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    if isinstance(obj, torch.Tensor):
        storage = obj.untyped_storage()
        if storage.data_ptr() in seen:
            return 0
        seen.add(storage.data_ptr())
        return storage.nbytes()
    if isinstance(obj, torch.Generator | torch.device | type) or callable(obj):
        return 0
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        return size + sum(footprint(k, seen) + footprint(v, seen) for k, v in obj.items())
    if isinstance(obj, list | tuple | set):
        return size + sum(footprint(v, seen) for v in obj)
    if dataclasses.is_dataclass(obj) or hasattr(obj, "__dict__"):
        return size + footprint(vars(obj), seen)
    return size


def test_footprint_counts_tensors_once():
    t = torch.zeros(1000)
    assert footprint([t, t, t[:10]]) < 4000 + 500


def test_playground_session_stays_flat_over_many_ticks():
    """Ticks of the default network at its default speed (50 steps), with the two grids
    the fragment draws each tick. The history thins itself beyond MAX_RECORDS records, so
    after that the state does not grow however long the learner plays."""
    net = mlp.Net(mlp.Config())
    ticks = mlp.MAX_RECORDS + 600
    for k in range(ticks):
        net.advance(5)
        if k % 50 == 0:
            mlp.grid(net, 12), mlp.grid(net, 40)  # what each tick draws
        if k == mlp.MAX_RECORDS - 2:  # the history is full: the peak
            peak = footprint(net)
        assert len(net.history.step) <= mlp.MAX_RECORDS
    assert net.history.step[-1] == net.step_count  # the latest record is kept
    assert footprint(net) <= peak, (footprint(net), peak)  # flat after the cap


def test_playground_batch_size_changes_do_not_pile_up_buffers():
    """Sliding the batch-size slider through every value keeps a bounded set of buffers."""
    net = mlp.Net(mlp.Config())
    base = footprint(net)
    for B in range(1, 201):
        assert net.update(dataclasses.replace(net.cfg, batch_size=B))
        net.advance(1)
    assert footprint(net) < base + 2_000_000, (base, footprint(net))


def test_gan_session_grows_at_most_a_few_bytes_per_step():
    """A few hundred frames of the default GAN (20 steps each, as the page plays). The
    per-step curves are the only thing that grows; at the page's cap of gan.MAX_STEPS steps
    that bounds the session at a few MB."""
    cfg = gan.GanConfig()
    state = gan.init_state(cfg, "cpu")
    gan.advance(state, 20)
    start, s0 = footprint(state), state.step
    for k in range(300):
        gan.advance(state, 20)
        if k % 25 == 0:
            gan.snapshot(state)  # what each frame draws
    per_step = (footprint(state) - start) / (state.step - s0)
    assert state.diverged_at is None
    assert per_step < 400, per_step
    assert start + per_step * gan.MAX_STEPS < 12_000_000
