r"""Activation nodes: sigmoid, tanh, ReLU and the identity, each one elementwise node.

Chapter 3 builds the sigmoid from four arithmetic nodes (×(−1), exp, +1, 1/x) and shows that
their backward passes collapse to :math:`\partial L/\partial x = \partial L/\partial y\,y(1-y)`.
The nodes here use such results: each carries its function, its local derivative (written
through whatever is cheapest: sigmoid and tanh through their output y, ReLU through its input
x) and its SymPy expression (see :class:`~bpcore.engine.node.Elementwise`). The layer block,
the network, the command line and the proofs all read them from here, through
:data:`ACTIVATIONS`: a new activation is one new class.

All are numerically stable: sigmoid of ±1000 is exactly 0 or 1 with gradient 0, and no numpy
floating-point flag (overflow, underflow, invalid) is raised, even under
``np.errstate(all="raise")``. A NaN or infinite input is refused with an error naming the node.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
import sympy as sp

from ..checks import FLOATS, check_finite
from ..engine.node import Elementwise, is_scalar

#: Activation nodes by the name networks and the command line know them by ("relu", ...);
#: every subclass of :class:`ActivationNode` with a ``name`` is added when it is defined.
ACTIVATIONS: dict[str, type[ActivationNode]] = {}


def _array(x) -> np.ndarray:
    """x as a float array: float32 and float64 arrays as they are, anything else float64."""
    return x if isinstance(x, np.ndarray) and x.dtype in FLOATS else np.asarray(x, np.float64)


class ActivationNode(Elementwise):
    """An elementwise activation: refuses non-finite input, and registers its ``name``."""

    registered: ClassVar[bool] = False
    #: The name in :data:`ACTIVATIONS` (``MLP(activation=...)``, ``bpcore train --activation``).
    name: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("name"):
            ACTIVATIONS[cls.name] = cls

    def check_input(self, x):
        if is_scalar(x):
            if not math.isfinite(x):
                raise ValueError(f"{type(self).__name__} input is non-finite: {x}")
        elif isinstance(x, np.ndarray) and x.dtype != object:
            check_finite(x, f"{type(self).__name__} input")
        return x

    @classmethod
    def examples(cls, rng):
        return _examples(cls, rng, scale=1.5)


def _examples(cls, rng: np.random.Generator, scale: float):
    """Inputs of several shapes: a Python float, a vector, a matrix (examples as columns)."""
    out = []
    for shape in [(), (4,), (3, 2)]:
        x = scale * rng.normal(size=shape)
        out.append((cls(), (float(x) if shape == () else x,)))
    return out


# -- sigmoid ------------------------------------------------------------------------------------
#: Beyond this |x|, exp(-|x|) < 1e-304: sigmoid is 0 or 1 to float64 precision, and computing
#: the exponential would only raise numpy's underflow flag, so the tail is set to 0 directly.
_EXP_CUTOFF = 700.0
#: For float32 the same idea needs a smaller cutoff: exp(-x) is below float32's tiny past ~87.
_UNDERFLOW = {t: float(-np.log(np.finfo(t).tiny)) for t in (np.float32, np.float64)}


class Sigmoid(ActivationNode):
    r"""Logistic sigmoid :math:`y = \sigma(x) = 1/(1 + e^{-x})`, elementwise.

    Local derivative :math:`\sigma'(x) = \sigma(x)(1-\sigma(x)) = y(1-y)`, so backward needs only
    the output y: :math:`\partial L/\partial x = \partial L/\partial y \cdot y(1-y)`.

    Stable: only :math:`e^{-|x|} \le 1` is ever computed, :math:`\sigma(x) = 1/(1+e^{-|x|})`
    for :math:`x \ge 0` and :math:`e^{-|x|}/(1+e^{-|x|})` for :math:`x < 0`.
    """

    name = "sigmoid"
    symbol = "σ"
    formula = r"y = \sigma(x) = \frac{1}{1 + e^{-x}}"

    def function(self, x):
        if is_scalar(x):
            e = 0.0 if abs(x) > _EXP_CUTOFF else math.exp(-abs(x))
            return 1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)
        z = _array(x)
        cutoff = min(_EXP_CUTOFF, _UNDERFLOW.get(z.dtype.type, _EXP_CUTOFF))
        a = np.abs(z)
        e = np.where(a > cutoff, 0.0, np.exp(-np.minimum(a, cutoff)))
        return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

    def derivative(self, x, y):
        return y * (1 - y)

    def expression(self, v):
        return 1 / (1 + sp.exp(-v))

    @classmethod
    def examples(cls, rng):
        # Moderate inputs (|x| up to ~10): SymPy's lambdified derivative of 1/(1+exp(-x))
        # overflows for |x| near 1000, so the extreme inputs are tested against exact limits
        # in tests/test_activations.py instead.
        return _examples(cls, rng, scale=3.0)


# -- tanh ---------------------------------------------------------------------------------------
class Tanh(ActivationNode):
    r"""Hyperbolic tangent :math:`y = \tanh x = (e^{x} - e^{-x})/(e^{x} + e^{-x})`, elementwise.

    Local derivative :math:`1 - \tanh^2 x = 1 - y^2`: backward returns
    :math:`\partial L/\partial y \cdot (1 - y^2)`. Stable: tends to ±1, never overflows.
    """

    name = "tanh"
    symbol = "tanh"
    formula = r"y = \tanh x"

    def function(self, x):
        return math.tanh(x) if is_scalar(x) else np.tanh(_array(x))

    def derivative(self, x, y):
        return 1 - y * y

    def expression(self, v):
        return sp.tanh(v)


# -- ReLU ---------------------------------------------------------------------------------------
class ReLU(ActivationNode):
    r"""Rectified linear unit :math:`y = \max(0, x)`, elementwise.

    Local derivative 1 where :math:`x > 0` and 0 where :math:`x < 0`; at the kink :math:`x = 0`
    the derivative does not exist, and we take it as 0 (the usual convention; any value in
    [0, 1] is a valid subgradient). Backward returns :math:`\partial L/\partial y \cdot [x > 0]`.
    """

    name = "relu"
    symbol = "ReLU"
    formula = r"y = \max(0, x)"

    def function(self, x):
        return max(x, 0.0) if is_scalar(x) else np.maximum(_array(x), 0)

    def derivative(self, x, y):
        if isinstance(x, sp.Basic):
            return sp.Piecewise((1, x > 0), (0, True))
        return (1.0 if x > 0 else 0.0) if is_scalar(x) else (x > 0)

    def expression(self, v):
        return sp.Piecewise((0, v <= 0), (v, True))

    @classmethod
    def examples(cls, rng):
        # Keep every input at least 0.1 away from the kink: finite differences with h = 1e-5
        # straddling x = 0 would see a slope of about 1/2, and the derivative there is a convention.
        out = _examples(cls, rng, scale=1.0)
        for _, (x,) in out:
            if not is_scalar(x):
                x[np.abs(x) < 0.1] = 0.5
        return [(n, (x if not is_scalar(x) or abs(x) >= 0.1 else 0.5,)) for n, (x,) in out]


# -- the identity -------------------------------------------------------------------------------
class Identity(ActivationNode):
    r"""The identity activation :math:`y = x` (a linear output layer); backward passes
    :math:`\partial L/\partial y` through unchanged."""

    name = "identity"
    symbol = "id"
    formula = r"y = x"

    def function(self, x):
        return x

    def derivative(self, x, y):
        return 1

    def expression(self, v):
        return v

    def backward(self, dout):
        return (dout,)  # the product with 1, without the multiplication

    @classmethod
    def examples(cls, rng):
        return [(cls(), (float(rng.normal()),)), (cls(), (rng.normal(size=(3, 2)),))]


def activation(spec: str | Elementwise) -> Elementwise:
    """An activation node from a name in :data:`ACTIVATIONS` or an elementwise node instance."""
    if isinstance(spec, str):
        if spec not in ACTIVATIONS:
            raise ValueError(f"unknown activation {spec!r}; choose one of {sorted(ACTIVATIONS)}")
        return ACTIVATIONS[spec]()
    if isinstance(spec, Elementwise):
        return spec
    raise TypeError(f"activation must be a name or an elementwise Node, got {spec!r}")
