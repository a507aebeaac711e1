r"""Batch normalisation (Ioffe and Szegedy 2015), per feature over the minibatch.

Examples are columns: ``x`` has shape ``(n, m)``, ``gamma`` and ``beta`` shape ``(n, 1)``. In
train mode, for each feature (row)

.. math::
    \mu = \frac1m \sum_i x_i, \quad \sigma^2 = \frac1m \sum_i (x_i - \mu)^2, \quad
    \hat x_i = \frac{x_i - \mu}{\sqrt{\sigma^2 + \epsilon}}, \quad y_i = \gamma \hat x_i + \beta .

Every :math:`x_i` reaches the loss along three paths -- directly through :math:`\hat x_i`, and
through :math:`\mu` and :math:`\sigma^2`, which every example shares -- and the three add up to

.. math::
    dx &= \frac{\gamma}{m\sqrt{\sigma^2 + \epsilon}}
          \Big(m\, dy - \sum_i dy_i - \hat x \sum_i dy_i \hat x_i\Big), \\
    d\gamma &= \sum_i dy_i \hat x_i, \qquad d\beta = \sum_i dy_i .

Train mode also updates running averages of :math:`\mu` and :math:`\sigma^2`; eval mode uses
them instead of the batch's statistics, so a prediction does not depend on the other examples
in the batch. The running statistics start at 0 and 1, so eval mode before any training step
computes :math:`\gamma x / \sqrt{1 + \epsilon} + \beta`.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..checks import ShapeError, float_array, real_number, same_shape
from ..engine.node import Node
from .layers import Layer

#: Added to the variance before the square root, so that a feature that is constant over the
#: batch gives x̂ = 0 rather than 0/0.
EPS = 1e-5
#: Weight of the old value in the running averages: r <- MOMENTUM r + (1 - MOMENTUM) batch.
MOMENTUM = 0.9


class BatchNorm(Node):
    r"""Batch normalisation as a node: ``forward(x, gamma, beta) -> y``; see the module.

    ``backward(dy) -> (dx, dgamma, dbeta)``. The node keeps its mode (``training``) and its
    running statistics, which train-mode forward updates; verification works on copies.
    """

    symbol = "BN"
    formula = r"y = \gamma \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta"
    n_grad = 3

    def __init__(self, n: int | None = None, eps: float = EPS, momentum: float = MOMENTUM,
                 training: bool = True) -> None:
        # eps > 0 keeps the square root real and non-zero for a feature that is constant over
        # the batch; momentum outside [0, 1] would make the running variance negative.
        self.eps = real_number(eps, "eps", low=0.0, low_open=True,
                               why="it keeps sqrt(var + eps) above 0 for a constant feature")
        self.momentum = real_number(momentum, "momentum", low=0.0, high=1.0,
                                    why="the weight of the old value in a running average")
        self.training = training
        self.running_mean = None if n is None else np.zeros((n, 1))
        self.running_var = None if n is None else np.ones((n, 1))

    def __repr__(self) -> str:
        return f"BatchNorm({'train' if self.training else 'eval'} mode)"

    def _check(self, x, gamma, beta):
        x, gamma, beta = float_array(x, "x"), float_array(gamma, "gamma"), float_array(beta, "beta")
        if x.ndim != 2:
            raise ShapeError(f"x has shape {x.shape}, expected (n, m): one column per example")
        n, m = x.shape
        for name, v in (("gamma", gamma), ("beta", beta)):
            if v.shape != (n, 1):
                raise ShapeError(f"{name} has shape {v.shape}, expected ({n}, 1): one value per "
                                 "feature (row of x)")
        if self.running_mean is None:
            self.running_mean, self.running_var = np.zeros((n, 1)), np.ones((n, 1))
        elif self.running_mean.shape != (n, 1):
            raise ShapeError(f"x has {n} features, but the running statistics are for "
                             f"{self.running_mean.shape[0]}")
        return x, gamma, beta

    def forward(self, x, gamma, beta):
        x, gamma, beta = self._check(x, gamma, beta)
        return self._forward(x, gamma, beta)

    def _forward(self, x, gamma, beta):
        if self.training and x.shape[1] < 2:  # checked here, so the network's path checks it too
            raise ValueError(f"batch norm in train mode needs at least 2 examples, got m = "
                             f"{x.shape[1]}: with one example every x̂ is 0 (x minus its own "
                             "mean), the output is beta whatever x is, and no gradient reaches x")
        if self.training:
            mu = x.mean(axis=1, keepdims=True)
            var = x.var(axis=1, keepdims=True)  # the biased (1/m) variance of the formula
            k = self.momentum
            self.running_mean = k * self.running_mean + (1 - k) * mu
            self.running_var = k * self.running_var + (1 - k) * var
        else:
            mu = self.running_mean.astype(x.dtype, copy=False)
            var = self.running_var.astype(x.dtype, copy=False)
        self.inv_std = 1.0 / np.sqrt(var + self.eps)
        self.x_hat, self.gamma = (x - mu) * self.inv_std, gamma
        return gamma * self.x_hat + beta

    def backward(self, dy):
        if not hasattr(self, "x_hat"):
            raise RuntimeError("BatchNorm.backward called before forward")
        dy = float_array(dy, "dy")
        same_shape(dy, self.x_hat.shape, "dy", "the shape of the output y")
        return self._backward(dy)

    def _backward(self, dy, need_dx: bool = True):
        x_hat = self.x_hat
        dgamma = (dy * x_hat).sum(axis=1, keepdims=True)
        dbeta = dy.sum(axis=1, keepdims=True)
        if not need_dx:
            return None, dgamma, dbeta
        if not self.training:  # mu and sigma are constants: only the direct path
            return dy * self.gamma * self.inv_std, dgamma, dbeta
        m = dy.shape[1]
        dx = (self.gamma * self.inv_std / m) * (m * dy - dbeta - x_hat * dgamma)
        return dx, dgamma, dbeta

    def symbolic(self, x, gamma, beta):
        x = np.asarray(x, dtype=object)
        eps = sp.Float(self.eps)
        if self.training:
            m = x.shape[1]
            mu = x.sum(axis=1, keepdims=True) / m
            var = ((x - mu) ** 2).sum(axis=1, keepdims=True) / m
        else:
            mu = self.running_mean.astype(object)
            var = self.running_var.astype(object)
        std = np.vectorize(lambda v: sp.sqrt(v + eps), otypes=[object])(var)
        return gamma * ((x - mu) / std) + beta

    @classmethod
    def examples(cls, rng):
        out = []
        # m >= 3: with m = 2 each x̂ is -1 or +1 whatever x is, dx is exactly 0, and a
        # relative error would compare rounding noise with rounding noise.
        for n, m in [(3, 4), (2, 5), (1, 3)]:
            inputs = (rng.normal(size=(n, m)) * 2 + 1, rng.normal(size=(n, 1)) + 1,
                      rng.normal(size=(n, 1)))
            out.append((cls(n), inputs))
            trained = cls(n, training=False)  # eval mode, with running statistics set
            trained.running_mean = rng.normal(size=(n, 1))
            trained.running_var = rng.uniform(0.5, 2.0, size=(n, 1))
            out.append((trained, inputs))
        return out


class BatchNormLayer(Layer):
    r"""A :class:`BatchNorm` node that owns :math:`\gamma` (``gamma``, starts at 1) and
    :math:`\beta` (``beta``, starts at 0) and its running statistics; train/eval mode as
    every layer."""

    kind = "bn"
    min_batch = 2  # train mode: one example has no spread to normalise by

    def __init__(self, n: int, eps: float = EPS, momentum: float = MOMENTUM,
                 dtype: type | np.dtype = np.float64) -> None:
        super().__init__()
        self.node = BatchNorm(n, eps, momentum)
        self.params = {"gamma": np.ones((n, 1), dtype=dtype),
                       "beta": np.zeros((n, 1), dtype=dtype)}

    def __repr__(self) -> str:
        return f"BatchNormLayer({self.params['gamma'].shape[0]})"
