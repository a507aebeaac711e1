"""bpcore: the small backprop library behind the book *Backprop, verified*.

One contract everywhere: ``backward(dout)`` takes dL/d(output) and returns dL/d(input). The
package is in four rooms, each importing only from the ones before it:

* :mod:`bpcore.engine` — nodes, arithmetic, and Values that record a graph (chapters 1–3);
* :mod:`bpcore.nn` — activations, losses, layers, batch norm, dropout, networks, training
  (chapters 4–8);
* :mod:`bpcore.witnesses` — finite differences, SymPy derivations and verification, proofs for
  every size, and the suite behind ``bpcore verify``;
* :mod:`bpcore.figures` — graph and layer figures (imported on its own: it needs matplotlib).

:mod:`bpcore.checks` holds every input-validation rule. ``import bpcore as bp`` gives the names
the book uses most, listed in ``__all__``.
"""

from .checks import ShapeError
from .engine import (
    AddNode,
    Elementwise,
    ExpNode,
    LogNode,
    MatMulNode,
    MulNode,
    NegNode,
    Node,
    PowNode,
    ReciprocalNode,
    SumNode,
    Value,
    all_node_classes,
    topological_order,
)
from .nn import (
    MLP,
    MSE,
    SGD,
    ActivationLayer,
    Adam,
    Affine,
    BatchNorm,
    BatchNormLayer,
    CrossEntropy,
    Dense,
    Dropout,
    DropoutLayer,
    History,
    Identity,
    Layer,
    LayerBlock,
    Momentum,
    Network,
    ReLU,
    RMSprop,
    Sigmoid,
    Softmax,
    SoftmaxWithLoss,
    Tanh,
    exp,
    fit,
    initialise,
    load_digits_split,
    load_mnist,
    log,
    log_softmax,
    logsumexp,
    minibatches,
    mse_loss,
    one_hot,
    relu,
    sigmoid,
    softmax,
    softmax_cross_entropy,
    softmax_with_loss,
    split_validation,
    tanh,
)
from .witnesses import (
    Comparison,
    Derivation,
    Report,
    backward_derivation,
    bucket,
    check,
    derive,
    equal,
    gradcheck,
    latex,
    network_gradcheck,
    numerical_gradient,
    rel_error,
    verdict,
    verify,
    verify_node,
)

__all__ = [
    # engine
    "AddNode", "Elementwise", "ExpNode", "LogNode", "MatMulNode", "MulNode", "NegNode", "Node",
    "PowNode", "ReciprocalNode", "SumNode", "Value", "all_node_classes", "topological_order",
    # nn
    "MLP", "MSE", "ActivationLayer", "Adam", "Affine", "BatchNorm", "BatchNormLayer",
    "CrossEntropy", "Dense", "Dropout", "DropoutLayer", "History", "Identity", "Layer",
    "LayerBlock", "Momentum", "Network", "RMSprop", "ReLU", "SGD", "Sigmoid", "Softmax",
    "SoftmaxWithLoss", "Tanh", "exp", "fit", "initialise", "load_digits_split", "load_mnist",
    "log",
    "log_softmax", "logsumexp", "minibatches", "mse_loss", "one_hot", "relu", "sigmoid",
    "softmax", "softmax_cross_entropy", "softmax_with_loss", "split_validation", "tanh",
    # witnesses
    "Comparison", "Derivation", "Report", "backward_derivation", "bucket", "check", "derive",
    "equal",
    "gradcheck", "latex", "network_gradcheck", "numerical_gradient", "rel_error", "verdict",
    "verify", "verify_node",
    # checks
    "ShapeError",
]
__version__ = "0.2.0"
