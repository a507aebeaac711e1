r"""Loss nodes of chapter 4: softmax, softmax-with-loss (cross-entropy), cross-entropy, MSE.

Conventions (the book's column convention): logits ``z`` have shape ``(K, m)`` -- axis 0 are
the K classes, each of the m columns is one example. A 1-d ``z`` of shape ``(K,)`` is a single
example. Targets ``t`` are either one-hot (or soft) columns of the same shape as ``z``, or
integer class labels of shape ``(m,)`` (a plain int for a single example).

Every loss here is the MEAN over the m examples, so its backward is the true gradient of that
mean: for softmax-with-loss

.. math:: \frac{\partial L}{\partial z} = \frac{1}{m}\,(y - t).

Numerics: softmax and log-softmax subtract the column maximum before exponentiating (the
result is unchanged because :math:`e^{z_k - c} / \sum_j e^{z_j - c} = e^{z_k}/\sum_j e^{z_j}`),
so no ``exp`` ever overflows; cross-entropy is computed from log-softmax,
:math:`\ln y_k = z_k - \operatorname{logsumexp}(z)`, so no ``log(0)`` can occur and no ``+1e-7``
fudge is needed.

Speed: :func:`softmax_cross_entropy` and :func:`mse_loss` are the fast cores (one validation
per call, no needless copies); the Node classes are thin wrappers around them.
"""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp

from .. import checks
from ..checks import ShapeError, float_array, positive_int
from ..engine.node import Node, elementwise


def one_hot(labels: object, K: int) -> np.ndarray:
    """One-hot columns ``(K, m)`` for integer labels ``(m,)`` (a ``(K,)`` vector for one int)."""
    K = positive_int(K, "the number of classes K")
    arr = np.asarray(labels)
    if arr.ndim > 1:
        raise ShapeError(f"labels have shape {arr.shape}, expected (m,) or a single int")
    _, labels = checks.labels(arr, (K,) + arr.shape, name="labels")
    t = np.zeros((K,) + labels.shape)
    if labels.ndim == 0:
        t[int(labels)] = 1.0
    else:
        t[labels, np.arange(labels.size)] = 1.0
    return t


# -- the fast numeric cores -------------------------------------------------------------------
def _as_columns(z: np.ndarray) -> np.ndarray:
    return z.reshape(z.shape[0], 1) if z.ndim == 1 else z


def logsumexp(z: object, keepdims: bool = False):
    r"""Stable :math:`\ln \sum_k e^{z_k}` down each column (axis 0 = classes).

    :math:`\operatorname{logsumexp}(z) = c + \ln\sum_k e^{z_k - c}` with :math:`c = \max_k z_k`:
    the largest exponent is :math:`e^0 = 1`, so the sum lies in [1, K] and never overflows.
    Returns shape ``(m,)`` for ``(K, m)`` input (``(1, m)`` with ``keepdims``), a float for a
    single example.
    """
    z = checks.logits(z)
    zmax = z.max(axis=0, keepdims=True)
    out = zmax + np.log(np.exp(z - zmax).sum(axis=0, keepdims=True))
    if keepdims:
        return out
    return float(out[0]) if z.ndim == 1 else out[0]


def log_softmax(z: object) -> np.ndarray:
    r"""Stable :math:`\ln y_k = z_k - \operatorname{logsumexp}(z)` for each column."""
    z = checks.logits(z)
    s = z - z.max(axis=0, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=0, keepdims=True))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=0, keepdims=True))
    e /= e.sum(axis=0, keepdims=True)
    return e


def _softmax_symbolic(z: np.ndarray) -> np.ndarray:
    e = elementwise(sp.exp, z)
    return e / e.sum(axis=0, keepdims=True)


def softmax_cross_entropy(z: object, t: object, check: bool = True) -> tuple[float, np.ndarray]:
    r"""Mean cross-entropy of softmax(z) against targets t, and the probabilities y.

    .. math:: L = -\frac{1}{m}\sum_{i=1}^{m}\sum_{k=1}^{K} t_{ki}\,\ln y_{ki},
              \qquad \ln y_{ki} = z_{ki} - \operatorname{logsumexp}(z_{:,i})

    ``t`` is one-hot (shape of z) or integer labels (shape ``(m,)``). Returns
    ``(loss, y)``; the gradient is then ``(y - t) / m``. With ``check=False`` the inputs are
    trusted (z a finite float64 array, t already validated) -- for tight training loops that
    validated their data once.
    """
    if check:
        z = checks.logits(z)
        is_one_hot, t = checks.labels(t, z.shape)
    else:
        is_one_hot = np.shape(t) == np.shape(z)
    loss, y = _sce_core(_as_columns(z), t, is_one_hot)
    return loss, y.reshape(z.shape)


def _sce_core(z: np.ndarray, t: np.ndarray, is_one_hot: bool) -> tuple[float, np.ndarray]:
    """The fused computation on (K, m) logits; t one-hot of any matching size or labels."""
    m = z.shape[1]
    s = z - z.max(axis=0, keepdims=True)
    y = np.exp(s)
    sums = y.sum(axis=0, keepdims=True)
    log_sums = np.log(sums)
    y /= sums
    if is_one_hot:
        # m L = -Σ t ∘ (s - log_sums) = Σ_i (Σ_k t_ki) log_sums_i - t·s: two reductions and
        # no (K, m) temporary. Σ_k t_ki is kept (not assumed 1) for soft targets.
        tt = t.reshape(s.shape)
        loss = (float(log_sums[0] @ tt.sum(axis=0)) - float(np.vdot(tt, s))) / m
    else:
        labels = t if t.ndim == 1 else t.reshape(m)
        loss = (float(log_sums.sum()) - float(s[labels, _columns(m)].sum())) / m
    return loss, y


def softmax_cross_entropy_grad(y: np.ndarray, t: np.ndarray, dout: float = 1.0) -> np.ndarray:
    """dL/dz = dout * (y - t) / m, for one-hot t (shape of y) or integer labels."""
    m = 1 if y.ndim == 1 else y.shape[1]
    if np.shape(t) == y.shape:
        g = y - t
    else:
        g = y.copy()
        if y.ndim == 1:
            g[int(t)] -= 1.0
        else:
            g[t, _columns(m)] -= 1.0
    g *= dout / m  # a Python float: a float32 gradient stays float32
    return g


@functools.lru_cache(maxsize=32)
def _columns(m: int) -> np.ndarray:
    """0, 1, ..., m-1 (cached: the training loop asks for the same batch size every step)."""
    cols = np.arange(m)
    cols.flags.writeable = False
    return cols


def mse_loss(a: object, t: object) -> float:
    r"""Mean squared error :math:`L = \frac{1}{2m}\sum_{i,k} (a_{ki} - t_{ki})^2`.

    The fast core of :class:`MSE` (same validation, no node state).
    """
    a, t, m = _check_mse(a, t)
    d = (a - t).ravel()
    return float(d @ d) / (2 * m)


def _check_mse(a: object, t: object) -> tuple[np.ndarray, np.ndarray, int]:
    a, t = float_array(a, "a"), float_array(t, "t")
    if a.ndim not in (1, 2):
        raise ShapeError(f"a has shape {a.shape}, expected (n,) or (n, m)")
    if a.shape != t.shape:
        raise ShapeError(f"targets t have shape {t.shape}, but predictions a have shape "
                         f"{a.shape}: MSE needs the same shape")
    if a.shape[0] == 0:
        raise ValueError(f"a has shape {a.shape}: no outputs (n = 0 rows)")
    if a.ndim == 2 and a.shape[1] == 0:
        raise ValueError(f"a has shape {a.shape}: empty batch (m = 0 examples)")
    t = t.astype(a.dtype, copy=False)  # a float32 network's gradients stay float32
    m = a.shape[1] if a.ndim == 2 else 1
    return a, t, m


# -- nodes ---------------------------------------------------------------------------------------
def _target_examples(rng: np.random.Generator, K: int, m: int | None, one_hot_t: bool):
    labels = rng.integers(0, K, size=() if m is None else (m,))
    if one_hot_t:
        return one_hot(labels, K)
    return int(labels) if m is None else labels


class Softmax(Node):
    r"""Softmax down each column, :math:`y_k = e^{z_k} / \sum_{j=1}^{K} e^{z_j}`.

    Its Jacobian is :math:`\partial y_j/\partial z_k = y_j([j = k] - y_k)`, so backward
    needs only the cached output y:
    :math:`\partial L/\partial z = y \odot (\mathrm{d}_{\text{out}}
    - \sum_j y_j\, \mathrm{d}_{\text{out},j})` per column.
    """

    symbol = "softmax"
    formula = r"y_k = \frac{e^{z_k}}{\sum_{j=1}^{K} e^{z_j}}"

    def forward(self, z):
        self.y = _softmax(checks.logits(z))
        return self.y

    def backward(self, dout):
        y = self.y
        return (y * (dout - (y * dout).sum(axis=0, keepdims=True)),)

    def symbolic(self, z):
        return _softmax_symbolic(z)

    @classmethod
    def examples(cls, rng):
        shapes = [(2,), (3, 1), (4, 3), (5, 2)]
        return [(cls(), (rng.normal(size=s) * 2,)) for s in shapes]


class SoftmaxWithLoss(Node):
    r"""Softmax followed by mean cross-entropy, fused into one node.

    Forward: :math:`L = -\frac{1}{m}\sum_{i}\sum_{k} t_{ki}\ln y_{ki}`,
    :math:`y = \operatorname{softmax}(z)` per column, computed through log-softmax.
    Backward: :math:`\partial L/\partial z = \mathrm{d}_{\text{out}}\,(y - t)/m` -- the node
    caches y and t.
    Only z gets a gradient (``n_grad = 1``); t (one-hot or integer labels) is a constant.
    """

    symbol = "softmax+CE"
    formula = (r"L = -\frac{1}{m}\sum_{i=1}^{m}\sum_{k=1}^{K} t_{ki}"
               r"\ln\frac{e^{z_{ki}}}{\sum_j e^{z_{ji}}}")

    def forward(self, z, t):
        z = checks.logits(z)
        is_one_hot, t = checks.labels(t, z.shape)
        if is_one_hot:
            t = t.astype(z.dtype, copy=False)  # a float32 network's gradients stay float32
        return self._forward(z, t)

    def check_targets(self, t, out_shape: tuple[int, ...], dtype, name: str = "t"):
        """t checked for outputs of ``out_shape`` (labels in range, or one-hot targets in
        the outputs' dtype), as forward checks it: a whole data set, once."""
        is_one_hot, t = checks.labels(t, out_shape, name)
        return t.astype(dtype, copy=False) if is_one_hot else t

    def _forward(self, z, t):
        """The training loop's path: z a float array, t labels or one-hot targets of z's
        dtype, both already checked."""
        loss, y = _sce_core(_as_columns(z), t, t.shape == z.shape)
        self.y, self.t = y.reshape(z.shape), t
        return loss

    def backward(self, dout=1.0):
        return (softmax_cross_entropy_grad(self.y, self.t, dout),)

    def symbolic(self, z, t):
        """SymPy form; ``t`` is a numeric constant (one-hot or labels)."""
        z = np.asarray(z, dtype=object)
        tt = _numeric_one_hot(t, z.shape)
        m = 1 if z.ndim == 1 else z.shape[1]
        logy = elementwise(sp.log, _softmax_symbolic(z))
        return -sp.Add(*[_const(w) * v
                         for w, v in zip(tt.ravel(), logy.ravel()) if w != 0]) / m

    @classmethod
    def examples(cls, rng):
        out = []
        for K, m, oh in [(2, 1, False), (3, None, False), (3, 4, True), (4, 3, False),
                         (5, 2, True), (5, None, True)]:
            shape = (K,) if m is None else (K, m)
            out.append((cls(), (rng.normal(size=shape) * 2, _target_examples(rng, K, m, oh))))
        return out


def _const(w: float) -> sp.Expr:
    """A numeric constant for SymPy: exact for integers (one-hot entries), Float otherwise."""
    w = float(w)
    return sp.Integer(int(w)) if w.is_integer() else sp.Float(w)


def _numeric_one_hot(t: object, z_shape: tuple[int, ...]) -> np.ndarray:
    is_one_hot, t = checks.labels(t, z_shape)
    if is_one_hot:
        return t
    return one_hot(t, z_shape[0])


class CrossEntropy(Node):
    r"""Mean cross-entropy of probabilities y against targets t (the unfused version).

    :math:`L = -\frac{1}{m}\sum_i\sum_k t_{ki}\ln y_{ki}`; backward
    :math:`\partial L/\partial y = -\mathrm{d}_{\text{out}}\, t/(m\,y)`. Needs y > 0 wherever t > 0:
    prefer
    :class:`SoftmaxWithLoss`, which works from the logits and never takes the log of an
    underflowed probability.
    """

    symbol = "CE"
    formula = r"L = -\frac{1}{m}\sum_{i=1}^{m}\sum_{k=1}^{K} t_{ki}\ln y_{ki}"

    def forward(self, y, t):
        y = checks.logits(y, "y")
        self.t = _numeric_one_hot(t, y.shape)
        used = self.t > 0
        if np.any(y[used] <= 0):
            raise ValueError("y has a probability <= 0 where the target is positive: ln y = "
                             "-inf. Compute the loss from the logits with SoftmaxWithLoss.")
        self.y, self.m = y, 1 if y.ndim == 1 else y.shape[1]
        return -float(np.sum(self.t[used] * np.log(y[used]))) / self.m

    def backward(self, dout=1.0):
        # Only entries with t > 0 appear in L; elsewhere the gradient is 0, even where y = 0
        # (the formula would read 0/0 there).
        g = np.zeros_like(self.y)
        used = self.t > 0
        g[used] = -dout * self.t[used] / (self.m * self.y[used])
        return (g,)

    def symbolic(self, y, t):
        y = np.asarray(y, dtype=object)
        tt = _numeric_one_hot(t, y.shape)
        m = 1 if y.ndim == 1 else y.shape[1]
        return -sp.Add(*[_const(w) * sp.log(v)
                         for w, v in zip(tt.ravel(), y.ravel()) if w != 0]) / m

    @classmethod
    def examples(cls, rng):
        out = []
        for K, m, oh in [(2, 1, False), (3, 4, True), (4, None, False)]:
            shape = (K,) if m is None else (K, m)
            y = _softmax(_as_columns(rng.normal(size=shape))).reshape(shape)
            out.append((cls(), (y, _target_examples(rng, K, m, oh))))
        return out


class MSE(Node):
    r"""Mean squared error, 1/2 convention: :math:`L = \frac{1}{2m}\sum_{i,k}(a_{ki}-t_{ki})^2`.

    The factor 1/2 cancels the 2 from differentiating the square, so backward is simply
    :math:`\partial L/\partial a = \mathrm{d}_{\text{out}}\,(a - t)/m` -- the same shape as
    softmax-with-loss's
    :math:`(y - t)/m`. m is the number of columns (1 for a vector). t is a constant.
    """

    symbol = "MSE"
    formula = r"L = \frac{1}{2m}\sum_{i=1}^{m}\sum_{k} (a_{ki} - t_{ki})^2"

    def forward(self, a, t):
        a, t, _ = _check_mse(a, t)
        return self._forward(a, t)

    def check_targets(self, t, out_shape: tuple[int, ...], dtype, name: str = "t"):
        """t as a finite float array of the outputs' shape and dtype: a whole data set, once."""
        t = float_array(t, name)
        if t.shape != tuple(out_shape):
            raise ShapeError(f"targets {name} have shape {t.shape}, but the outputs have shape "
                             f"{tuple(out_shape)}: MSE needs the same shape")
        return t.astype(dtype, copy=False)

    def _forward(self, a, t):
        """The training loop's path: a and t float arrays of one shape, already checked."""
        self.diff, self.m = a - t, (a.shape[1] if a.ndim == 2 else 1)
        d = self.diff.ravel()
        return float(d @ d) / (2 * self.m)

    def backward(self, dout=1.0):
        return (self.diff * (dout / self.m),)

    def symbolic(self, a, t):
        a = np.asarray(a, dtype=object)
        m = a.shape[1] if a.ndim == 2 else 1
        t = np.asarray(t, dtype=float)
        return sp.Add(*[(v - _const(w)) ** 2 for v, w in zip(a.ravel(), t.ravel())]) / (2 * m)

    @classmethod
    def examples(cls, rng):
        shapes = [(1,), (3,), (2, 1), (3, 4)]
        return [(cls(), (rng.normal(size=s), rng.normal(size=s))) for s in shapes]
