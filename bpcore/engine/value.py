"""Define-by-run graphs: a :class:`Value` records every node it passes through.

Calling an operator on Values runs the node's ``forward`` and remembers the node and its
inputs. ``backward()`` then visits the recorded graph in reverse topological order -- computed
iteratively, so a chain of 100,000 nodes is fine -- and, at each node, hands the upstream
gradient to ``node.backward``. Where a value fans out (``x * x``), the gradients arriving along
each path are summed.
"""

from __future__ import annotations

import numbers
from math import isfinite

import numpy as np

from ..checks import ShapeError, as_float_array
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
from .node import Node

_new_value = object.__new__


class Value:
    """A number or float64 array in a recorded computation graph.

    Attributes: ``data`` (forward value), ``grad`` (dL/dvalue after ``backward``), ``label``
    (a name for figures), ``node`` (the node that produced it, ``None`` for a leaf) and
    ``parents`` (that node's input Values).
    """

    __slots__ = ("data", "grad", "label", "node", "parents")
    __array_priority__ = 1000  # so ``ndarray * Value`` calls Value.__rmul__

    def __init__(self, data: object, label: str = "",
                 node: Node | None = None, parents: tuple[Value, ...] = ()):
        if node is None and not (type(data) is float and isfinite(data)):  # float: fast path
            data = _leaf_data(data, label)
        self.data = data
        self.grad = 0.0 if isinstance(data, float) else np.zeros_like(data)
        self.label = label
        self.node = node
        self.parents = parents

    # -- building the graph ---------------------------------------------------------------
    # ``+`` and ``*`` of two float Values are most of a scalar graph, so they skip the generic
    # operand checks of :func:`apply` (the result is the same: a recorded node, its parents).
    def __add__(self, other):
        return _binary(AddNode(), self, other)

    def __radd__(self, other):
        return apply(AddNode(), other, self)

    def __mul__(self, other):
        return _binary(MulNode(), self, other)

    def __rmul__(self, other):
        return apply(MulNode(), other, self)

    def __neg__(self):
        return apply(NegNode(), self)

    def __sub__(self, other):
        return self + (-_operand(other, "subtract"))

    def __rsub__(self, other):
        return _operand(other, "subtract") + (-self)

    def __truediv__(self, other):
        return self * apply(ReciprocalNode(), other)

    def __rtruediv__(self, other):
        if not isinstance(other, Value) and isinstance(other, numbers.Real) and other == 1:
            return apply(ReciprocalNode(), self)  # 1 / x is one node, as in the book's figures
        return other * apply(ReciprocalNode(), self)

    def __pow__(self, c):
        if isinstance(c, Value):
            raise TypeError("Value ** Value is not supported: the exponent must be a constant")
        return apply(PowNode(c), self)

    def __matmul__(self, other):
        return apply(MatMulNode(), self, other)

    def __rmatmul__(self, other):
        return apply(MatMulNode(), other, self)

    def exp(self) -> Value:
        return apply(ExpNode(), self)

    def log(self) -> Value:
        return apply(LogNode(), self)

    def sum(self) -> Value:
        return apply(SumNode(), self)

    # -- differentiating it ---------------------------------------------------------------
    def backward(self, grad: object = None) -> None:
        """Fill ``.grad`` of every Value this one depends on with dself/dvalue.

        For a non-scalar output pass the upstream gradient ``grad`` (same shape as ``data``).
        Leaf gradients accumulate across calls (call :meth:`zero_grad` in between);
        intermediate gradients are recomputed from scratch each time.
        """
        seed = _seed(self, grad)
        order = _interior_order(self)
        self.grad = self.grad + seed if self.node is None else seed
        for v in reversed(order):
            grads = v.node.backward(v.grad)
            parents = v.parents
            if len(parents) == 2:  # most nodes of a scalar graph; unrolled, zip() is slower
                p = parents[0]
                p.grad = p.grad + grads[0]
                p = parents[1]
                p.grad = p.grad + grads[1]
                continue
            for parent, g in zip(parents, grads):
                parent.grad = parent.grad + g

    def zero_grad(self) -> None:
        """Reset ``.grad`` to zero on this Value and everything it depends on."""
        for v in topological_order(self):
            v.grad = 0.0 if isinstance(v.data, float) else np.zeros_like(v.data)

    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.data)

    def __repr__(self) -> str:
        name = f"{self.label}=" if self.label else ""
        return f"Value({name}{_fmt(self.data)}, grad={_fmt(self.grad)})"

    def __bool__(self) -> bool:
        raise TypeError("a Value has no truth value: compare .data instead")


def _binary(node: Node, x: Value, other: object) -> Value:
    """``x + other`` or ``x * other``: the float fast path, else the checked :func:`apply`."""
    if type(other) is float:
        other = Value(other)
    if type(other) is Value:
        x1 = x.data
        x2 = other.data
        if type(x1) is float and type(x2) is float:
            out = _new_value(Value)  # Value(data, node=node, parents=...) without the checks
            out.data = node.forward(x1, x2)
            out.grad = 0.0
            out.label = ""
            out.node = node
            out.parents = (x, other)
            return out
    return apply(node, x, other)


def apply(node: Node, *operands: object) -> Value:
    """Run ``node.forward`` on the operands' data and record the result in the graph.

    The first ``node.n_grad`` operands are the differentiable inputs and become Values (the
    result's parents). The rest are constants, such as class labels, and reach ``forward``
    exactly as given, so integer labels keep their integer dtype.
    """
    k = node.n_grad
    values = tuple(_operand(x, type(node).__name__) for x in operands[:k])
    constants = tuple(x.data if isinstance(x, Value) else x for x in operands[k:])
    out = node.forward(*(v.data for v in values), *constants)
    return Value(out, node=node, parents=values)


def topological_order(root: Value) -> list[Value]:
    """Every Value ``root`` depends on, inputs before outputs (iterative depth-first search).

    A Value is appended once all its parents are: the top of the stack descends into its first
    unvisited parent, or, if there is none, is finished. No recursion, so depth is unlimited.
    """
    order: list[Value] = []
    visited = {root}  # Values hash by identity
    stack = [root]
    while stack:
        v = stack[-1]
        for p in reversed(v.parents):  # last input first: the order figures were laid out in
            if p not in visited:
                visited.add(p)
                stack.append(p)
                break
        else:
            order.append(stack.pop())
    return order


def _interior_order(root: Value) -> list[Value]:
    """:func:`topological_order` without the leaves, zeroing each interior ``grad`` on the way.

    This is the walk ``backward`` needs: leaves have no node to call and keep (accumulate)
    their gradients, so skipping them halves the work on a typical graph.
    """
    if root.node is None:
        return []
    order: list[Value] = []
    visited = {root}
    stack = [root]
    while stack:
        v = stack[-1]
        for p in reversed(v.parents):  # the same order as topological_order
            if p.node is not None and p not in visited:
                visited.add(p)
                stack.append(p)
                break
        else:
            v.grad = 0.0
            order.append(stack.pop())
    return order


def _operand(x: object, op: str) -> Value:
    if isinstance(x, Value):
        return x
    if isinstance(x, (numbers.Real, np.ndarray)) and not isinstance(x, bool):
        return Value(x)
    raise TypeError(f"{op}: operand must be a Value, a number or a numpy array, "
                    f"got {type(x).__name__}")


def _leaf_data(data: object, label: str):
    arr = as_float_array(data, label or "Value")
    return float(arr) if arr.ndim == 0 else arr


def _seed(out: Value, grad: object):
    if grad is None:
        if not isinstance(out.data, float):
            raise ValueError(
                f"backward() on a non-scalar output of shape {np.shape(out.data)} needs an "
                "upstream gradient of that shape: call backward(grad)"
            )
        return 1.0
    g = as_float_array(grad, "upstream gradient")
    if g.shape != np.shape(out.data):
        raise ShapeError(f"upstream gradient has shape {g.shape}, expected {np.shape(out.data)}")
    return float(g) if g.ndim == 0 else g


def _fmt(x) -> str:
    if isinstance(x, float):
        return f"{x:.6g}"
    return f"array(shape={np.shape(x)})"
