"""Backpropagation written out by hand, and checked three ways.

In the app's notation (``dl_core.notation``), a fully connected network with layers
l = 1..n computes, for an input h^(0) = x,

    a^(l) = h^(l-1) W^(l)T + b^(l)          (pre-activation; rows are samples)
    h^(l) = phi(a^(l))   for hidden layers,   h^(n) = a^(n) (the logits)

and the loss L(a^(n), y). The backward pass applies the chain rule layer by
layer, from the loss back to the input, with delta^(l) = dL/da^(l):

    delta^(l) = dL/dh^(l) * phi'(a^(l))     (element-wise)
    dL/dW^(l) = delta^(l)T h^(l-1)          dL/db^(l) = sum over the batch of delta^(l)
    dL/dh^(l-1) = delta^(l) W^(l)

Everything here is plain tensor code (``forward``, ``backward``, the
activations and their derivatives, the losses and their gradients with respect
to the logits). The tests compare it with ``torch.nn`` + ``torch.autograd``
(``reference_gradients``) and with central finite differences
(``central_difference``), which is itself tested on functions whose
derivatives are known.

Two models live here: the tiny network the page draws whole (``TinyConfig``,
``walkthrough``, ``grad_check``) and a deep MLP for vanishing and exploding
gradients (``DeepConfig``, ``train``).

Shapes: B = batch, n_l = width of layer l. ``W[l]`` has shape (n_{l+1}, n_l),
like ``nn.Linear.weight``; Python lists are 0-based, the page's layer numbers
are 1-based.

The package, one file per role:

    functions.py  the settings' menus and limits, the XOR examples, the activations (from
                  dl_core.engine) and the losses with their gradients w.r.t. the logits
    network.py    the network's parameters, forward and backward (dl_core.engine's dense
                  layers), the torch reference, central differences
    tiny.py       the tiny network the page draws whole: walkthrough, gradient checks
    deep.py       the deep MLP for vanishing and exploding gradients, its training, the bench
"""

from dl_core.backprop.deep import (  # noqa: F401
    LAYER_OVERHEAD,
    WORK_BUDGET,
    DeepConfig,
    DeepResult,
    affordable_steps,
    backward_factor,
    bench,
    deep_params,
    diagnose,
    gradient_ratio,
    init_std,
    measured_factor,
    rings,
    train,
)
from dl_core.backprop.functions import (  # noqa: F401
    ACTIVATION_FORMULAS,
    ACTIVATION_LABELS,
    ACTIVATIONS,
    ARCHITECTURES,
    EPS_RANGE,
    EXAMPLES_X,
    EXAMPLES_Y,
    GOOD_REL_ERROR,
    INIT_LABELS,
    INITS,
    LEAKY_SLOPE,
    LOSS_FORMULAS,
    LOSS_LABELS,
    LOSSES,
    MAX_DEPTH,
    MAX_POINTS,
    MAX_SCALE,
    MAX_STEPS,
    MAX_WIDTH,
    REL_ERROR_FLOOR,
    SATURATION,
    SMALL_STD,
    TINY_GRADIENT,
    ActivationCurve,
    LossStep,
    _sigmoid,
    _softmax,
    _softplus,
    activation,
    activation_curve,
    activation_derivative,
    loss_and_grad,
    loss_curve,
    loss_step,
    torch_activation,
    torch_loss,
)
from dl_core.backprop.network import (  # noqa: F401
    Backward,
    Forward,
    Params,
    backward,
    central_difference,
    forward,
    hand_gradients,
    loss_of,
    reference_gradients,
    rel_error,
    torch_model,
)
from dl_core.backprop.tiny import (  # noqa: F401
    DTYPES,
    EPS_SWEEP,
    GradCheck,
    LayerStep,
    TinyConfig,
    Walkthrough,
    _check_setup,
    check_threshold,
    eps_sweep,
    example,
    grad_check,
    kink_unit,
    place_on_kink,
    tiny_params,
    walkthrough,
)
