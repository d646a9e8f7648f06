"""Every LaTeX command the backprop and playground pages write is one KaTeX knows.

KaTeX draws an unknown command (``\\quadh`` from two strings joined without a space) as red
source text without the ``.katex-error`` class the browser tests look for, so a typo there
passed every test: this catches it without a browser."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from dl_core import backprop as bp
from dl_core import mlp
from viz import backprop as vb
from viz import playground as vp

pytestmark = pytest.mark.usefixtures("one_torch_thread")

KATEX = {
    r"\Delta", r"\Longrightarrow", r"\Phi", r"\alpha", r"\begin", r"\beta", r"\big", r"\Big",
    r"\cdot", r"\delta", r"\end", r"\epsilon", r"\eta", r"\frac", r"\gamma", r"\hat", r"\in",
    r"\le", r"\leftarrow", r"\log", r"\longrightarrow", r"\mathbb", r"\mathrm", r"\max", r"\mu",
    r"\nabla", r"\odot", r"\operatorname", r"\partial", r"\pi", r"\qquad", r"\quad", r"\sigma",
    r"\sim", r"\sqrt", r"\sum", r"\tanh", r"\text", r"\tfrac", r"\theta", r"\tilde", r"\times",
    r"\top", r"\underbrace", r"\varphi", r"\infty",
}  # fmt: skip


def commands(text: str) -> set[str]:
    return set(re.findall(r"\\[A-Za-z]+", text.replace("\\\\", " ")))  # "\\" is a line break


def backprop_texts() -> list[str]:
    texts = [vb.KEY_FORMULA, vb.REL_ERROR_FORMULA]
    texts += [t for pair in bp.ACTIVATION_FORMULAS.values() for t in pair]
    texts += [t for pair in bp.LOSS_FORMULAS.values() for t in pair]
    for arch in bp.ARCHITECTURES:
        for loss in bp.LOSSES:
            w = bp.walkthrough(bp.TinyConfig(arch=arch, loss=loss))
            texts += [*vb.forward_latex(w), vb.loss_latex(w), *vb.update_latex(w)]
            texts += [vb.scalar_chain_latex(w, 1, 0, 0)]
            texts += [vb.loss_step_latex(bp.loss_step(loss, w.layers[-1].a, w.y))]
            for layer in range(1, len(w.layers) + 1):
                texts += vb.backward_latex(w, layer)
    return texts


def playground_texts() -> list[str]:
    texts = [vp.KEY_FORMULA, vp.DROPOUT_FORMULA, *vp.BN_FORMULAS]
    cases = [dict(), dict(batch_norm=True, regularization="l2", reg_rate=0.1, dropout=0.2),
             dict(dataset="spiral3", optimizer="momentum", regularization="l1", reg_rate=0.1),
             dict(dataset="plane", optimizer="sgd")]  # fmt: skip
    for kw in cases:
        cfg = replace(mlp.Config.tiny(), hidden=(4, 3), **kw)
        net = mlp.Net(cfg)
        net.advance(5)
        texts += vp.general_formulas(cfg) + vp.update_latex(mlp.weight_update(net, 1, 1, 1))
        for layer in (1, 3):
            texts += vp.neuron_latex(cfg, mlp.neuron(net, layer, 1, (1.0, 2.0)))
        texts += vp.dropout_latex(mlp.dropout_view(net, 1, 0.5))
        if cfg.batch_norm:
            texts += vp.bn_latex(mlp.batch_norm_view(net, 1), 1)
    return texts


@pytest.mark.parametrize(
    "texts", [backprop_texts, playground_texts], ids=["backprop", "playground"]
)
def test_every_latex_command_is_known_to_katex(texts):
    found = set().union(*map(commands, texts()))
    assert found <= KATEX, sorted(found - KATEX)
    assert r"\varphi" in found and r"\quad" in found  # the check sees the formulas


def test_the_check_catches_a_joined_command():
    assert commands(r"\varphi(a),\quad" "h^{(0)}") - KATEX == {r"\quadh"}
