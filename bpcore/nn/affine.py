r"""The affine node and the layer block of chapter 5: one layer's computation as a node.

Notation (the book's, examples as columns): ``a_prev`` has shape :math:`(n^{[l-1]}, m)`,
``W`` :math:`(n^{[l]}, n^{[l-1]})`, ``b`` :math:`(n^{[l]}, 1)`, and

.. math:: z = W a_{prev} + b, \qquad a = g(z).

Parameters are inputs like any other, so both nodes can sit in a
:class:`~bpcore.engine.value.Value` graph and be verified. Every backward follows the one
contract: it takes :math:`\partial L/\partial(\text{output})` and returns
:math:`\partial L/\partial(\text{input})`. No :math:`1/m` appears here: the loss is a mean over
the m examples, and its own backward already carries the :math:`1/m` (for softmax-with-loss,
:math:`\partial L/\partial z = (y - t)/m`).

The public ``forward``/``backward`` check their inputs and name the offending array; a
network, having checked its input once, calls the unchecked ``_forward``/``_backward``, which
compute exactly the same numbers.
"""

from __future__ import annotations

import numpy as np

from .. import checks
from ..checks import ShapeError, float_array, same_shape
from ..engine.node import Elementwise, Node
from .activations import Identity
from .activations import activation as activation_node


def _random_affine_inputs(rng: np.random.Generator, n_out: int, n_in: int, m: int):
    return (rng.normal(size=(n_in, m)), rng.normal(size=(n_out, n_in)),
            rng.normal(size=(n_out, 1)))


# -- the affine node ----------------------------------------------------------------------------
class Affine(Node):
    r"""Affine map :math:`z = W a_{prev} + b` (a plain node: true gradients, no :math:`1/m`).

    With :math:`\partial L/\partial z` = ``dz`` (shape :math:`(n_{out}, m)`):
    :math:`\partial L/\partial a_{prev} = W^\top dz`,
    :math:`\partial L/\partial W = dz\,a_{prev}^\top`,
    :math:`\partial L/\partial b = \sum_i dz_{:,i}` (b was added to every column, so its
    gradient sums over the columns). Caches ``a_prev`` and ``W``.
    """

    symbol = "Wa+b"
    formula = r"z = W a_{\text{prev}} + b"
    n_grad = 3

    def forward(self, a_prev, W, b):
        a_prev, W, b = float_array(a_prev, "a_prev"), float_array(W, "W"), float_array(b, "b")
        checks.affine_inputs(a_prev, W, b)
        self.a_prev, self.W = a_prev, W
        z = W @ a_prev
        z += b
        return z

    def backward(self, dz):
        if not hasattr(self, "a_prev"):
            raise RuntimeError("Affine.backward called before forward")
        dz = float_array(dz, "dz")
        expected = (self.W.shape[0], self.a_prev.shape[1])
        if dz.shape != expected:
            raise ShapeError(f"dz has shape {dz.shape}, expected {expected} (the shape of z)")
        return self.W.T @ dz, dz @ self.a_prev.T, np.sum(dz, axis=1, keepdims=True)

    def symbolic(self, a_prev, W, b):
        return W @ a_prev + b

    @classmethod
    def examples(cls, rng):
        return [(cls(), _random_affine_inputs(rng, n_out, n_in, m))
                for n_out, n_in, m in [(3, 4, 2), (1, 3, 1), (2, 2, 5)]]


# -- the layer block ------------------------------------------------------------------------------
class LayerBlock(Node):
    r"""One layer as a node: :math:`z = W a_{prev} + b`, :math:`a = g(z)`.

    ``forward(a_prev, W, b) -> a`` caches ``a_prev``, ``W``, ``z`` and ``a``.
    ``backward(da) -> (da_prev, dW, db)`` takes :math:`da = \partial L/\partial a` and returns
    the true gradients

    .. math::
        dz = da \odot g'(z), \quad dW = dz\, a_{prev}^\top, \quad
        db = \textstyle\sum_i dz_{:,i}, \quad da_{prev} = W^\top dz.

    There is no :math:`1/m`: it arrived with :math:`da` from the loss. (Lecture notes often
    write the same numbers per example, :math:`\delta = m\, dz` and
    :math:`dW = \frac1m \delta\, a_{prev}^\top`; chapter 5 shows the two side by side.)
    """

    symbol = "block"
    formula = r"a = g\left(W a_{\text{prev}} + b\right)"
    n_grad = 3

    def __init__(self, activation: str | Elementwise = "relu") -> None:
        self.activation = activation_node(activation)
        # g'(z) = 1 everywhere: the output layer of a softmax network skips the product
        self._unit_slope = isinstance(self.activation, Identity)
        self.activation_name = getattr(self.activation, "name", "") or type(
            self.activation).__name__

    def __repr__(self) -> str:
        return f"LayerBlock(activation={self.activation_name!r})"

    # public, checked
    def forward(self, a_prev, W, b):
        a_prev, W, b = float_array(a_prev, "a_prev"), float_array(W, "W"), float_array(b, "b")
        checks.affine_inputs(a_prev, W, b)
        return self._forward(a_prev, W, b)

    def backward(self, da):
        if not hasattr(self, "a"):
            raise RuntimeError("LayerBlock.backward called before forward")
        da = float_array(da, "da")
        same_shape(da, self.a.shape, "da", "the shape of the block's output a")
        return self._backward(da)

    # internal, unchecked: the network's fast path
    def _forward(self, a_prev: np.ndarray, W: np.ndarray,
                 b: np.ndarray) -> np.ndarray:
        z = W @ a_prev
        z += b  # in place: no second (n, m) array
        a = self.activation.function(z)
        self.a_prev, self.W, self.z, self.a = a_prev, W, z, a
        return a

    def _backward(self, da: np.ndarray, need_da_prev: bool = True):
        dz = da if self._unit_slope else da * self.activation.derivative(self.z, self.a)
        dW = dz @ self.a_prev.T
        db = dz.sum(axis=1, keepdims=True)
        da_prev = self.W.T @ dz if need_da_prev else None  # the first layer has no use for it
        return da_prev, dW, db

    def symbolic(self, a_prev, W, b):
        return self.activation.symbolic(W @ a_prev + b)

    @classmethod
    def examples(cls, rng):
        out = []
        shapes = [(3, 4, 2), (2, 3, 5), (1, 2, 3)]
        for name in ("relu", "sigmoid", "tanh", "identity"):
            for n_out, n_in, m in shapes:
                for _ in range(1000):
                    inputs = _random_affine_inputs(rng, n_out, n_in, m)
                    z = inputs[1] @ inputs[0] + inputs[2]
                    # ReLU: stay 0.1 away from the kink, where the derivative is a convention
                    # and central differences would straddle it.
                    if name != "relu" or np.min(np.abs(z)) > 0.1:
                        break
                out.append((cls(name), inputs))
        return out


