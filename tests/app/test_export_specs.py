"""The exporter reads a page's URL settings exactly as the page does.

``dl_core.export`` may not import Streamlit or ``ui``, so it keeps its own copy of every
page's settings (``dl_core/export/pages.py``). Here each page runs in ``AppTest`` with a
hostile link (numbers out of range, between grid points, unparsable, too long; unknown
names), every tab open in turn, while ``ui.params``' widget functions are wrapped to record
how the page declares each setting. Two things must hold:

* every setting the page declares is in the exporter's spec with the same kind, range,
  grid, options and default (and every spec key is declared by the page in some run);
* every value the page's widgets took equals the exporter's resolution of the same link.

The links keep numbers at or below their defaults, so each run trains little; tabs are
opened only while some setting the exporter expects has not been drawn yet."""

from __future__ import annotations

import inspect
import math

import pytest

from dl_core import export
from dl_core.export import params as xp
from tests.app.conftest import assert_ok, run_page
from ui import lesson
from ui import params as up

KINDS = {  # ui.params function -> the exporter's spec class
    "slider": xp.Slider,
    "log_slider": xp.LogSlider,
    "select": xp.Select,
    "multiselect": xp.Multi,
    "toggle": xp.Toggle,
}

# Per page, extra settings that reach widgets drawn only in some cases.
BRANCHES: dict[str, list[dict[str, str]]] = {
    "gradient_descent": [{"surface": "quadratic"}, {"surface": "rosenbrock"}],
    "playground": [{}, {"layers": "99", "data": "spiral3"}],
    "rnn": [{}, {"task": "noisy"}, {"task": "memory"}],
    "cnn": [{}, {"ds": "mnist"}],
}


# Settings a page draws only when optional data is present (MNIST: data/README.md).
def optional(page: str) -> set[str]:
    from dl_core import mnist

    return {"ntrain"} if page == "cnn" and not mnist.available() else set()


HOSTILE_NUMBERS = ["-1e9", "abc", "3.3", "NaN", " 2 ", "9" * 80, "-0.5", "1e999", "0"]
HOSTILE_LOGS = ["0.0022", "-5", "abc", "3e-5", "0"]


def hostile_query(page: str, extra: dict[str, str]) -> dict[str, str]:
    """A link with a hostile or off-grid value for every setting (cheap ones: numbers at or
    below the defaults)."""
    q: dict[str, str] = {}
    for i, p in enumerate(export.specs(page)):
        if isinstance(p, xp.Slider):
            q[p.key] = HOSTILE_NUMBERS[i % len(HOSTILE_NUMBERS)]
        elif isinstance(p, xp.LogSlider):
            q[p.key] = HOSTILE_LOGS[i % len(HOSTILE_LOGS)]
        elif isinstance(p, xp.Select):
            q[p.key] = "bogus" if i % 2 else p.options[-1]
        elif isinstance(p, xp.Multi):
            q[p.key] = ",".join([p.options[-1], "bogus", p.options[0], p.options[-1]])
        else:
            q[p.key] = ("maybe", "true", "0")[i % 3]
    q = {k: v for k, v in q.items() if k not in ("steps", "epochs")} | extra
    return q


@pytest.fixture
def declared(monkeypatch):
    """Record every ui.params widget call: key -> (kind, bound arguments)."""
    calls: dict[str, tuple[str, dict]] = {}
    for name in KINDS:
        orig = getattr(up, name)
        sig = inspect.signature(orig)

        def wrapped(*args, _orig=orig, _sig=sig, _name=name, **kw):
            bound = _sig.bind(*args, **kw)
            bound.apply_defaults()
            calls[bound.arguments["key"]] = (_name, dict(bound.arguments))
            return _orig(*args, **kw)

        monkeypatch.setattr(up, name, wrapped)
    return calls


def run_with_tabs(path: str, query: dict[str, str], declared: dict, wanted: set[str]):
    """Run the page; while some wanted settings have not been drawn, open its tabs in turn
    (a setting may live in a tab)."""
    at = run_page(path, query=query)
    assert_ok(at)
    for label in [t.label for t in at.tabs][1:]:
        if wanted <= set(declared):
            break
        at.session_state[lesson.TABS_KEY] = label
        at.run()
        assert_ok(at)
    return at


def same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return type(a) is type(b) and math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def check_declaration(spec: xp.Param, kind: str, args: dict, values: dict) -> list[str]:
    key, out = spec.key, []
    if not isinstance(spec, KINDS[kind]):
        return [f"{key}: the page draws a {kind}, the exporter has {type(spec).__name__}"]
    default = spec.default_for(values)
    if not same(list(default) if isinstance(default, tuple) else default,
                list(args["default"]) if isinstance(args["default"], tuple) else args["default"]):  # fmt: skip
        out.append(f"{key}: default {args['default']!r} on the page, {default!r} exported")
    if kind == "slider":
        for name in ("lo", "hi", "step"):
            if not same(args[name], getattr(spec, name)):
                out.append(f"{key}: {name} {args[name]!r} on the page, {getattr(spec, name)!r}")
    elif kind in ("log_slider", "select", "multiselect") and spec.used:  # noqa: SIM102
        if not same(list(args["options"]), list(spec.options)):
            out.append(f"{key}: options {list(args['options'])} on the page, {list(spec.options)}")
    return out


PAGES = list(export.PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_the_exporter_reads_a_link_as_the_page_does(page, declared):
    specs = {p.key: p for p in export.specs(page)}
    seen: set[str] = set()
    problems: list[str] = []
    for extra in BRANCHES.get(page, [{}]):
        declared.clear()
        query = hostile_query(page, extra)
        mine = export.settings(page, query)
        at = run_with_tabs(f"pages/{page}.py", query, declared, set(mine.drawn))
        for key, (kind, args) in declared.items():
            if key not in specs:
                problems.append(f"{key}: a setting of the page that the exporter does not know")
                continue
            seen.add(key)
            problems += check_declaration(specs[key], kind, args, mine.values)
            page_value = at.session_state[key]
            if not same(page_value, mine.values[key]):
                problems.append(
                    f"{key}={query.get(key)!r}: the page uses {page_value!r}, "
                    f"the exporter {mine.values[key]!r}"
                )
        drawn = set(mine.drawn)
        if drawn - set(declared):
            problems.append(f"the exporter expects widgets the page did not draw: {drawn - set(declared)}")  # fmt: skip
    if missing := set(specs) - seen - optional(page):
        problems.append(f"the exporter knows settings the page never drew: {sorted(missing)}")
    assert not problems, "\n".join(problems)
