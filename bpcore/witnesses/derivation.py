r"""SymPy derivations as the chapters show them: steps a reader can follow.

:class:`Derivation` is a list of steps ``lhs = rhs  [note]`` that displays as aligned LaTeX in a
notebook; :func:`derive` differentiates a function written with ordinary operators;
:func:`backward_derivation` writes a recorded graph's backward pass edge by edge (upstream ×
local = downstream), each local derivative from ``sympy.diff`` of the node's symbolic form and
checked against what backprop computed; :func:`equal` asks SymPy whether two forms agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy as sp


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


def backward_derivation(root, fmt: str = "{:.4g}", output: str = "L") -> Derivation:
    r"""The backward pass of a scalar graph, one line per edge: upstream × local = downstream.

    Each local derivative is derived by ``sympy.diff`` from the node's symbolic form and
    evaluated at the recorded forward values; ``root.backward()`` must have been called, and
    the note on each line ends in "ok" where the product equals what backprop computed (to
    1e-9 relative), or says MISMATCH.

    ``output`` names the root in the lines (``L`` for a loss). A value used once gets its
    gradient on one line, :math:`\partial L/\partial v = \dots`. A
    value used several times (it fans out) gets one line per use, each written
    :math:`\partial L/\partial v\,|_{\text{via} \ldots}`: a *contribution*, not the gradient.
    Once its last use has been visited, a line states the gradient itself, the sum of its
    contributions, and checks it against ``v.grad``.

    In a local derivative the node's inputs are called x_1, x_2, ...; an unlabelled constant
    (the ``-1`` in ``x * -1``) is substituted as a number and gets no line of its own, since
    nothing upstream needs its gradient.
    """
    from ..engine.value import topological_order

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
            grad = rf"\frac{{\partial {output}}}{{\partial \text{{{name}}}}}"
            under = rf"\underbrace{{{fmt.format(local_num)}}}_{{{sp.latex(local)}}}"
            product = rf"{fmt.format(v.grad)} \times {under} = {fmt.format(down)}"
            n_uses = uses[id(p)]
            if n_uses == 1:
                d.add(grad, product, f"via {v.node.symbol}: {ok}")
                continue
            seen = parts.setdefault(id(p), [])
            seen.append(down)
            d.add(rf"{grad}\Big|_{{\text{{via }} {v.node.symbol}}}", product,
                  f"contribution {len(seen)}/{n_uses}: {ok}")
            if len(seen) == n_uses:  # every use visited: the gradient is their sum
                total = " + ".join(_signed(c, fmt) for c in seen)
                ok = "ok" if _close(sum(seen), p.grad) else "MISMATCH with backprop"
                d.add(grad, rf"{total} = {fmt.format(sum(seen))}",
                      f"contributions summed: {ok}")
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
