r"""Layers: the affine node, the layer block of chapter 5, and an MLP made of blocks.

Notation (the book's, examples as columns): ``a_prev`` has shape :math:`(n^{[l-1]}, m)`,
``W`` :math:`(n^{[l]}, n^{[l-1]})`, ``b`` :math:`(n^{[l]}, 1)`, and

.. math:: z = W a_{prev} + b, \qquad a = g(z).

Two gradient conventions meet here, and the docstrings say which one each method uses:

* :class:`Affine` is a plain node: ``backward(dz)`` takes the *true* gradient
  :math:`\partial L/\partial z` and returns true gradients (no :math:`1/m` anywhere).
* :class:`LayerBlock` is the chapter's block: ``backward(da)`` takes the *per-example*
  gradient (column i is :math:`\partial \ell_i/\partial a_i`) and returns
  :math:`dW = \frac1m dz\,a_{prev}^\top`, :math:`db = \frac1m \sum_i dz_{:,i}` — true gradients of
  the mean loss :math:`L = \frac1m\sum_i \ell_i` — and the per-example
  :math:`da_{prev} = W^\top dz`. The true gradient of the mean loss is
  :math:`\partial L/\partial z = dz/m`.

Public ``forward``/``backward`` methods check their inputs and name the offending array; the
MLP checks once at its entry points and then calls the blocks' unchecked ``_forward`` and
``_backward`` (a training step must stay within a few percent of hand-written NumPy).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

import numpy as np

from .activations import ReLU, Sigmoid, Tanh, sigmoid_array
from .checks import ShapeError, as_float_array, check_finite
from .init import initialise
from .node import Node

_FLOATS = (np.dtype(np.float64), np.dtype(np.float32))


def _as_float(x: object, name: str) -> np.ndarray:
    """A float32/float64 array is kept as it is (after a finiteness check); anything else
    becomes float64 through :func:`~bpcore.checks.as_float_array`."""
    if isinstance(x, np.ndarray) and x.dtype in _FLOATS:
        check_finite(x, name)
        return x
    return as_float_array(x, name)


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
        a_prev, W, b = _as_float(a_prev, "a_prev"), _as_float(W, "W"), _as_float(b, "b")
        _check_affine_inputs(a_prev, W, b)
        self.a_prev, self.W = a_prev, W
        z = W @ a_prev
        z += b
        return z

    def backward(self, dz):
        if not hasattr(self, "a_prev"):
            raise RuntimeError("Affine.backward called before forward")
        dz = _as_float(dz, "dz")
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
    r"""One layer: :math:`z = W a_{prev} + b`, :math:`a = g(z)`, in the book's batch convention.

    ``forward(a_prev, W, b) -> a`` caches ``a_prev``, ``W``, ``z`` and ``a``.
    ``backward(da) -> (da_prev, dW, db)`` with per-example ``da`` (column i is
    :math:`\partial \ell_i/\partial a_i`):

    .. math::
        dz = da \odot g'(z), \quad dW = \tfrac1m\, dz\, a_{prev}^\top, \quad
        db = \tfrac1m \textstyle\sum_i dz_{:,i}, \quad da_{prev} = W^\top dz.

    ``dW`` and ``db`` are the true gradients of the mean loss; ``da_prev`` stays per example,
    ready to be the next block's ``da``. ``batch_mean``/``per_example`` tell
    :func:`bpcore.verify_node` about this convention.
    """

    symbol = "block"
    formula = r"a = g\left(W a_{\text{prev}} + b\right)"
    n_grad = 3
    batch_mean = True
    per_example = (0,)

    def __init__(self, activation: str | Node = "relu") -> None:
        self.activation_name, self.activation, (self._g, self._dg) = _activation(activation)

    def __repr__(self) -> str:
        return f"LayerBlock(activation={self.activation_name!r})"

    # public, checked
    def forward(self, a_prev, W, b):
        a_prev, W, b = _as_float(a_prev, "a_prev"), _as_float(W, "W"), _as_float(b, "b")
        _check_affine_inputs(a_prev, W, b)
        if a_prev.shape[1] == 0:  # dW and db are means over the columns: m must be >= 1
            raise ShapeError(f"a_prev has shape {a_prev.shape}: no examples (m = 0 columns)")
        return self._forward(a_prev, W, b)

    def backward(self, da):
        if not hasattr(self, "a"):
            raise RuntimeError("LayerBlock.backward called before forward")
        da = _as_float(da, "da")
        if da.shape != self.a.shape:
            raise ShapeError(f"da has shape {da.shape}, expected {self.a.shape} "
                             "(the shape of the block's output a)")
        return self._backward(da)

    # internal, unchecked: the MLP's fast path
    def _forward(self, a_prev: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
        z = W @ a_prev
        z += b  # in place: no second (n, m) array
        a = self._g(z)
        self.a_prev, self.W, self.z, self.a = a_prev, W, z, a
        return a

    def _backward(self, da: np.ndarray, need_da_prev: bool = True, per_example: bool = True):
        r"""The block's backward without checks.

        ``per_example=False`` is the MLP's fast path: ``da`` is then already the true gradient
        :math:`\partial L/\partial a` (the per-example ``da`` divided by m, done once at the
        loss), so dW, db and da_prev come out as true gradients with no further scaling.
        """
        dz = self._dg(da, self.z, self.a)
        dz_mean = dz * (1.0 / dz.shape[1]) if per_example else dz  # Python float: keeps float32
        dW = dz_mean @ self.a_prev.T
        db = dz_mean.sum(axis=1, keepdims=True)
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


# -- the multilayer perceptron --------------------------------------------------------------------
_OUTPUT_LOSS = {("softmax", "softmax_ce"), ("sigmoid", "mse"), ("identity", "mse"),
                ("sigmoid", "bce")}


def _check_int(n: object, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return int(n)


class MLP:
    r"""A multilayer perceptron made of :class:`LayerBlock` s and a loss.

    ``sizes = [n0, n1, ..., nL]``; hidden layers use ``activation``; the output layer uses
    ``output`` (``"softmax"`` is fused with ``loss="softmax_ce"``, the softmax-with-loss of
    chapter 4). Losses are means over the m examples (columns):

    * ``"softmax_ce"``: :math:`L = -\frac1m \sum_i \log a_{t_i, i}`, output delta
      :math:`dz = a - t`;
    * ``"mse"``: :math:`L = \frac1m \sum_i \tfrac12 \lVert a_{:,i} - t_{:,i} \rVert^2`, so
      :math:`da = a - t` (and :math:`dz = (a - t)\odot\sigma'(z)` for a sigmoid output);
    * ``"bce"`` (sigmoid output): :math:`L = -\frac1m\sum_i \sum_k [t \log a + (1-t)\log(1-a)]`,
      output delta :math:`dz = a - t`.

    ``params`` is a dict ``{"W1": W1, "b1": b1, ...}``; optimisers update its arrays in place
    and the next forward uses them. ``loss(x, t)`` runs forward and caches; ``backward()``
    returns the true gradients of the mean loss in a dict with the same keys.
    """

    def __init__(self, sizes: Sequence[int], activation: str = "relu", output: str = "softmax",
                 loss: str = "softmax_ce", init: str | float | Callable = "he", seed: int = 0,
                 dtype: type | np.dtype = np.float64) -> None:
        sizes = [_check_int(n, f"sizes[{i}]") for i, n in enumerate(sizes)]
        if len(sizes) < 2:
            raise ValueError(f"sizes needs at least [n_input, n_output], got {sizes}")
        if (output, loss) not in _OUTPUT_LOSS:
            raise ValueError(f"output={output!r} with loss={loss!r} is not supported; use one of "
                             f"{sorted(_OUTPUT_LOSS)}")
        if output == "softmax" and sizes[-1] < 2:
            raise ValueError("a softmax output needs at least 2 units (classes), got "
                             f"sizes[-1] = {sizes[-1]}")
        if activation not in _KERNELS:
            raise ValueError(f"unknown activation {activation!r}; choose one of "
                             f"{sorted(_KERNELS)}")
        self.dtype = np.dtype(dtype)
        if self.dtype not in _FLOATS:
            raise TypeError(f"dtype must be float64 or float32, got {self.dtype}")
        self.sizes, self.activation, self.output, self.loss_name = sizes, activation, output, loss
        L = len(sizes) - 1
        # Softmax-with-loss and sigmoid-with-BCE are fused heads (output delta dz = a - t): their
        # last block is linear and the head applies softmax / sigmoid itself.
        self._fused = loss in ("softmax_ce", "bce")
        out_act = "identity" if self._fused else output
        self.blocks = [LayerBlock(activation) for _ in range(L - 1)] + [LayerBlock(out_act)]
        self.params: dict[str, np.ndarray] = {}
        pairs = initialise(sizes, init, np.random.default_rng(seed), self.dtype)
        self._keys = [(f"W{k}", f"b{k}") for k in range(1, L + 1)]
        for (kW, kb), (W, b) in zip(self._keys, pairs):
            self.params[kW], self.params[kb] = W, b
        self._cache: tuple | None = None
        self._columns: dict[int, np.ndarray] = {}

    def __repr__(self) -> str:
        return (f"MLP(sizes={self.sizes}, activation={self.activation!r}, output={self.output!r}, "
                f"loss={self.loss_name!r}, dtype={self.dtype.name})")

    @property
    def n_params(self) -> int:
        """Number of scalar parameters (weights and biases)."""
        return sum(p.size for p in self.params.values())

    # -- checks at the entry points (once per call, not per layer) --------------------------------
    def _check_x(self, x: object) -> np.ndarray:
        if not isinstance(x, np.ndarray) or x.dtype != self.dtype:
            if isinstance(x, np.ndarray) and (x.dtype == object or x.dtype.kind not in "biuf"):
                raise TypeError(f"x must hold real numbers, got dtype {x.dtype}")
            x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 2 or x.shape[0] != self.sizes[0]:
            raise ShapeError(f"x has shape {x.shape}, expected ({self.sizes[0]}, m): one column "
                             f"of {self.sizes[0]} features per example")
        if x.shape[1] == 0:
            raise ShapeError(f"x has shape {x.shape}: no examples (m = 0 columns)")
        # One reduction instead of an elementwise test: a NaN or inf anywhere makes the sum
        # non-finite. Only then (or on overflow of the sum) run the full, precise check.
        if not math.isfinite(x.sum()):
            check_finite(x, "x")
        return x

    def _column_index(self, m: int) -> np.ndarray:
        idx = self._columns.get(m)
        if idx is None:
            idx = self._columns[m] = np.arange(m)
        return idx

    def _check_targets(self, t: object, m: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Labels as (int classes of shape (m,), None) or (None, dense targets (K, m))."""
        K = self.sizes[-1]
        t = np.asarray(t)
        if t.ndim == 1:
            if t.dtype.kind not in "iu":
                raise TypeError(f"labels of shape (m,) must be integer classes, got dtype "
                                f"{t.dtype}; give targets of shape ({K}, m) for real values")
            if t.shape[0] != m:
                raise ShapeError(f"labels has shape {t.shape}, expected ({m},): one label per "
                                 f"column of x")
            n_classes = 2 if K == 1 else K  # one output unit: labels 0 and 1
            # One reduction checks both ends: seen as unsigned, a negative label is huge.
            if t.view(f"u{t.itemsize}").max() >= n_classes:
                lo, hi = t.min(), t.max()
                bad = lo if lo < 0 else hi
                raise ValueError(f"labels must be in 0..{n_classes - 1} (the network has "
                                 f"{K} output unit{'s' if K > 1 else ''}), found {bad}")
            return t, None
        if t.ndim == 2:
            if t.shape != (K, m):
                raise ShapeError(f"targets have shape {t.shape}, expected ({K}, {m}): one column "
                                 "per example (one-hot for classes), or integer labels of shape "
                                 f"({m},)")
            if t.dtype != self.dtype:
                if t.dtype == object or t.dtype.kind not in "biuf":
                    raise TypeError(f"targets must hold numbers, got dtype {t.dtype}")
                t = t.astype(self.dtype)
            if not math.isfinite(t.sum()):
                check_finite(t, "targets")
            return None, t
        raise ShapeError(f"labels have shape {t.shape}: give integer classes of shape ({m},) or "
                         f"targets of shape ({K}, {m})")

    def _dense(self, labels: np.ndarray, m: int) -> np.ndarray:
        """Integer labels as targets (K, m): one-hot, or the 0/1 row of a single output unit."""
        K = self.sizes[-1]
        if K == 1:
            return labels.reshape(1, m).astype(self.dtype)
        T = np.zeros((K, m), dtype=self.dtype)
        T[labels, self._column_index(m)] = 1
        return T

    # -- forward, loss, backward -------------------------------------------------------------------
    def _forward(self, x: np.ndarray) -> np.ndarray:
        """Run the blocks; returns the last block's output (z^[L] for a softmax network)."""
        a = x
        params = self.params
        for block, (kW, kb) in zip(self.blocks, self._keys):
            a = block._forward(a, params[kW], params[kb])
        return a

    @staticmethod
    def _softmax_parts(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Stable softmax pieces: shifted logits s = z - max z, e = exp(s) and Σ e per column.

        Probabilities are e / Σe and log-probabilities s - log Σe; nothing overflows, because
        the largest shifted logit is 0.
        """
        s = z - z.max(axis=0, keepdims=True)
        e = np.exp(s)
        return s, e, e.sum(axis=0, keepdims=True)

    def forward(self, x: object) -> np.ndarray:
        """Output activations, shape (n^[L], m): class probabilities for a softmax output.

        The blocks' caches now belong to this x, so a later :meth:`backward` needs a new
        :meth:`loss` call first.
        """
        a = self._forward(self._check_x(x))
        self._cache = None
        if self.output == "softmax":
            _, e, total = self._softmax_parts(a)
            return e / total
        if self._fused:
            return sigmoid_array(a)
        return a

    def loss(self, x: object, t: object) -> float:
        """Forward pass and mean loss over the m columns of x; caches what backward needs.

        ``t``: integer labels of shape (m,) or targets of shape (n^[L], m) (one-hot for
        classes).
        """
        x = self._check_x(x)
        m = x.shape[1]
        labels, T = self._check_targets(t, m)
        out = self._forward(x)
        if self.output == "softmax":
            s, e, total = self._softmax_parts(out)
            log_total = np.log(total)
            if labels is not None:
                loss = float(log_total.sum() - s[labels, self._column_index(m)].sum()) / m
            else:
                loss = -float(np.sum(T * (s - log_total))) / m
            # The probabilities e / total are formed in backward, in the array that becomes dz.
            self._cache = ((e, total), labels, T)
            return loss
        if T is None:
            T = self._dense(labels, m)
        if self.loss_name == "mse":
            diff = out - T
            self._cache = (diff, None, None)  # per-example da = a - t
            return 0.5 * float(np.sum(diff * diff)) / m
        # BCE from z, stable for any z: -[t log σ(z) + (1-t) log(1-σ(z))] = softplus(z) - t z,
        # with softplus(z) = max(z, 0) + log(1 + exp(-|z|)).
        with np.errstate(under="ignore"):
            softplus = np.maximum(out, 0) + np.log1p(np.exp(-np.abs(out)))
        self._cache = (sigmoid_array(out), None, T)
        return float(np.sum(softplus - T * out)) / m

    def backward(self) -> dict[str, np.ndarray]:
        """Gradients of the mean loss from the last :meth:`loss` call: {"W1": dW1, ...}.

        Per layer dW = (1/m) dz a_prevᵀ and db = (1/m) Σ dz with per-example dz — the true
        gradient of the mean loss, same keys, shapes and dtype as ``params``.
        """
        if self._cache is None:
            raise RuntimeError("call loss(x, t) before backward() (a forward, predict or "
                               "accuracy call since the last loss() replaces its caches)")
        first, labels, T = self._cache
        blocks = self.blocks
        grads = dict.fromkeys(self.params)  # same key order as params
        m = blocks[-1].z.shape[1]
        # The per-example output gradient (a - t) is divided by m once, here: from then on the
        # blocks pass true gradients dL/da = da/m back and need no 1/m of their own. The result
        # is the same dW = (1/m) dz a_prevᵀ, one multiplication per layer cheaper.
        if self.output == "softmax":  # dz = p - t, with p = e / Σe formed in place
            e, total = first
            da = e / total
            if labels is not None:
                da[labels, self._column_index(m)] -= 1
            else:
                da -= T
            da *= 1.0 / m
        elif T is not None:  # sigmoid with binary cross-entropy: dz = a - t
            da = first - T
            da *= 1.0 / m
        else:  # MSE: per-example da = a - t, computed in loss()
            da = first * (1.0 / m)
        # A fused output sits behind an identity block, whose backward passes dz through.
        keys = self._keys
        for i in range(len(blocks) - 1, -1, -1):
            da, grads[keys[i][0]], grads[keys[i][1]] = \
                blocks[i]._backward(da, i > 0, False)
        return grads

    # -- using the trained network ---------------------------------------------------------------
    def predict(self, x: object) -> np.ndarray:
        """Class indices, shape (m,): argmax of the outputs; with one output unit,
        1 where the output exceeds 0.5."""
        a = self.forward(x)
        if a.shape[0] == 1:
            return (a[0] > 0.5).astype(np.int64)
        return np.argmax(a, axis=0)

    def accuracy(self, x: object, labels: object) -> float:
        """Fraction of columns of x whose predicted class equals the label (labels of shape
        (m,), or one-hot of shape (n^[L], m))."""
        x = self._check_x(x)
        m = x.shape[1]
        ints, T = self._check_targets(labels, m)
        if ints is None:
            ints = np.argmax(T, axis=0) if T.shape[0] > 1 else (T[0] > 0.5).astype(np.int64)
        return float(np.mean(self.predict(x) == ints))
