r"""Proofs for every size: each node's backward derived with SymPy for *symbolic* dimensions.

:func:`bpcore.verify_node` checks a node at a few fixed shapes. Here the sizes are symbols
(K classes, m columns, an n×p weight matrix, ...), so one computation covers every shape:

* entries are ``IndexedBase`` objects summed with ``Sum(..., (j, 1, K))``; ``sympy.diff`` of
  such a sum with respect to one entry ``z[k, i]`` gives ``KroneckerDelta`` terms, which
  ``doit`` sums out, leaving a ``Piecewise`` whose branch for ``1 <= k <= K`` is the answer;
* matrices are ``MatrixSymbol`` objects with symbolic shapes; with an upstream gradient D held
  fixed, ``diff(Trace(D.T @ Z), W)`` is :math:`\partial L/\partial W` (chain rule).

Each proof derives the gradient from the forward, then asks SymPy whether
``derived - claimed`` simplifies to 0, where *claimed* is the formula the node's backward
implements. The formula is a parameter, so a wrong one can be planted and seen to fail. A
verdict is only ever what that computation returned: if SymPy stops, raises or runs out of
time, the proof says ``proved=False`` and why. Every assumption a proof uses is listed and
numbered, and the step that uses it names it.

Usage::

    from bpcore.proofs import prove, prove_all
    prove("SoftmaxWithLoss")          # a Proof: shows as LaTeX in a notebook
    [p.node for p in prove_all() if not p.proved]
"""

from __future__ import annotations

import re
import signal
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import sympy as sp
from sympy.core.relational import Relational

from .symbolic import Derivation

#: Seconds a single proof may take before it is given up as "SymPy did not finish".
TIME_LIMIT = 10.0

# -- symbols shared by the proofs ----------------------------------------------------------------
_SIZE = dict(integer=True, positive=True)
K, m, n, p, N = sp.symbols("K m n p N", **_SIZE)  # classes, columns, rows, inner size, entries
k, i = sp.symbols("k i", **_SIZE)  # the entry we differentiate by: row k, column i
j, ell, c, u, v = sp.symbols("j l c u v", **_SIZE)  # summation indices
Z, T, Y, G = (sp.IndexedBase(s) for s in ("z", "t", "y", "g"))
X1, X2 = sp.IndexedBase("x_1", real=True), sp.IndexedBase("x_2", real=True)
x_, y_ = sp.symbols("x y", real=True)


# -- the proof object ----------------------------------------------------------------------------
def _text(s: str) -> str:
    r"""Plain text made safe for ``\text{...}``: MathJax refuses ``_`` and ``^`` there, and
    braces, ``\``, ``$``, ``%``, ``#``, ``&`` would still be read as TeX."""
    for old, new in (("\\", ""), ("$", ""), ("%", " percent"), ("{", "("), ("}", ")"),
                     ("_", ""), ("^", "**"), ("#", ""), ("&", "and")):
        s = s.replace(old, new)
    return rf"\text{{{s}}}"


def _plain(tex: str) -> str:
    r"""A rough plain-text version of a label: ``\frac{\partial L}{\partial W}`` -> dL/dW."""
    s = re.sub(r"\\frac\{\\partial L\}\{\\partial (.+?)\}$", r"dL/d\1", tex)
    return re.sub(r"[\\{}]|\\left|\\right", "", s).strip()


@dataclass
class Proof:
    r"""A derivation for symbolic sizes and the verdict SymPy computed for it.

    ``claim`` is the LaTeX of the formula the node's backward implements; ``steps`` the
    derivation (a :class:`~bpcore.symbolic.Derivation`); ``assumptions`` the facts it used,
    numbered (A1), (A2), ... in the notes of the steps that use them. ``proved`` is True only
    if every ``derived - claimed`` checked simplified to 0; otherwise ``reason`` says why.
    ``seconds`` is the wall time (kept out of the reprs, so notebook outputs stay stable).
    """

    node: str
    claim: str
    steps: Derivation = field(default_factory=Derivation)
    assumptions: list[str] = field(default_factory=list)
    proved: bool = False
    reason: str = ""
    seconds: float = 0.0
    for_all: str = ""  # the symbolic sizes, e.g. "K, m"
    n_checks: int = 0  # how many equalities derived == claimed were checked

    # -- building --------------------------------------------------------------------------------
    def step(self, lhs: str, rhs: str, note: str = "") -> None:
        self.steps.add(lhs, rhs, note)

    def assume(self, fact: str) -> str:
        """Record an assumption (LaTeX); returns its tag, e.g. ``"(A2)"``, for step notes."""
        self.assumptions.append(fact)
        return f"(A{len(self.assumptions)})"

    def check(self, what: str, derived, claimed, lhs: str | None = None,
              tex: Callable = sp.latex, claim_note: str = "the backward's formula") -> bool:
        r"""Show the claimed formula and ``derived - claimed`` after simplification; True if
        that is exactly 0.

        ``what`` names the quantity (LaTeX); ``lhs`` replaces the default left-hand side
        :math:`[what]_{\text{derived} - \text{claimed}}` (and then the claimed formula is
        not shown on a line of its own); ``tex`` prints expressions; ``claim_note`` is the
        note beside the claimed formula.
        """
        self.n_checks += 1
        if lhs is None:
            self.step(rf"\Bigl[{what}\Bigr]_{{\text{{claimed}}}}", tex(claimed),
                      claim_note)
        rest = _residue(derived, claimed)
        ok = _is_zero(rest)
        lhs = lhs or rf"\Bigl[{what}\Bigr]_{{\text{{derived}} - \text{{claimed}}}}"
        self.step(lhs, tex(rest), "simplified" if ok else "NOT zero")
        if not ok:
            left = sp.sstr(rest)
            left = left if len(left) < 300 else left[:300] + " ..."
            self.fail(f"for {_plain(what)}, SymPy did not reduce derived - claimed to 0 (it "
                      f"left {left}): the formula is wrong, or SymPy missed an identity")
        return ok

    def fail(self, reason: str) -> None:
        if not self.reason:
            self.reason = reason

    # -- showing ---------------------------------------------------------------------------------
    def verdict(self) -> str:
        if self.proved:
            sizes = f" for all sizes {self.for_all}" if self.for_all else ""
            n = self.n_checks
            return f"proved{sizes} ({n} equalit{'y' if n == 1 else 'ies'} checked by SymPy)"
        return f"NOT proved: {self.reason}"

    def _repr_latex_(self) -> str:
        rows = [rf"&\textbf{{{self.node}}}\ \text{{backward: }} {self.claim}"]
        for lhs, rhs, note in self.steps.steps:
            tail = rf" && {_text(note)}" if note else ""
            rows.append(rf"{lhs} &= {rhs}{tail}")
        rows += [rf"&\text{{(A{n})}}\ {a}" for n, a in enumerate(self.assumptions, 1)]
        rows.append(rf"&{_text(self.verdict())}")
        return "$$\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}$$"

    def __repr__(self) -> str:
        lines = [f"Proof({self.node}): {self.verdict()}", f"  claim: {self.claim}"]
        lines += [f"  (A{n}) {a}" for n, a in enumerate(self.assumptions, 1)]
        lines += [f"  {lhs} = {rhs}" + (f"    [{note}]" if note else "")
                  for lhs, rhs, note in self.steps.steps]
        return "\n".join(lines)


class _OutOfTime(Exception):
    pass


@contextmanager
def _time_limit(seconds: float | None):
    """Raise :class:`_OutOfTime` after ``seconds`` (SIGALRM: Unix, main thread only).

    Elsewhere (Windows, a worker thread) there is no limit. A timer someone else had set
    (pytest-timeout, say) is restored with the time it has left.
    """
    usable = (seconds and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def on_alarm(signum, frame):
        raise _OutOfTime

    old_handler = signal.signal(signal.SIGALRM, on_alarm)
    old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    start = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if old_delay:
            left = max(old_delay - (time.monotonic() - start), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, left, old_interval)


def _run(node: str, claim: Callable[[], str], for_all: str, body: Callable[[Proof], None],
         time_limit: float | None) -> Proof:
    """Run ``body`` (which adds steps and checks to the proof), timed and time-limited.

    ``claim()`` gives the LaTeX of the claimed formula; it is built inside the try, so a
    planted formula that SymPy refuses to build is reported as the reason. The verdict is
    True only if at least one equality was checked, all were 0, and nothing went wrong.
    """
    proof = Proof(node=node, claim="", for_all=for_all,
                  steps=Derivation(title=f"{node}: backward for symbolic sizes {for_all}"))
    start = time.perf_counter()
    try:
        with _time_limit(time_limit):
            proof.claim = claim()
            body(proof)
    except _OutOfTime:
        proof.fail(f"SymPy did not finish within {time_limit:g} s (stopped after step "
                   f"{len(proof.steps.steps)})")
    except Exception as err:  # a SymPy failure or an ill-formed claim: reported, not hidden
        proof.fail(f"SymPy stopped with {type(err).__name__}: {err}")
    proof.seconds = time.perf_counter() - start
    if proof.n_checks == 0:
        proof.fail("no equality derived == claimed was checked")
    proof.proved = not proof.reason
    return proof


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
                lambda: rf"{_dL('z_{ki}')} = {sp.latex(claim(Y[k, i], T[k, i], m))}", "K, m",
                lambda pr: _swl_steps(pr, claim, targets_sum_to_one), time_limit)


def _swl_steps(pr: Proof, claim, targets_sum_to_one: bool) -> None:
    loss = -sp.Sum(T[j, c] * sp.log(_softmax_entry(j, c)), (j, 1, K), (c, 1, m)) / m
    pr.step("L", sp.latex(loss), "mean over the m columns")
    d = _sum_out(sp.diff(loss, Z[k, i]))
    pr.step(_dL("z_{ki}"), sp.latex(d), "sympy.diff, KroneckerDelta summed out")
    a1 = pr.assume(_exists("z_{ki}"))
    d = _linear(_in_range(d, k <= K, i <= m))
    pr.step(_dL("z_{ki}"), sp.latex(d), f"branch for {a1}, constants out of the sums")
    if targets_sum_to_one:
        a2 = pr.assume(r"\textstyle\sum_{j=1}^{K} t_{ji} = 1 \ \text{(each target column is "
                       r"a distribution: one-hot or soft)}")
        used = _substitute_sum(d, lambda s: T[s, i], K, sp.S.One)
        if used == d:
            pr.fail(f"{a2} found no sum of targets to replace")
        d = used
        pr.step(_dL("z_{ki}"), sp.latex(d), f"by {a2}")
    pr.check(_dL("z_{ki}"), d, claim(_softmax_entry(k, i), T[k, i], m))


# -- 2. softmax ----------------------------------------------------------------------------------
def softmax_jacobian(y, q, r):
    r"""The Jacobian ``Softmax.backward`` relies on, within one column:
    :math:`\partial y_q/\partial z_r = y_q(\delta_{qr} - y_r)`."""
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
    def tex() -> str:
        shown = claim(lambda q: Y[q, i], lambda q: G[q, i], k, _classes)
        return rf"{_dL('z_{ki}')} = {sp.latex(shown)}"

    return _run("Softmax", tex, "K, m", lambda pr: _softmax_steps(pr, jacobian, claim),
                time_limit)


def _softmax_steps(pr: Proof, jacobian, claim) -> None:
    q = sp.Symbol("q", **_SIZE)
    a1 = pr.assume(_exists("y_{ji}", "z_{kq}"))
    jac = _in_range(_sum_out(sp.diff(_softmax_entry(j, i), Z[k, q])), k <= K)
    pr.step(r"\frac{\partial y_{ji}}{\partial z_{kq}}", sp.latex(jac),
            f"sympy.diff, branch for {a1}")

    def col(r):  # column i of y, entry r
        return _softmax_entry(r, i)

    pr.check(r"\partial y_{ji}/\partial z_{kq}", jac,
             jacobian(col, j, k) * sp.KroneckerDelta(i, q))
    pr.step(r"\frac{\partial y_{ji}}{\partial z_{kq}}", r"0 \ \text{for } q \ne i",
            "the factor δ(i, q): columns do not mix")
    a2 = pr.assume(_chain())
    J = sp.Sum(G[j, c] * _softmax_entry(j, c), (j, 1, K), (c, 1, m))
    pr.step("J", sp.latex(J), a2)
    d = _linear(_in_range(_sum_out(sp.diff(J, Z[k, i])), k <= K, i <= m))
    pr.step(_dL("z_{ki}"), sp.latex(d), f"sympy.diff, branch for {a1}")
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
        pr.step("L", sp.latex(loss), "mean over the m columns")
        d = _sum_out(sp.diff(loss, X[k, i]))
        pr.step(_dL(wrt), sp.latex(d), "sympy.diff, KroneckerDelta summed out")
        a1 = pr.assume(_exists(wrt))
        d = _in_range(d, k <= K, i <= m)
        pr.step(_dL(wrt), sp.latex(d), f"branch for {a1}")
        pr.check(_dL(wrt), d, claim(X[k, i], T[k, i], m))

    return _run(node, lambda: rf"{_dL(wrt)} = {sp.latex(claim(X[k, i], T[k, i], m))}",
                "K, m", body, time_limit)


# -- 5. affine and matmul: traces of matrix products ---------------------------------------------
def _matrices():
    """W (n, p), A (p, m), b (n, 1), the upstream D (n, m), the ones column 1 (m, 1)."""
    return (sp.MatrixSymbol("W", n, p), sp.MatrixSymbol("A", p, m), sp.MatrixSymbol("b", n, 1),
            sp.MatrixSymbol("D", n, m), sp.MatrixSymbol(r"\mathbf{1}", m, 1))


def affine_backward(W, A, D, one):
    r"""What ``Affine.backward(D)`` returns: :math:`(W^\top D,\ D A^\top,\ D\mathbf 1)`.

    Written with ``@`` and ``.T``, so it runs on SymPy matrices and numpy arrays alike."""
    return W.T @ D, D @ A.T, D @ one


def matmul_backward(W, A, D):
    r"""What ``MatMulNode.backward(D)`` returns: :math:`(D A^\top,\ W^\top D)`."""
    return D @ A.T, W.T @ D


def _gradients_tex(names, values, tex=sp.latex) -> str:
    return r",\ ".join(f"{_dL(nm)} = {tex(v)}" for nm, v in zip(names, values))


def _check_matrices(pr: Proof, J, inputs, claimed, tex=sp.latex) -> None:
    """For each input X: derive ∂J/∂X, check the claimed shape, then the claimed formula."""
    for X, want in zip(inputs, claimed):
        got = sp.diff(J, X)
        name = sp.latex(X)
        pr.step(_dL(name), tex(got), "sympy.diff of the trace")
        if want.shape != X.shape:
            pr.fail(f"the claimed dL/d{X} has shape {want.shape}, but {X} has shape "
                    f"{X.shape} (a transpose missing or misplaced?)")
            pr.step(_dL(name), tex(want), f"claimed: wrong shape {want.shape}")
            continue
        pr.check(_dL(name), got, want, tex=tex)


def affine_proof(claim: Callable = affine_backward,
                 time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove ``Affine.backward``: for :math:`Z = W A + b\mathbf 1^\top` and
    :math:`D = \partial L/\partial Z`, :math:`\partial L/\partial A = W^\top D`,
    :math:`\partial L/\partial W = D A^\top`, :math:`\partial L/\partial b = D\mathbf 1`
    (the row sums of D), for all n, p, m. ``claim(W, A, D, one)`` returns the three."""
    W, A, b, D, one = _matrices()

    def body(pr: Proof) -> None:
        a1 = pr.assume(_chain("D", "Z"))
        a2 = pr.assume(r"\mathbf{1} \text{ is the all-ones column: } b\mathbf 1^\top "
                       r"\text{ adds b to every column}")
        J = sp.Trace(D.T @ (W @ A + b @ one.T))
        pr.step("J", sp.latex(J), f"{a1}, {a2}; Σ D ⊙ Z = tr(Dᵀ Z)")
        _check_matrices(pr, J, (A, W, b), tuple(claim(W, A, D, one)))

    return _run("Affine", lambda: _gradients_tex("AWb", claim(W, A, D, one)), "n, p, m",
                body, time_limit)


def matmul_proof(claim: Callable = matmul_backward,
                 time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove ``MatMulNode.backward``: for :math:`Z = W A`, :math:`\partial L/\partial W =
    D A^\top` and :math:`\partial L/\partial A = W^\top D`, all n, p, m."""
    W, A, _, D, _ = _matrices()

    def body(pr: Proof) -> None:
        a1 = pr.assume(_chain("D", "Z"))
        J = sp.Trace(D.T @ (W @ A))
        pr.step("J", sp.latex(J), f"{a1}; Σ D ⊙ Z = tr(Dᵀ Z)")
        _check_matrices(pr, J, (W, A), tuple(claim(W, A, D)))

    return _run("MatMulNode", lambda: _gradients_tex("WA", claim(W, A, D)), "n, p, m", body,
                time_limit)


# -- 6. the layer block --------------------------------------------------------------------------
def layer_block_backward(W, A, G, dg, one):
    r"""What ``LayerBlock.backward(G)`` returns (true gradients, no 1/m):
    :math:`dz = G \odot g'(Z)`, then :math:`(W^\top dz,\ dz\,A^\top,\ dz\,\mathbf 1)`."""
    dz = _hadamard(G, dg)
    return W.T @ dz, dz @ A.T, dz @ one


def layer_block_proof(claim: Callable = layer_block_backward,
                      time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove ``LayerBlock.backward`` for :math:`a = g(W A + b\mathbf 1^\top)` with any
    differentiable elementwise g and all n, p, m, and show that the per-example notation
    (:math:`\delta = m\,dz`, :math:`dW = \frac1m \delta A^\top`) gives the same numbers.

    ``claim(W, A, G, dg, one)`` returns (dA, dW, db); G is :math:`\partial L/\partial a`,
    dg the matrix :math:`g'(Z)`. The g' of each activation is proved in its own proof.
    """
    W, A, b, _, one = _matrices()
    G = sp.MatrixSymbol("G", n, m)
    g = sp.Function("g")
    Zm = W @ A + b @ one.T
    gZ = Zm.applyfunc(sp.Lambda(_XI, g(_XI)))
    dgZ = Zm.applyfunc(sp.Lambda(_XI, sp.diff(g(_XI), _XI)))
    names = {_canonical_lambdas(gZ): sp.MatrixSymbol("g(Z)", n, m),
             _canonical_lambdas(dgZ): sp.MatrixSymbol("g'(Z)", n, m)}

    def tex(e) -> str:  # print g(Z), g'(Z) by name rather than in SymPy's mapping notation
        return sp.latex(_canonical_lambdas(e).xreplace(names))

    def body(pr: Proof) -> None:
        a1 = pr.assume(_chain("G", "a"))
        a2 = pr.assume(r"g \text{ differentiable, applied entry by entry: } "
                       r"a = g(Z),\ Z = W A + b\mathbf 1^\top")
        J = sp.Trace(G.T @ gZ)
        pr.step("J", tex(J), f"{a1}, {a2}")
        _check_matrices(pr, J, (A, W, b), tuple(claim(W, A, G, dgZ, one)), tex)
        _per_example_steps(pr, A, _hadamard(G, dgZ), one, tex)

    return _run("LayerBlock", lambda: _gradients_tex("AWb", claim(W, A, G, dgZ, one), tex),
                "n, p, m", body, time_limit)


def _per_example_steps(pr: Proof, A, dz, one, tex) -> None:
    r"""The chapter's notation :math:`\delta = m\,dz` (per-example deltas) gives the same
    :math:`dW = \frac1m \delta A^\top` and :math:`db = \frac1m \delta\mathbf 1`."""
    delta = m * dz
    pr.step(r"\delta", tex(delta), "per-example deltas: column i is ∂ℓᵢ/∂zᵢ = m dzᵢ")
    pr.check("dW", delta @ A.T / m, dz @ A.T, lhs=r"\tfrac1m\,\delta A^\top - dz\,A^\top")
    pr.check("db", delta @ one / m, dz @ one, lhs=r"\tfrac1m\,\delta\mathbf 1 - dz\,\mathbf 1")


# -- 7./8. elementwise nodes ---------------------------------------------------------------------
def _elementwise_jacobian(pr: Proof) -> None:
    r"""For any f applied entry by entry, :math:`\partial/\partial x_k \sum_s G_s f(x_s) =
    G_k f'(x_k)`: the Jacobian is diagonal, so dx = dout ⊙ f'(x) for every shape."""
    f = sp.Function("f")
    X = sp.IndexedBase("x", real=True)
    a1 = pr.assume(_chain())
    a2 = pr.assume(r"y_s = f(x_s) \text{ for each of the N entries (any shape, numbered } "
                   r"s = 1..N\text{): entry s of y depends on entry s of x alone}")
    J = sp.Sum(G[ell] * f(X[ell]), (ell, 1, N))
    pr.step("J", sp.latex(J), f"{a1}, {a2}")
    d = _in_range(_sum_out(sp.diff(J, X[k])), k <= N)
    pr.step(_dL("x_k"), sp.latex(d), "sympy.diff, KroneckerDelta summed out (1 ≤ k ≤ N)")
    pr.check(_dL("x_k"), d, G[k] * sp.diff(f(X[k]), X[k]), claim_note="a diagonal Jacobian")
    pr.step(_dL("x"), r"d_{out} \odot f'(x)",
            "the Jacobian is diagonal: the scalar derivative below proves every shape")


def _elementwise_proof(node: str, forward: Callable, claim: Callable, time_limit,
                       x=x_, domain: str | None = None) -> Proof:
    """Diagonal Jacobian (any shape), then f'(x) of ``forward`` == ``claim(x, y)``."""
    def body(pr: Proof) -> None:
        _elementwise_jacobian(pr)
        fx = forward(x)
        note = "the forward" + (f", {pr.assume(domain)}" if domain else "")
        pr.step("y", sp.latex(fx), note)
        d = sp.diff(fx, x)
        pr.step(r"\frac{dy}{dx}", sp.latex(d), "sympy.diff")
        pr.check("f'(x)", d, claim(x, fx))

    return _run(node, lambda: rf"{_dL('x')} = d_{{out}} \odot {sp.latex(claim(x, y_))}",
                "N (any shape)", body, time_limit)


def _node_class(name: str) -> type:
    from . import activations, arith, layers

    for module in (activations, arith, layers):
        if hasattr(module, name):
            return getattr(module, name)
    raise KeyError(name)


def _node_forward(name: str) -> Callable:
    """The node's own ``symbolic`` form: the proof differentiates what the code defines."""
    return _node_class(name)().symbolic


#: Elementwise node -> its backward's local derivative, through the input x or cached output y.
ELEMENTWISE_BACKWARD: dict[str, Callable] = {
    "Sigmoid": lambda x, y: y * (1 - y),
    "Tanh": lambda x, y: 1 - y**2,
    "Identity": lambda x, y: sp.S.One,
    "NegNode": lambda x, y: -sp.S.One,
    "ReciprocalNode": lambda x, y: -(y**2),
    "ExpNode": lambda x, y: y,
    "LogNode": lambda x, y: 1 / x,
}


def elementwise_proof(node: str, claim: Callable | None = None,
                      time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove an elementwise node's backward :math:`dx = d_{out} \odot f'(x)` for every shape.

    ``claim(x, y)`` is the local derivative the backward uses, written through the input x
    and/or the cached output y (σ: y(1−y), tanh: 1−y², exp: y, 1/x: −y², ln: 1/x).
    """
    claim = claim or ELEMENTWISE_BACKWARD[node]
    if node == "LogNode":
        return _elementwise_proof(node, _node_forward(node), claim, time_limit,
                                  x=sp.Symbol("x", positive=True),
                                  domain=r"x > 0 \ \text{(the domain of ln)}")
    return _elementwise_proof(node, _node_forward(node), claim, time_limit)


def pow_backward(x, y, c):
    r"""What ``PowNode.backward`` computes: :math:`c\,x^{c-1}`."""
    return c * x ** (c - 1)


def pow_proof(claim: Callable = pow_backward, time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove ``PowNode``'s :math:`dx = d_{out} \odot c\,x^{c-1}` for a symbolic constant c.

    The node's own symbolic form needs a number for c, so the forward here is :math:`x^c`
    written directly, for every real c at once."""
    c = sp.Symbol("c", real=True)
    return _elementwise_proof("PowNode", lambda x: x**c, lambda x, y: claim(x, y, c),
                              time_limit, domain=r"c \text{ a constant (not differentiated)}")


def relu_backward(x, y):
    r"""What ``ReLU.backward`` uses: the mask :math:`[x > 0]` (so g'(0) = 0)."""
    return sp.Piecewise((1, x > 0), (0, True))


def relu_proof(claim: Callable = relu_backward, time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove ReLU's mask for x > 0 and for x < 0; at x = 0, where max(0, x) has no
    derivative, compute the one-sided slopes and record the mask's value there as a convention.

    Proved: :math:`g'(x) = [x > 0]` for every :math:`x \ne 0`. Convention: the value at 0
    (bpcore uses 0; that it lies between the one-sided slopes, a subgradient, is checked)."""
    forward = _node_forward("ReLU")

    def body(pr: Proof) -> None:
        _elementwise_jacobian(pr)
        pr.step("y", sp.latex(forward(x_)), "the forward (bpcore's symbolic form)")
        a3 = pr.assume(r"x \ne 0 \text{ for the derivative } (x = 0 \text{ is a convention})")
        for sign, x in (("x > 0", sp.Symbol("x", positive=True)),
                        ("x < 0", sp.Symbol("x", negative=True))):
            d = sp.diff(forward(x), x)
            pr.step(rf"\frac{{dy}}{{dx}}\Big|_{{{sign}}}", sp.latex(d), f"sympy.diff, {a3}")
            pr.check(rf"f'(x),\ {sign}", d, claim(x, forward(x)))
        _relu_kink(pr, forward, claim)

    return _run("ReLU", lambda: rf"{_dL('x')} = d_{{out}} \odot {sp.latex(claim(x_, y_))}",
                "N (any shape), x != 0", body, time_limit)


def _relu_kink(pr: Proof, forward, claim) -> None:
    """At 0: one-sided difference quotients, and the claimed value as a convention."""
    h = sp.Symbol("h", positive=True)
    right = sp.limit((forward(h) - forward(0)) / h, h, 0)
    left = sp.limit((forward(-h) - forward(0)) / (-h), h, 0)
    pr.step(r"\lim_{h \to 0^{+}} \frac{y(h) - y(0)}{h}", sp.latex(right), "slope from the right")
    pr.step(r"\lim_{h \to 0^{+}} \frac{y(-h) - y(0)}{-h}", sp.latex(left),
            "slope from the left: " + ("they differ, no derivative at 0" if right != left
                                       else "they agree"))
    at0 = sp.sympify(claim(sp.S.Zero, sp.S.Zero))
    a4 = pr.assume(rf"g'(0) := {sp.latex(at0)} \text{{ (a convention; any value in }} "
                   rf"[{sp.latex(left)}, {sp.latex(right)}] \text{{ is a subgradient)}}")
    inside = bool(sp.Min(left, right) <= at0) and bool(at0 <= sp.Max(left, right))
    pr.step("g'(0)", sp.latex(at0), f"{a4}, " + ("a subgradient" if inside
                                                 else "NOT a subgradient"))
    if not inside:
        pr.fail(f"the claimed g'(0) = {at0} is not between the one-sided slopes {left}, {right}")


# -- 8. add, mul with broadcasting; sum -----------------------------------------------------------
#: x_2 of each shape that broadcasts to (n, m): its entry at (row r, column q), and the axes
#: it is copied along. (m,) is (1, m): numpy puts missing axes in front, with size 1.
_BROADCASTS = {
    "(n, m)": (lambda r, q: X2[r, q], ()),
    "(n, 1)": (lambda r, q: X2[r], ("columns",)),
    "(1, m) or (m,)": (lambda r, q: X2[q], ("rows",)),
    "()": (lambda r, q: sp.Symbol("x_2", real=True), ("rows", "columns")),
}


def _unbroadcast(term: Callable, axes, fan_out: bool):
    r"""The claimed gradient of an input copied along ``axes``: ``term(r, q)`` summed over the
    copies (the fan-out rule; ``unbroadcast`` in the code) -- or, with ``fan_out=False`` (a
    planted bug), taken from the first copy only."""
    r = k if "rows" not in axes else (u if fan_out else 1)
    q = i if "columns" not in axes else (v if fan_out else 1)
    limits = [(u, 1, n)] * ("rows" in axes) + [(v, 1, m)] * ("columns" in axes)
    return sp.Sum(term(r, q), *limits) if (fan_out and limits) else term(r, q)


def _binary_proof(node: str, f: Callable, local: tuple[Callable, Callable], fan_out: bool,
                  time_limit) -> Proof:
    """y = f(x_1, x_2), x_1 of shape (n, m), x_2 of each shape that broadcasts to it."""
    def tex() -> str:
        how = r"\operatorname{unbroadcast}" if fan_out else r"\operatorname{first\ copy}"
        x1, x2 = sp.symbols("x_1 x_2")
        return r",\ ".join(rf"{_dL(nm)} = {how}(d_{{out}} \odot {sp.latex(g(x1, x2))})"
                           for nm, g in zip(("x_1", "x_2"), local))

    def body(pr: Proof) -> None:
        a1 = pr.assume(_chain())
        a2 = pr.assume(r"\text{broadcasting copies } x_2 \text{ along its size-1 axes; "
                       r"a missing leading axis counts as size 1}")
        a, b = sp.symbols("a b")
        symmetric = sp.simplify(f(a, b) - f(b, a)) == 0
        a3 = pr.assume(rf"f(x_1, x_2) = f(x_2, x_1) \text{{ (checked: {symmetric}), so a "
                       r"broadcast } x_1 \text{ is the same case with the names swapped}")
        if not symmetric:
            pr.fail(f"{node}: f is not symmetric, so the x_1-broadcast cases are not covered")
        for shape, (entry, axes) in _BROADCASTS.items():
            J = sp.Sum(G[u, v] * f(X1[u, v], entry(u, v)), (u, 1, n), (v, 1, m))
            pr.step(rf"J,\ x_2 \text{{ of shape }} {shape}", sp.latex(J), f"{a1}, {a2}, {a3}")
            for wrt, dloc, copied in ((X1[k, i], local[0], ()), (entry(k, i), local[1], axes)):
                got = _in_range(_sum_out(sp.diff(J, wrt)), k <= n, i <= m)
                pr.step(_dL(sp.latex(wrt)), sp.latex(got), "sympy.diff, deltas summed out")

                def term(r, q, dloc=dloc, entry=entry):
                    return G[r, q] * dloc(X1[r, q], entry(r, q))

                pr.check(_dL(sp.latex(wrt)), got, _unbroadcast(term, copied, fan_out))

    return _run(node, tex, "n, m", body, time_limit)


def add_proof(local=(lambda x1, x2: 1, lambda x1, x2: 1), fan_out: bool = True,
              time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove ``AddNode.backward``: :math:`dx_j = \operatorname{unbroadcast}(d_{out})` for
    every broadcast to an (n, m) result (x_2 of shape (n, m), (n, 1), (1, m), (m,) or ())."""
    return _binary_proof("AddNode", lambda a, b: a + b, local, fan_out, time_limit)


def mul_proof(local=(lambda x1, x2: x2, lambda x1, x2: x1), fan_out: bool = True,
              time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove ``MulNode.backward``: :math:`dx_1 = \operatorname{unbroadcast}(d_{out} \odot x_2)`,
    :math:`dx_2 = \operatorname{unbroadcast}(d_{out} \odot x_1)`, every broadcast shape."""
    return _binary_proof("MulNode", lambda a, b: a * b, local, fan_out, time_limit)


def sum_proof(claim: Callable = lambda g: g, time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove ``SumNode.backward``: :math:`y = \sum_s x_s` gives :math:`\partial L/\partial x_k
    = d_{out}` for every entry k, any shape (N entries)."""
    g = sp.Symbol("d_{out}")
    X = sp.IndexedBase("x", real=True)

    def body(pr: Proof) -> None:
        a1 = pr.assume(r"\text{chain rule: } J = d_{out}\, y \text{ with the scalar } "
                       r"d_{out} = \partial L/\partial y \text{ held fixed}")
        J = g * sp.Sum(X[ell], (ell, 1, N))
        pr.step("J", sp.latex(J), a1)
        d = _in_range(_sum_out(sp.diff(J, X[k])), k <= N)
        pr.step(_dL("x_k"), sp.latex(d), "sympy.diff, 1 ≤ k ≤ N")
        pr.check(_dL("x_k"), d, claim(g))

    return _run("SumNode", lambda: rf"{_dL('x_k')} = {sp.latex(claim(g))}", "N (any shape)",
                body, time_limit)


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


def batch_norm_proof(claim: Callable = batch_norm_backward,
                     time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove the batch-norm backward for every batch size m (one feature; features are
    independent): :math:`\mu = \frac1m\sum x_s`, :math:`\sigma^2 = \frac1m\sum (x_s-\mu)^2`,
    :math:`\hat x = (x-\mu)/\sqrt{\sigma^2+\epsilon}`, :math:`y = \gamma\hat x + \beta`."""
    Xb, Gb = sp.IndexedBase("x", real=True), sp.IndexedBase("g", real=True)
    gamma, beta = sp.symbols("gamma beta", real=True)
    eps = sp.Symbol("epsilon", positive=True)
    mu = sp.Sum(Xb[j], (j, 1, m)) / m
    std = sp.sqrt(sp.Sum((Xb[ell] - mu) ** 2, (ell, 1, m)) / m + eps)

    def xhat(s):
        return (Xb[s] - mu) / std

    def batch(f):
        return sp.Sum(f(j), (j, 1, m))

    def tex() -> str:
        shown = claim(lambda s: sp.IndexedBase(r"\hat{x}")[s], lambda s: Gb[s], k, m, gamma,
                      sp.sqrt(sp.Symbol(r"\sigma^{2}") + eps), batch)
        return _gradients_tex(("x_k", r"\gamma", r"\beta"), shown)

    def body(pr: Proof) -> None:
        a1 = pr.assume(_chain())
        a2 = pr.assume(r"\text{each feature (row) is normalised over the batch on its own, so "
                       r"one row } x_1..x_m \text{ is the general case}")
        a3 = pr.assume(r"\epsilon > 0 \ \text{(the square root is real and non-zero)}")
        J = sp.Sum(Gb[i] * (gamma * xhat(i) + beta), (i, 1, m))
        pr.step("J", sp.latex(J), f"{a1}, {a2}, {a3}")
        dx, dgamma, dbeta = claim(xhat, lambda s: Gb[s], k, m, gamma, std, batch)
        d = _in_range(_sum_out(sp.diff(J, Xb[k])), k <= m)
        pr.step(_dL("x_k"), sp.latex(d), "sympy.diff, deltas summed out innermost first, "
                "1 ≤ k ≤ m")
        pr.check(_dL("x_k"), d, dx)
        pr.check(_dL(r"\gamma"), sp.diff(J, gamma), dgamma)
        pr.check(_dL(r"\beta"), sp.diff(J, beta), dbeta)

    return _run("BatchNorm", tex, "m", body, time_limit)


# -- the registry ----------------------------------------------------------------------------------
def _elementwise(name: str) -> Callable[[], Proof]:
    return lambda: elementwise_proof(name)


#: Node class name -> a function building its proof with the formula the backward implements.
PROOFS: dict[str, Callable[[], Proof]] = {
    "SoftmaxWithLoss": softmax_with_loss_proof,
    "Softmax": softmax_proof,
    "CrossEntropy": cross_entropy_proof,
    "MSE": mse_proof,
    "Affine": affine_proof,
    "LayerBlock": layer_block_proof,
    "Sigmoid": _elementwise("Sigmoid"),
    "Tanh": _elementwise("Tanh"),
    "ReLU": relu_proof,
    "Identity": _elementwise("Identity"),
    "AddNode": add_proof,
    "MulNode": mul_proof,
    "NegNode": _elementwise("NegNode"),
    "PowNode": pow_proof,
    "ReciprocalNode": _elementwise("ReciprocalNode"),
    "ExpNode": _elementwise("ExpNode"),
    "LogNode": _elementwise("LogNode"),
    "MatMulNode": matmul_proof,
    "SumNode": sum_proof,
    "BatchNorm": batch_norm_proof,
}


def prove(node: str | type | object) -> Proof | None:
    """The proof for a node class (or its name, or an instance); None if there is none."""
    if not isinstance(node, str):
        node = (node if isinstance(node, type) else type(node)).__name__
    build = PROOFS.get(node)
    return build() if build is not None else None


def prove_all() -> list[Proof]:
    """Every registered proof, in registry order (each timed in ``Proof.seconds``)."""
    return [build() for build in PROOFS.values()]
