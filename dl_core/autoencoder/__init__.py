"""Autoencoders and variational autoencoders on the bundled 8x8 digits.

Symbols follow the page. An image ``x`` (64 pixels in [0, 1]) is encoded to a
code ``z`` (``latent`` numbers) and decoded back to ``x_hat``:

    encoder   h = relu(W1 x + b1),     z = W2 h + b2         (AE)
                                        mu, logvar = W2 h + b2 (VAE, 2 d_z outputs)
    decoder   h' = relu(W3 z + b3),    x_hat = sigmoid(W4 h' + b4)

The linear autoencoder drops the ReLUs and the sigmoid (z = W_e x + b_e,
x_hat = W_d z + b_d) and is compared with PCA. The VAE samples
z = mu + sigma * eps with sigma = exp(logvar / 2), eps ~ N(0, I), and minimises
the negative ELBO  recon + beta * KL(N(mu, sigma^2) || N(0, I))  (Kingma & Welling 2014;
beta != 1 is the beta-VAE of Higgins et al. 2017). The reconstruction term is the Bernoulli
negative log-likelihood, i.e. binary cross-entropy, on grey-level pixels in [0, 1]: a common
simplification, not a normalised likelihood of grey images (``bce_floor``: even x_hat = x
scores the pixels' entropy).

The forward passes, losses and the closed-form KL are written with tensor ops
(``encode``, ``decode_logits``, ``bce_with_logits``, ``kl_normal``) and tested
against ``torch.nn`` layers, ``F.binary_cross_entropy_with_logits`` and
``torch.distributions.kl_divergence``. Training uses autograd and
``torch.optim.Adam`` (or plain SGD) on the whole training set (full batch by default: fewer,
larger tensor ops).

The package, one file per role:

    config.py    the settings (AEConfig), the result of a run (AEResult), the limits
    model.py     the hand-written encoder and decoder, and the same networks in torch.nn
    losses.py    BCE, the reparameterisation trick, the KL term, the negative ELBO, the noise
    training.py  train() and the bench
    latent.py    walking the latent space: decode, the latent grid, interpolation
    views.py     what the page inspects: reconstructions, denoising, one digit through the
                 AE / VAE, the gaps to the torch references
    pca.py       PCA and the linear autoencoder's subspace
"""

from dl_core.autoencoder.config import (  # noqa: F401
    KIND_LABELS,
    KINDS,
    LOGVAR_LIMIT,
    MAX_BETA,
    MAX_GRID,
    MAX_HIDDEN,
    MAX_INTERP,
    MAX_LATENT,
    MAX_STEPS,
    PIXELS,
    REPORT_EVERY,
    AEConfig,
    AEResult,
    ProgressFn,
)
from dl_core.autoencoder.latent import (  # noqa: F401
    base_code,
    decode,
    interpolate,
    latent_grid,
    latent_range,
)
from dl_core.autoencoder.losses import (  # noqa: F401
    bce_floor,
    bce_with_logits,
    corrupt,
    kl_monte_carlo,
    kl_normal,
    losses,
    recon_floor,
    reparameterize,
)
from dl_core.autoencoder.model import (  # noqa: F401
    PARAM_NAMES,
    _layer_shapes,
    decode_logits,
    encode,
    init_params,
    output,
    reference_modules,
    tensors,
)
from dl_core.autoencoder.pca import (  # noqa: F401
    PCAComparison,
    compare_with_pca,
    pca,
    principal_angles,
)
from dl_core.autoencoder.training import (  # noqa: F401
    BENCH_TARGETS,
    _flat_digits,
    _mse,
    _readonly,
    bench,
    train,
)
from dl_core.autoencoder.views import (  # noqa: F401
    AESample,
    Denoising,
    VAESample,
    ae_sample,
    denoising_errors,
    noisy_test,
    reconstruct,
    reference_gaps,
    vae_sample,
)
