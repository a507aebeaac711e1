"""The network parts (chapters 4–8): activations, losses, the layer block, layers, batch norm,
dropout, the network, initialisers, optimisers, the training loop and the data.

Every part is a node or is made of nodes, and every ``backward`` follows the one contract:
it takes dL/d(output) and returns dL/d(input).
"""

from .activations import ACTIVATIONS, ActivationNode, Identity, ReLU, Sigmoid, Tanh
from .affine import Affine, LayerBlock
from .batchnorm import BatchNorm, BatchNormLayer
from .data import load_digits_split, minibatches, split_validation
from .dropout import Dropout, DropoutLayer
from .functional import exp, log, relu, sigmoid, softmax, softmax_with_loss, tanh
from .init import initialise
from .layers import ActivationLayer, Dense, Layer
from .losses import (
    MSE,
    CrossEntropy,
    Softmax,
    SoftmaxWithLoss,
    log_softmax,
    logsumexp,
    mse_loss,
    one_hot,
    softmax_cross_entropy,
)
from .mnist import load_mnist
from .network import MLP, Network
from .optim import SGD, Adam, Momentum, Optimizer, RMSprop
from .train import History, fit

__all__ = [
    "ACTIVATIONS", "MLP", "MSE", "ActivationLayer", "ActivationNode", "Adam", "Affine",
    "BatchNorm", "BatchNormLayer", "CrossEntropy", "Dense", "Dropout", "DropoutLayer", "History",
    "Identity", "Layer", "LayerBlock", "Momentum", "Network", "Optimizer", "RMSprop", "ReLU",
    "SGD", "Sigmoid", "Softmax", "SoftmaxWithLoss", "Tanh", "exp", "fit", "initialise",
    "load_digits_split", "load_mnist", "log", "log_softmax", "logsumexp", "minibatches",
    "mse_loss", "one_hot", "relu", "sigmoid", "softmax", "softmax_cross_entropy",
    "softmax_with_loss", "split_validation", "tanh",
]
