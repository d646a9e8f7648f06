"""dl_core: the math and the training behind dl-math-lab.

A plain PyTorch library: no Streamlit, no Plotly. Each topic module offers a
frozen config dataclass, a ``train``/``run`` function returning a result
dataclass, walkthrough functions that return the numbers of one step, and a
hand-written implementation next to the ``torch`` reference it is tested
against.
"""

__all__ = [
    "device", "training", "data", "data2d", "images", "mnist", "sequences",
    "notation", "engine", "optim", "surfaces", "regression", "backprop", "mlp", "regularisation",
    "cnn", "rnn", "autoencoder", "gan", "toolkit", "export",
]  # fmt: skip
