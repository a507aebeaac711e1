r"""Proofs for the loss nodes of chapter 4: softmax-with-loss, softmax, cross-entropy, MSE."""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from .proof import TIME_LIMIT, Proof, _run
from .sums import (
    _SIZE,
    G,
    K,
    T,
    Y,
    Z,
    _chain,
    _dL,
    _exists,
    _in_range,
    _linear,
    _substitute_sum,
    _sum_out,
    c,
    ell,
    i,
    j,
    k,
    m,
)


# -- 1. softmax with loss ------------------------------------------------------------------------
def swl_backward(y, t, m):
    r"""What ``SoftmaxWithLoss.backward`` computes: :math:`\partial L/\partial z = (y - t)/m`."""
    return (y - t) / m


def _softmax_entry(q, col):
    """y_{q,col} = e^{z_{q,col}} / Σ_l e^{z_{l,col}}."""
    return sp.exp(Z[q, col]) / sp.Sum(sp.exp(Z[ell, col]), (ell, 1, K))


def softmax_with_loss_proof(claim: Callable = swl_backward, targets_sum_to_one: bool = True,
                            time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove :math:`\partial L/\partial z_{ki} = (y_{ki} - t_{ki})/m` for every K and m.

    :math:`L = -\frac1m \sum_{c=1}^{m}\sum_{j=1}^{K} t_{jc}
    \ln\frac{e^{z_{jc}}}{\sum_l e^{z_{lc}}}`. SymPy's derivative is
    :math:`-\frac1m\bigl(t_{ki} - y_{ki}\sum_j t_{ji}\bigr)`: it becomes :math:`(y - t)/m` only
    by the assumption :math:`\sum_j t_{ji} = 1` (one-hot or soft targets), substituted as a
    step of its own. ``targets_sum_to_one=False`` leaves it out (then ``y - t`` fails).
    ``claim(y, t, m)`` is the formula under test, for the entry (k, i).
    """
    return _run("SoftmaxWithLoss",
                lambda: [(_dL("z_{ki}"), claim(Y[k, i], T[k, i], m))], "K, m",
                lambda pr: _swl_steps(pr, claim, targets_sum_to_one), time_limit)


def _swl_steps(pr: Proof, claim, targets_sum_to_one: bool) -> None:
    loss = -sp.Sum(T[j, c] * sp.log(_softmax_entry(j, c)), (j, 1, K), (c, 1, m)) / m
    pr.step("L", loss, "mean over the m columns")
    d = _sum_out(sp.diff(loss, Z[k, i]))
    pr.step(_dL("z_{ki}"), d, "sympy.diff, KroneckerDelta summed out")
    a1 = pr.assume(_exists("z_{ki}"))
    d = _linear(_in_range(d, k <= K, i <= m))
    pr.step(_dL("z_{ki}"), d, f"branch for {a1}, constants out of the sums")
    if targets_sum_to_one:
        a2 = pr.assume(r"\textstyle\sum_{j=1}^{K} t_{ji} = 1 \ \text{(each target column is "
                       r"a distribution: one-hot or soft)}")
        used = _substitute_sum(d, lambda s: T[s, i], K, sp.S.One)
        if used == d:
            pr.fail(f"{a2} found no sum of targets to replace")
        d = used
        pr.step(_dL("z_{ki}"), d, f"by {a2}")
    pr.check(_dL("z_{ki}"), d, claim(_softmax_entry(k, i), T[k, i], m))


# -- 2. softmax ----------------------------------------------------------------------------------
def softmax_jacobian(y, q, r):
    r"""The Jacobian ``Softmax.backward`` relies on, within one column:
    :math:`\partial y_q/\partial z_r = y_q([q = r] - y_r)`."""
    return y(q) * (sp.KroneckerDelta(q, r) - y(r))


def softmax_backward(y, g, r, total):
    r"""What ``Softmax.backward`` computes for entry r of a column:
    :math:`y_r\,(g_r - \sum_j y_j g_j)`; ``total(f)`` is :math:`\sum_{j=1}^{K} f(j)`."""
    return y(r) * (g(r) - total(lambda q: y(q) * g(q)))


def _classes(f):
    return sp.Sum(f(j), (j, 1, K))


def softmax_proof(jacobian: Callable = softmax_jacobian, claim: Callable = softmax_backward,
                  time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove the softmax Jacobian and backward :math:`dz = y \odot (g - \sum_j y_j g_j)` for
    every K and m (g is :math:`\partial L/\partial y`, y is softmax down each column)."""
    def claimed() -> list:
        return [(_dL("z_{ki}"), claim(lambda q: Y[q, i], lambda q: G[q, i], k, _classes))]

    return _run("Softmax", claimed, "K, m", lambda pr: _softmax_steps(pr, jacobian, claim),
                time_limit)


def _softmax_steps(pr: Proof, jacobian, claim) -> None:
    q = sp.Symbol("q", **_SIZE)
    a1 = pr.assume(_exists("y_{ji}", "z_{kq}"))
    jac = _in_range(_sum_out(sp.diff(_softmax_entry(j, i), Z[k, q])), k <= K)
    pr.step(r"\frac{\partial y_{ji}}{\partial z_{kq}}", jac,
            f"sympy.diff, branch for {a1}")

    def col(r):  # column i of y, entry r
        return _softmax_entry(r, i)

    pr.check(r"\partial y_{ji}/\partial z_{kq}", jac,
             jacobian(col, j, k) * sp.KroneckerDelta(i, q))
    pr.step(r"\frac{\partial y_{ji}}{\partial z_{kq}}", r"0 \ \text{for } q \ne i",
            "the factor [i = q]: columns do not mix")
    a2 = pr.assume(_chain())
    J = sp.Sum(G[j, c] * _softmax_entry(j, c), (j, 1, K), (c, 1, m))
    pr.step("J", J, a2)
    d = _linear(_in_range(_sum_out(sp.diff(J, Z[k, i])), k <= K, i <= m))
    pr.step(_dL("z_{ki}"), d, f"sympy.diff, branch for {a1}")
    pr.check(_dL("z_{ki}"), d, claim(col, lambda r: G[r, i], k, _classes))


# -- 3. cross-entropy and 4. MSE -----------------------------------------------------------------
def ce_backward(y, t, m):
    r"""What ``CrossEntropy.backward`` computes: :math:`\partial L/\partial y = -t/(m\,y)`."""
    return -t / (m * y)


def mse_backward(a, t, m):
    r"""What ``MSE.backward`` computes: :math:`\partial L/\partial a = (a - t)/m`."""
    return (a - t) / m


def cross_entropy_proof(claim: Callable = ce_backward,
                        time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove :math:`\partial L/\partial y_{ki} = -t_{ki}/(m\,y_{ki})` for
    :math:`L = -\frac1m\sum_{c=1}^m\sum_{j=1}^K t_{jc}\ln y_{jc}`, every K and m."""
    loss = -sp.Sum(T[j, c] * sp.log(Y[j, c]), (j, 1, K), (c, 1, m)) / m
    return _loss_proof("CrossEntropy", loss, Y, claim, time_limit)


def mse_proof(claim: Callable = mse_backward, time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove :math:`\partial L/\partial a_{ki} = (a_{ki} - t_{ki})/m` for
    :math:`L = \frac{1}{2m}\sum_{c=1}^m\sum_{j=1}^K (a_{jc} - t_{jc})^2`, every K and m."""
    A = sp.IndexedBase("a")
    loss = sp.Sum((A[j, c] - T[j, c]) ** 2, (j, 1, K), (c, 1, m)) / (2 * m)
    return _loss_proof("MSE", loss, A, claim, time_limit)


def _loss_proof(node: str, loss, X, claim, time_limit) -> Proof:
    """A mean loss over (K, m) entries, differentiated by entry (k, i) and compared."""
    wrt = sp.latex(X[k, i])

    def body(pr: Proof) -> None:
        pr.step("L", loss, "mean over the m columns")
        d = _sum_out(sp.diff(loss, X[k, i]))
        pr.step(_dL(wrt), d, "sympy.diff, KroneckerDelta summed out")
        a1 = pr.assume(_exists(wrt))
        d = _in_range(d, k <= K, i <= m)
        pr.step(_dL(wrt), d, f"branch for {a1}")
        pr.check(_dL(wrt), d, claim(X[k, i], T[k, i], m))

    return _run(node, lambda: [(_dL(wrt), claim(X[k, i], T[k, i], m))],
                "K, m", body, time_limit)
