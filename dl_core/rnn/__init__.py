"""Recurrent networks: the vanilla RNN, the LSTM and the GRU.

Training uses the fused ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` (cuDNN on a GPU,
one call per sequence); the walkthrough runs the hand-written cells on
the trained weights. The tests check the hand-written cells against the torch
modules with copied weights, and the gradient-through-time measurement against
finite differences and an explicit product of Jacobians.

Symbols follow the page and PyTorch's layout of the weights (d_h: the hidden size):

* vanilla RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
* LSTM with a forget gate (Gers, Schmidhuber & Cummins 2000; no peepholes), gate order
  i, f, g, o in the stacked weights:
  i = sigma(.), f = sigma(.), g = tanh(.), o = sigma(.),
  c_t = f * c_{t-1} + i * g,  h_t = o * tanh(c_t)
  (Hochreiter & Schmidhuber's 1997 LSTM had no forget gate: f = 1.)
* GRU (gate order r, u, n). The update gate is u, as in Goodfellow et al.: Cho et al. 2014
  and PyTorch call it z, a letter this app keeps for latent codes. Its role is Cho's and
  PyTorch's: the share of the old state kept.
  r = sigma(W_ir x + b_ir + W_hr h + b_hr), u = sigma(...),
  n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h_t = (1 - u) * n + u * h_{t-1}
  PyTorch (and cuDNN; Keras's reset_after=True) apply r after the product W_hn h; Cho et
  al. 2014 as published (section 2.3; arXiv 1406.1078v3) apply it before,
  n = tanh(W_in x + b_in + W_hn (r * h) + b_hn): a different function (``gru_cell_cho``).

Both PyTorch cells carry two biases, b_ih and b_hh, where the papers have one: only their
sum matters, except for the GRU's b_hn, which the reset gate multiplies.

The readout is y_hat_t = W_hy h_t + b_y.

The package, one file per role:

    config.py     the cells, the tasks, the limits, RNNConfig and the work budget
    cells.py      the hand-written cells (tensor ops) and unroll, next to their formulas
    model.py      the fused torch module and its readout (SeqModel), its initialisation,
                  a model from a result's weights, strings sampled from a trained model
    tasks.py      the tasks' data, the loss of every time step, test metrics and targets
    training.py   train() with truncated BPTT and clipping, the device rule, the
                  diagnosis, the bench
    views.py      what the page inspects: one time step with the trained numbers, the
                  states over one example, hand-written vs fused, PyTorch's GRU vs Cho's
    gradients.py  gradients through time: g_k by autograd, BPTT written out for the
                  vanilla RNN, every cell before and after training
"""

from dl_core.rnn.cells import (  # noqa: F401
    Unrolled,
    gru_cell,
    gru_cell_cho,
    lstm_cell,
    rnn_cell,
    unroll,
)
from dl_core.rnn.config import (  # noqa: F401
    CELL_LABELS,
    CELLS,
    CUDA_MIN_WORK,
    GATES,
    LOSS_LIMIT,
    MAX_BATCH,
    MAX_GAP,
    MAX_HIDDEN,
    MAX_SEQ_LEN,
    MAX_STEPS,
    N_EXAMPLES,
    N_GATES,
    N_SAMPLES,
    N_TEST,
    N_TRAIN,
    OPTIMIZERS,
    TASK_LABELS,
    TASKS,
    WORK_BUDGET,
    RNNConfig,
    within_budget,
)
from dl_core.rnn.gradients import (  # noqa: F401
    GradientComparison,
    _ratio,
    gradient_comparison,
    initial_state,
    input_gradient_norms,
    rnn_bptt,
)
from dl_core.rnn.model import (  # noqa: F401
    SeqModel,
    core_weights,
    init_model,
    make_core,
    model_from_state,
    sample_strings,
)
from dl_core.rnn.tasks import (  # noqa: F401
    TARGETS,
    TaskData,
    elementwise_loss,
    make_data,
    reached,
    test_metric,
)
from dl_core.rnn.training import (  # noqa: F401
    RNNResult,
    _chunks,
    bench,
    diagnose,
    pick_device,
    train,
)
from dl_core.rnn.views import (  # noqa: F401
    StepNumbers,
    _weights64,
    example_states,
    gru_convention_gap,
    handwritten_vs_fused,
    time_step,
)
