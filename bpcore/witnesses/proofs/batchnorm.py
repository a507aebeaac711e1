r"""The proof of batch normalisation's backward for any batch size m (chapter 7)."""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from .matrices import _gradients
from .proof import TIME_LIMIT, Proof, _flat_cases, _run
from .sums import _chain, _dL, _in_range, _substitute_sum, _sum_out, ell, i, j, k, m


# -- 9. batch normalisation ------------------------------------------------------------------------
def batch_norm_backward(xhat, g, q, m, gamma, std, total):
    r"""The closed form a BatchNorm backward implements, for one feature over m examples:

    .. math:: dx_q = \frac{\gamma}{m\sqrt{\sigma^2+\epsilon}}\Bigl(m\,g_q - \sum_s g_s
              - \hat x_q \sum_s g_s \hat x_s\Bigr),\quad d\gamma = \sum_s g_s \hat x_s,
              \quad d\beta = \sum_s g_s.

    ``xhat(s)``, ``g(s)`` give entries, ``std`` is √(σ²+ε), ``total(f)`` is Σ_{s=1}^m f(s).
    """
    dx = gamma / (m * std) * (m * g(q) - total(g) - xhat(q) * total(lambda s: g(s) * xhat(s)))
    return dx, total(lambda s: g(s) * xhat(s)), total(g)


_BN_X, _BN_G = sp.IndexedBase("z", real=True), sp.IndexedBase("g", real=True)
_EPS = sp.Symbol("epsilon", positive=True)
#: Names batch norm's display gives to parts of the forward. SymPy never sees them: the proof
#: differentiates and checks the expressions written out, and only what is shown uses them.
_MU, _VAR = sp.Symbol(r"\mu", real=True), sp.Symbol(r"\sigma^{2}", nonnegative=True)
_STD = sp.Symbol("s", positive=True)
_XHAT = sp.IndexedBase(r"\hat{z}", real=True)


def _bn_forward():
    """μ, s = √(σ² + ε) and x̂ as functions of the entries x_1..x_m, written out."""
    mu = sp.Sum(_BN_X[j], (j, 1, m)) / m
    std = sp.sqrt(sp.Sum((_BN_X[ell] - mu) ** 2, (ell, 1, m)) / m + _EPS)
    return mu, std, lambda s: (_BN_X[s] - mu) / std


def _constants_out(e):
    r"""Every one-index sum with the factors free of its index taken out:
    :math:`\sum_l m^2 (x_l - \mu)^2 = m^2 \sum_l (x_l - \mu)^2`."""
    def out(s):
        t, f = s.limits[0][0], s.function
        const, rest = (f if f.has(sp.Sum) else sp.factor_terms(f)).as_independent(
            t, as_Add=False)
        return const * sp.Sum(rest, s.limits)

    return e.replace(lambda s: isinstance(s, sp.Sum) and len(s.limits) == 1, out)


def _deviation_to_xhat(a):
    """In a sum, c x_t - c μ (t any index) becomes c s x̂_t."""
    for term in a.args:
        c, rest = term.as_coeff_Mul()
        if isinstance(rest, sp.Indexed) and rest.base == _BN_X and -c * _MU in a.args:
            return a - c * rest + c * _MU + c * _STD * _XHAT[rest.indices[0]]
    return a


def _bn_abbreviate(e):
    r"""A batch-norm expression written with :math:`\mu`, :math:`\sigma^2`,
    :math:`s = \sqrt{\sigma^2 + \epsilon}` and :math:`\hat x_t = (x_t - \mu)/s`, for
    display. Every rewrite keeps the value: a sum replaced by its name (:math:`\sum_j x_j =
    m\mu`, :math:`\sum_l (x_l - \mu)^2 = m\sigma^2`, :math:`\epsilon + \sigma^2 = s^2`,
    :math:`c x_t - c\mu = c s \hat x_t`) or constant factors taken out of sums and terms;
    :func:`_bn_expand` undoes it (the tests check that it gives the same expression back)."""
    e = _substitute_sum(e, lambda t: _BN_X[t], m, m * _MU)
    e = _constants_out(e)
    e = _substitute_sum(e, lambda t: (_BN_X[t] - _MU) ** 2, m, m * _VAR)
    e = e.xreplace({_EPS + _VAR: _STD**2})
    e = e.replace(lambda a: isinstance(a, sp.Add), _deviation_to_xhat)
    e = _constants_out(e)
    return sp.Add(*[sp.factor_terms(t) for t in sp.Add.make_args(e)])


def _bn_expand(e):
    """The names of :func:`_bn_abbreviate` replaced by what they stand for."""
    mu, std, xhat = _bn_forward()
    e = e.replace(lambda a: isinstance(a, sp.Indexed) and a.base == _XHAT,
                  lambda a: xhat(a.indices[0]))
    return e.xreplace({_STD: std}).xreplace({_VAR: (std**2 - _EPS)}).xreplace({_MU: mu})


def _bn_show(e):
    return _flat_cases(_bn_abbreviate(e))


def batch_norm_proof(claim: Callable = batch_norm_backward,
                     time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove the batch-norm backward for every batch size m (one feature; features are
    independent): :math:`\mu = \frac1m\sum x_s`, :math:`\sigma^2 = \frac1m\sum (x_s-\mu)^2`,
    :math:`\hat x = (x-\mu)/\sqrt{\sigma^2+\epsilon}`, :math:`y = \gamma\hat x + \beta`.

    The display names μ, σ², s = √(σ² + ε) and x̂ in steps of their own and writes the
    derivation with them; the checks use the expressions written out in the entries x_j."""
    Xb, Gb, eps = _BN_X, _BN_G, _EPS
    gamma, beta = sp.symbols("gamma beta", real=True)
    mu, std, xhat = _bn_forward()

    def batch(f):
        return sp.Sum(f(j), (j, 1, m))

    def claimed() -> list:
        shown = claim(lambda s: sp.IndexedBase(r"\hat{z}")[s], lambda s: Gb[s], k, m, gamma,
                      sp.sqrt(sp.Symbol(r"\sigma^{2}") + eps), batch)
        return _gradients(("z_k", r"\gamma", r"\beta"), shown)

    def body(pr: Proof) -> None:
        a1 = pr.assume(_chain(out=r"\tilde{z}"))
        a2 = pr.assume(r"\text{each feature (row) is normalised over the batch on its own, so "
                       r"one row } z_1..z_m \text{ is the general case}")
        a3 = pr.assume(r"\epsilon > 0 \ \text{(the square root is real and non-zero)}")
        pr.step(r"\mu", r"\frac{1}{m} \sum_{j=1}^{m} z_j",
                "the batch mean; this name and the next three only shorten the display: "
                "SymPy works with the expressions written out in z1..zm")
        pr.step(r"\sigma^{2}", r"\frac{1}{m} \sum_{l=1}^{m} \left(z_l - \mu\right)^{2}",
                "the batch variance")
        pr.step("s", r"\sqrt{\sigma^{2} + \epsilon}", f"{a3}")
        pr.step(r"\hat{z}_i", r"\frac{z_i - \mu}{s}", "z normalised")
        pr.step(r"\tilde{z}_i", r"\gamma \hat{z}_i + \beta", f"the forward, {a2}")
        J = sp.Sum(Gb[i] * (gamma * xhat(i) + beta), (i, 1, m))
        pr.step("J", J, f"{a1}")
        dx, dgamma, dbeta = claim(xhat, lambda s: Gb[s], k, m, gamma, std, batch)
        d = _in_range(_sum_out(sp.diff(J, Xb[k])), k <= m)
        pr.step(_dL("z_k"), d, "sympy.diff, deltas summed out innermost first, "
                "1 ≤ k ≤ m")
        pr.check(_dL("z_k"), d, dx)
        pr.check(_dL(r"\gamma"), sp.diff(J, gamma), dgamma)
        pr.check(_dL(r"\beta"), sp.diff(J, beta), dbeta)

    return _run("BatchNorm", claimed, "m", body, time_limit, show=_bn_show)
