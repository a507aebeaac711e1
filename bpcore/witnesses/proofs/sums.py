r"""SymPy helpers for the proofs: symbolic sizes, sums with Kronecker deltas, residues.

Entries are ``IndexedBase`` objects summed with ``Sum(..., (j, 1, K))``; ``sympy.diff`` of such
a sum with respect to one entry gives ``KroneckerDelta`` terms, which :func:`_sum_out` sums out,
leaving a ``Piecewise`` whose branch for an index in range :func:`_in_range` keeps.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sympy as sp
from sympy.core.relational import Relational

# -- symbols shared by the proofs ----------------------------------------------------------------
_SIZE = dict(integer=True, positive=True)
K, m, n, p, N = sp.symbols("K m n p N", **_SIZE)  # classes, columns, rows, inner size, entries
k, i = sp.symbols("k i", **_SIZE)  # the entry we differentiate by: row k, column i
j, ell, c, u, v = sp.symbols("j l c u v", **_SIZE)  # summation indices
Z, T, Y, G = (sp.IndexedBase(s) for s in ("z", "t", "y", "g"))
X1, X2 = sp.IndexedBase("x_1", real=True), sp.IndexedBase("x_2", real=True)
x_, y_ = sp.symbols("x y", real=True)


# -- SymPy helpers -------------------------------------------------------------------------------
def _sum_out(expr):
    """Evaluate the sums that hold a ``KroneckerDelta``, innermost first.

    ``doit`` on the whole expression can fail inside SymPy (for batch norm, ``gosper_sum`` on
    an ``Indexed`` summand raises TypeError in SymPy 1.14); summing the deltas out from the
    inside avoids that.
    """
    return expr.replace(lambda e: isinstance(e, sp.Sum) and e.has(sp.KroneckerDelta),
                        lambda e: _pinned_first(e).doit())


def _pinned_first(s: sp.Sum) -> sp.Sum:
    r"""The same sum with the indices a ``KroneckerDelta`` pins summed first (innermost).

    ``Sum(delta(i, v) g[u, v], (u, 1, n), (v, 1, m)).doit()`` stays unevaluated: SymPy starts
    with u, finds no delta in u, and stops. Sums with constant bounds commute, so summing v
    first is the same number, and then the delta collapses it.
    """
    indices = {idx for idx, _, _ in s.limits}
    if any((lo.free_symbols | hi.free_symbols) & indices for _, lo, hi in s.limits):
        return s  # a bound depends on another index: the order matters, keep it
    pinned = set().union(*(d.free_symbols for d in s.function.atoms(sp.KroneckerDelta)))
    return sp.Sum(s.function, *sorted(s.limits, key=lambda lim: lim[0] not in pinned))


def _in_range(expr, *facts: Relational):
    """Keep, in every ``Piecewise``, the branch that holds when the ``facts`` are true.

    ``facts`` are index ranges (``k <= K``: the entry differentiated by exists). Branches are
    taken in order; a condition that cannot be decided leaves the Piecewise as it is.
    """
    known = {f.canonical for f in facts}

    def decide(cond):
        return cond.replace(lambda r: isinstance(r, Relational) and r.canonical in known,
                            lambda r: sp.true)

    def pick(pw):
        for value, cond in pw.args:
            cond = decide(cond)
            if cond == sp.true:
                return value
            if cond != sp.false:
                return pw
        return pw

    return expr.replace(lambda e: isinstance(e, sp.Piecewise), pick)


def _depth(e) -> int:
    """How deeply sums are nested in ``e``."""
    return max((_depth(a) for a in e.args), default=0) + isinstance(e, sp.Sum)


def _linear(expr):
    r"""Sums written out by linearity: :math:`\sum (a + b) = \sum a + \sum b`,
    :math:`\sum c\,a = c \sum a` for c free of the index, :math:`\sum_{s=1}^{K} c = K c`.

    The index of a sum nested d deep is renamed :math:`s_d`, so one sum written with different
    letters (j in one formula, l in another) becomes one object; an inner index is never
    captured, since the outer sum's index is always deeper.
    """
    if not expr.args:
        return expr
    if not isinstance(expr, sp.Sum):
        return expr.func(*[_linear(a) for a in expr.args])
    f = _linear(expr.function)
    for idx, lo, hi in expr.limits:  # innermost first
        terms = []
        for term in sp.Add.make_args(sp.expand(f)):
            const, part = term.as_independent(idx, as_Add=False)
            if part == 1:
                terms.append(const * (hi - lo + 1))
                continue
            s = sp.Symbol(f"s_{_depth(part) + 1}", integer=True)
            terms.append(const * sp.Sum(part.xreplace({idx: s}), (s, lo, hi)))
        f = sp.Add(*terms)
    return f


def _substitute_sum(expr, term: Callable, upper, value):
    r"""Replace every :math:`\sum_{s=1}^{upper} term(s)` in ``expr``, whatever its index
    letter, by ``value`` (an assumption such as :math:`\sum_j t_j = 1`, applied visibly)."""
    def match(e) -> bool:
        if not isinstance(e, sp.Sum) or len(e.limits) != 1:
            return False
        s, lo, hi = e.limits[0]
        return lo == 1 and hi == upper and e.function == term(s)

    return expr.replace(match, lambda e: value)


def _residue(derived, claimed):
    """``derived - claimed``, simplified as far as SymPy goes (0 means proved equal).

    Matrices: ``simplify`` of the matrix expression. Scalars: sums written out by linearity
    (:func:`_linear`), each remaining sum replaced by an opaque symbol (equal sums become the
    same symbol; sound, since an identity in free symbols holds for any values of them), then
    ``simplify``, and again after rewriting hyperbolic functions as exponentials.
    """
    if isinstance(derived, sp.MatrixExpr) or isinstance(claimed, sp.MatrixExpr):
        return sp.simplify(_canonical_lambdas(derived) - _canonical_lambdas(claimed))
    d = _linear(sp.sympify(derived) - sp.sympify(claimed))
    sums = sorted(d.atoms(sp.Sum), key=sp.default_sort_key)
    opaque = {s: sp.Dummy(f"S{q}") for q, s in enumerate(sums)}
    rest = sp.simplify(d.xreplace(opaque))
    if rest != 0:
        again = sp.simplify(rest.rewrite(sp.exp))
        rest = again if again == 0 else rest
    return rest.xreplace({v: s for s, v in opaque.items()})


def _is_zero(e) -> bool:
    return e == 0 or bool(getattr(e, "is_ZeroMatrix", False))


_XI = sp.Symbol("xi", real=True)


def _canonical_lambdas(expr):
    """Rename the variable of every one-argument ``Lambda`` to ξ.

    SymPy compares ``Lambda(x, g(x))`` and ``Lambda(d, g(d))`` as different objects, and the
    elementwise functions inside matrix derivatives carry such lambdas.
    """
    return expr.replace(
        lambda e: isinstance(e, sp.Lambda) and len(e.variables) == 1,
        lambda e: sp.Lambda(_XI, e.expr.xreplace({e.variables[0]: _XI})))


def _hadamard(a, b):
    """Elementwise product for SymPy matrix expressions and numpy arrays alike."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.multiply(a, b)
    return sp.hadamard_product(a, b)


def _dL(wrt: str) -> str:
    return rf"\frac{{\partial L}}{{\partial {wrt}}}"


def _chain(up: str = "g", out: str = "y") -> str:
    """The chain-rule assumption every vector-Jacobian proof starts from."""
    return (rf"\text{{chain rule: with }} {up} = \partial L/\partial {out} \text{{ held fixed, }}"
            rf" \partial L/\partial\theta = \partial J/\partial\theta,\ "
            rf"J = \textstyle\sum {up} \odot {out}(\theta)")


def _exists(*entries: str) -> str:
    many = len(entries) > 1
    return (rf"\text{{the {'entries' if many else 'entry'} }} {', '.join(entries)} "
            rf"\text{{ {'exist' if many else 'exists'} (indices in range)}}")
