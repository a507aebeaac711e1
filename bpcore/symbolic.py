"""SymPy as the third witness: derive gradients symbolically, show the steps, compare.

The same Python function serves three purposes. Called on :class:`~bpcore.value.Value`
objects it records a graph for backprop; called on SymPy symbols (or numpy arrays of them)
it builds the exact expression; called on floats it is the forward pass that finite
differences perturb. :func:`verify` runs all three and reports the relative errors.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from .checks import as_float_array
from .gradcheck import DEFAULT_H, DEFAULT_TOL, numerical_gradient, rel_error, verdict
from .node import Node


# -- symbols -------------------------------------------------------------------------------
def symbols_like(name: str, shape: tuple[int, ...]):
    """A SymPy symbol (shape ``()``) or an object array of symbols ``name_{i,j}`` (1-based)."""
    if shape == ():
        return sp.Symbol(name, real=True)
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(*shape):
        sub = ",".join(str(i + 1) for i in idx)
        out[idx] = sp.Symbol(f"{name}_{{{sub}}}", real=True)
    return out


def _flat(x) -> list:
    return list(np.asarray(x, dtype=object).reshape(-1))


def _as_scalar_expr(out, dout):
    """The scalar whose gradient is checked: the output itself, or sum(dout * out)."""
    if isinstance(out, np.ndarray):
        if out.shape == ():
            return sp.sympify(out[()])
        return sp.Add(*[d * o for d, o in zip(np.asarray(dout).reshape(-1), out.reshape(-1))])
    return sp.sympify(out)


def _evaluate(exprs: list, syms: list, values: list) -> np.ndarray:
    # lambdify renames symbols that are not Python identifiers (``W_{1,2}``) with one pass over
    # the expressions per symbol, which dominates for matrix nodes; rename all in one pass.
    safe = [sp.Symbol(f"_bp_s{i}", **s.assumptions0) for i, s in enumerate(syms)]
    mapping = dict(zip(syms, safe))
    exprs = [sp.sympify(e).xreplace(mapping) for e in exprs]
    f = sp.lambdify(safe, exprs, modules="numpy")
    return np.asarray(f(*values), dtype=np.float64)


# -- the derivation object -------------------------------------------------------------------
@dataclass
class Derivation:
    """Steps of a derivation, shown as aligned LaTeX in a notebook and as text elsewhere.

    Each step is ``(lhs, rhs, note)`` in LaTeX; ``note`` is plain text shown at the right.
    """

    steps: list[tuple[str, str, str]] = field(default_factory=list)
    title: str = ""

    def add(self, lhs: str, rhs: str, note: str = "") -> Derivation:
        self.steps.append((lhs, rhs, note))
        return self

    def _repr_latex_(self) -> str:
        rows = []
        for lhs, rhs, note in self.steps:
            tail = rf" && \text{{{note}}}" if note else ""
            rows.append(rf"{lhs} &= {rhs}{tail}")
        return "$$\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}$$"

    def __repr__(self) -> str:
        head = [self.title] if self.title else []
        return "\n".join(head + [f"{lhs} = {rhs}" + (f"    [{n}]" if n else "")
                                 for lhs, rhs, n in self.steps])


def latex(expr) -> str:
    """LaTeX of a SymPy expression (or array of them) in the book's style."""
    if isinstance(expr, np.ndarray):
        return sp.latex(sp.Matrix(expr if expr.ndim == 2 else expr.reshape(-1, 1)))
    return sp.latex(expr)


def equal(a, b) -> bool:
    """True if SymPy can prove ``a - b == 0`` (after simplification).

    Hyperbolic forms are also tried rewritten as exponentials: SymPy's derivative of the
    sigmoid simplifies to ``1/(4 cosh(x/2)**2)``, which ``simplify`` alone cannot match with
    ``sigma (1 - sigma)``.
    """
    d = sp.sympify(a) - sp.sympify(b)
    return sp.simplify(d) == 0 or sp.simplify(d.rewrite(sp.exp)) == 0


def derive(f: Callable, *names: str, shapes: Sequence[tuple[int, ...]] | None = None,
           output: str = "f") -> tuple[Derivation, list]:
    """Derive the gradient of ``f`` with respect to each named input symbolically.

    Returns the derivation (``f = ...`` then one line per partial derivative) and the list of
    gradient expressions (arrays of expressions for array inputs).
    """
    shapes = list(shapes) if shapes is not None else [()] * len(names)
    syms = [symbols_like(n, s) for n, s in zip(names, shapes)]
    out = f(*syms)
    expr = _as_scalar_expr(out, np.ones(np.shape(out)))
    d = Derivation().add(output, latex(expr))
    grads = []
    for n, s in zip(names, syms):
        if isinstance(s, np.ndarray):
            g = np.vectorize(lambda v: sp.simplify(sp.diff(expr, v)), otypes=[object])(s)
            d.add(rf"\frac{{\partial {output}}}{{\partial {n}}}", latex(g))
        else:
            g = sp.simplify(sp.diff(expr, s))
            d.add(rf"\frac{{\partial {output}}}{{\partial {n}}}", latex(g))
        grads.append(g)
    return d, grads


# -- verification -----------------------------------------------------------------------------
@dataclass
class Check:
    """The three relative errors for one input."""

    name: str
    sym_vs_bp: float
    bp_vs_fd: float
    sym_vs_fd: float

    @property
    def worst(self) -> float:
        # np.max, not max: a NaN error must come out as the worst (max() can skip it)
        return float(np.max([self.sym_vs_bp, self.bp_vs_fd, self.sym_vs_fd]))


@dataclass
class VerificationReport:
    """Symbolic, backprop and finite-difference gradients compared, input by input."""

    checks: list[Check]
    tol: float
    symbolic: list = field(default_factory=list)
    backprop: list = field(default_factory=list)
    numeric: list = field(default_factory=list)

    @property
    def worst(self) -> float:
        return float(np.max([c.worst for c in self.checks])) if self.checks else 0.0

    @property
    def passed(self) -> bool:
        return self.worst <= self.tol

    def __repr__(self) -> str:
        # Verdicts, not error sizes: a passing error is rounding noise whose digits depend on
        # the CPU (see bpcore.gradcheck.verdict). The numbers are in .checks.
        rows = [f"{'input':<8}{'SymPy = backprop':>18}{'backprop = FD':>15}{'SymPy = FD':>12}"]
        for c in self.checks:
            rows.append(f"{c.name:<8}{verdict(c.sym_vs_bp, self.tol):>18}"
                        f"{verdict(c.bp_vs_fd, self.tol):>15}{verdict(c.sym_vs_fd, self.tol):>12}")
        summary = "all three agree" if self.passed else "they DISAGREE"
        rows.append(f"{summary} (relative tolerance {self.tol:.0e})")
        return "\n".join(rows)


def _compare(names: list[str], syms: list, expr, values: list, backprop: list, numeric: list,
             tol: float) -> VerificationReport:
    """The three-way comparison shared by :func:`verify` and :func:`verify_node`.

    ``expr`` is the scalar SymPy expression in the symbols ``syms``; its derivatives are
    evaluated at ``values`` (one float array per input) and compared with the backprop and
    finite-difference gradients.
    """
    flat_syms = [v for x in syms for v in _flat(x)]
    flat_vals = [float(v) for a in values for v in np.asarray(a, dtype=float).reshape(-1)]
    symbolic = [_evaluate([sp.diff(expr, v) for v in _flat(x)], flat_syms, flat_vals)
                .reshape(np.shape(a)) for x, a in zip(syms, values)]
    checks = [Check(n, rel_error(s, b), rel_error(b, d), rel_error(s, d))
              for n, s, b, d in zip(names, symbolic, backprop, numeric)]
    return VerificationReport(checks, tol, symbolic, backprop, numeric)


def verify(f: Callable, *xs: object, names: Sequence[str] | None = None,
           h: float = DEFAULT_H, tol: float = DEFAULT_TOL, seed: int = 0) -> VerificationReport:
    """Differentiate ``f`` three ways at ``xs`` and compare.

    ``f`` is written with operators and :mod:`bpcore.ops` functions so that it runs on Values
    (backprop), on SymPy symbols (exact derivative) and on floats (finite differences). If it
    returns an array, the scalar checked is ``sum(dout * f)`` with a fixed random ``dout``.
    """
    from .value import Value

    arrays = [as_float_array(x, f"input {i}") for i, x in enumerate(xs)]
    names = list(names) if names is not None else [f"x{i + 1}" for i in range(len(xs))]
    plain = [float(a) if a.ndim == 0 else a for a in arrays]

    leaves = [Value(x, label=n) for x, n in zip(plain, names)]
    out = f(*leaves)
    dout = None
    if not isinstance(out.data, float):
        dout = np.random.default_rng(seed).normal(size=np.shape(out.data))
    out.backward(dout)

    def scalar(*args):
        y = f(*(Value(a) for a in args)).data
        return float(np.sum(y * dout)) if dout is not None else y

    numeric = numerical_gradient(scalar, *plain, h=h)
    syms = [symbols_like(n, a.shape) for n, a in zip(names, arrays)]
    expr = _as_scalar_expr(f(*syms), dout)
    return _compare(names, syms, expr, arrays, [v.grad for v in leaves], numeric, tol)


def verify_node(node: Node, inputs: Sequence, h: float = DEFAULT_H, tol: float = DEFAULT_TOL,
                seed: int = 0) -> VerificationReport:
    r"""Verify one node's ``backward`` against ``sympy.diff`` of its ``symbolic`` form and FD.

    Inputs past ``node.n_grad`` are constants (labels) and are passed through as numbers. The
    scalar checked is :math:`J = \sum \text{dout} \odot \text{out}` for a fixed random
    ``dout``, so ``backward(dout)`` must return exactly :math:`\partial J/\partial x`: the one
    contract of every node, with no convention to adjust for.

    The node is never changed: forward and backward run on a deep copy, and every finite-
    difference evaluation starts from a fresh copy of the original, so a node with state
    (running statistics, a random mask) is seen exactly as the caller left it.
    """
    inputs = list(inputs)
    k = node.n_grad
    pristine = copy.deepcopy(node)
    work = copy.deepcopy(node)
    out = work.forward(*inputs)
    # A stream of its own: examples are often drawn from default_rng(seed) too, and a dout equal
    # to the input's own draws can be degenerate (for batch norm it lies in the span of 1 and
    # x, where the gradient vanishes).
    dout_rng = np.random.default_rng([seed, 0xD0])
    dout = 1.0 if np.ndim(out) == 0 else dout_rng.normal(size=np.shape(out))
    grads = work.backward(dout)
    grads = grads if isinstance(grads, tuple) else (grads,)
    backprop = [np.asarray(g, dtype=np.float64) for g in grads[:k]]

    def scalar(*args):
        fresh = copy.deepcopy(pristine)
        return float(np.sum(np.asarray(fresh.forward(*args, *inputs[k:])) * dout))

    numeric = numerical_gradient(scalar, *inputs[:k], h=h)
    names = [f"x{i + 1}" for i in range(k)]
    syms = [symbols_like(n, np.shape(x)) for n, x in zip(names, inputs[:k])]
    expr = _as_scalar_expr(np.asarray(pristine.symbolic(*syms, *inputs[k:]), dtype=object),
                           np.asarray(dout))
    return _compare(names, syms, expr, inputs[:k], backprop, numeric, tol)


def backward_derivation(root, fmt: str = "{:.4g}") -> Derivation:
    r"""The backward pass of a scalar graph, one line per edge: upstream × local = downstream.

    Each local derivative is derived by ``sympy.diff`` from the node's symbolic form and
    evaluated at the recorded forward values; ``root.backward()`` must have been called, and
    the note on each line ends in "ok" where the product equals what backprop computed (to
    1e-9 relative), or says MISMATCH.

    A value used once gets its gradient on one line, :math:`\partial L/\partial v = \dots`. A
    value used several times (it fans out) gets one line per use, each written
    :math:`\partial L/\partial v\,|_{\text{via} \ldots}`: a *contribution*, not the gradient.
    Once its last use has been visited, a line states the gradient itself, the sum of its
    contributions, and checks it against ``v.grad``.

    In a local derivative the node's inputs are called x_1, x_2, ...; an unlabelled constant
    (the ``-1`` in ``x * -1``) is substituted as a number and gets no line of its own, since
    nothing upstream needs its gradient.
    """
    from .value import topological_order

    order = topological_order(root)
    uses: dict[int, int] = {}  # how many edges leave each value
    for v in order:
        for p in v.parents:
            uses[id(p)] = uses.get(id(p), 0) + 1
    parts: dict[int, list[float]] = {}  # contributions seen so far
    d = Derivation()
    for v in reversed(order):
        if v.node is None:
            continue
        xs = [_local_symbol(p, i) for i, p in enumerate(v.parents)]
        y = v.node.symbolic(*xs)
        at = {s: q.data for s, q in zip(xs, v.parents) if isinstance(s, sp.Symbol)}
        grads = v.node.backward(v.grad)
        for i, (p, x) in enumerate(zip(v.parents, xs)):
            if not isinstance(x, sp.Symbol):
                continue  # a constant
            local = sp.diff(y, x)
            local_num = float(local.subs(at))
            down = float(v.grad) * local_num
            ok = "ok" if _close(down, grads[i]) else "MISMATCH with backprop"
            name = p.label or f"({fmt.format(float(p.data))})"
            grad = rf"\frac{{\partial L}}{{\partial \text{{{name}}}}}"
            under = rf"\underbrace{{{fmt.format(local_num)}}}_{{{sp.latex(local)}}}"
            product = rf"{fmt.format(v.grad)} \times {under} = {fmt.format(down)}"
            n_uses = uses[id(p)]
            if n_uses == 1:
                d.add(grad, product, f"via {v.node.symbol}: {ok}")
                continue
            seen = parts.setdefault(id(p), [])
            seen.append(down)
            d.add(rf"{grad}\Big|_{{\text{{via }} {v.node.symbol}}}", product,
                  f"contribution {len(seen)} of {n_uses}: {ok}")
            if len(seen) == n_uses:  # every use visited: the gradient is their sum
                total = " + ".join(_signed(c, fmt) for c in seen)
                ok = "ok" if _close(sum(seen), p.grad) else "MISMATCH with backprop"
                d.add(grad, rf"{total} = {fmt.format(sum(seen))}",
                      f"sum of {n_uses} contributions: {ok}")
    return d


def _close(a: float, b) -> bool:
    return math.isclose(a, float(b), rel_tol=1e-9, abs_tol=1e-12)


def _signed(x: float, fmt: str) -> str:
    text = fmt.format(x)
    return rf"\left({text}\right)" if text.startswith("-") else text


def _local_symbol(p, i: int):
    """The SymPy stand-in for input i of a node: a number for a constant, else a Symbol."""
    if p.node is None and not p.label:
        c = float(p.data)
        return sp.Integer(int(c)) if c.is_integer() else sp.Float(c)
    return sp.Symbol(f"x_{i + 1}", real=True)
