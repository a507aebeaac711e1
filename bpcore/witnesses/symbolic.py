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
from .derivation import _flat, symbols_like
from .gradcheck import DEFAULT_H, numerical_gradient
from .report import DEFAULT_TOL, Comparison, Report

#: The three pairs of witnesses, in the order a report shows them.
PAIRS = ("SymPy = backprop", "backprop = FD", "SymPy = FD")


def _evaluate(exprs: list, syms: list, values: list) -> np.ndarray:
    # Substitute the numbers as 53-bit SymPy Floats and let SymPy evaluate: as accurate as
    # float64, and for matrix nodes several times faster than lambdify, whose cost is printing
    # the expressions as Python source.
    subs = {s: sp.Float(v) for s, v in zip(syms, values)}
    return np.array([float(sp.sympify(e).xreplace(subs)) for e in exprs], dtype=np.float64)


def _terms(out, dout) -> list[tuple[object, sp.Expr, set]]:
    """The scalar checked, ``sum(dout * out)`` (or the output itself), as its terms, each with
    the symbols it depends on."""
    if isinstance(out, np.ndarray) and out.shape != ():
        pairs = zip(np.asarray(dout).reshape(-1), out.reshape(-1))
    else:
        pairs = [(1, out[()] if isinstance(out, np.ndarray) else out)]
    return [(d, e, e.free_symbols) for d, e in ((d, sp.sympify(o)) for d, o in pairs)]


def _derivative(terms: list, v: sp.Symbol) -> sp.Expr:
    # d/dv of a sum is the sum of the derivatives of the terms that contain v: the same exact
    # derivative as sp.diff of the whole sum, without walking the terms that do not
    # depend on v (a layer's output entry depends on one row of W and one column of A)
    return sp.Add(*[d * sp.diff(e, v) for d, e, free in terms if v in free])


def exact_gradients(out, dout, syms: list, values: list) -> list[np.ndarray]:
    """SymPy's gradient of the scalar ``sum(dout * out)`` (of ``out`` itself when ``dout`` is
    None) with respect to each input's symbols ``syms``, evaluated in float64 at ``values``
    (one array per input, shaped like it)."""
    if dout is not None:
        out = np.asarray(out, dtype=object)
    terms = _terms(out, dout)
    flat_syms = [v for x in syms for v in _flat(x)]
    flat_vals = [float(v) for a in values for v in np.asarray(a, dtype=float).reshape(-1)]
    return [_evaluate([_derivative(terms, v) for v in _flat(x)], flat_syms, flat_vals)
            .reshape(np.shape(a)) for x, a in zip(syms, values)]


def _compare(names: list[str], symbolic: list, backprop: list, numeric: list, tol: float,
             subject: str) -> Report:
    """The three-way comparison shared by :func:`verify` and :func:`verify_node`."""
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
    symbolic = exact_gradients(f(*syms), dout, syms, arrays)
    return _compare(names, symbolic, [v.grad for v in leaves], numeric, tol,
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
    symbolic = exact_gradients(pristine.symbolic(*syms, *inputs[k:]), np.asarray(dout), syms,
                               inputs[:k])
    return _compare(names, symbolic, backprop, numeric, tol, repr(node))




def _name(f: Callable) -> str:
    name = getattr(f, "__name__", "f")
    return "f" if name == "<lambda>" else name
