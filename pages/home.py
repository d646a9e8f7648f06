"""Home: what the app teaches and how the pages connect."""

import streamlit as st

from dl_core import device, notation
from ui.nav import available

st.title("dl-math-lab")
st.markdown(
    "#### The mathematics of deep learning, with your own numbers\n"
    "Every page trains a small model with PyTorch while you watch, and shows each formula "
    "twice: once in symbols, and once **with the numbers of the model you just trained** "
    "substituted in. Move a slider, and the model retrains and the numbers in the formula change."
)

st.subheader("The map")
st.markdown(
    "Each topic builds on the one before it:\n\n"
    "0. **[Math toolkit](math_toolkit)**: matrices as maps (eigenvalues, SVD), derivatives and "
    "the gradient, probability and maximum likelihood, entropy and KL: the pieces every page "
    "leans on.\n"
    "1. **Gradient descent**: follow the negative gradient of a loss; learning rate, curvature "
    "and the optimizers that refine the step (momentum, Adam).\n"
    "2. **Regression by gradient descent**: the same update fits a line and a classifier; the "
    "closed-form answer checks it.\n"
    "3. **Backpropagation**: the chain rule computes the gradient of a network, layer by layer.\n"
    "4. **Neural-network playground**: stacked layers and nonlinearities bend decision boundaries; "
    "**[regularisation](regularisation)**: overfitting you can watch, and its cures (L2, L1, "
    "early stopping, dropout, batch norm).\n"
    "5. **Convolutional networks**: weight sharing over an image; **recurrent networks**: "
    "weight sharing over time.\n"
    "6. **Autoencoders and VAEs**: networks that compress and generate; **GANs**: two networks "
    "in a game."
)
st.graphviz_chart(
    """
    digraph {
      rankdir=LR; node [shape=box, style="rounded,filled", fillcolor="#eef4fb", fontname="sans-serif"];
      math [label="math toolkit"]; reg [label="regularisation"];
      lin [label="linear model"]; gd [label="gradient descent"]; bp [label="backprop"];
      mlp [label="MLP"]; cnn [label="CNN"]; rnn [label="RNN / LSTM / GRU"];
      ae [label="autoencoder / VAE"]; gan [label="GAN"];
      math -> lin; math -> gd; lin -> gd -> bp -> mlp; mlp -> reg; mlp -> cnn; mlp -> rnn; cnn -> ae; mlp -> ae; ae -> gan; mlp -> gan;
    }
    """
)

st.subheader("How to use it")
st.markdown(
    "- Pick a page in the sidebar. Its **settings** are sliders and menus; every change "
    "retrains in well under a second on the simple pages.\n"
    "- Read **the formula with your numbers**: pick a step, a neuron or a sample and see "
    "every term of the equation with its value.\n"
    "- Press a **Try this** button to set up a guided experiment in one click.\n"
    "- Open **Under the hood** for the hand-written code next to PyTorch's and the proof "
    "that they agree.\n"
    "- The URL holds your settings: copy it to share an experiment."
)
st.latex(r"\theta_{k} = \theta_{k-1} - \eta\,\nabla_\theta L(\theta_{k-1})")
st.caption(
    "The one formula behind every page: parameters θ move against the gradient of the loss L."
)

st.subheader("Notation")


def cell(text: str) -> str:
    """Table-cell text: a "|" (as in q(z|x)) would end the cell."""
    return text.replace("|", "\\|")


st.markdown(
    "One symbol means one thing on every page. Indices: step $k$, layer $l$, time step $t$, "
    "sample $i$. Every page's list of symbols is drawn from this table "
    "(`dl_core/notation.py`)."
)
st.markdown(
    "| symbol | meaning | introduced on |\n|---|---|---|\n"
    + "\n".join(f"| {cell(s.text)} | {cell(s.meaning)} | {s.topic} |" for s in notation.SYMBOLS)
)

with st.expander("About this machine", icon=":material/memory:"):
    info = device.info()
    c1, c2, c3 = st.columns(3)
    c1.metric("Device", "CUDA GPU" if info.kind == "cuda" else "CPU", help=info.name)
    c2.metric("Torch threads", info.threads)
    c3.metric("PyTorch", info.torch_version)
    st.caption(
        f"{info.label} · Streamlit {st.__version__} · {len(available()) - 1} topic pages. "
        "Each learner's session trains on one thread of the server's process."
    )
