"""The visual rulebook (``viz/style.py``) over every figure every page builds: each page at
its defaults, with each of its tabs open in turn."""

from __future__ import annotations

import json

import pytest

from tests.app.conftest import assert_ok, run_page
from ui import lesson
from ui.nav import available
from viz import style

PAGES = [p for p in available() if p.url_path != "home"]


def _charts(at) -> list[tuple[str, dict]]:
    return [(c.proto.id, json.loads(c.proto.spec)) for c in at.get("plotly_chart")]


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
def test_every_figure_keeps_the_rulebook(spec):
    at = run_page(spec.path)
    assert_ok(at)
    charts = _charts(at)
    labels = [t.label for t in at.tabs]
    for label in labels[1:]:
        at.session_state[lesson.TABS_KEY] = label
        at.run()
        assert_ok(at)
        charts += _charts(at)
    assert charts, f"{spec.url_path} drew no chart"
    broken = {
        f"{cid} {fig.get('layout', {}).get('title', {}).get('text', '')!r}": v
        for cid, fig in charts
        if (v := style.violations(fig))
    }
    assert not broken, json.dumps(broken, indent=1, ensure_ascii=False)


def test_the_checker_catches_each_rule():
    import plotly.graph_objects as go

    bad = go.Figure(go.Heatmap(z=[[1.0, -1.0]], colorscale="Viridis"))
    bad.add_scatter(x=[0, 1], y=[0, 1], name="W_ih", line_color="#123456")
    bad.add_scatter(x=[0, 1], y=[1, 0], name="ADAM", line_color="#123456")
    found = "\n".join(style.violations(bad.to_plotly_json()))
    for rule in ("raw underscore", "'ADAM'", "diverging scale", "means 2 things", "no title"):
        assert rule in found, rule
    good = go.Figure(go.Heatmap(z=[[1.0, -1.0]], **style.signed_scale(1.0, "w")))
    good.add_scatter(x=[0, 1], y=[0, 1], name=style.sub("W_ih"), line_color="#123456")
    style.base_layout(good, "Weights", "x", "y")
    assert style.violations(good.to_plotly_json()) == []
