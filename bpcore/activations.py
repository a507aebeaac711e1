r"""Activation nodes: sigmoid, tanh and ReLU as single, fused elementwise nodes.

Chapter 3 builds the sigmoid from four arithmetic nodes (×(−1), exp, +1, 1/x) and shows that
their backward passes collapse to :math:`\partial L/\partial x = \partial L/\partial y\,y(1-y)`.
The fused nodes here use that result: each caches what its local derivative needs (sigmoid
and tanh their output y, ReLU its input x) and nothing else.

All three are numerically stable: sigmoid of ±1000 is exactly 0 or 1 with gradient 0, and no
numpy floating-point flag (overflow, underflow, invalid) is raised, even under
``np.errstate(all="raise")``.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from .checks import check_finite
from .node import Node, elementwise, is_scalar

#: Beyond this |x|, exp(-|x|) < 1e-304: sigmoid is 0 or 1 to float64 precision, and computing
#: the exponential would only raise numpy's underflow flag, so the tail is set to 0 directly.
_EXP_CUTOFF = 700.0
#: For float32 the same idea needs a smaller cutoff: exp(-x) is below float32's tiny past ~87.
_UNDERFLOW = {t: float(-np.log(np.finfo(t).tiny)) for t in (np.float32, np.float64)}


def _as_number(x):
    """Python ints become floats so that they take the scalar fast path."""
    return float(x) if isinstance(x, int) and not isinstance(x, bool) else x


def _finite(x, node: str):
    """Refuse NaN and infinity with a message naming the node (never a silent NaN output)."""
    if is_scalar(x):
        if not math.isfinite(x):
            raise ValueError(f"{node} input is non-finite: {x}")
    elif isinstance(x, np.ndarray) and x.dtype != object:
        check_finite(x, f"{node} input")
    return x


def _symbolic(f, x):
    """Apply a SymPy function to a Symbol or, entry by entry, to an object array."""
    return elementwise(f, x) if isinstance(x, np.ndarray) else f(x)


def _examples(cls, rng: np.random.Generator, scale: float, shift: float = 0.0):
    """Inputs of several shapes: a Python float, a vector, a matrix (examples as columns)."""
    out = []
    for shape in [(), (4,), (3, 2)]:
        x = scale * rng.normal(size=shape) + shift
        out.append((cls(), (float(x) if shape == () else x,)))
    return out


# -- sigmoid ------------------------------------------------------------------------------------
def sigmoid_symbolic(x):
    r""":math:`\sigma(x) = 1/(1 + e^{-x})` for a SymPy Symbol or an object array of them."""
    return _symbolic(lambda v: 1 / (1 + sp.exp(-v)), x)


def sigmoid_numeric(x):
    r"""Numerically stable :math:`\sigma(x) = 1/(1+e^{-x})` for a float or a float64 array.

    Only :math:`e^{-|x|} \le 1` is ever computed, so nothing overflows:
    :math:`\sigma(x) = 1/(1+e^{-|x|})` for :math:`x \ge 0` and
    :math:`\sigma(x) = e^{-|x|}/(1+e^{-|x|})` for :math:`x < 0` (the same number, rearranged).
    """
    x = _as_number(x)
    if is_scalar(x):
        e = 0.0 if abs(x) > _EXP_CUTOFF else math.exp(-abs(x))
        return 1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)
    return sigmoid_array(np.asarray(x, dtype=np.float64))


def sigmoid_array(z: np.ndarray) -> np.ndarray:
    """The array case of :func:`sigmoid_numeric`, keeping z's float dtype (float32 stays float32).

    The layer block calls it directly on every training step, so it does no checks.
    """
    cutoff = min(_EXP_CUTOFF, _UNDERFLOW.get(z.dtype.type, _EXP_CUTOFF))
    a = np.abs(z)
    e = np.where(a > cutoff, 0.0, np.exp(-np.minimum(a, cutoff)))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


class Sigmoid(Node):
    r"""Logistic sigmoid :math:`y = \sigma(x) = 1/(1 + e^{-x})`, elementwise.

    Local derivative :math:`\sigma'(x) = \sigma(x)(1-\sigma(x)) = y(1-y)`, so forward caches
    only its output y and backward returns :math:`\partial L/\partial y \cdot y(1-y)`.
    """

    symbol = "σ"
    formula = r"y = \sigma(x) = \frac{1}{1 + e^{-x}}"

    def forward(self, x):
        self.y = sigmoid_numeric(_finite(x, "Sigmoid"))
        return self.y

    def backward(self, dout):
        return (dout * self.y * (1.0 - self.y),)

    def symbolic(self, x):
        return sigmoid_symbolic(x)

    @classmethod
    def examples(cls, rng):
        # Moderate inputs (|x| up to ~10): SymPy's lambdified derivative of 1/(1+exp(-x))
        # overflows for |x| near 1000, so the extreme inputs are tested against exact limits
        # in tests/test_activations.py instead.
        return _examples(cls, rng, scale=3.0)


# -- tanh ---------------------------------------------------------------------------------------
def tanh_symbolic(x):
    r""":math:`\tanh x` for a SymPy Symbol or an object array of them."""
    return _symbolic(sp.tanh, x)


def tanh_numeric(x):
    r""":math:`\tanh x` for a float or a float64 array (stable: tends to ±1, never overflows)."""
    x = _as_number(x)
    return math.tanh(x) if is_scalar(x) else np.tanh(np.asarray(x, dtype=np.float64))


class Tanh(Node):
    r"""Hyperbolic tangent :math:`y = \tanh x = (e^{x} - e^{-x})/(e^{x} + e^{-x})`, elementwise.

    Local derivative :math:`1 - \tanh^2 x = 1 - y^2`: forward caches y, backward returns
    :math:`\partial L/\partial y \cdot (1 - y^2)`.
    """

    symbol = "tanh"
    formula = r"y = \tanh x"

    def forward(self, x):
        self.y = tanh_numeric(_finite(x, "Tanh"))
        return self.y

    def backward(self, dout):
        return (dout * (1.0 - self.y * self.y),)

    def symbolic(self, x):
        return tanh_symbolic(x)

    @classmethod
    def examples(cls, rng):
        return _examples(cls, rng, scale=1.5)


# -- ReLU ---------------------------------------------------------------------------------------
def relu_symbolic(x):
    r""":math:`\max(0, x)` as a SymPy Piecewise (its derivative is a Piecewise 0 / 1)."""
    return _symbolic(lambda v: sp.Piecewise((0, v <= 0), (v, True)), x)


def relu_numeric(x):
    r""":math:`\max(0, x)` for a float or a float64 array."""
    x = _as_number(x)
    return max(x, 0.0) if is_scalar(x) else np.maximum(np.asarray(x, dtype=np.float64), 0.0)


class ReLU(Node):
    r"""Rectified linear unit :math:`y = \max(0, x)`, elementwise.

    Local derivative 1 where :math:`x > 0` and 0 where :math:`x < 0`; at the kink :math:`x = 0`
    the derivative does not exist, and we take it as 0 (the usual convention; any value in
    [0, 1] is a valid subgradient). Forward caches x, backward returns
    :math:`\partial L/\partial y \cdot [x > 0]`.
    """

    symbol = "ReLU"
    formula = r"y = \max(0, x)"

    def forward(self, x):
        self.x = _finite(x, "ReLU")
        return relu_numeric(x)

    def backward(self, dout):
        if is_scalar(self.x):
            return (dout if self.x > 0 else 0.0 * dout,)
        return (dout * (self.x > 0),)

    def symbolic(self, x):
        return relu_symbolic(x)

    @classmethod
    def examples(cls, rng):
        # Keep every input at least 0.1 away from the kink: finite differences with h = 1e-5
        # straddling x = 0 would see a slope of about 1/2, and the derivative there is a convention.
        out = _examples(cls, rng, scale=1.0)
        for _, (x,) in out:
            if not is_scalar(x):
                x[np.abs(x) < 0.1] = 0.5
        return [(n, (x if not is_scalar(x) or abs(x) >= 0.1 else 0.5,)) for n, (x,) in out]
