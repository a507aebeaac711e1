r"""Layers: the affine node, the layer block of chapter 5, and layers with parameters.

Notation (the book's, examples as columns): ``a_prev`` has shape :math:`(n^{[l-1]}, m)`,
``W`` :math:`(n^{[l]}, n^{[l-1]})`, ``b`` :math:`(n^{[l]}, 1)`, and

.. math:: z = W a_{prev} + b, \qquad a = g(z).

Every backward here follows the one contract of :class:`~bpcore.node.Node`: it takes
:math:`\partial L/\partial(\text{output})` and returns :math:`\partial L/\partial(\text{input})`.
No :math:`1/m` appears in a layer: the loss is a mean over the m examples, and its own backward
already carries the :math:`1/m` (for softmax-with-loss, :math:`\partial L/\partial z =
(y - t)/m`).

* :class:`Affine` and :class:`LayerBlock` are nodes: parameters are inputs like any other, so
  they can sit in a :class:`~bpcore.value.Value` graph and be verified.
* :class:`Layer` is a node that *owns* its parameters (and possibly state, with a train/eval
  mode): ``forward(x)``, ``backward(dout) -> dx``, with ``grads`` filled for the optimiser.
  :class:`Dense` is a layer block with its W and b; :class:`Activation` wraps an elementwise
  node. A :class:`~bpcore.network.Network` is an ordered sequence of layers and a loss node.

Public ``forward``/``backward`` methods check their inputs and name the offending array. A
network checks its input once and then calls each layer's unchecked ``_forward`` and
``_backward``, which compute exactly the same numbers (a training step must stay within a few
percent of hand-written NumPy).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .activations import ReLU, Sigmoid, Tanh, sigmoid_array
from .checks import ShapeError, float_array
from .node import Node


def _check_affine_inputs(a_prev: np.ndarray, W: np.ndarray, b: np.ndarray) -> None:
    """Shapes of ``z = W a_prev + b``: a_prev (n_in, m), W (n_out, n_in), b (n_out, 1)."""
    if a_prev.ndim != 2:
        raise ShapeError(f"a_prev has shape {a_prev.shape}, expected (n_in, m): a 2-D array "
                         "with one column per example")
    n_in = a_prev.shape[0]
    if W.ndim != 2 or W.shape[1] != n_in:
        raise ShapeError(f"W has shape {W.shape}, expected (n_out, {n_in}): W needs one column "
                         f"per row of a_prev, which has shape {a_prev.shape}")
    n_out = W.shape[0]
    if b.shape != (n_out, 1):
        raise ShapeError(f"b has shape {b.shape}, expected ({n_out}, 1): one bias per row of W, "
                         "as a column")


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
        _check_affine_inputs(a_prev, W, b)
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


class Identity(Node):
    r"""The identity activation :math:`y = x` (a linear output layer); backward passes
    :math:`\partial L/\partial y` through unchanged."""

    symbol = "id"
    formula = r"y = x"

    def forward(self, x):
        return x

    def backward(self, dout):
        return (dout,)

    def symbolic(self, x):
        return x

    @classmethod
    def examples(cls, rng):
        return [(cls(), (float(rng.normal()),)), (cls(), (rng.normal(size=(3, 2)),))]


# -- fast activation kernels ----------------------------------------------------------------------
# The same formulas as the activation nodes in bpcore.activations (tests/test_layers.py checks
# that they agree), called so as to keep the array's dtype (float32 stays float32) and to skip
# per-call checks: they run once per layer per training step.
_Kernel = tuple[Callable[[np.ndarray], np.ndarray],
                Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]]
#: name -> (g(z) -> a, (da, z, a) -> dz = da * g'(z)), with g' written through what is cached.
_KERNELS: dict[str, _Kernel] = {
    "relu": (lambda z: np.maximum(z, 0), lambda da, z, a: da * (z > 0)),
    "sigmoid": (sigmoid_array, lambda da, z, a: da * a * (1 - a)),
    "tanh": (np.tanh, lambda da, z, a: da * (1 - a * a)),
    "identity": (lambda z: z, lambda da, z, a: da),
}
#: name -> activation node class (the node supplies the symbolic form and the figures' symbol).
ACTIVATIONS: dict[str, type[Node]] = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh,
                                      "identity": Identity}


def _activation(activation: str | Node) -> tuple[str, Node, _Kernel]:
    """Resolve a name (or a node instance) into (name, node, fast kernel)."""
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of "
                             f"{sorted(ACTIVATIONS)}")
        return activation, ACTIVATIONS[activation](), _KERNELS[activation]
    if isinstance(activation, Node):
        # Any elementwise node works through its own forward/backward (slower, float64).
        for name, cls in ACTIVATIONS.items():
            if type(activation) is cls:
                return name, activation, _KERNELS[name]
        node = activation
        kernel = (lambda z: node.forward(z),
                  lambda da, z, a: node.backward(da)[0])
        return type(node).__name__, node, kernel
    raise TypeError(f"activation must be a name or an activation Node, got {activation!r}")


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

    def __init__(self, activation: str | Node = "relu") -> None:
        self.activation_name, self.activation, (self._g, self._dg) = _activation(activation)

    def __repr__(self) -> str:
        return f"LayerBlock(activation={self.activation_name!r})"

    # public, checked
    def forward(self, a_prev, W, b):
        a_prev, W, b = float_array(a_prev, "a_prev"), float_array(W, "W"), float_array(b, "b")
        _check_affine_inputs(a_prev, W, b)
        return self._forward(a_prev, W, b)

    def backward(self, da):
        if not hasattr(self, "a"):
            raise RuntimeError("LayerBlock.backward called before forward")
        da = float_array(da, "da")
        if da.shape != self.a.shape:
            raise ShapeError(f"da has shape {da.shape}, expected {self.a.shape} "
                             "(the shape of the block's output a)")
        return self._backward(da)

    # internal, unchecked: the network's fast path
    def _forward(self, a_prev: np.ndarray, W: np.ndarray,
                 b: np.ndarray) -> np.ndarray:
        z = W @ a_prev
        z += b  # in place: no second (n, m) array
        a = self._g(z)
        self.a_prev, self.W, self.z, self.a = a_prev, W, z, a
        return a

    def _backward(self, da: np.ndarray, need_da_prev: bool = True):
        dz = self._dg(da, self.z, self.a)
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


# -- layers: nodes that own their parameters ------------------------------------------------------
class Layer:
    r"""A node with parameters (``params``, updated in place by an optimiser) and a mode.

    ``forward(x) -> y`` caches what backward needs; ``backward(dout) -> dx`` takes
    :math:`\partial L/\partial y`, returns :math:`\partial L/\partial x` and stores
    :math:`\partial L/\partial p` for each parameter p in ``grads`` (same keys as ``params``).
    ``training`` is True in train mode (the default) and False after :meth:`eval`; layers with
    state, such as batch norm's running averages or dropout's mask, behave differently in the
    two modes. ``_forward`` and ``_backward`` are the unchecked versions a network calls.

    Most layers are a verified node whose extra inputs are the parameters: set ``node`` and
    ``params`` (in the node's input order) and the methods below compute exactly what the node
    computes -- ``node.forward(x, *params)``, and ``node.backward`` splits into
    :math:`\partial L/\partial x` and the parameter gradients.
    """

    #: Prefix of this kind of layer's name in a network ("dense" -> "dense1", "dense2", ...).
    kind: str = "layer"
    #: The node the layer computes with (None for a layer that computes on its own).
    node: Node | None = None

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.training = True

    def train(self, mode: bool = True) -> Layer:
        self.training = bool(mode)
        if hasattr(self.node, "training"):  # a node with a mode follows its layer
            self.node.training = self.training
        return self

    def eval(self) -> Layer:
        return self.train(False)

    def forward(self, x):
        return self.node.forward(x, *self.params.values())

    def backward(self, dout):
        return self._keep_grads(self.node.backward(dout))

    def _forward(self, x):
        return self.node._forward(x, *self.params.values())

    def _backward(self, dout, need_dx: bool = True):
        return self._keep_grads(self.node._backward(dout, need_dx))

    def _keep_grads(self, grads: tuple):
        dx, *dparams = grads
        self.grads = dict(zip(self.params, dparams))
        return dx


class Dense(Layer):
    r"""A :class:`LayerBlock` that owns its ``W`` and ``b``: :math:`a = g(W a_{prev} + b)`.

    ``backward(da)`` returns :math:`da_{prev} = W^\top dz` and stores ``grads["W"]`` =
    :math:`dz\, a_{prev}^\top`, ``grads["b"]`` = :math:`\sum_i dz_{:,i}`: the node's numbers.
    """

    kind = "dense"

    def __init__(self, W: np.ndarray, b: np.ndarray, activation: str | Node = "relu") -> None:
        super().__init__()
        W, b = float_array(W, "W"), float_array(b, "b")
        if W.ndim != 2 or b.shape != (W.shape[0], 1):
            raise ShapeError(f"W has shape {W.shape} and b {b.shape}: expected W (n_out, n_in) "
                             f"and b (n_out, 1)")
        self.node = self.block = LayerBlock(activation)  # "block" in chapter 5's words
        self.params = {"W": W, "b": b}

    def __repr__(self) -> str:
        n_out, n_in = self.params["W"].shape
        return f"Dense({n_in} -> {n_out}, activation={self.block.activation_name!r})"

    # The training loop's path, spelled out for this layer only: it runs for every dense layer
    # at every step, where the generic unpacking of Layer costs a few percent of a small step.
    def _forward(self, a_prev):
        p = self.params
        return self.block._forward(a_prev, p["W"], p["b"])

    def _backward(self, da, need_dx: bool = True):
        da_prev, dW, db = self.block._backward(da, need_dx)
        self.grads = {"W": dW, "b": db}
        return da_prev


class Activation(Layer):
    """An elementwise activation node (ReLU, sigmoid, tanh, ...) as a layer with no parameters.

    Used where something goes between the affine map and the activation (batch norm does).
    """

    kind = "act"

    def __init__(self, activation: str | Node = "relu") -> None:
        super().__init__()
        self.name, self.node, (self._g, self._dg) = _activation(activation)

    def __repr__(self) -> str:
        return f"Activation({self.name!r})"

    def forward(self, z):
        self.z = float_array(z, "z")
        self.a = self._g(self.z)
        return self.a

    def backward(self, da):
        da = float_array(da, "da")
        if da.shape != self.a.shape:
            raise ShapeError(f"da has shape {da.shape}, expected {self.a.shape}")
        return self._dg(da, self.z, self.a)

    def _forward(self, z):
        self.z = z
        self.a = self._g(z)
        return self.a

    def _backward(self, da, need_dx: bool = True):
        return self._dg(da, self.z, self.a)
