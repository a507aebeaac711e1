r"""Layers: nodes that own their parameters, with a train/eval mode.

A layer needs only three things: ``params`` (a dict of arrays an optimiser updates in place),
``forward(x) -> y`` (caching what backward needs) and ``backward(dout) -> dx``, which takes
:math:`\partial L/\partial y`, returns :math:`\partial L/\partial x` and stores
:math:`\partial L/\partial p` for each parameter in ``grads`` (same keys as ``params``). That is
the whole contract: such a layer works in a :class:`~bpcore.nn.network.Network`, in
:func:`~bpcore.nn.train.fit`, in ``predict`` and in the gradient checks.

Most layers are a verified node whose extra inputs are the parameters: set ``node`` and
``params`` (in the node's input order) and the base class computes exactly what the node
computes (``node.forward(x, *params)``; ``node.backward`` split into dx and the parameter
gradients). :class:`Dense` is the layer block of chapter 5 with its W and b;
:class:`ActivationLayer` an elementwise activation node with no parameters.

**The fast path** is declared once, here: a network calls ``_forward``/``_backward``, which
skip the checks of ``forward``/``backward`` (the network checked its input once) and otherwise
compute the same numbers. By default they go to the node's own unchecked path when the layer
computes through its node, and to the layer's checked ``forward``/``backward`` otherwise, so a
layer that defines only ``forward`` and ``backward`` is never bypassed.
"""

from __future__ import annotations

import numpy as np

from ..checks import ShapeError, float_array, same_shape
from ..engine.node import Elementwise, Node
from .activations import activation as activation_node
from .affine import LayerBlock


class Layer:
    """Base class of layers; see the module docstring for the contract."""

    #: Prefix of this kind of layer's name in a network ("dense" -> "dense1", "dense2", ...).
    kind: str = "layer"
    #: The node the layer computes with (None for a layer that computes on its own).
    node: Node | None = None
    #: The fewest examples a train-mode forward accepts (batch norm needs 2).
    min_batch: int = 1
    #: The parameters a network's weight decay applies to (a Dense layer's W).
    decayed: tuple[str, ...] = ()
    #: True when forward/backward are the base class's, i.e. the layer computes through its
    #: node; only then may the fast path call the node directly (set for every subclass).
    _through_node: bool = True

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls._through_node = cls.forward is Layer.forward and cls.backward is Layer.backward

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.training = True

    def train(self, mode: bool = True) -> Layer:
        """Train mode (the default); ``train(False)`` is eval mode. A node with a mode follows
        its layer."""
        self.training = bool(mode)
        if hasattr(self.node, "training"):
            self.node.training = self.training
        return self

    def eval(self) -> Layer:
        return self.train(False)

    # -- the checked path --------------------------------------------------------------------
    def forward(self, x):
        """``node.forward(x, *params)``: a layer built on a node needs nothing more."""
        out = self._node().forward(x, *self.params.values())
        self._out_shape = np.shape(out)
        return out

    def backward(self, dout):
        """dL/dx from dL/d(output), keeping the parameters' gradients in ``grads``."""
        node = self._node()
        if not hasattr(self, "_out_shape"):
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        dout = float_array(dout, "dout")
        same_shape(dout, self._out_shape, "dout", "the shape of the layer's output")
        return self._keep_grads(node.backward(dout))

    def _node(self) -> Node:
        if self.node is None:
            raise NotImplementedError(f"{type(self).__name__} has no node to compute with: "
                                      "define forward(x) and backward(dout), or set node")
        return self.node

    def _keep_grads(self, grads: tuple):
        dx, *dparams = grads
        self.grads = dict(zip(self.params, dparams))
        return dx

    # -- the fast path (a network's, on every training step) --------------------------------
    def _forward(self, x):
        if self._through_node and self.node is not None:
            return self.node._forward(x, *self.params.values())
        return self.forward(x)

    def _backward(self, dout, need_dx: bool = True):
        """dL/dx (None allowed when ``need_dx`` is False: nothing uses the input's gradient)."""
        if self._through_node and self.node is not None:
            return self._keep_grads(self.node._backward(dout, need_dx))
        return self.backward(dout)


class Dense(Layer):
    r"""A :class:`~bpcore.nn.affine.LayerBlock` that owns its ``W`` and ``b``:
    :math:`a = g(W a_{prev} + b)`.

    ``backward(da)`` returns :math:`da_{prev} = W^\top dz` and stores ``grads["W"]`` =
    :math:`dz\, a_{prev}^\top`, ``grads["b"]`` = :math:`\sum_i dz_{:,i}`: the node's numbers.
    """

    kind = "dense"
    decayed = ("W",)

    def __init__(self, W: np.ndarray, b: np.ndarray,
                 activation: str | Elementwise = "relu") -> None:
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

    # The fast path spelled out for this layer: it runs for every dense layer at every step,
    # where the generic unpacking of Layer costs a few percent of a small step.
    def _forward(self, a_prev):
        p = self.params
        return self.block._forward(a_prev, p["W"], p["b"])

    def _backward(self, da, need_dx: bool = True):
        da_prev, dW, db = self.block._backward(da, need_dx)
        self.grads = {"W": dW, "b": db}
        return da_prev


class ActivationLayer(Layer):
    """An elementwise activation node (ReLU, sigmoid, tanh, ...) as a layer with no parameters.

    Used where something goes between the affine map and the activation (batch norm does).
    """

    kind = "act"

    def __init__(self, activation: str | Elementwise = "relu") -> None:
        super().__init__()
        self.node = activation_node(activation)

    def __repr__(self) -> str:
        return f"ActivationLayer({getattr(self.node, 'name', '') or type(self.node).__name__!r})"
