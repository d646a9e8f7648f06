"""One palette and layout for every chart."""

from __future__ import annotations

import plotly.graph_objects as go

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


def base_layout(fig: go.Figure, title: str, x: str, y: str, height: int = 380) -> go.Figure:
    """Title, axis labels, margins and a legend above the plot."""
    fig.update_layout(
        title=dict(text=title, x=0.0, xanchor="left", font=dict(size=15)),
        xaxis_title=x,
        yaxis_title=y,
        height=height,
        margin=dict(l=60, r=20, t=60, b=50),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0),
        template="plotly_white",
    )
    return fig
