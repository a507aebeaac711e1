r"""Proofs for elementwise nodes (any shape: the Jacobian is diagonal), ReLU's kink, power,
add and multiply under every broadcast, sum, and dropout with its fixed mask."""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from ...engine.arith import PowNode
from ...engine.node import Elementwise
from ...nn.activations import ReLU
from .proof import TIME_LIMIT, Proof, _run
from .sums import X1, X2, G, N, _chain, _dL, _in_range, _sum_out, ell, i, k, m, n, u, v, x_, y_
from .texwidth import _factor


# -- 7./8. elementwise nodes ---------------------------------------------------------------------
def _elementwise_jacobian(pr: Proof, const: sp.IndexedBase | None = None) -> None:
    r"""For any f applied entry by entry, :math:`\partial/\partial x_k \sum_s G_s f(x_s) =
    G_k f'(x_k)`: the Jacobian is diagonal, so dx = dout ⊙ f'(x) for every shape.

    With ``const`` (dropout's mask M), entry s is :math:`f(x_s; M_s)`, with a constant of its
    own: still a diagonal Jacobian."""
    f = sp.Function("f")
    X = sp.IndexedBase("x", real=True)
    a1 = pr.assume(_chain())
    if const is None:
        a2 = pr.assume(r"y_s = f(x_s) \text{ for each of the N entries (any shape, numbered } "
                       r"s = 1..N\text{): entry s of y depends on entry s of x alone}")
    else:
        a2 = pr.assume(rf"y_s = f(x_s; {const}_s) \text{{ for each of the N entries (any "
                       rf"shape, numbered }} s = 1..N\text{{): entry s of y depends on entry s "
                       rf"of x alone, and on a constant }} {const}_s \text{{ of its own}}")

    def entry(q):
        return f(X[q]) if const is None else f(X[q], const[q])

    J = sp.Sum(G[ell] * entry(ell), (ell, 1, N))
    pr.step("J", J, f"{a1}, {a2}")
    d = _in_range(_sum_out(sp.diff(J, X[k])), k <= N)
    pr.step(_dL("x_k"), d, "sympy.diff, KroneckerDelta summed out (1 ≤ k ≤ N)")
    pr.check(_dL("x_k"), d, G[k] * sp.diff(entry(k), X[k]), claim_note="a diagonal Jacobian")
    pr.step(_dL("x"), r"g \odot f'(x)",
            "the Jacobian is diagonal: the scalar derivative below proves every shape")


def _elementwise_proof(node: str, forward: Callable, claim: Callable, time_limit,
                       x=x_, domain: str | None = None) -> Proof:
    """Diagonal Jacobian (any shape), then f'(x) of ``forward`` == ``claim(x, y)``."""
    def body(pr: Proof) -> None:
        _elementwise_jacobian(pr)
        fx = forward(x)
        note = "the forward" + (f", {pr.assume(domain)}" if domain else "")
        pr.step("y", fx, note)
        d = sp.diff(fx, x)
        pr.step(r"\frac{\mathrm{d}y}{\mathrm{d}x}", d, "sympy.diff")
        pr.check("f'(x)", d, claim(x, fx))

    return _run(node, lambda: [(_dL("x"), rf"g \odot {_factor(claim(x, y_))}")],
                "N (any shape)", body, time_limit)


def _node_class(node: str | type) -> type:
    """A node class, or the registered node class of that name."""
    if isinstance(node, type):
        return node
    from ...engine.node import all_node_classes

    found = [c for c in all_node_classes() if c.__name__ == node]
    if not found:
        raise KeyError(f"no registered node class named {node!r}")
    return found[0]


def elementwise_proof(node: str | type[Elementwise], claim: Callable | None = None,
                      time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove an elementwise node's backward :math:`\mathrm{d}x = \mathrm{d}y \odot f'(x)`
    for every shape.

    The forward is the node's own ``symbolic`` form and ``claim(x, y)`` (default: the node's
    own ``derivative``) the local derivative the backward uses, written through the input x
    and/or the cached output y (σ: y(1−y), tanh: 1−y², exp: y, 1/x: −y², ln: 1/x). A node
    whose ``domain`` is ``"positive"`` (ln) is proved for x > 0.
    """
    cls = _node_class(node)
    instance = cls()
    if claim is None:
        def claim(x, y):  # a constant derivative (1, -1) comes back as a Python int
            return sp.sympify(instance.derivative(x, y))
    if getattr(cls, "domain", None) == "positive":
        return _elementwise_proof(cls.__name__, instance.symbolic, claim, time_limit,
                                  x=sp.Symbol("x", positive=True),
                                  domain=r"x > 0 \ \text{(the domain of ln)}")
    return _elementwise_proof(cls.__name__, instance.symbolic, claim, time_limit)


def pow_backward(x, y, c):
    r"""What ``PowNode.backward`` computes, :math:`c\,x^{c-1}`: the node's own ``derivative``
    with a symbolic exponent."""
    node = PowNode()
    node.c = c
    return node.derivative(x, y)


def pow_proof(claim: Callable = pow_backward, time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove ``PowNode``'s :math:`\mathrm{d}x = \mathrm{d}y \odot c\,x^{c-1}` for a symbolic
    constant c.

    The node's own symbolic form needs a number for c, so the forward here is :math:`x^c`
    written directly, for every real c at once."""
    c = sp.Symbol("c", real=True)
    return _elementwise_proof("PowNode", lambda x: x**c, lambda x, y: claim(x, y, c),
                              time_limit, domain=r"c \text{ a constant (not differentiated)}")


def relu_backward(x, y):
    r"""What ``ReLU.backward`` uses: the mask :math:`[x > 0]` (so f'(0) = 0), the node's own
    ``derivative``."""
    return ReLU().derivative(x, y)


def relu_proof(claim: Callable = relu_backward, time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove ReLU's mask for x > 0 and for x < 0; at x = 0, where max(0, x) has no
    derivative, compute the one-sided slopes and record the mask's value there as a convention.

    Proved: :math:`g'(x) = [x > 0]` for every :math:`x \ne 0`. Convention: the value at 0
    (bpcore uses 0; that it lies between the one-sided slopes, a subgradient, is checked)."""
    forward = ReLU().symbolic

    def body(pr: Proof) -> None:
        _elementwise_jacobian(pr)
        pr.step("y", forward(x_), "the forward (bpcore's symbolic form)")
        a3 = pr.assume(r"x \ne 0 \text{ for the derivative } (x = 0 \text{ is a convention})")
        for sign, x in (("x > 0", sp.Symbol("x", positive=True)),
                        ("x < 0", sp.Symbol("x", negative=True))):
            d = sp.diff(forward(x), x)
            dydx = r"\frac{\mathrm{d}y}{\mathrm{d}x}"
            pr.step(rf"{dydx}\Big|_{{{sign}}}", d, f"sympy.diff, {a3}")
            pr.check(rf"f'(x),\ {sign}", d, claim(x, forward(x)))
        _relu_kink(pr, forward, claim)

    return _run("ReLU", lambda: [(_dL("x"), rf"g \odot {_factor(claim(x_, y_))}")],
                "N (any shape), x != 0", body, time_limit)


def _relu_kink(pr: Proof, forward, claim) -> None:
    """At 0: one-sided difference quotients, and the claimed value as a convention."""
    h = sp.Symbol("h", positive=True)
    right = sp.limit((forward(h) - forward(0)) / h, h, 0)
    left = sp.limit((forward(-h) - forward(0)) / (-h), h, 0)
    pr.step(r"\lim_{h \to 0^{+}} \frac{y(h) - y(0)}{h}", right, "slope from the right")
    pr.step(r"\lim_{h \to 0^{+}} \frac{y(-h) - y(0)}{-h}", left,
            "slope from the left: " + ("they differ, no derivative at 0" if right != left
                                       else "they agree"))
    at0 = sp.sympify(claim(sp.S.Zero, sp.S.Zero))
    a4 = pr.assume(rf"f'(0) := {sp.latex(at0)} \text{{ (a convention; any value in }} "
                   rf"[{sp.latex(left)}, {sp.latex(right)}] \text{{ is a subgradient)}}")
    inside = bool(sp.Min(left, right) <= at0) and bool(at0 <= sp.Max(left, right))
    pr.step("f'(0)", at0, f"{a4}, " + ("a subgradient" if inside
                                                 else "NOT a subgradient"))
    if not inside:
        pr.fail(f"the claimed f'(0) = {at0} is not between the one-sided slopes {left}, {right}")


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
    def claimed() -> list:
        how = r"\operatorname{unbroadcast}" if fan_out else r"\operatorname{first\ copy}"
        x1, x2 = sp.symbols("x_1 x_2")
        return [(_dL(nm), rf"{how}(g \odot {_factor(g(x1, x2))})")
                for nm, g in zip(("x_1", "x_2"), local)]

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
            pr.step("J", J, f"x2 of shape {shape}: {a1}, {a2}, {a3}")
            for wrt, dloc, copied in ((X1[k, i], local[0], ()), (entry(k, i), local[1], axes)):
                got = _in_range(_sum_out(sp.diff(J, wrt)), k <= n, i <= m)
                pr.step(_dL(sp.latex(wrt)), got, "sympy.diff, deltas summed out")

                def term(r, q, dloc=dloc, entry=entry):
                    return G[r, q] * dloc(X1[r, q], entry(r, q))

                pr.check(_dL(sp.latex(wrt)), got, _unbroadcast(term, copied, fan_out))

    return _run(node, claimed, "n, m", body, time_limit)


def add_proof(local=(lambda x1, x2: 1, lambda x1, x2: 1), fan_out: bool = True,
              time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove ``AddNode.backward``:
    :math:`\mathrm{d}x_j = \operatorname{unbroadcast}(\mathrm{d}y)` for
    every broadcast to an (n, m) result (x_2 of shape (n, m), (n, 1), (1, m), (m,) or ())."""
    return _binary_proof("AddNode", lambda a, b: a + b, local, fan_out, time_limit)


def mul_proof(local=(lambda x1, x2: x2, lambda x1, x2: x1), fan_out: bool = True,
              time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove ``MulNode.backward``:
    :math:`\mathrm{d}x_1 = \operatorname{unbroadcast}(\mathrm{d}y \odot x_2)`,
    :math:`\mathrm{d}x_2 = \operatorname{unbroadcast}(\mathrm{d}y \odot x_1)`, every broadcast
    shape."""
    return _binary_proof("MulNode", lambda a, b: a * b, local, fan_out, time_limit)


def sum_proof(claim: Callable = lambda g: g, time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove ``SumNode.backward``: :math:`y = \sum_s x_s` gives :math:`\partial L/\partial x_k
    = \mathrm{d}y` for every entry k, any shape (N entries)."""
    g = sp.Symbol("g")
    X = sp.IndexedBase("x", real=True)

    def body(pr: Proof) -> None:
        a1 = pr.assume(r"\text{chain rule: } J = g\, y \text{ with the scalar } "
                       r"g = \partial L/\partial y \text{ held fixed}")
        J = g * sp.Sum(X[ell], (ell, 1, N))
        pr.step("J", J, a1)
        d = _in_range(_sum_out(sp.diff(J, X[k])), k <= N)
        pr.step(_dL("x_k"), d, "sympy.diff, 1 ≤ k ≤ N")
        pr.check(_dL("x_k"), d, claim(g))

    return _run("SumNode", lambda: [(_dL("x_k"), claim(g))], "N (any shape)",
                body, time_limit)


# -- 10. dropout ---------------------------------------------------------------------------------
def dropout_backward(x, y, r, p):
    r"""What ``Dropout.backward`` uses in train mode: the cached mask :math:`M = r/p`."""
    return r / p


def dropout_proof(claim: Callable = dropout_backward,
                  time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove ``Dropout.backward`` in train mode, :math:`\mathrm{d}x = \mathrm{d}y \odot M` with
    the mask
    :math:`M = r/p` (:math:`r_s \in \{0, 1\}`, keep probability p) drawn in forward, for
    every shape.

    For a fixed mask, dropout multiplies each entry by a constant of its own, y_s = M_s x_s:
    the Jacobian is diagonal, so the scalar derivative d(M x)/dx = M is the proof for every
    shape. Eval mode is the identity (no mask), which the Identity proof covers.
    ``claim(x, y, r, p)`` is the local derivative the backward uses."""
    r = sp.Symbol("r", real=True)
    keep = sp.Symbol("p", positive=True)

    def body(pr: Proof) -> None:
        _elementwise_jacobian(pr, const=sp.IndexedBase("M"))
        a3 = pr.assume(r"M = r/p \text{ is drawn once in forward (} r_s \in \{0, 1\} \text{, "
                       r"kept with probability } 0 < p \le 1\text{), cached and reused by "
                       r"backward: a constant, not a function of } x")
        y = x_ * r / keep
        pr.step("y", y, f"the forward for one entry, {a3}")
        d = sp.diff(y, x_)
        pr.step(r"\frac{\mathrm{d}y}{\mathrm{d}x}", d,
                "sympy.diff: elementwise with a constant mask, so this "
                "scalar derivative is the proof")
        pr.check("f'(x)", d, claim(x_, y, r, keep))

    return _run("Dropout", lambda: [(_dL("x"), rf"g \odot "
                                     rf"{_factor(claim(x_, y_, r, keep))}")],
                "N (any shape), train mode", body, time_limit)
