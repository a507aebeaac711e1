r"""The finite-difference witness: central differences in float64.

For a scalar function f, the central difference

.. math:: \frac{\partial f}{\partial x_i} \approx \frac{f(x + h e_i) - f(x - h e_i)}{2h}

has truncation error O(h^2) and rounding error about ``eps * |f| / h``; with h = 1e-5 in
float64 both are near 1e-10 relative, which is why agreement to 1e-7 is a meaningful test
and float32 or one-sided differences (errors 1e-3..1e-5) are not. The step is scaled with the
entry, ``h * max(1, |x_i|)``, so that an input of 100 is not nudged by a relatively tinier amount
than an input of 1 (which would leave the rounding error, not the truncation error, in charge).

The pass threshold :data:`~bpcore.witnesses.report.DEFAULT_TOL` = 1e-7 relative sits two to
three orders of magnitude above that noise, and far below what any real mistake gives.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..checks import as_float_array
from .report import DEFAULT_TOL, Comparison, Report

#: Default step: balances O(h^2) truncation against eps/h rounding in float64.
DEFAULT_H = 1e-5


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


def gradcheck(f: Callable[..., object], *xs: object, h: float = DEFAULT_H,
              tol: float = DEFAULT_TOL, names: list[str] | None = None) -> Report:
    """Check the backprop gradient of ``f`` (written with Values) against central differences.

    ``f`` takes one Value per input and returns a scalar Value. One comparison per input,
    named ``names`` (default x1, x2, ...).
    """
    from ..engine.value import Value

    leaves = [Value(x) for x in xs]
    out = f(*leaves)
    out.backward()
    numeric = numerical_gradient(lambda *a: f(*(Value(x) for x in a)).data, *xs, h=h)
    names = names or [f"x{i + 1}" for i in range(len(xs))]
    report = Report("gradcheck", tol=tol,
                    values={"backprop": [v.grad for v in leaves], "FD": numeric})
    for name, v, n in zip(names, leaves, numeric):
        report.add(Comparison.of(name, "backprop = FD", v.grad, n, tol))
    return report


def network_gradcheck(model, x: np.ndarray, t: object, h: float = DEFAULT_H,
                      tol: float = DEFAULT_TOL) -> Report:
    """``model.backward()`` against central differences of ``model.loss(x, t)``, one
    comparison per parameter array (W1, b1, ...). The parameters are restored afterwards.

    ``model`` is anything with the Network interface (``params``, ``loss``, ``backward``).
    A parameter whose gradient is exactly 0 (a bias followed by batch norm, which subtracts
    any constant) has no scale of its own: it is compared against a thousandth of the whole
    gradient's size, since central differences have only absolute accuracy (~1e-11) there.
    """
    model.loss(x, t)
    analytic = model.backward()
    keys = list(model.params)
    saved = {k: model.params[k].copy() for k in keys}

    def loss(*arrays):
        for k, a in zip(keys, arrays):
            model.params[k][...] = a  # in place: the layers own these arrays
        return model.loss(x, t)

    try:
        numeric = numerical_gradient(loss, *saved.values(), h=h)
    finally:
        for k in keys:
            model.params[k][...] = saved[k]
    floor = 1e-3 * max((float(np.linalg.norm(n)) for n in numeric), default=0.0)
    report = Report("network", tol=tol, values={"backprop": [analytic[k] for k in keys],
                                                "FD": numeric})
    for k, n in zip(keys, numeric):
        report.add(Comparison.of(k, "backprop = FD", analytic[k], n, tol, floor=floor))
    return report
