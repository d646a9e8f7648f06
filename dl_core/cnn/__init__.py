"""Convolutional networks on the 8x8 digits (and MNIST when its files are present).

Hand-written with tensor ops and tested against ``torch.nn.functional``:
``conv2d`` (vs ``F.conv2d``), ``max_pool2d`` / ``avg_pool2d`` (vs ``F.max_pool2d`` /
``F.avg_pool2d``), ``softmax`` (vs ``F.softmax``) and the output-size formula
``output_size`` (vs the shapes torch produces).

Symbols follow the page and ``dl_core.notation``: input image ``x`` (n_x x n_x), kernel ``K``
(n_K x n_K), bias ``b``, output feature map ``a`` (the pre-activation, before the ReLU) at row
``r`` and column ``c``, kernel tap (u, v), stride ``s``, padding ``P``, dilation ``d``; the
pooled map ``h_pool``; logits ``a`` and probabilities ``y_hat`` of the softmax. Like
``torch.nn.Conv2d``, the layer computes a cross-correlation (no kernel flip); ``convolve2d``
is the textbook convolution, and conv(x, K) = xcorr(x, flip(K)).

Training uses ``torch.nn`` layers, the whole dataset as tensors on the device and
shuffled mini-batches (no DataLoader). On CUDA the whole training step (gather the
batch, forward, backward, Adam/SGD update, running statistics) is captured once in
a CUDA graph and replayed: at this size eager CUDA is bound by kernel launches
(``training.CUDA_GRAPHS = False`` trains eagerly, to compare).

The package, one file per role:

    config.py       the menus and limits, the datasets, CNNConfig
    layers.py       the hand-written conv2d, pooling and softmax; the classic kernels, flip
                    and the textbook convolution
    walkthrough.py  the numbers of one output position: convolution, flip, pooling, softmax
    model.py        the CNN and the MLP in torch.nn, their seeded weights, their description
    training.py     train (with the CUDA-graph step), History and Result, diagnose, bench
    views.py        what the page inspects with a trained model: one image's feature maps
                    and softmax, the learned kernels, hand-written vs torch, the mistakes
"""

from dl_core.cnn.config import (  # noqa: F401
    ARCHS,
    DATASETS,
    DIGITS_N_TRAIN,
    MAX_BATCH,
    MAX_EPOCHS,
    MAX_FILTERS,
    MAX_KERNEL,
    MAX_LAYERS,
    MAX_STEPS,
    MAX_TRAIN,
    MNIST_TEST,
    N_CLASSES,
    OPTIMIZERS,
    POOLS,
    CNNConfig,
    dataset,
    image_size,
    max_epochs,
    n_train,
)
from dl_core.cnn.layers import (  # noqa: F401
    KERNELS,
    avg_pool2d,
    conv2d,
    convolve2d,
    flip,
    kernel_preset,
    max_pool2d,
    output_size,
    patches,
    softmax,
)
from dl_core.cnn.model import (  # noqa: F401
    CNN,
    MLP,
    build_model,
    count_params,
    describe,
    head_features,
    load_state,
    mlp_hidden,
)
from dl_core.cnn.training import (  # noqa: F401
    DIVERGENCE_LOSS,
    History,
    Result,
    bench,
    diagnose,
    train,
)
from dl_core.cnn.views import (  # noqa: F401
    Prediction,
    first_layer_filters,
    kernel_for,
    kernel_names,
    misclassified,
    predict,
    reference_gaps,
)
from dl_core.cnn.walkthrough import (  # noqa: F401
    ConvStep,
    FlipStep,
    PoolStep,
    SoftmaxStep,
    conv_walkthrough,
    flip_walkthrough,
    pool_walkthrough,
    softmax_walkthrough,
)
