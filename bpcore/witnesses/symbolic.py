"""SymPy as the third witness: a gradient derived exactly, compared with backprop and FD.

The same Python function serves three purposes. Called on :class:`~bpcore.engine.value.Value`
objects it records a graph for backprop; called on SymPy symbols (or numpy arrays of them)
it builds the exact expression; called on floats it is the forward pass that finite
differences perturb. :func:`verify` runs all three on a function, :func:`verify_node` on a
node's ``forward``/``backward``/``symbolic``; both return a
:class:`~bpcore.witnesses.report.Report` with three comparisons per input.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import numpy as np
import sympy as sp

from ..checks import as_float_array
from ..engine.node import Node
from .derivation import _as_scalar_expr, _flat, symbols_like
from .gradcheck import DEFAULT_H, numerical_gradient
from .report import DEFAULT_TOL, Comparison, Report

#: The three pairs of witnesses, in the order a report shows them.
PAIRS = ("SymPy = backprop", "backprop = FD", "SymPy = FD")


def _evaluate(exprs: list, syms: list, values: list) -> np.ndarray:
    # lambdify renames symbols that are not Python identifiers (``W_{1,2}``) with one pass over
    # the expressions per symbol, which dominates for matrix nodes; rename all in one pass.
    safe = [sp.Symbol(f"_bp_s{i}", **s.assumptions0) for i, s in enumerate(syms)]
    mapping = dict(zip(syms, safe))
    exprs = [sp.sympify(e).xreplace(mapping) for e in exprs]
    f = sp.lambdify(safe, exprs, modules="numpy")
    return np.asarray(f(*values), dtype=np.float64)


def _compare(names: list[str], syms: list, expr, values: list, backprop: list, numeric: list,
             tol: float, subject: str) -> Report:
    """The three-way comparison shared by :func:`verify` and :func:`verify_node`.

    ``expr`` is the scalar SymPy expression in the symbols ``syms``; its derivatives are
    evaluated at ``values`` (one float array per input) and compared with the backprop and
    finite-difference gradients.
    """
    flat_syms = [v for x in syms for v in _flat(x)]
    flat_vals = [float(v) for a in values for v in np.asarray(a, dtype=float).reshape(-1)]
    symbolic = [_evaluate([sp.diff(expr, v) for v in _flat(x)], flat_syms, flat_vals)
                .reshape(np.shape(a)) for x, a in zip(syms, values)]
    report = Report(subject, tol=tol,
                    values={"SymPy": symbolic, "backprop": backprop, "FD": numeric})
    for n, sym, b, d in zip(names, symbolic, backprop, numeric):
        for pair, (u, w) in zip(PAIRS, ((sym, b), (b, d), (sym, d))):
            report.add(Comparison.of(n, pair, u, w, tol))
    return report


def verify(f: Callable, *xs: object, names: Sequence[str] | None = None,
           h: float = DEFAULT_H, tol: float = DEFAULT_TOL, seed: int = 0) -> Report:
    """Differentiate ``f`` three ways at ``xs`` and compare.

    ``f`` is written with operators and :mod:`bpcore.nn.functional` functions so that it runs on
    Values (backprop), on SymPy symbols (exact derivative) and on floats (finite differences). If it
    returns an array, the scalar checked is ``sum(dout * f)`` with a fixed random ``dout``.
    """
    from ..engine.value import Value

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
    return _compare(names, syms, expr, arrays, [v.grad for v in leaves], numeric, tol,
                    _name(f))


def verify_node(node: Node, inputs: Sequence, h: float = DEFAULT_H, tol: float = DEFAULT_TOL,
                seed: int = 0) -> Report:
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
    return _compare(names, syms, expr, inputs[:k], backprop, numeric, tol, repr(node))




def _name(f: Callable) -> str:
    name = getattr(f, "__name__", "f")
    return "f" if name == "<lambda>" else name
