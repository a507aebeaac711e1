r"""A network: an ordered sequence of layers, then a loss node.

The idea is the layer list of *Deep Learning from Scratch*: forward runs the layers in order
and hands the last output to the loss node; backward asks the loss node for
:math:`\partial L/\partial(\text{output})` and passes it back through the layers in reverse,
each layer's ``backward`` turning :math:`\partial L/\partial y` into
:math:`\partial L/\partial x` and keeping its parameter gradients. Nothing is special-cased:
the loss is one of the nodes of :mod:`bpcore.nn.losses` (its label checks included), and any
:class:`~bpcore.nn.layers.Layer` can be inserted anywhere.

``params`` is one flat dict ``{"W1": ..., "b1": ..., "W2": ...}`` over all layers (the layer's
parameter name followed by the layer's number among layers of its kind); its arrays *are* the
layers' arrays, so an optimiser that updates them in place updates the network.
``backward()`` returns the gradients in a dict with the same keys.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from .. import checks
from ..checks import FLOATS, ShapeError, positive_int, real_number
from ..engine.node import Node
from .activations import ACTIVATIONS
from .batchnorm import BatchNormLayer
from .dropout import DropoutLayer
from .init import initialise
from .layers import ActivationLayer, Dense, Layer
from .losses import MSE, SoftmaxWithLoss


class Parameters(dict):
    """The network's parameters by name. Assigning to a key copies into the existing array,
    so the layer that owns it sees the new values (a new array would be silently ignored)."""

    def __setitem__(self, key: str, value: object) -> None:
        if key not in self:
            raise KeyError(f"no parameter {key!r}; the network has {list(self)}")
        target = dict.__getitem__(self, key)
        value = np.asarray(value)
        if value.shape != target.shape:
            raise ShapeError(f"{key} has shape {target.shape}, got an array of shape "
                             f"{value.shape}")
        target[...] = value


class Network:
    """Layers in order, then a loss node. See the module docstring."""

    def __init__(self, layers: Sequence[Layer], loss: Node, weight_decay: float = 0.0) -> None:
        if not layers:
            raise ValueError("a network needs at least one layer")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layers[{i}] must be a bpcore Layer, got "
                                f"{type(layer).__name__}")
        if not isinstance(loss, Node):
            raise TypeError(f"loss must be a loss node such as SoftmaxWithLoss() or MSE(), got "
                            f"{type(loss).__name__}")
        self.layers: OrderedDict[str, Layer] = OrderedDict()
        counts: dict[str, int] = {}
        self._keys: list[list[tuple[str, str]]] = []  # per layer: (param name, flat key)
        params = Parameters()
        for layer in layers:
            counts[layer.kind] = counts.get(layer.kind, 0) + 1
            number = counts[layer.kind]
            self.layers[f"{layer.kind}{number}"] = layer
            keys = [(p, f"{p}{number}") for p in layer.params]
            for p, key in keys:
                if key in params:
                    raise ValueError(f"two layers have a parameter named {key!r}")
                dict.__setitem__(params, key, layer.params[p])
            self._keys.append(keys)
        self.params = params
        self.loss_node = loss
        # L2 weight decay: the penalty (lambda/2) sum ||W||^2 over the layers' decayed parameters
        # (their weights, not biases or batch norm's gamma and beta) is part of the loss
        self.weight_decay = real_number(weight_decay, "weight_decay", low=0.0)
        self._decayed = [key for layer, keys in zip(layers, self._keys)
                         for p, key in keys if p in layer.decayed]
        self._ready = False  # a loss() has cached what backward() needs
        first = layers[0]
        W = first.params.get("W")  # the input size, if the first layer says it
        self._n0 = W.shape[1] if isinstance(W, np.ndarray) and W.ndim == 2 else None
        self._dtype = next(iter(params.values())).dtype if params else np.dtype(np.float64)
        self._layers = list(self.layers.values())  # the loops below run every step

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers.values())
        return f"Network([{inner}], loss={type(self.loss_node).__name__}())"

    @property
    def n_params(self) -> int:
        """Number of scalar parameters."""
        return sum(p.size for p in self.params.values())

    def train(self, mode: bool = True) -> Network:
        """Put every layer in train mode (or eval mode with ``mode=False``)."""
        for layer in self._layers:
            layer.train(mode)
        return self

    def eval(self) -> Network:
        return self.train(False)

    # -- forward and backward ------------------------------------------------------------------
    def _check_x(self, x: object, name: str = "x") -> np.ndarray:
        """x as a finite 2-D float array (n_0, m) with m >= 1, in the parameters' dtype."""
        dtype = self._dtype
        if not isinstance(x, np.ndarray) or x.dtype != dtype:
            if isinstance(x, np.ndarray) and (x.dtype == object or x.dtype.kind not in "biuf"):
                raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}")
            x = np.asarray(x, dtype=dtype)
        checks.examples_as_columns(x, x_name=name, n_features=self._n0)
        checks.check_finite(x, name)
        return x

    @property
    def min_batch(self) -> int:
        """The fewest examples a train-mode step accepts: the largest any layer needs."""
        return max(layer.min_batch for layer in self._layers)

    def forward(self, x: object) -> np.ndarray:
        """The last layer's output (for a softmax-with-loss network, the logits z)."""
        a = self._check_x(x)
        for layer in self._layers:
            a = layer._forward(a)
        self._ready = False  # the layers' caches now belong to this x, not to a loss
        return a

    def loss(self, x: object, t: object, check: bool = True) -> float:
        """Forward pass and the loss node's mean loss over the m columns of x.

        ``t`` is whatever the loss node accepts (integer labels of shape (m,) or one-hot
        targets for softmax-with-loss; targets of the output's shape for MSE): the loss node
        checks it.

        ``check=False`` skips every check of x and t, for a training loop whose data was
        validated once as a whole (:meth:`check_data`; :func:`~bpcore.nn.train.fit` does
        this): the numbers are the same, and a loss that turns non-finite is still caught
        by the loop. Give it only batches of validated data.
        """
        if check:
            out = self.forward(x)
            value = self.loss_node.forward(out, t)
        else:
            a = x
            for layer in self._layers:
                a = layer._forward(a)
            value = self.loss_node._forward(a, t)
        self._ready = True
        if self.weight_decay:
            value += self.penalty()
        return value

    def penalty(self) -> float:
        r"""The weight-decay term of the loss, :math:`\frac{\lambda}{2}\sum_l
        \lVert W^{[l]}\rVert^2` (squared Frobenius norms); 0 without weight decay."""
        if not self.weight_decay:
            return 0.0
        return 0.5 * self.weight_decay * sum(float(np.vdot(self.params[k], self.params[k]))
                                             for k in self._decayed)

    def check_data(self, x: object, t: object, x_name: str = "X",
                   t_name: str = "y") -> tuple[np.ndarray, np.ndarray]:
        """A whole data set, checked once as :meth:`loss` would check each batch of it: x as
        a finite float array of the parameters' dtype, (n_0, m); t as the loss node accepts
        it (labels in range, or targets of the output's shape, in x's dtype). Returns both,
        ready for ``loss(xb, tb, check=False)`` on their columns."""
        x = self._check_x(x, x_name)
        checks.examples_as_columns(x, t, x_name, t_name)
        if not hasattr(self.loss_node, "check_targets"):
            raise TypeError(f"{type(self.loss_node).__name__} has no check_targets: train "
                            "with loss(x, t), which checks every batch")
        K = self._evaluate(x[:, :1]).shape[0]  # the output size, whatever the last layer is
        t = self.loss_node.check_targets(t, (K, x.shape[1]), x.dtype, t_name)
        return x, t

    def backward(self) -> dict[str, np.ndarray]:
        """Gradients of the last :meth:`loss` with respect to every parameter, keyed like
        ``params``."""
        if not self._ready:
            raise RuntimeError("call loss(x, t) before backward() (a forward, predict or "
                               "accuracy call since the last loss() replaces the caches)")
        (dout,) = self.loss_node.backward(1.0)
        grads = dict.fromkeys(self.params)  # the order of params
        layers, keys = self._layers, self._keys
        for i in range(len(layers) - 1, -1, -1):
            dout = layers[i]._backward(dout, i > 0)  # nothing needs dL/dx of the input
            for p, key in keys[i]:
                grads[key] = layers[i].grads[p]
        lam = self.weight_decay
        for key in self._decayed if lam else ():  # d/dW of (lambda/2)||W||^2 is lambda W
            grads[key] = grads[key] + lam * self.params[key]
        return grads

    # -- using the trained network ---------------------------------------------------------------
    def _evaluate(self, x: object) -> np.ndarray:
        """The output in eval mode (running statistics, no dropout); the modes are restored.

        A prediction must not depend on which other examples are in the batch, nor on a random
        mask, and evaluating must not move batch norm's running statistics.
        """
        modes = [layer.training for layer in self._layers]
        self.eval()
        try:
            return self.forward(x)
        finally:
            for layer, mode in zip(self._layers, modes):
                layer.train(mode)

    def predict(self, x: object) -> np.ndarray:
        """Class indices, shape (m,), in eval mode: the largest output (softmax is monotone, so
        the logits will do); with one output unit, 1 where the output exceeds 0.5."""
        out = self._evaluate(x)
        if out.shape[0] == 1:
            return (out[0] > 0.5).astype(np.int64)
        return np.argmax(out, axis=0)

    def accuracy(self, x: object, labels: object) -> float:
        """Fraction of the columns of x whose predicted class is the label (labels of shape
        (m,), or one-hot targets of shape (K, m)), computed in eval mode."""
        out = self._evaluate(x)
        K, m = out.shape
        # the loss nodes' label check; one output unit separates two classes, 0 and 1
        one_hot, labels = checks.labels(labels, (max(K, 2), m) if np.ndim(labels) == 1
                                       else out.shape, name="labels")
        if one_hot:
            labels = np.argmax(labels, axis=0) if K > 1 else (labels[0] > 0.5)
        pred = (out[0] > 0.5) if K == 1 else np.argmax(out, axis=0)
        return float(np.mean(pred == labels))


# -- the multilayer perceptron -------------------------------------------------------------
#: Output activations and the loss node each is paired with.
HEADS: dict[tuple[str, str], type[Node]] = {("softmax", "softmax_ce"): SoftmaxWithLoss,
                                            ("sigmoid", "mse"): MSE, ("identity", "mse"): MSE}


def MLP(sizes: Sequence[int], activation: str = "relu", output: str = "softmax",
        loss: str = "softmax_ce", init: str | float | Callable = "he", seed: int = 0,
        dtype: type | np.dtype = np.float64, batchnorm: bool = False,
        dropout: float | None = None, weight_decay: float = 0.0) -> Network:
    r"""A multilayer perceptron: :class:`~bpcore.nn.layers.Dense` layers and a loss node.

    ``sizes = [n0, n1, ..., nD]`` (D layers); hidden layers use ``activation``. The output
    layer and the loss are one of

    * ``output="softmax", loss="softmax_ce"``: a linear last layer and
      :class:`~bpcore.nn.losses.SoftmaxWithLoss` (the softmax lives in the loss node, chapter 4);
    * ``output="sigmoid"`` or ``"identity"`` with ``loss="mse"``: that activation on the last
      layer and :class:`~bpcore.nn.losses.MSE`.

    Weights are drawn by ``init`` from ``np.random.default_rng(seed)``; biases start at 0.

    ``batchnorm=True`` puts a :class:`~bpcore.nn.batchnorm.BatchNormLayer` between each hidden
    layer's affine map and its activation (chapter 7); ``dropout=p`` puts a
    :class:`~bpcore.nn.dropout.DropoutLayer` with keep probability ``p`` after each hidden
    activation, its masks drawn from ``seed``. ``weight_decay`` (:math:`\lambda`) adds
    :math:`\frac{\lambda}{2}\sum_l \lVert W^{[l]}\rVert^2` to the loss (chapter 6).
    """
    sizes = [positive_int(n, f"sizes[{i}]") for i, n in enumerate(sizes)]
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least [n_input, n_output], got {sizes}")
    if (output, loss) not in HEADS:
        raise ValueError(f"output={output!r} with loss={loss!r} is not supported; use one of "
                         f"{sorted(HEADS)}")
    if output == "softmax" and sizes[-1] < 2:
        raise ValueError("a softmax output needs at least 2 units (classes), got "
                         f"sizes[-1] = {sizes[-1]}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of "
                         f"{sorted(ACTIVATIONS)}")
    dtype = np.dtype(dtype)
    if dtype not in FLOATS:
        raise TypeError(f"dtype must be float64 or float32, got {dtype}")
    pairs = initialise(sizes, init, np.random.default_rng(seed), dtype)
    layers: list[Layer] = []
    for k, (W, b) in enumerate(pairs[:-1], start=1):
        if batchnorm:  # z = W a + b, then normalise z, then the activation
            layers += [Dense(W, b, "identity"), BatchNormLayer(W.shape[0], dtype=dtype),
                       ActivationLayer(activation)]
        else:
            layers.append(Dense(W, b, activation))
        if dropout is not None:
            layers.append(DropoutLayer(dropout, seed=seed * 1000 + k))
    W, b = pairs[-1]
    layers.append(Dense(W, b, "identity" if output == "softmax" else output))
    return Network(layers, HEADS[(output, loss)](), weight_decay=weight_decay)
