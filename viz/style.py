"""The visual rulebook: one palette, one sign-to-colour rule and one layout for every chart.

Rules (checked over every figure the pages build by ``tests/app/test_rulebook.py``, with
``violations``):

1. Signed values (weights, gradients, activations that can be negative) use ``DIVERGING``,
   centred on 0, with a colour bar: positive is ``POSITIVE_NAME`` (blue), negative is
   ``NEGATIVE_NAME`` (red). A caption that names a colour takes it from these constants.
2. One meaning per colour on a chart: two series never share a colour.
3. Categories (the ten digits, classes) use ``CATEGORY10`` with ``MARKERS``.
4. Chart text has no raw underscores: ``sub("W_ih")`` writes W<sub>ih</sub>.
5. Every axis that shows tick labels has a title.
6. One spelling: Adam, RMSProp, SGD, CPU, GPU, CUDA (``SPELLING``).
7. No empty chart: every figure shows data on arrival (a state after a few steps, or
   no chart and a placeholder text that says what will appear).

A heatmap of a function's height (a loss surface) is not a signed quantity: it is marked
``meta=HEIGHT`` and uses ``SEQUENTIAL``.
"""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

# Colour-blind-safe (Okabe-Ito), one per optimizer / series.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
# One colour per optimizer, and never two oranges on one chart: the default race (SGD,
# momentum, Adam) is blue, orange and green. Dashes tell the adaptive family apart too.
OPTIMIZER_COLORS = {
    "sgd": "#0072B2",  # blue
    "momentum": "#E69F00",  # orange
    "nesterov": "#CC79A7",  # pink
    "adagrad": "#56B4E9",  # sky blue
    "rmsprop": "#D55E00",  # vermillion
    "adam": "#009E73",  # green
    "adamw": "#000000",  # black
}


# Signed values: ColorBrewer's RdBu (colour-blind safe), negative red, 0 white, positive blue.
POSITIVE, POSITIVE_NAME = "#2166AC", "blue"
NEGATIVE, NEGATIVE_NAME = "#B2182B", "red"
DIVERGING = (
    (0.0, NEGATIVE), (0.25, "#EF8A62"), (0.5, "#F7F7F7"), (0.75, "#67A9CF"), (1.0, POSITIVE),
)  # fmt: skip
# Non-negative magnitudes (a loss over a grid, a probability): one sequential scale.
SEQUENTIAL = "Viridis"
HEIGHT = "height"  # a heatmap trace's meta: the height of a surface, not a signed value
# Ten categories (digits): Tableau 10, built for telling ten series apart, plus a marker each.
CATEGORY10 = (
    "#4E79A7", "#F28E2B", "#E15759", "#76B7B2", "#59A14F",
    "#EDC948", "#B07AA1", "#FF9DA7", "#9C755F", "#79706E",
)  # fmt: skip
MARKERS = (
    "circle", "square", "diamond", "cross", "x",
    "triangle-up", "triangle-down", "star", "hexagon", "pentagon",
)  # fmt: skip
# Wrong spelling -> right one, in any chart text.
SPELLING = {"ADAM": "Adam", "adam": "Adam", "Rmsprop": "RMSProp", "rmsprop": "RMSProp",
            "sgd": "SGD", "cpu": "CPU", "cuda": "CUDA", "gpu": "GPU"}  # fmt: skip


def signed_scale(zmax: float, title: str = "") -> dict:
    """Heatmap keyword arguments for signed values: the diverging scale, symmetric about 0,
    with a colour bar. ``zmax``: the largest |value| to show (> 0)."""
    zmax = float(zmax) if zmax and zmax > 0 else 1.0
    return dict(
        colorscale=[list(s) for s in DIVERGING], zmid=0.0, zmin=-zmax, zmax=zmax,
        showscale=True, colorbar=dict(title=dict(text=title), thickness=12),
    )  # fmt: skip


def sub(label: str) -> str:
    """Chart text with subscripts: "W_ih" -> "W<sub>ih</sub>", "lambda_min" -> "λ<sub>min</sub>"."""
    greek = {"lambda": "λ", "theta": "θ", "sigma": "σ", "mu": "μ", "eta": "η", "beta": "β",
             "kappa": "κ", "alpha": "α", "delta": "δ", "gamma": "γ", "phi": "φ"}  # fmt: skip
    import re

    def one(m: re.Match) -> str:
        base, index = m.group(1), m.group(2)
        return f"{greek.get(base, base)}<sub>{index}</sub>"

    return re.sub(r"([A-Za-z]+)_\{?([A-Za-z0-9*]+)\}?", one, label)


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


# ---------------------------------------------------------------- the rulebook, checked
def _array(v) -> list[float]:
    """A trace's data as floats: a list (nested or not) or Plotly's typed-array dict."""
    import base64

    import numpy as np

    if v is None:
        return []
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"])).tolist()
    try:
        a = np.asarray(v, dtype=float)
    except (TypeError, ValueError):
        return []
    return a[np.isfinite(a)].ravel().tolist()


def _texts(spec: dict) -> list[tuple[str, str]]:
    """(where, text) of every text a reader sees on the chart (not hover templates)."""
    layout = spec.get("layout", {})
    out = []

    def title(where: str, obj) -> None:
        if isinstance(obj, dict):
            t = obj.get("title")
            t = t.get("text") if isinstance(t, dict) else t
            if t:
                out.append((where, str(t)))

    title("title", layout)
    for k, ax in layout.items():
        if k.startswith(("xaxis", "yaxis")):
            title(k, ax)
    for i, a in enumerate(layout.get("annotations", [])):
        if a.get("text"):
            out.append((f"annotation {i}", str(a["text"])))
    for i, tr in enumerate(spec.get("data", [])):
        if tr.get("name") and tr.get("showlegend", True) is not False:
            out.append((f"trace {i} name", str(tr["name"])))
        title(f"trace {i} colorbar", tr.get("colorbar"))
    return out


def _scale_is_diverging(scale) -> bool:
    if not isinstance(scale, list | tuple) or len(scale) != len(DIVERGING):
        return False
    return all(
        abs(float(a[0]) - b[0]) < 1e-9 and str(a[1]).upper() == b[1].upper()
        for a, b in zip(scale, DIVERGING, strict=True)
    )


def violations(spec: dict) -> list[str]:
    """The rules above that a figure's JSON (``fig.to_plotly_json()``, or the spec Streamlit
    sends) breaks, as readable lines; an empty list when it keeps them all."""
    import re

    layout, data = spec.get("layout", {}), spec.get("data", [])
    found: list[str] = []
    spelling = re.compile(r"\b(" + "|".join(map(re.escape, SPELLING)) + r")\b")
    for where, text in _texts(spec):
        plain = re.sub(r"<[^>]+>", "", text)
        if "_" in plain:
            found.append(f"{where}: raw underscore in {text!r} (use style.sub)")
        if m := spelling.search(plain):
            found.append(f"{where}: {m.group(1)!r} in {text!r}, write {SPELLING[m.group(1)]!r}")
    # Signed values: the diverging scale about 0, with a colour bar.
    for i, tr in enumerate(data):
        if tr.get("type") != "heatmap" or tr.get("visible") is False or tr.get("meta") == HEIGHT:
            continue
        z = _array(tr.get("z"))
        if not z or not (min(z) < 0 < max(z)):
            continue
        axis = layout.get(tr["coloraxis"], {}) if tr.get("coloraxis") else tr
        scale_ok = _scale_is_diverging(axis.get("colorscale"))
        centred = axis.get("zmid", axis.get("cmid")) == 0 or (
            axis.get("zmin", axis.get("cmin")) is not None
            and axis.get("zmin", axis.get("cmin")) == -axis.get("zmax", axis.get("cmax"))
        )
        if not (scale_ok and centred):
            found.append(f"trace {i}: signed heatmap without the diverging scale centred on 0")
        if axis.get("showscale") is False:
            found.append(f"trace {i}: signed heatmap without a colour bar")
    # No empty chart.
    if not any(
        _array(tr.get(k)) or (isinstance(tr.get(k), list) and tr.get(k))
        for tr in data
        for k in ("x", "y", "z", "values")
    ):
        found.append("empty chart: no trace has data")
    # One meaning per colour.
    by_colour: dict[str, set[str]] = {}
    for tr in data:
        if tr.get("visible") is False or tr.get("showlegend") is False or not tr.get("name"):
            continue
        c = (tr.get("line") or {}).get("color") or (tr.get("marker") or {}).get("color")
        if isinstance(c, str):
            by_colour.setdefault(c.upper(), set()).add(str(tr["name"]))
    for c, names in by_colour.items():
        if len(names) > 1:
            found.append(f"colour {c} means {len(names)} things: {sorted(names)}")
    # Every axis that shows tick labels has a title.
    flat = [tr for tr in data if tr.get("type", "scatter") not in ("surface", "scatter3d", "mesh3d", "cone", "pie")]  # fmt: skip
    used = {tr.get(a, a[0]) for tr in flat for a in ("xaxis", "yaxis") if "x" in tr or "y" in tr or "z" in tr}  # fmt: skip
    for ref in sorted(used):
        key = ref[0] + "axis" + ref[1:]
        ax = layout.get(key, {})
        if ax.get("visible") is False or ax.get("showticklabels") is False:
            continue
        t = ax.get("title")
        t = t.get("text") if isinstance(t, dict) else t
        if not t:
            found.append(f"{key}: shows tick labels but has no title")
    return found
