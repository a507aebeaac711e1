r"""Dropout (Srivastava et al. 2014), in its *inverted* form.

In train mode each entry of ``x`` is kept with probability ``p`` and set to 0 otherwise, and
the kept entries are divided by ``p``:

.. math:: y = x \odot \frac{r}{p}, \qquad r_{ij} \sim \text{Bernoulli}(p) \text{ independently.}

Dividing by ``p`` makes :math:`E[y] = x` (each entry survives with probability ``p`` and is
then ``x / p``), so eval mode can be the identity: the network a test example meets is, on
average, the one that was trained. The mask ``r / p`` is drawn in forward from the node's own
seeded generator, cached, and reused by backward, :math:`dx = dy \odot r / p`: for a fixed mask
dropout is an elementwise multiplication by a constant.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..checks import float_array, real_number, same_shape
from ..engine.node import Node
from .layers import Layer


def keep_probability(p: object) -> float:
    """p as a keep probability in (0, 1], or an error saying why (PyTorch's ``p`` is the
    *drop* probability, 1 minus this one)."""
    return real_number(p, "the keep probability p", low=0.0, high=1.0, low_open=True,
                       why="p = 1 keeps every unit; p = 0 would keep none and divide by 0")


class Dropout(Node):
    r"""Inverted dropout as a node: ``forward(x) -> x * mask`` with ``mask = r / p``.

    A new mask is drawn at every train-mode forward from ``np.random.default_rng(seed)``;
    ``backward(dy)`` returns ``dy * mask`` with the cached mask. Eval mode is the identity.
    """

    symbol = "drop"
    formula = r"y = x \odot r / p,\ r \sim \mathrm{Bernoulli}(p)"

    def __init__(self, p: float = 0.5, seed: int = 0, training: bool = True) -> None:
        self.p = keep_probability(p)
        self.rng = np.random.default_rng(seed)
        self.training = training

    def __repr__(self) -> str:
        return f"Dropout(p={self.p:g}, {'train' if self.training else 'eval'} mode)"

    def draw_mask(self, shape: tuple[int, ...], dtype=np.float64) -> np.ndarray:
        """r / p for a fresh Bernoulli(p) draw r (advances the node's generator)."""
        keep = self.rng.random(shape) < self.p
        return keep.astype(dtype) / np.asarray(self.p, dtype=dtype)

    def forward(self, x):
        return self._forward(float_array(x, "x"))

    def _forward(self, x):
        self.shape = np.shape(x)
        if not self.training:
            self.mask = None
            return x
        self.mask = self.draw_mask(np.shape(x), x.dtype)
        return x * self.mask

    def backward(self, dy):
        if not hasattr(self, "mask"):
            raise RuntimeError("Dropout.backward called before forward")
        dy = float_array(dy, "dy")
        same_shape(dy, self.shape, "dy", "the shape of the output y")
        return self._backward(dy)

    def _backward(self, dy, need_dx: bool = True):
        return (dy if self.mask is None else dy * self.mask,)

    def symbolic(self, x):
        """The same forward for SymPy, with the mask the next numeric forward would draw."""
        if not self.training:
            return x
        rng_state = self.rng.bit_generator.state
        mask = self.draw_mask(np.shape(x))
        self.rng.bit_generator.state = rng_state  # drawing here must not change the node
        return x * np.vectorize(sp.nsimplify, otypes=[object])(mask)

    @classmethod
    def examples(cls, rng):
        seeds = rng.integers(0, 2**31, size=3)
        return [(cls(0.5, int(seeds[0])), (rng.normal(size=(3, 4)),)),
                (cls(0.8, int(seeds[1])), (rng.normal(size=(5, 2)),)),
                (cls(0.5, int(seeds[2]), training=False), (rng.normal(size=(2, 3)),))]


class DropoutLayer(Layer):
    """A :class:`Dropout` node as a layer (no parameters): masks in train mode, identity in
    eval mode."""

    kind = "dropout"

    def __init__(self, p: float = 0.5, seed: int = 0) -> None:
        super().__init__()
        self.node = Dropout(p, seed)

    def __repr__(self) -> str:
        return f"DropoutLayer(p={self.node.p:g})"
