"""bpcore: the small backprop library behind the book *Backprop, verified*.

Nodes (forward, backward and a SymPy form side by side), a define-by-run graph of Values,
layers and networks made of them, finite-difference gradient checks, symbolic verification,
and graph drawing. One contract everywhere: ``backward(dout)`` takes dL/d(output) and returns
dL/d(input).
"""

from .activations import ReLU, Sigmoid, Tanh
from .arith import (
    AddNode,
    ExpNode,
    LogNode,
    MatMulNode,
    MulNode,
    NegNode,
    PowNode,
    ReciprocalNode,
    SumNode,
)
from .batchnorm import BatchNorm, BatchNormLayer
from .checks import ShapeError
from .data import load_digits_split, minibatches, split_validation
from .dropout import Dropout, DropoutLayer
from .gradcheck import bucket, gradcheck, numerical_gradient, rel_error, verdict
from .init import initialise
from .layers import Activation, Affine, Dense, Identity, Layer, LayerBlock
from .losses import (
    MSE,
    CrossEntropy,
    Softmax,
    SoftmaxWithLoss,
    log_softmax,
    logsumexp,
    mse_loss,
    one_hot,
    softmax,
    softmax_cross_entropy,
    softmax_with_loss,
)
from .network import MLP, Network
from .node import Node, all_node_classes
from .ops import exp, log, relu, sigmoid, tanh
from .optim import SGD, Adam, Momentum, RMSprop
from .symbolic import Derivation, backward_derivation, derive, equal, verify, verify_node
from .train import History, fit
from .value import Value, topological_order

__all__ = [
    "AddNode", "Derivation", "ExpNode", "LogNode", "MatMulNode", "MulNode", "NegNode", "Node",
    "PowNode", "ReciprocalNode", "ShapeError", "SumNode", "Value", "all_node_classes",
    "backward_derivation", "derive", "equal", "exp", "gradcheck", "log", "numerical_gradient",
    "rel_error", "topological_order", "verify", "verify_node", "bucket", "verdict",
    "ReLU", "Sigmoid", "Tanh", "relu", "sigmoid", "tanh",
    "CrossEntropy", "MSE", "Softmax", "SoftmaxWithLoss", "log_softmax", "logsumexp", "mse_loss",
    "one_hot", "softmax", "softmax_cross_entropy", "softmax_with_loss",
    "Activation", "Affine", "BatchNorm", "BatchNormLayer", "Dense", "Dropout", "DropoutLayer",
    "Identity", "Layer", "LayerBlock", "MLP", "Network",
    "initialise",
    "SGD", "Adam", "History", "Momentum", "RMSprop", "fit", "load_digits_split", "minibatches",
    "split_validation",
]
__version__ = "0.1.0"
