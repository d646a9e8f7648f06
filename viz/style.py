"""One palette and layout for every chart."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

# Colour-blind-safe (Okabe-Ito), one per optimizer / series.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
OPTIMIZER_COLORS = {
    "sgd": "#0072B2",
    "momentum": "#E69F00",
    "nesterov": "#009E73",
    "adagrad": "#CC79A7",
    "rmsprop": "#56B4E9",
    "adam": "#D55E00",
    "adamw": "#000000",
}


def _lean_template() -> go.layout.Template:
    """plotly_white's look (white paper, light grid, its fonts, its heatmap colour scale)
    without what these charts never use (defaults for 23 more trace types, 3-D scenes, maps,
    polar axes, layout colour scales). Plotly validates a figure's whole template whenever
    one is set: plotly_white took 60-120 ms a figure on this machine under load, this one a
    few ms, and it sends 1 kB of a chart's JSON instead of 6.5."""
    white = pio.templates["plotly_white"]
    layout = white.layout.to_plotly_json()
    for unused in ("geo", "polar", "ternary", "coloraxis", "scene", "colorscale", "mapbox"):
        layout.pop(unused, None)
    return go.layout.Template(layout=layout, data={"heatmap": white.data.heatmap})


TEMPLATE = "dl_math_lab"
pio.templates[TEMPLATE] = _lean_template()
# Every figure starts from it: go.Figure() applies the default template when it is made, and
# Streamlit's own default (set when Streamlit is imported, before any page imports this
# module) would cost as much as plotly_white.
pio.templates.default = TEMPLATE


def base_layout(fig: go.Figure, title: str, x: str, y: str, height: int = 380) -> go.Figure:
    """Title, axis labels, margins and a legend above the plot."""
    fig.update_layout(
        title=dict(text=title, x=0.0, xanchor="left", font=dict(size=15)),
        xaxis_title=x,
        yaxis_title=y,
        height=height,
        margin=dict(l=60, r=20, t=60, b=50),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0),
    )
    return fig
