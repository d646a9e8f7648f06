"""Iso-lines (contour lines) computed on the server: marching squares in numpy.

A Plotly ``go.Contour`` trace computes its lines in the browser's JavaScript, which takes
seconds for a 120x120 grid on a slow machine. A heatmap plus the lines precomputed here
(one Scatter trace, polylines separated by NaN) looks the same and draws in milliseconds.

Conventions: ``Z[i, j]`` is the value at ``(xs[j], ys[i])`` (rows are y, as in
``go.Heatmap``). A cell is the square between rows i, i+1 and columns j, j+1; its four edges
are numbered 0 bottom, 1 right, 2 top, 3 left, and its corners 0 bottom-left, 1
bottom-right, 2 top-right, 3 top-left. A corner is "above" when its value is >= the level.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# For each of the 16 corner cases (bit c set = corner c above), the edges the line joins:
# two pairs at most. Cases 5 and 10 (opposite corners above) are saddles: which pair of
# corners the lines cut off depends on the cell's mean (_SADDLE below).
_NONE = (-1, -1)
_PAIRS = np.array(
    [
        [_NONE, _NONE],  # 0: all below
        [(3, 0), _NONE],  # 1: bottom-left above
        [(0, 1), _NONE],  # 2: bottom-right
        [(3, 1), _NONE],  # 3: bottom row
        [(1, 2), _NONE],  # 4: top-right
        [(3, 0), (1, 2)],  # 5: saddle, centre below: cut off bottom-left and top-right
        [(0, 2), _NONE],  # 6: right column
        [(3, 2), _NONE],  # 7: all but top-left
        [(3, 2), _NONE],  # 8: top-left
        [(0, 2), _NONE],  # 9: left column
        [(0, 1), (2, 3)],  # 10: saddle, centre below: cut off bottom-right and top-left
        [(1, 2), _NONE],  # 11: all but top-right
        [(3, 1), _NONE],  # 12: top row
        [(0, 1), _NONE],  # 13: all but bottom-right
        [(3, 0), _NONE],  # 14: all but bottom-left
        [_NONE, _NONE],  # 15: all above
    ]
)  # (16 cases, 2 segments, 2 edges)
_SADDLE = {5: _PAIRS[10], 10: _PAIRS[5]}  # centre above: the other pair of corners is cut off


def nice_levels(zmin: float, zmax: float, target: int = 20) -> np.ndarray:
    """Round-numbered levels strictly inside (zmin, zmax), about ``target`` of them.

    The step is 1, 2, 2.5 or 5 times a power of ten, as on a plot's axis."""
    if not (np.isfinite(zmin) and np.isfinite(zmax)) or zmax <= zmin:
        return np.empty(0)
    raw = (zmax - zmin) / max(target, 1)
    power = 10.0 ** np.floor(np.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    levels = np.arange(np.ceil(zmin / step) * step, zmax, step)
    return levels[(levels > zmin) & (levels < zmax)]


def segments(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, level: float) -> np.ndarray:
    """Every piece of the iso-line ``Z = level``: an array (S, 2, 2) of [start, end] (x, y).

    Within one level, two pieces that meet share an endpoint computed from the same grid
    edge, so their coordinates are bit-identical (``isolines`` joins them)."""
    pts, pairs = _crossings(xs, ys, Z, level)
    if len(pairs) == 0:
        return np.empty((0, 2, 2))
    return pts[pairs]  # (S, 2, 2)


def isolines(
    xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, levels: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """The iso-lines of every level as one pair of x, y arrays for a single Scatter trace:
    polylines (each segment joined to its neighbours) separated by NaN."""
    xs_out: list[np.ndarray] = []
    for level in levels:
        pts, pairs = _crossings(xs, ys, Z, float(level))
        for chain in _chains(pairs):
            xs_out.append(pts[chain])
            xs_out.append(np.full((1, 2), np.nan))
    if not xs_out:
        return np.empty(0), np.empty(0)
    line = np.concatenate(xs_out[:-1])  # (P, 2), no trailing separator
    return line[:, 0], line[:, 1]


def _crossings(
    xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """The points where the level crosses grid edges, and the segments as index pairs.

    Returns pts (E, 2): one (x, y) per grid edge (NaN where the edge is not crossed), then
    pairs (S, 2) of indices into pts. Horizontal edge (i, j), between Z[i, j] and
    Z[i, j+1], has index i * (nx-1) + j; vertical edge (i, j), between Z[i, j] and
    Z[i+1, j], has index nH + i * nx + j with nH = ny * (nx-1)."""
    xs, ys, Z = np.asarray(xs, float), np.asarray(ys, float), np.asarray(Z, float)
    ny, nx = Z.shape
    if xs.shape != (nx,) or ys.shape != (ny,):
        raise ValueError(f"Z has shape {Z.shape}: expected xs of {nx} and ys of {ny} values")
    if nx < 2 or ny < 2:
        return np.empty((0, 2)), np.empty((0, 2), dtype=int)
    above = level <= Z  # (ny, nx): Z >= level; NaN counts as below (its segments are dropped)
    with np.errstate(divide="ignore", invalid="ignore"):
        th = (level - Z[:, :-1]) / (Z[:, 1:] - Z[:, :-1])  # (ny, nx-1) along each horizontal edge
        tv = (level - Z[:-1, :]) / (Z[1:, :] - Z[:-1, :])  # (ny-1, nx) along each vertical edge
    hx = xs[:-1] + th * np.diff(xs)  # (ny, nx-1)
    hy = np.broadcast_to(ys[:, None], th.shape)
    vx = np.broadcast_to(xs[None, :], tv.shape)  # (ny-1, nx)
    vy = ys[:-1, None] + tv * np.diff(ys)[:, None]
    pts = np.concatenate(
        [np.stack([hx.ravel(), hy.ravel()], 1), np.stack([vx.ravel(), vy.ravel()], 1)]
    )  # (E, 2)
    n_h = ny * (nx - 1)

    # the corner case of every cell (ny-1, nx-1)
    a0, a1, a2, a3 = above[:-1, :-1], above[:-1, 1:], above[1:, 1:], above[1:, :-1]
    case = (a0 * 1 + a1 * 2 + a2 * 4 + a3 * 8).ravel()  # (C,)
    active = np.flatnonzero((case != 0) & (case != 15))
    if len(active) == 0:
        return pts, np.empty((0, 2), dtype=int)
    i, j = np.divmod(active, nx - 1)  # the cell's row and column
    edge_ids = np.stack(
        [i * (nx - 1) + j, n_h + i * nx + j + 1, (i + 1) * (nx - 1) + j, n_h + i * nx + j], 1
    )  # (K, 4): bottom, right, top, left
    c = case[active]
    table = _PAIRS[c]  # (K, 2, 2)
    saddle = (c == 5) | (c == 10)
    if saddle.any():
        centre = Z[:-1, :-1] + Z[:-1, 1:] + Z[1:, 1:] + Z[1:, :-1]  # (ny-1, nx-1), 4x the mean
        up = saddle & (centre.ravel()[active] >= 4 * level)
        for k in (5, 10):
            table[up & (c == k)] = _SADDLE[k]
    rows = np.arange(len(active))
    pairs = []
    for s in range(2):
        has = table[:, s, 0] >= 0
        r = rows[has]
        pairs.append(
            np.stack([edge_ids[r, table[has, s, 0]], edge_ids[r, table[has, s, 1]]], 1)
        )  # (S_s, 2)
    pairs = np.concatenate(pairs)
    finite = np.isfinite(pts[pairs]).all(axis=(1, 2))
    return pts, pairs[finite]


def _chains(pairs: np.ndarray) -> list[list[int]]:
    """Join segments that share an edge point into polylines (open lines first end on the
    grid's border or at a NaN, closed loops repeat their first point at the end).

    Every edge point belongs to at most two segments (the two cells beside the edge)."""
    neighbours: dict[int, list[int]] = {}
    for a, b in pairs.tolist():
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    seen: set[int] = set()
    chains = []
    ends = [p for p, nb in neighbours.items() if len(nb) == 1]
    for start in ends + list(neighbours):
        if start in seen:
            continue
        chain, prev, cur = [start], -1, start
        seen.add(start)
        while True:
            nxt = [p for p in neighbours[cur] if p != prev]
            if not nxt:
                break
            prev, cur = cur, nxt[0]
            chain.append(cur)
            if cur in seen:  # a closed loop is back at its start
                break
            seen.add(cur)
        chains.append(chain)
    return chains
