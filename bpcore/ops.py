"""Functions that work on Values, SymPy expressions, arrays and floats alike.

Writing a function once with these (and ordinary operators) lets :func:`bpcore.symbolic.verify`
differentiate it by backprop, by SymPy and by finite differences.
"""

from __future__ import annotations

from . import node as _node
from .arith import ExpNode, LogNode
from .value import Value, apply


def exp(x):
    """e**x as a graph node for Values, elementwise otherwise."""
    return apply(ExpNode(), x) if isinstance(x, Value) else _node.exp(x)


def log(x):
    """ln x as a graph node for Values, elementwise otherwise."""
    return apply(LogNode(), x) if isinstance(x, Value) else _node.log(x)
