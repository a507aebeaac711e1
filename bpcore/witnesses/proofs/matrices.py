r"""Proofs for matrix nodes: the affine map, the matrix product and the layer block (chapter 5),
with ``MatrixSymbol`` objects of symbolic shape and traces of matrix products."""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from .proof import TIME_LIMIT, Proof, _run
from .sums import _XI, _canonical_lambdas, _chain, _dL, _hadamard, m, n, p

# -- 5. affine and matmul: traces of matrix products ---------------------------------------------
#: The symbolic sizes of the matrix proofs: W is n x p (n outputs, p inputs), A is p x m (m
#: examples as columns).
SIZES = "n, p, m (W is n × p, A is p × m)"


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


def _gradients(names, values) -> list:
    return [(_dL(nm), v) for nm, v in zip(names, values)]


def _check_matrices(pr: Proof, J, inputs, claimed) -> None:
    """For each input X: derive ∂J/∂X, check the claimed shape, then the claimed formula."""
    for X, want in zip(inputs, claimed):
        got = sp.diff(J, X)
        name = sp.latex(X)
        pr.step(_dL(name), got, "sympy.diff of the trace")
        if want.shape != X.shape:
            pr.fail(f"the claimed dL/d{X} has shape {want.shape}, but {X} has shape "
                    f"{X.shape} (a transpose missing or misplaced?)")
            pr.step(_dL(name), want, f"claimed: wrong shape {want.shape}")
            continue
        pr.check(_dL(name), got, want)


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
        pr.step("J", J, f"{a1}, {a2}; Σ D ⊙ Z = tr(Dᵀ Z)")
        _check_matrices(pr, J, (A, W, b), tuple(claim(W, A, D, one)))

    return _run("Affine", lambda: _gradients("AWb", claim(W, A, D, one)), SIZES,
                body, time_limit)


def matmul_proof(claim: Callable = matmul_backward,
                 time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove ``MatMulNode.backward``: for :math:`Z = W A`, :math:`\partial L/\partial W =
    D A^\top` and :math:`\partial L/\partial A = W^\top D`, all n, p, m."""
    W, A, _, D, _ = _matrices()

    def body(pr: Proof) -> None:
        a1 = pr.assume(_chain("D", "Z"))
        J = sp.Trace(D.T @ (W @ A))
        pr.step("J", J, f"{a1}; Σ D ⊙ Z = tr(Dᵀ Z)")
        _check_matrices(pr, J, (W, A), tuple(claim(W, A, D)))

    return _run("MatMulNode", lambda: _gradients("WA", claim(W, A, D)), SIZES, body,
                time_limit)


# -- 6. the layer block --------------------------------------------------------------------------
def layer_block_backward(W, A, G, dg, one):
    r"""What ``LayerBlock.backward(G)`` returns (true gradients, no 1/m):
    :math:`\mathrm{d}Z = G \odot g'(Z)`, then
    :math:`(W^\top \mathrm{d}Z,\ \mathrm{d}Z\,A^\top,\ \mathrm{d}Z\,\mathbf 1)`."""
    dz = _hadamard(G, dg)
    return W.T @ dz, dz @ A.T, dz @ one


def layer_block_proof(claim: Callable = layer_block_backward,
                      time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove ``LayerBlock.backward`` for :math:`a = g(W A + b\mathbf 1^\top)` with any
    differentiable elementwise g and all n, p, m, and show that the per-example notation
    (:math:`\delta = m\,\mathrm{d}Z`, :math:`\mathrm{d}W = \frac1m \delta A^\top`) gives the
    same numbers.

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

    def show(e):  # print g(Z), g'(Z) by name rather than in SymPy's mapping notation
        return _canonical_lambdas(e).xreplace(names)

    def body(pr: Proof) -> None:
        a1 = pr.assume(_chain("G", "a"))
        a2 = pr.assume(r"g \text{ differentiable, applied entry by entry: } "
                       r"a = g(Z),\ Z = W A + b\mathbf 1^\top")
        J = sp.Trace(G.T @ gZ)
        pr.step("J", J, f"{a1}, {a2}")
        _check_matrices(pr, J, (A, W, b), tuple(claim(W, A, G, dgZ, one)))
        _per_example_steps(pr, A, _hadamard(G, dgZ), one)

    return _run("LayerBlock", lambda: _gradients("AWb", claim(W, A, G, dgZ, one)),
                SIZES, body, time_limit, show=show)


def _per_example_steps(pr: Proof, A, dz, one) -> None:
    r"""The error term :math:`\delta = m\,\mathrm{d}Z` (one column per example) gives the
    same :math:`\mathrm{d}W = \frac1m \delta A^\top` and
    :math:`\mathrm{d}b = \frac1m \delta\mathbf 1`."""
    delta = m * dz
    pr.step(r"\delta", delta, "the error term m dZ, dZ = g'(Z) ⊙ G: column i is ∂ℓᵢ/∂zᵢ")
    pr.check("dW", delta @ A.T / m, dz @ A.T, lhs=r"\tfrac1m\,\delta A^\top - \mathrm{d}Z\,A^\top")
    pr.check("db", delta @ one / m, dz @ one,
             lhs=r"\tfrac1m\,\delta\mathbf 1 - \mathrm{d}Z\,\mathbf 1")
