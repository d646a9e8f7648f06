"""The URL settings of a page, parsed and clamped exactly as ``ui/params.py`` does.

``dl_core`` never imports Streamlit, so the rules of ``ui.params`` are repeated here (a
test runs every page and checks that both agree): a number is parsed without ``eval``,
clamped to the slider's range and snapped onto its grid; a log slider's value snaps to the
nearest option in log space; a select keeps only a name from its fixed list; a
multiselect drops unknown names; a toggle reads 1/0/true/false. Text longer than
``MAX_PARAM_LEN`` is ignored, as on the page.

A spec's default may depend on settings read before it (the gradient-descent start point
depends on the surface), and a spec may apply only ``when`` earlier settings say so (the
page draws that widget only then; otherwise the page uses ``fallback``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_PARAM_LEN = 64  # ui.params.MAX_PARAM_LEN: longer query strings are ignored outright

Values = dict[str, Any]


class ExportError(ValueError):
    """A page or query the exporter cannot use; the message is one line for a learner."""


def parse_number(raw: str | None) -> float | None:
    """A finite float from a query string, or None. Never evaluates code."""
    if raw is None:
        return None
    try:
        v = float(raw.strip())
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def clamp(v: float, lo: float, hi: float) -> float:
    return min(max(v, lo), hi)


def nearest(options: Sequence[float], v: float, log: bool = False) -> float:
    """The option closest to v (in log space when ``log``), as ``ui.params.nearest``."""
    if log:
        v = max(v, min(o for o in options if o > 0))
        return min(options, key=lambda o: abs(math.log(o) - math.log(v)) if o > 0 else math.inf)
    return min(options, key=lambda o: abs(o - v))


def log_options(lo_exp: int, hi_exp: int) -> list[float]:
    """1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 per decade, as ``ui.params.log_options``."""
    mantissas = (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8)
    out = [float(f"{m}e{e}") for e in range(lo_exp, hi_exp) for m in mantissas]
    return out + [float(f"1e{hi_exp}")]


Default = Any  # a value, or a function of the settings read so far
When = Callable[[Values], bool] | None


@dataclass(frozen=True)
class Param:
    """One URL setting of a page (one ``params.*`` widget)."""

    key: str
    default: Default
    when: When = None  # None: the page always draws the widget
    fallback: Any = None  # the value the page uses while the widget is not drawn
    used: bool = True  # False: a view setting of the page that the script does not need
    kind: str = field(default="", init=False)

    def default_for(self, values: Values) -> Any:
        return self.default(values) if callable(self.default) else self.default

    def parse(self, raw: str | None, default: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Slider(Param):
    lo: float = 0
    hi: float = 1
    step: float | None = None
    kind: str = field(default="slider", init=False)

    def parse(self, raw: str | None, default: Any) -> Any:
        v = parse_number(raw)
        if v is None:
            return None
        v = clamp(v, self.lo, self.hi)
        if self.step:  # snap onto the slider's grid
            v = self.lo + round((v - self.lo) / self.step) * self.step
            v = clamp(v, self.lo, self.hi)
        is_int = isinstance(default, int) and not isinstance(default, bool)
        return int(round(v)) if is_int else float(v)

    def describe(self) -> str:
        return f"a number from {self.lo:g} to {self.hi:g}"


@dataclass(frozen=True)
class LogSlider(Param):
    options: tuple[float, ...] = ()
    kind: str = field(default="log_slider", init=False)

    def parse(self, raw: str | None, default: Any) -> Any:
        v = parse_number(raw)
        return None if v is None else nearest(self.options, v, log=True)

    def describe(self) -> str:
        return f"a number from {min(self.options):g} to {max(self.options):g}"


@dataclass(frozen=True)
class Select(Param):
    options: tuple[str, ...] = ()
    kind: str = field(default="select", init=False)

    def parse(self, raw: str | None, default: Any) -> Any:
        return raw if raw in self.options else None

    def describe(self) -> str:
        return "one of " + ", ".join(self.options)


@dataclass(frozen=True)
class Multi(Param):
    options: tuple[str, ...] = ()
    kind: str = field(default="multiselect", init=False)

    def parse(self, raw: str | None, default: Any) -> Any:
        if raw is None:
            return None
        chosen = [o for o in raw.split(",") if o in self.options]
        return list(dict.fromkeys(chosen)) or None

    def default_for(self, values: Values) -> Any:
        return list(super().default_for(values))

    def describe(self) -> str:
        return "comma-separated names from " + ", ".join(self.options)


@dataclass(frozen=True)
class Toggle(Param):
    kind: str = field(default="toggle", init=False)

    def parse(self, raw: str | None, default: Any) -> Any:
        return {"1": True, "0": False, "true": True, "false": False}.get((raw or "").lower())

    def describe(self) -> str:
        return "1 or 0"


@dataclass(frozen=True)
class Resolved:
    """A page's settings as the page would use them, and what the query asked."""

    values: Values  # key -> value for every setting the page draws (and fallbacks)
    drawn: tuple[str, ...]  # keys whose widgets the page draws with these settings
    notes: tuple[str, ...]  # one line per value that was clamped, snapped or ignored


def resolve(specs: Sequence[Param], query: Mapping[str, str], strict: bool = False) -> Resolved:
    """The page's settings for ``query`` (key -> raw text, as ``st.query_params.get``).

    Lenient (the app): what the page does, unparsable values fall back to the default,
    unknown keys are ignored. ``strict`` (the command line): an unknown key or a value
    that is not a valid setting raises ExportError; out-of-range numbers are clamped as
    on the page (and noted)."""
    known = {p.key for p in specs}
    if strict:
        for k in query:
            if k not in known:
                raise ExportError(
                    f"unknown setting {k[:40]!r}; this page's settings are: {', '.join(sorted(known))}"
                )
    values: Values = {}
    drawn: list[str] = []
    notes: list[str] = []
    for p in specs:
        if p.when is not None and not p.when(values):
            values[p.key] = p.fallback
            if p.key in query:
                notes.append(f"{p.key}: not a setting with these values, ignored")
            continue
        drawn.append(p.key)
        default = p.default_for(values)
        raw = query.get(p.key)
        if raw is not None and len(raw) > MAX_PARAM_LEN:
            if strict:
                raise ExportError(f"{p.key}: value longer than {MAX_PARAM_LEN} characters")
            raw = None
        parsed = p.parse(raw, default)
        if raw is not None and parsed is None:
            if strict:
                raise ExportError(f"{p.key}={raw[:40]!r} is not valid: expected {p.describe()}")
            notes.append(f"{p.key}={raw[:40]!r} ignored, default used")
        elif raw is not None and not _matches(raw, parsed):
            notes.append(f"{p.key}={raw[:40]!r} out of range, nearest used: {_show(parsed)}")
        values[p.key] = default if parsed is None else parsed
    return Resolved(values, tuple(drawn), tuple(notes))


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


def _matches(raw: str, value: Any) -> bool:
    """Does the text say the value that is used (so nothing needs a note)?"""
    if isinstance(value, bool):
        return raw.lower() in (("1", "true") if value else ("0", "false"))
    if isinstance(value, (int, float)):
        v = parse_number(raw)
        return v is not None and math.isclose(v, value, rel_tol=1e-9, abs_tol=1e-12)
    return raw == _show(value)
