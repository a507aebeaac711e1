r"""Weight initialisers: where gradient descent starts.

Every initialiser has the signature ``init(n_out, n_in, rng) -> W`` with ``W`` of shape
``(n_out, n_in)`` (the book's :math:`(n^{[l]}, n^{[l-1]})`), drawn from the NumPy Generator
``rng`` so that a seed fixes the whole network. Biases always start at zero.

* :func:`xavier` — Glorot *normal*: :math:`W_{ij} \sim \mathcal{N}(0, \sigma^2)` with
  :math:`\sigma = \sqrt{2/(n_{\text{in}} + n_{\text{out}})}`. It keeps the variance of the
  activations and of the back-propagated gradients roughly constant from layer to layer for
  activations that are linear near 0 (tanh, sigmoid) (Glorot and Bengio, 2010).
* :func:`he` — He normal: :math:`\sigma = \sqrt{2/n_{\text{in}}}`; the factor 2 makes up for
  ReLU zeroing half of its inputs (He et al., 2015).
* :func:`zeros` — all zeros: every unit of a layer computes the same thing and receives the
  same gradient, so they never become different (the symmetry problem; chapter 6 shows it).
* :func:`normal` ``(scale)`` — :math:`\mathcal{N}(0, \text{scale}^2)`, a fixed scale.

:func:`initialise` builds the ``(W, b)`` pairs of a whole network from its layer sizes.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

import numpy as np

from ..checks import FLOATS, positive_int, real_number

#: An initialiser: (n_out, n_in, rng) -> W of shape (n_out, n_in), float64.
Initialiser = Callable[[int, int, np.random.Generator], np.ndarray]


def _check_dims(n_out: int, n_in: int) -> None:
    positive_int(n_out, "n_out")
    positive_int(n_in, "n_in")


def xavier(n_out: int, n_in: int, rng: np.random.Generator) -> np.ndarray:
    r"""Glorot (Xavier) normal: :math:`W_{ij} \sim \mathcal{N}\big(0,\ 2/(n_{in}+n_{out})\big)`."""
    _check_dims(n_out, n_in)
    return rng.normal(0.0, math.sqrt(2.0 / (n_in + n_out)), size=(n_out, n_in))


def he(n_out: int, n_in: int, rng: np.random.Generator) -> np.ndarray:
    r"""He normal: :math:`W_{ij} \sim \mathcal{N}(0,\ 2/n_{in})`, for ReLU layers."""
    _check_dims(n_out, n_in)
    return rng.normal(0.0, math.sqrt(2.0 / n_in), size=(n_out, n_in))


def zeros(n_out: int, n_in: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """All zeros (``rng`` is accepted for a uniform signature and not used)."""
    _check_dims(n_out, n_in)
    return np.zeros((n_out, n_in))


def normal(scale: float) -> Initialiser:
    r"""An initialiser drawing :math:`W_{ij} \sim \mathcal{N}(0, \text{scale}^2)`."""
    scale = real_number(scale, "scale", low=0.0)

    def init(n_out: int, n_in: int, rng: np.random.Generator) -> np.ndarray:
        _check_dims(n_out, n_in)
        return rng.normal(0.0, scale, size=(n_out, n_in))

    init.__name__ = f"normal({scale:g})"
    return init


#: Initialisers by name, as accepted by :func:`initialise` and ``MLP(init=...)``.
METHODS: dict[str, Initialiser] = {"xavier": xavier, "glorot": xavier, "he": he, "zeros": zeros}


def resolve(method: str | float | Initialiser) -> Initialiser:
    """Turn a name (``"he"``, ``"xavier"``, ``"zeros"``), a scale (float) or a callable into
    an initialiser."""
    if isinstance(method, str):
        if method not in METHODS:
            raise ValueError(f"unknown init {method!r}; choose one of {sorted(METHODS)} "
                             "or give a float scale")
        return METHODS[method]
    if isinstance(method, numbers.Real) and not isinstance(method, bool):
        return normal(float(method))
    if callable(method):
        return method
    raise TypeError(f"init must be a name, a float scale or a callable, got {method!r}")


def initialise(sizes: Sequence[int], method: str | float | Initialiser = "he",
               rng: np.random.Generator | None = None,
               dtype: type | np.dtype = np.float64) -> list[tuple[np.ndarray, np.ndarray]]:
    r"""Parameters ``[(W1, b1), ..., (WD, bD)]`` of a network with layer sizes
    ``sizes = [n0, n1, ..., nD]`` (D layers).

    :math:`W^{[l]}` has shape :math:`(n^{[l]}, n^{[l-1]})` and is drawn by ``method``;
    :math:`b^{[l]}` has shape :math:`(n^{[l]}, 1)` and is zero. Layers are drawn in order from
    one generator, so ``rng = np.random.default_rng(seed)`` makes the result reproducible.
    Arrays are returned in ``dtype`` (float64 or float32); they are drawn in float64 first, so
    a float32 network starts from the rounded float64 draws.
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least two entries [n_input, n_output], got {sizes}")
    sizes = [positive_int(n, f"sizes[{i}]") for i, n in enumerate(sizes)]
    dtype = np.dtype(dtype)
    if dtype not in FLOATS:
        raise TypeError(f"dtype must be float64 or float32, got {dtype}")
    init = resolve(method)
    rng = np.random.default_rng(0) if rng is None else rng
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        W = np.asarray(init(int(n_out), int(n_in), rng), dtype=dtype)
        if W.shape != (n_out, n_in):
            raise ValueError(f"initialiser returned shape {W.shape}, expected {(n_out, n_in)}")
        params.append((W, np.zeros((int(n_out), 1), dtype=dtype)))
    return params
