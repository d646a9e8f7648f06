"""Generative adversarial networks on 2-D targets, GAN Lab style, plus the theory.

A generator G maps noise z to a point x = G(z) in the plane; a discriminator D
maps a point to a logit a(x), with D(x) = sigmoid(a(x)) the probability that x
is real. They play

    min_G max_D  V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))].

Both networks are small MLPs whose parameters live in one flat vector each, so
an optimizer update is a handful of tensor ops. Forward and backward passes are
written by hand (a fused step: about 60 ops per generator step, roughly three
times faster than autograd here) and the tests check them, the losses and the
optimizers against ``torch.nn``, autograd and ``torch.optim``. WGAN-GP needs a
gradient of a gradient and uses the autograd path (``functional_forward``).

Symbols follow the page: real samples ``x`` (B, 2), noise ``z`` (B, n_z),
generated samples ``x_fake = G(z)`` (B, 2), logits ``a`` (the discriminator's
raw output), ``D = sigmoid(a)``.

The package, one file per role:

    config.py    targets, noise, GanConfig
    model.py     the two networks (dl_core.engine's dense layers) and the losses
    theory.py    D*, Jensen-Shannon divergence, mode coverage
    training.py  the fused training step, advance/train, diagnoses, bench
    snapshot.py  what the page inspects: the live view's arrays, the last batch's numbers
"""

from dl_core.gan.config import (  # noqa: F401
    _CURVE_MODES,
    _SIGMA,
    ACTIVATIONS,
    DIVERGED_ABS,
    GP_WEIGHT,
    LEAK,
    LOSS_LABELS,
    LOSSES,
    MAX_BATCH,
    MAX_D_STEPS,
    MAX_EVAL_SAMPLES,
    MAX_GRID,
    MAX_HIDDEN,
    MAX_LAYERS,
    MAX_NOISE_DIM,
    MAX_STEPS,
    NOISES,
    OPTIMIZERS,
    TARGET_LABELS,
    TARGETS,
    VIEW,
    WGAN_BETA2,
    GanConfig,
    TargetSpec,
    _curve,
    sample_noise,
    sample_target,
    target_spec,
)
from dl_core.gan.model import (  # noqa: F401
    MinimaxNumbers,
    Net,
    _views,
    backward,
    d_loss,
    d_loss_grad,
    forward,
    functional_forward,
    g_loss,
    g_loss_grad,
    generator_gradients,
    gradient_penalty,
    init_net,
    minimax_numbers,
    n_params,
    torch_module,
)
from dl_core.gan.snapshot import (  # noqa: F401
    Snapshot,
    batch_numbers,
    noise_grid_lines,
    snapshot,
)
from dl_core.gan.theory import (  # noqa: F401
    Coverage,
    d_pointwise_loss,
    d_view,
    game_value_at_optimum,
    grid_axis,
    js_divergence,
    kde_grid,
    mode_coverage,
    optimal_d,
    optimal_discriminator,
)
from dl_core.gan.training import (  # noqa: F401
    GanResult,
    GanState,
    _draw,
    _first_bad,
    _record,
    advance,
    autograd_iteration,
    bench,
    choose_device,
    collapse_note,
    diagnose,
    evaluate,
    fused_iteration,
    generate,
    hand_vs_autograd_gap,
    init_state,
    result_of,
    thin,
    train,
)
