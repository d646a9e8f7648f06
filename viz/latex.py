"""Helpers to write numbers into LaTeX formulas."""

from __future__ import annotations

import math
from collections.abc import Sequence


def num(x: float, digits: int = 4, zero: float = 0.0) -> str:
    """A number for LaTeX: 4 significant digits, scientific as a x 10^k. ``zero``: below
    this magnitude the value is round-off of an exact 0 and prints as 0 (for a quantity
    that is 0 in exact arithmetic, such as V(D*, G) + log 4 at the optimum)."""
    x = float(x)
    if abs(x) < zero:
        return "0"
    if math.isnan(x):
        return r"\text{NaN}"
    if math.isinf(x):
        return r"\infty" if x > 0 else r"-\infty"
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e5:
        s = f"{x:.{digits}g}"
        return s if "e" not in s else num_sci(x, digits)
    return num_sci(x, digits)


def num_sci(x: float, digits: int = 3) -> str:
    mant, exp = f"{x:.{digits - 1}e}".split("e")
    if "." in mant:
        mant = mant.rstrip("0").rstrip(".")
    return rf"{mant}\times 10^{{{int(exp)}}}"


def signed(x: float, digits: int = 4) -> str:
    """'+ 3.2' or '- 3.2', for writing sums."""
    return ("- " if x < 0 else "+ ") + num(abs(x), digits)


def paren(x: float, digits: int = 4) -> str:
    """A number in parentheses when negative, for products."""
    s = num(x, digits)
    return f"({s})" if x < 0 else s


def vec(v: Sequence[float], digits: int = 4) -> str:
    """A column vector."""
    return r"\begin{pmatrix}" + r"\\ ".join(num(x, digits) for x in v) + r"\end{pmatrix}"


def mat(M: Sequence[Sequence[float]], digits: int = 3) -> str:
    rows = [" & ".join(num(x, digits) for x in row) for row in M]
    return r"\begin{pmatrix}" + r"\\ ".join(rows) + r"\end{pmatrix}"


def plain(x: float, digits: int = 4, zero: float = 0.0) -> str:
    """The same number as ``num`` with the same digits, for plain text (captions, metrics,
    chart labels): a value reads the same in a formula and beside it."""
    s = num(x, digits, zero)
    if r"\times 10^{" in s:
        mant, exp = s.split(r"\times 10^{")
        return f"{mant}e{exp.rstrip('}')}"
    return {r"\text{NaN}": "NaN", r"\infty": "inf", r"-\infty": "-inf"}.get(s, s)
