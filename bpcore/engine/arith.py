"""Arithmetic nodes: the building blocks of chapters 1-3.

Each node keeps its forward, its backward and its SymPy form next to each other. Scalars
travel as Python floats (the fast path of the graph); arrays as float64 numpy arrays, with
numpy broadcasting undone in backward by :func:`unbroadcast`.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from ..checks import ShapeError, broadcast_shape, real_number
from .node import Elementwise, Node, elementwise, is_scalar


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` down to ``shape``: the backward of numpy broadcasting.

    A value that was broadcast was *used* once per copy, so its gradient is the sum of the
    gradients of all copies (the fan-out rule).
    """
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


def exp(x):
    """e**x for a float, a float array, a SymPy expression or an object array of them.

    A float that overflows gives inf, as numpy's exp does for arrays.
    """
    if is_scalar(x):
        try:
            return math.exp(x)
        except OverflowError:
            return math.inf
    if isinstance(x, sp.Basic):
        return sp.exp(x)
    if isinstance(x, np.ndarray) and x.dtype == object:
        return elementwise(sp.exp, x)
    return np.exp(x)


def log(x):
    """Natural log for a float, a float array, a SymPy expression or an object array of them."""
    if is_scalar(x):
        return math.log(x)
    if isinstance(x, sp.Basic):
        return sp.log(x)
    if isinstance(x, np.ndarray) and x.dtype == object:
        return elementwise(sp.log, x)
    return np.log(x)


def _shape(x) -> tuple[int, ...]:
    return () if is_scalar(x) else np.shape(x)


def _random(rng: np.random.Generator, shape: tuple[int, ...]):
    x = rng.normal(size=shape)
    return float(x) if shape == () else x


class AddNode(Node):
    r"""Addition :math:`y = x_1 + x_2`.

    Local derivatives are both 1, so backward passes the upstream gradient on unchanged:
    :math:`\partial L/\partial x_1 = \partial L/\partial x_2 = \partial L/\partial y`.
    Caches only the input shapes (to undo broadcasting).
    """

    symbol = "+"
    formula = r"y = x_1 + x_2"
    n_grad = 2

    def forward(self, x1, x2):
        if is_scalar(x1) and is_scalar(x2):
            self.shapes = None
            return x1 + x2
        broadcast_shape(np.asarray(x1), np.asarray(x2), "add")
        self.shapes = (_shape(x1), _shape(x2))
        return x1 + x2

    def backward(self, dout):
        if self.shapes is None:
            return dout, dout
        return unbroadcast(dout, self.shapes[0]), unbroadcast(dout, self.shapes[1])

    def symbolic(self, x1, x2):
        return x1 + x2

    @classmethod
    def examples(cls, rng):
        return [(cls(), (_random(rng, s1), _random(rng, s2)))
                for s1, s2 in [((), ()), ((3,), (3,)), ((2, 3), (2, 1))]]


class MulNode(Node):
    r"""Multiplication :math:`y = x_1 x_2`.

    Backward multiplies the upstream gradient by the *other* input:
    :math:`\partial L/\partial x_1 = \partial L/\partial y \cdot x_2`, so the node caches both
    inputs in forward.
    """

    symbol = "×"
    formula = r"y = x_1 x_2"
    n_grad = 2

    def forward(self, x1, x2):
        if not (is_scalar(x1) and is_scalar(x2)):
            broadcast_shape(np.asarray(x1), np.asarray(x2), "multiply")
        self.x1, self.x2 = x1, x2
        return x1 * x2

    def backward(self, dout):
        dx1, dx2 = dout * self.x2, dout * self.x1
        if is_scalar(self.x1) and is_scalar(self.x2):
            return dx1, dx2
        return unbroadcast(dx1, _shape(self.x1)), unbroadcast(dx2, _shape(self.x2))

    def symbolic(self, x1, x2):
        return x1 * x2

    @classmethod
    def examples(cls, rng):
        return [(cls(), (_random(rng, s1), _random(rng, s2)))
                for s1, s2 in [((), ()), ((4,), (4,)), ((3, 2), ())]]


class NegNode(Elementwise):
    r"""Negation :math:`y = -x`.

    Backward: :math:`\partial L/\partial x = -\partial L/\partial y`.
    """

    symbol = "−"
    formula = r"y = -x"

    def function(self, x):
        return -x

    def derivative(self, x, y):
        return -1

    def expression(self, v):
        return -v

    def backward(self, dout):
        return (-dout,)  # the product with -1, without the multiplication

    @classmethod
    def examples(cls, rng):
        return [(cls(), (_random(rng, s),)) for s in [(), (2, 3)]]


class PowNode(Elementwise):
    r"""Power with a constant exponent :math:`y = x^c`.

    Backward: :math:`\partial L/\partial x = \partial L/\partial y \cdot c\,x^{c-1}`; caches x.
    For :math:`c = 0`, :math:`y = 1` is constant and the gradient is 0 everywhere, including
    at :math:`x = 0`, where the formula would read :math:`0 \cdot 0^{-1}`.
    """

    formula = r"y = x^{c}"

    def __init__(self, c: float = 2.0):
        self.c = real_number(c, "the exponent c")

    @property
    def symbol(self) -> str:  # type: ignore[override]
        """The node's label in graph figures: ``**c``."""
        c = int(self.c) if self.c.is_integer() else self.c
        return f"**{c}"

    def check_input(self, x):
        if not self.c.is_integer() and np.any(np.asarray(x) < 0):
            raise ValueError(f"x**{self.c}: a non-integer power of a negative number is not real")
        return x

    def function(self, x):
        return x**self.c

    def derivative(self, x, y):
        if self.c == 0.0:
            return 0.0 * x
        return self.c * x ** (self.c - 1)

    def expression(self, v):
        return v ** (int(self.c) if self.c.is_integer() else self.c)

    def __repr__(self) -> str:
        return f"PowNode(c={self.c:g})"

    @classmethod
    def examples(cls, rng):
        return [(cls(2), (_random(rng, ()),)), (cls(3), (_random(rng, (2, 2)),)),
                (cls(0.5), (np.abs(_random(rng, (3,))) + 0.5,))]


class ReciprocalNode(Elementwise):
    r"""Reciprocal :math:`y = 1/x`.

    :math:`\partial y/\partial x = -1/x^2 = -y^2`, so backward needs only the cached output y.
    """

    symbol = "1/x"
    formula = r"y = \frac{1}{x}"

    def check_input(self, x):
        if np.any(np.asarray(x) == 0):
            raise ZeroDivisionError("reciprocal of zero: the input of 1/x contains 0")
        return x

    def function(self, x):
        return 1.0 / x

    def derivative(self, x, y):
        return -(y * y)

    def expression(self, v):
        return 1 / v

    @classmethod
    def examples(cls, rng):
        return [(cls(), (_random(rng, ()) + 3.0,)), (cls(), (np.abs(_random(rng, (2, 3))) + 0.5,))]


class ExpNode(Elementwise):
    r"""Exponential :math:`y = e^x`; its own derivative, so backward uses the cached y."""

    symbol = "exp"
    formula = r"y = e^{x}"

    def function(self, x):
        return exp(x)

    def derivative(self, x, y):
        return y

    def expression(self, v):
        return sp.exp(v)

    @classmethod
    def examples(cls, rng):
        return [(cls(), (_random(rng, s),)) for s in [(), (3, 2)]]


class LogNode(Elementwise):
    r"""Natural logarithm :math:`y = \ln x` (x > 0); backward: :math:`\partial L/\partial y / x`."""

    symbol = "log"
    formula = r"y = \ln x"
    #: The proof of the derivative assumes this about x (the domain of ln).
    domain = "positive"

    def check_input(self, x):
        if np.any(np.asarray(x) <= 0):
            raise ValueError("log of a number <= 0: the input of log must be positive")
        return x

    def function(self, x):
        return log(x)

    def derivative(self, x, y):
        return 1 / x

    def expression(self, v):
        return sp.log(v)

    @classmethod
    def examples(cls, rng):
        return [(cls(), (abs(_random(rng, ())) + 0.5,)),
                (cls(), (np.abs(_random(rng, (4,))) + 0.5,))]


class MatMulNode(Node):
    r"""Matrix product :math:`z = W a`, W of shape (n, k), a of shape (k, m).

    Backward: :math:`dW = dz\,a^\top`, :math:`da = W^\top dz`; caches W and a.
    """

    symbol = "@"
    formula = r"z = W a"
    n_grad = 2

    def forward(self, W, a):
        W, a = np.asarray(W), np.asarray(a)
        if W.ndim != 2 or a.ndim != 2 or W.shape[1] != a.shape[0]:
            raise ShapeError(
                f"cannot multiply W of shape {W.shape} by a of shape {a.shape}: "
                "expected W (n, k) and a (k, m)"
            )
        self.W, self.a = W, a
        return W @ a

    def backward(self, dout):
        return dout @ self.a.T, self.W.T @ dout

    def symbolic(self, W, a):
        return W @ a

    @classmethod
    def examples(cls, rng):
        return [(cls(), (rng.normal(size=(3, 4)), rng.normal(size=(4, 2)))),
                (cls(), (rng.normal(size=(1, 2)), rng.normal(size=(2, 1))))]


class SumNode(Node):
    r"""Sum of all entries :math:`y = \sum_i x_i`.

    Backward spreads the upstream gradient to every entry (each local derivative is 1).
    """

    symbol = "Σ"
    formula = r"y = \sum_i x_i"

    def forward(self, x):
        self.shape = _shape(x)
        return float(np.sum(x))

    def backward(self, dout):
        return (np.full(self.shape, dout) if self.shape else dout,)

    def symbolic(self, x):
        return np.sum(x)

    @classmethod
    def examples(cls, rng):
        return [(cls(), (_random(rng, s),)) for s in [(5,), (2, 3)]]
