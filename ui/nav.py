"""Every page of the app, in order. ``app.py`` registers the ones whose file
exists (a page lands with its issue); the browser test opens each of them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PageSpec:
    path: str  # relative to the repository root
    title: str
    icon: str  # a Material icon
    section: str
    url_path: (
        str  # the file's stem, so a deep link also resolves on a fresh server (see ui/__init__)
    )


PAGES: tuple[PageSpec, ...] = (
    PageSpec("pages/home.py", "Home", ":material/home:", "Start", "home"),
    PageSpec("pages/math_toolkit.py", "Math toolkit", ":material/calculate:", "Foundations", "math_toolkit"),
    PageSpec("pages/gradient_descent.py", "Gradient descent & optimizers", ":material/trending_down:", "Foundations", "gradient_descent"),
    PageSpec("pages/regression.py", "Regression by gradient descent", ":material/scatter_plot:", "Foundations", "regression"),
    PageSpec("pages/backprop.py", "Backpropagation", ":material/account_tree:", "Foundations", "backprop"),
    PageSpec("pages/playground.py", "Neural-network playground", ":material/hub:", "Architectures", "playground"),
    PageSpec("pages/regularisation.py", "Regularisation & normalisation", ":material/tune:", "Architectures", "regularisation"),
    PageSpec("pages/cnn.py", "Convolutional networks", ":material/grid_on:", "Architectures", "cnn"),
    PageSpec("pages/rnn.py", "Recurrent networks", ":material/replay:", "Architectures", "rnn"),
    PageSpec("pages/autoencoder.py", "Autoencoders & VAE", ":material/compress:", "Generative models", "autoencoder"),
    PageSpec("pages/gan.py", "Generative adversarial networks", ":material/theater_comedy:", "Generative models", "gan"),
)  # fmt: skip


def link(spec: PageSpec) -> str:
    """The page's path in a URL: the default page (Home) lives at the root, "/"."""
    return "" if spec.url_path == PAGES[0].url_path else spec.url_path


def _check() -> None:
    for p in PAGES:
        assert Path(p.path).stem == p.url_path, f"url_path of {p.path} must be its stem"


_check()


def available() -> list[PageSpec]:
    """The pages that have landed."""
    return [p for p in PAGES if (ROOT / p.path).exists()]
