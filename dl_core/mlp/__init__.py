"""The multilayer perceptron of the neural-network playground.

A fully connected network on 2-D data, trained by a **hand-written** forward
and backward pass (tensor ops only) next to the ``torch.nn`` / ``torch.optim``
reference it is tested against (``TorchMLP`` and ``reference_optimizer``).

In the app's notation (``dl_core.notation``), per hidden layer l (rows are samples,
``h_0`` holds the input features; W_l is stored (fan_in, fan_out), the transpose of the
page's W^(l) and of ``nn.Linear.weight``):

    a_l = h_{l-1} W_l + b_l                  (B, n_l) pre-activations
    [batch norm]  a_l <- gamma_l (a_l - mu_B) / sqrt(sigma_B^2 + eps) + beta_l
    h_l = phi(a_l)                            phi: relu, tanh, sigmoid or linear
    [dropout]     h_l <- h_l * r / (1 - p),   r ~ Bernoulli(1 - p) per unit and sample

and the output layer ``a_out = h_L W_out + b_out`` is read through a sigmoid
(two classes), a softmax (three or more) or as is (regression, mean squared
error). Training uses the batch's own statistics mu_B, sigma_B^2 and random dropout
masks; evaluation (``forward_eval``: the decision map, the loss curves) uses batch
norm's running averages and no dropout (``batch_norm_view``, ``dropout``).

Why by hand: the network is tiny (a few hundred parameters), so a training step
is bound by the per-op overhead of PyTorch, not by arithmetic. ``nn.Module`` +
autograd + ``torch.optim`` spend about 60 small ops per step; the step here uses
about 30: all parameters live in **one flat tensor** (the layers are views into
it), so the optimizer update is a handful of in-place ops whatever the depth;
activations go into preallocated buffers (``out=``); the loss gradient of
sigmoid/softmax cross-entropy is written directly as ``(p - y) / B``.

Device rule: the playground always runs on the CPU (``pick(small=True)``): a
step of this size is ~30 launches of microsecond work, and a CUDA launch alone
costs about 11 us.

Thread rule: training and evaluation run with one intra-op thread
(``dl_core.training.one_thread``). Every op here is a few microseconds of work; with two
OpenMP threads each op pays a hand-off, and on a busy 2-core machine (a server
with several sessions) the threads wait for each other: measured here at load
average 9, 400-1,000 steps/s with 2 threads against 4,400-8,600 with 1.

The package, one file per role:

    config.py     the settings (Config), the data and the input features
    network.py    the hand-written network (Net): parameters as views of one flat vector, the
                  training step on dl_core.engine's layers and dl_core.optim's updates
    reference.py  the same network in torch.nn / torch.optim, for the tests and the page
    training.py   train() runs, the diagnosis, the bench
    views.py      what the page inspects: heat-map grids, one neuron, one weight's update,
                  dropout and batch norm with the network's numbers
"""

from dl_core.mlp.config import (  # noqa: F401
    ACTIVATIONS,
    BN_EPS,
    BN_MOMENTUM,
    DIVERGENCE_LIMIT,
    FEATURE_LABELS,
    FEATURE_LATEX,
    FEATURES,
    INIT_LABELS,
    INITS,
    MAX_BUFFERS,
    MAX_GRID,
    MAX_LAYERS,
    MAX_NEURONS,
    MAX_PLAY_STEPS,
    MAX_POINTS,
    MAX_RECORDS,
    MAX_STEPS,
    OPTIMIZER_LABELS,
    OPTIMIZERS,
    REGULARIZERS,
    STRUCTURE_FIELDS,
    Config,
    Data,
    features,
    make_data,
)
from dl_core.mlp.network import (  # noqa: F401
    History,
    Layer,
    Net,
    _Buffers,
    _fan_in_of_bias,
    _layout,
    _optim_config,
    _views,
    init_theta,
    labels,
    loss_of,
    predict,
    probabilities,
    weight_mask,
)
from dl_core.mlp.reference import (  # noqa: F401
    TorchMLP,
    reference_gap,
    reference_optimizer,
    reference_steps_per_second,
)
from dl_core.mlp.training import (  # noqa: F401
    BENCH_SPEED,
    BENCH_SPIRAL,
    Result,
    bench,
    dead_layers,
    diagnose,
    result_of,
    steps_per_second,
    train,
)
from dl_core.mlp.views import (  # noqa: F401
    BatchNormView,
    DropoutView,
    Grid,
    NeuronWalk,
    WeightUpdate,
    activation_value,
    batch_norm_view,
    confusion,
    dropout,
    dropout_view,
    grid,
    neuron,
    training_batch,
    weight_update,
)
