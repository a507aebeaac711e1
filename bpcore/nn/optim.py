r"""Optimisers: how a gradient becomes a step.

Backprop gives :math:`\partial L/\partial w` for every parameter; an optimiser decides how far
to move each parameter along it. All four optimisers here share one interface::

    opt = Adam(lr=1e-3)
    grads = model.backward()
    opt.step(model.params, grads)   # updates the arrays in model.params in place

Each keeps its own state (velocities, running averages) per parameter name, created on the
first step with the parameter's shape and dtype. Notation: :math:`\eta` is the learning rate,
:math:`g_t = \partial L/\partial w` at step :math:`t = 1, 2, \dots`, products and squares of
:math:`g_t` are elementwise.
"""

from __future__ import annotations

import numpy as np

from ..checks import ShapeError, real_number


def _check_positive(value: float, name: str) -> float:
    return real_number(value, name, low=0.0, low_open=True)


def _check_fraction(value: float, name: str) -> float:
    """A decay rate: 0 <= value < 1 (1 would never forget, so the average never updates)."""
    return real_number(value, name, low=0.0, high=1.0, high_open=True)


class Optimizer:
    """Base class: validates ``params``/``grads`` and applies :meth:`update` to each pair."""

    def __init__(self, lr: float) -> None:
        self.lr = lr
        self.t = 0  # number of steps taken

    @property
    def lr(self) -> float:
        """The learning rate; checked whenever it is set, not only at construction."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _check_positive(value, "learning rate lr")

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Update every array in ``params`` in place, using ``grads`` (same keys, same shapes).

        Keys and shapes are checked (cheap); the values are not scanned for NaN or infinity,
        which would cost a pass over every array on every step: :func:`bpcore.nn.train.fit`
        stops with a clear error when the loss stops being finite.
        """
        if not isinstance(params, dict) or not isinstance(grads, dict):
            raise TypeError("step(params, grads) expects two dicts of arrays")
        if params.keys() != grads.keys():  # dict views compare as sets
            missing = sorted(set(params) - set(grads))
            extra = sorted(set(grads) - set(params))
            raise KeyError(
                f"grads must have the same keys as params: missing {missing}, unexpected {extra}"
            )
        # Fast path (every training step): arrays of matching shapes. This runs once per
        # minibatch, so it stays a plain shape comparison per key.
        for key, w in params.items():
            if (type(w) is not np.ndarray or w.dtype.kind != "f"
                    or getattr(grads[key], "shape", None) != w.shape):
                grads = self._checked(params, grads)  # raises, or converts lists to arrays
                break
        # every pair was checked before any parameter changes: a bad call changes nothing
        self.t += 1
        for key, w in params.items():
            self.update(key, w, grads[key])

    @staticmethod
    def _checked(params: dict, grads: dict) -> dict[str, np.ndarray]:
        """The slow path: name the first bad entry, or return grads as arrays."""
        out = {}
        for key, w in params.items():
            if not isinstance(w, np.ndarray):
                raise TypeError(f"params[{key!r}] must be a numpy array (updated in place)")
            if w.dtype.kind != "f":
                raise TypeError(f"params[{key!r}] must be a floating-point array (it is "
                                f"updated in place), got dtype {w.dtype}")
            g = np.asarray(grads[key], dtype=w.dtype)
            if g.shape != w.shape:
                raise ShapeError(
                    f"grads[{key!r}] has shape {g.shape}, expected {w.shape} (the shape of "
                    f"params[{key!r}])"
                )
            out[key] = g
        return out

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> None:
        """Update the parameter ``w`` (named ``key``) in place from its gradient ``g``."""
        raise NotImplementedError

    def _state(self, store: dict[str, np.ndarray], key: str, w: np.ndarray) -> np.ndarray:
        if key not in store or store[key].shape != w.shape:
            store[key] = np.zeros_like(w)
        return store[key]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr:g})"


class SGD(Optimizer):
    r"""Plain (minibatch) gradient descent.

    .. math:: w \leftarrow w - \eta\, \frac{\partial L}{\partial w}
    """

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> None:
        w -= self.lr * g


class Momentum(Optimizer):
    r"""Gradient descent with (heavy-ball) momentum, Polyak 1964.

    .. math::
        v &\leftarrow \beta\, v - \eta\, \frac{\partial L}{\partial w} \\
        w &\leftarrow w + v

    with :math:`v = 0` initially. The velocity :math:`v` accumulates steps that agree in sign
    and cancels those that oscillate; :math:`\beta = 0` is plain SGD.
    """

    def __init__(self, lr: float, beta: float = 0.9) -> None:
        super().__init__(lr)
        self.beta = _check_fraction(beta, "beta")
        self.v: dict[str, np.ndarray] = {}

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> None:
        v = self._state(self.v, key, w)
        v *= self.beta
        v -= self.lr * g
        w += v

    def __repr__(self) -> str:
        return f"Momentum(lr={self.lr:g}, beta={self.beta:g})"


class RMSprop(Optimizer):
    r"""RMSprop (Tieleman and Hinton 2012): divide the step by a running RMS of the gradient.

    .. math::
        s &\leftarrow \rho\, s + (1 - \rho)\, g^2 \\
        w &\leftarrow w - \eta\, \frac{g}{\sqrt{s} + \epsilon}

    with :math:`s = 0` initially and :math:`g = \partial L/\partial w`. Each parameter gets its
    own effective step size :math:`\eta/\sqrt{s}`: large where gradients are small, and
    the other way round.
    """

    def __init__(self, lr: float, rho: float = 0.9, eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.rho = _check_fraction(rho, "rho")
        self.eps = _check_positive(eps, "eps")
        self.s: dict[str, np.ndarray] = {}

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> None:
        s = self._state(self.s, key, w)
        s *= self.rho
        s += (1.0 - self.rho) * g * g
        w -= self.lr * g / (np.sqrt(s) + self.eps)

    def __repr__(self) -> str:
        return f"RMSprop(lr={self.lr:g}, rho={self.rho:g}, eps={self.eps:g})"


class Adam(Optimizer):
    r"""Adam (Kingma and Ba 2015): momentum and RMSprop together, with bias correction.

    .. math::
        m &\leftarrow \beta_1 m + (1 - \beta_1)\, g \\
        v &\leftarrow \beta_2 v + (1 - \beta_2)\, g^2 \\
        \hat m &= m / (1 - \beta_1^t), \qquad \hat v = v / (1 - \beta_2^t) \\
        w &\leftarrow w - \eta\, \frac{\hat m}{\sqrt{\hat v} + \epsilon}

    with :math:`m = v = 0` initially and :math:`t` the step number (1, 2, ...). Because the
    averages start at zero they are biased towards zero early on; dividing by
    :math:`1 - \beta^t` removes that bias (at :math:`t = 1`, :math:`\hat m = g` exactly).
    """

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.beta1 = _check_fraction(beta1, "beta1")
        self.beta2 = _check_fraction(beta2, "beta2")
        self.eps = _check_positive(eps, "eps")
        self.m: dict[str, np.ndarray] = {}
        self.v: dict[str, np.ndarray] = {}

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> None:
        m = self._state(self.m, key, w)
        v = self._state(self.v, key, w)
        m *= self.beta1
        m += (1.0 - self.beta1) * g
        v *= self.beta2
        v += (1.0 - self.beta2) * g * g
        m_hat = m / (1.0 - self.beta1 ** self.t)
        v_hat = v / (1.0 - self.beta2 ** self.t)
        w -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

    def __repr__(self) -> str:
        return (f"Adam(lr={self.lr:g}, beta1={self.beta1:g}, beta2={self.beta2:g}, "
                f"eps={self.eps:g})")


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD, "momentum": Momentum, "rmsprop": RMSprop, "adam": Adam,
}


def make_optimizer(name: str, lr: float) -> Optimizer:
    """An optimiser by name (``sgd``, ``momentum``, ``rmsprop``, ``adam``) with defaults."""
    try:
        cls = OPTIMIZERS[name.lower()]
    except KeyError:
        raise ValueError(
            f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}"
        ) from None
    return cls(lr)
