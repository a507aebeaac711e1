"""Functions that work on Values, SymPy expressions, arrays and floats alike.

Written once with these (and ordinary operators), a function can be differentiated three ways
by :func:`bpcore.witnesses.symbolic.verify`: called on :class:`~bpcore.engine.value.Value`
objects it records a graph for backprop, called on SymPy symbols (or object arrays of them) it
builds the exact expression, and called on numbers it is the forward pass that finite
differences perturb. Each function is a thin dispatcher to one node, which does the work.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..engine.arith import ExpNode, LogNode
from ..engine.node import Node, as_number
from ..engine.value import Value, apply
from .activations import ReLU, Sigmoid, Tanh
from .losses import Softmax, SoftmaxWithLoss


def _is_symbolic(x) -> bool:
    return isinstance(x, sp.Basic) or (isinstance(x, np.ndarray) and x.dtype == object)


def _dispatch(node: Node, x):
    """Record ``node`` for a Value, its symbolic form for SymPy input, else compute it."""
    if isinstance(x, Value):
        return apply(node, x)
    if _is_symbolic(x):
        return node.symbolic(x)
    return node.function(as_number(x))


def exp(x):
    """e**x: an Exp node for Values, SymPy or numeric otherwise (inf where it overflows)."""
    return _dispatch(ExpNode(), x)


def log(x):
    """ln x: a Log node for Values, SymPy or numeric otherwise."""
    return _dispatch(LogNode(), x)


def sigmoid(x):
    r"""Stable :math:`\sigma(x) = 1/(1+e^{-x})`: a Sigmoid node for Values, else SymPy/numeric."""
    return _dispatch(Sigmoid(), x)


def tanh(x):
    r""":math:`\tanh x`: a Tanh node for Values, SymPy or numeric otherwise."""
    return _dispatch(Tanh(), x)


def relu(x):
    r""":math:`\max(0, x)`: a ReLU node for Values, SymPy (Piecewise) or numeric otherwise."""
    return _dispatch(ReLU(), x)


def softmax(z):
    r"""Softmax down each column, :math:`y_k = e^{z_k} / \sum_j e^{z_j}` (max-shifted): a
    Softmax node for a Value, the exact expression for SymPy input, else the numbers."""
    if isinstance(z, Value):
        return apply(Softmax(), z)
    if _is_symbolic(z):
        return Softmax().symbolic(z)
    return Softmax().forward(z)


def softmax_with_loss(z, t):
    """Softmax-with-loss of logits z against labels t: a
    :class:`~bpcore.nn.losses.SoftmaxWithLoss` node for a Value ``z`` (the labels stay
    constants, so integer labels keep their dtype), the exact symbolic loss for SymPy input,
    else the loss itself (a float)."""
    node = SoftmaxWithLoss()
    if isinstance(z, Value):
        return apply(node, z, t)
    if _is_symbolic(z):
        return node.symbolic(z, t)
    return node.forward(z, t)
