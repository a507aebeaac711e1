"""Functions that work on Values, SymPy expressions, arrays and floats alike.

Writing a function once with these (and ordinary operators) lets :func:`bpcore.symbolic.verify`
differentiate it by backprop, by SymPy and by finite differences.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from . import activations as _act
from . import arith as _arith
from .arith import ExpNode, LogNode
from .value import Value, apply


def exp(x):
    """e**x as a graph node for Values, elementwise otherwise."""
    return apply(ExpNode(), x) if isinstance(x, Value) else _arith.exp(x)


def log(x):
    """ln x as a graph node for Values, elementwise otherwise."""
    return apply(LogNode(), x) if isinstance(x, Value) else _arith.log(x)


def _is_symbolic(x) -> bool:
    return isinstance(x, sp.Basic) or (isinstance(x, np.ndarray) and x.dtype == object)


def sigmoid(x):
    r"""Stable :math:`\sigma(x) = 1/(1+e^{-x})`: a Sigmoid node for Values, else SymPy/numeric."""
    if isinstance(x, Value):
        return apply(_act.Sigmoid(), x)
    return _act.sigmoid_symbolic(x) if _is_symbolic(x) else _act.sigmoid_numeric(x)


def tanh(x):
    r""":math:`\tanh x`: a Tanh node for Values, SymPy or numeric otherwise."""
    if isinstance(x, Value):
        return apply(_act.Tanh(), x)
    return _act.tanh_symbolic(x) if _is_symbolic(x) else _act.tanh_numeric(x)


def relu(x):
    r""":math:`\max(0, x)`: a ReLU node for Values, SymPy (Piecewise) or numeric otherwise."""
    if isinstance(x, Value):
        return apply(_act.ReLU(), x)
    return _act.relu_symbolic(x) if _is_symbolic(x) else _act.relu_numeric(x)
