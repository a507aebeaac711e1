r"""Gradient checking by central finite differences, in float64.

For a scalar function f, the central difference

.. math:: \frac{\partial f}{\partial x_i} \approx \frac{f(x + h e_i) - f(x - h e_i)}{2h}

has truncation error O(h^2) and rounding error about eps * |f| / h; with h = 1e-5 in
float64 both are near 1e-10 relative, which is why agreement to 1e-7 is a meaningful test
and float32 or one-sided differences (errors 1e-3..1e-5) are not. The step is scaled with the
entry, h * max(1, |x_i|), so that an input of 100 is not nudged by a relatively tinier amount
than an input of 1 (which would leave the rounding error, not the truncation error, in charge).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .checks import as_float_array

#: Default step: balances O(h^2) truncation against eps/h rounding in float64.
DEFAULT_H = 1e-5
#: Default pass threshold for relative error (see the module docstring).
DEFAULT_TOL = 1e-7
_TINY = 1e-12


def rel_error(a: object, b: object) -> float:
    r"""Relative error :math:`\lVert a-b\rVert / \max(\lVert a\rVert, \lVert b\rVert, 10^{-12})`.

    Norms are Euclidean over all entries, so one tiny entry near zero does not dominate.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare gradients of shapes {a.shape} and {b.shape}")
    num = float(np.linalg.norm((a - b).ravel()))
    den = max(float(np.linalg.norm(a.ravel())), float(np.linalg.norm(b.ravel())), _TINY)
    return num / den


def numerical_gradient(f: Callable[..., float], *xs: object, h: float = DEFAULT_H) -> list:
    """Central-difference gradient of the scalar function ``f(*xs)`` with respect to each x.

    Each x may be a number or an array; the result has the same shapes (numbers as floats).
    """
    if not h > 0:
        raise ValueError(f"step h must be positive, got {h}")
    arrays = [as_float_array(x, f"input {i}").copy() for i, x in enumerate(xs)]

    def call() -> float:
        args = [float(a) if a.ndim == 0 else a for a in arrays]
        out = np.asarray(f(*args), dtype=np.float64)
        if out.size != 1:
            raise ValueError(f"f must return a scalar, got shape {out.shape}")
        return float(out.reshape(()))

    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        flat, gflat = a.reshape(-1), g.reshape(-1)  # views: writing flat changes a
        for i in range(flat.size):
            old = flat[i]
            step = h * max(1.0, abs(old))
            flat[i] = old + step
            up = call()
            flat[i] = old - step
            down = call()
            flat[i] = old
            gflat[i] = (up - down) / (2 * step)
        grads.append(float(g) if g.ndim == 0 else g)
    return grads


def verdict(err: float, tol: float = DEFAULT_TOL) -> str:
    """``"ok"`` for an error within ``tol``, else the error to two digits.

    What a notebook prints about a gradient check: the size of a passing error is rounding
    noise and changes from one CPU to another, so it is never shown; a failing error is far
    above the noise, and its digits are the same on every machine.
    """
    return "ok" if err <= tol else f"FAIL ({err:.2g})"


def bucket(err: float | None) -> str:
    """An error rounded up to a power of ten, e.g. ``< 1e-10`` (for tables read by people).

    Near the rounding noise the power itself can change between machines (an error of 9e-11
    on one CPU is 1.1e-10 on another), so stored notebook outputs use :func:`verdict`.
    """
    if err is None:
        return "—"
    if err == 0:
        return "0"
    if not math.isfinite(err):
        return str(err)
    return f"< 1e{math.ceil(math.log10(err)):+03d}"


@dataclass
class GradcheckReport:
    """Backprop against finite differences, one relative error per input."""

    errors: list[float]
    tol: float

    @property
    def worst(self) -> float:
        # np.max, not max: a NaN error must come out as the worst (max() can skip it)
        return float(np.max(self.errors)) if self.errors else 0.0

    @property
    def passed(self) -> bool:
        return self.worst <= self.tol

    def __repr__(self) -> str:
        # A passing error is rounding noise whose digits differ between CPUs and BLAS
        # kernels: only the verdict is printed. A failing one is printed, to 2 digits.
        if self.passed:
            return f"gradcheck pass: every relative error is below {self.tol:.0e}"
        return (f"gradcheck FAIL: worst relative error {self.worst:.2g} "
                f"(tolerance {self.tol:.0e})")


def gradcheck(f: Callable[..., object], *xs: object, h: float = DEFAULT_H,
              tol: float = DEFAULT_TOL) -> GradcheckReport:
    """Check the backprop gradient of ``f`` (written with Values) against central differences.

    ``f`` takes one Value per input and returns a scalar Value.
    """
    from .value import Value

    leaves = [Value(x) for x in xs]
    out = f(*leaves)
    out.backward()
    numeric = numerical_gradient(lambda *a: f(*(Value(x) for x in a)).data, *xs, h=h)
    return GradcheckReport([rel_error(v.grad, n) for v, n in zip(leaves, numeric)], tol)
