"""viz.style: the lean template keeps plotly_white's look and costs a fraction of it."""

import json

import plotly.graph_objects as go
import plotly.io as pio

from viz import style


def test_the_lean_template_keeps_plotly_whites_look():
    white = pio.templates["plotly_white"].layout
    lean = pio.templates[style.TEMPLATE].layout
    for prop in ("paper_bgcolor", "plot_bgcolor", "font", "colorway", "hovermode"):
        assert lean[prop] == white[prop], prop
    for axis in ("xaxis", "yaxis"):
        assert lean[axis].gridcolor == white[axis].gridcolor
        assert lean[axis].zerolinecolor == white[axis].zerolinecolor
    heat = pio.templates[style.TEMPLATE].data.heatmap[0]
    assert heat.colorscale == pio.templates["plotly_white"].data.heatmap[0].colorscale


def test_a_figure_made_with_it_sends_a_small_template():
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1]), layout=dict(template=style.TEMPLATE))
    lean = len(json.dumps(fig.to_dict()["layout"]["template"]))
    fig.update_layout(template="plotly_white")
    white = len(json.dumps(fig.to_dict()["layout"]["template"]))
    assert lean < 1500 < 5000 < white
