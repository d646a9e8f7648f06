"""Regularisation and normalisation: overfitting and its cures, each formula a function.

Sections of this module, in the page's order:

1. **Formulas** (tensor in, tensor out): the penalties Ω and their gradients, the
   soft threshold (L1's proximal step), decoupled weight decay, the dropout mask and its
   inverted scaling, batch norm in training and evaluation mode with its running averages,
   standardisation and the condition number. Each is checked in the tests against autograd,
   ``torch.optim``, ``nn.Dropout`` or ``nn.BatchNorm1d``.
2. **Data**: a noisy 1-D curve y = sin(πx) + noise, or a 2-D classification set from
   ``dl_core.data2d``; train, validation and test splits.
3. **The network and its training**: a two-hidden-layer tanh MLP with a hand-written
   forward and backward pass. ``train`` trains M copies at once (one batched matmul per
   layer), each with its own penalty, α and dropout p, from the same initial weights, the
   same data and the same random numbers: a sweep over α costs about what one model does.
   The optimizer update is ``dl_core.optim.step`` (SGD or Adam); L2 in the loss adds α w
   to the gradient; decoupled weight decay multiplies the weights by (1 − ηα) before the
   optimizer's step (with Adam: exactly ``torch.optim.AdamW``); the L1 proximal step
   soft-thresholds the weights by ηα after it. Biases are never penalised.
4. **Early stopping**: every run records the validation loss and keeps the weights of its
   best step k* (a checkpoint), and the distance ‖θ_k − θ₀‖ that links it to L2.
5. **Dropout**: one step's masks, and the Monte Carlo average of many masks against the
   evaluation-mode output.
6. **Bias and variance**: polynomial least squares over many datasets.
7. **Batch norm**: a deep sigmoid/tanh network trained with and without batch norm.
8. **Standardising inputs**: the condition number of a linear regression's loss before and
   after standardising, and gradient descent's path on both.

Bounds: every size and step count is capped (``MAX_*``); a default run takes a fraction
of a second on one CPU thread. Everything is seeded by a local ``torch.Generator``; the
same config gives the same numbers. Divergence is data (``diverged_at``), never an error.

The package, one file per role (the sections above):

    formulas.py   1. the penalties, soft threshold, decay, dropout, batch norm, standardising
    data.py       2. the data sets and their splits
    network.py    3. the two-hidden-layer tanh MLP (dl_core.engine's layers), M models at once
    training.py   3-4. train (penalties, dropout, early stopping), the sweeps, the torch
                  reference checks, the bench
    views.py      5-6. one dropout step, the Monte Carlo average, bias and variance
    batchnorm.py  7. the deep network with and without batch norm
    scaling.py    8. standardising inputs: condition numbers and gradient descent's paths
"""

from dl_core.regularisation.batchnorm import (  # noqa: F401
    BN_ACTIVATIONS,
    BN_DATASETS,
    MAX_BATCH,
    MAX_BN_POINTS,
    MAX_BN_STEPS,
    MAX_BN_WIDTH,
    MAX_DEPTH,
    MODE_BATCHES,
    BNConfig,
    BNResult,
    BNRun,
    BNWalk,
    ModeGap,
    _bce,
    bn_data,
    bn_diagnose,
    bn_forward,
    bn_init,
    bn_layout,
    bn_views,
    bn_walk,
    mode_gap,
    train_bn,
)
from dl_core.regularisation.data import (  # noqa: F401
    DATASET_LABELS,
    DATASETS,
    GRID_1D,
    GRID_2D,
    MAX_N,
    MAX_NOISE,
    N_TEST,
    Data,
    make_data,
    n_val,
    truth,
)
from dl_core.regularisation.formulas import (  # noqa: F401
    BN_EPS,
    BN_MOMENTUM,
    DTYPE,
    PENALTIES,
    PENALTY_LABELS,
    batch_norm_eval,
    batch_norm_train,
    condition_number,
    decay,
    dropout,
    dropout_mask,
    penalty,
    penalty_grad,
    running_update,
    soft_threshold,
    standardise,
)
from dl_core.regularisation.network import (  # noqa: F401
    ALPHAS,
    DIVERGENCE_LIMIT,
    MAX_P,
    MAX_STEPS,
    MAX_WIDTH,
    OPTIMIZER_LABELS,
    OPTIMIZERS,
    P_GRID,
    RECORDS,
    FitConfig,
    FitResult,
    Variant,
    _Batch,
    _scaled_masks,
    _tanh,
    data_loss,
    forward,
    gradient,
    init_theta,
    layout,
    n_params,
    predict,
    views,
    weight_mask,
)
from dl_core.regularisation.scaling import (  # noqa: F401
    MAX_SCALE_STEPS,
    SCALE_GRID,
    W_TRUE,
    Problem,
    ScaleConfig,
    ScaleResult,
    _problem,
    scaling,
)
from dl_core.regularisation.training import (  # noqa: F401
    Checks,
    alpha_sweep,
    bench,
    checks,
    decoupling,
    diagnose,
    largest_weight,
    nearest_alpha,
    p_sweep,
    reference_run,
    sweep_penalty,
    torch_flat,
    torch_net,
    train,
    weights,
)
from dl_core.regularisation.views import (  # noqa: F401
    MAX_DEGREE,
    MC_POINTS,
    BiasVariance,
    DropoutStep,
    MonteCarlo,
    bias_variance,
    dropout_step,
    legendre,
    monte_carlo,
)
