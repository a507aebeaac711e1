r"""Proofs for every size: each node's backward derived with SymPy for *symbolic* dimensions.

:func:`bpcore.witnesses.symbolic.verify_node` checks a node at a few fixed shapes. Here the sizes
are symbols (K classes, m columns, an n×p weight matrix, ...), so one computation covers every
shape:

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

The package: ``proof`` (the proof object and its time limit), ``sums`` (SymPy helpers),
``texwidth`` (how wide a proof renders, where it breaks), and one module per family of
nodes: ``losses``, ``matrices``, ``elementwise``, ``batchnorm``. Which node has
which proof is found, not listed: every elementwise node (a subclass of
:class:`~bpcore.engine.node.Elementwise`) gets the elementwise proof, from its own
``symbolic`` form and ``derivative``; the other nodes have the proofs named in
:data:`SPECIAL`.

Usage::

    from bpcore.witnesses.proofs import prove, prove_all
    prove("SoftmaxWithLoss")          # a Proof: shows as LaTeX in a notebook
    [p.node for p in prove_all() if not p.proved]
"""

from __future__ import annotations

from collections.abc import Callable

from ...engine.arith import AddNode, MatMulNode, MulNode, PowNode, SumNode
from ...engine.node import Elementwise, all_node_classes
from ...nn.activations import ReLU
from ...nn.affine import Affine, LayerBlock
from ...nn.batchnorm import BatchNorm
from ...nn.dropout import Dropout
from ...nn.losses import MSE, CrossEntropy, Softmax, SoftmaxWithLoss
from .batchnorm import batch_norm_proof
from .elementwise import (
    add_proof,
    dropout_proof,
    elementwise_proof,
    mul_proof,
    pow_proof,
    relu_proof,
    sum_proof,
)
from .losses import cross_entropy_proof, mse_proof, softmax_proof, softmax_with_loss_proof
from .matrices import affine_proof, layer_block_proof, matmul_proof
from .proof import TIME_LIMIT, Proof

#: Nodes whose proof is not the generic elementwise one (every other elementwise node's is).
SPECIAL: dict[type, Callable[[], Proof]] = {
    SoftmaxWithLoss: softmax_with_loss_proof,
    Softmax: softmax_proof,
    CrossEntropy: cross_entropy_proof,
    MSE: mse_proof,
    Affine: affine_proof,
    LayerBlock: layer_block_proof,
    MatMulNode: matmul_proof,
    ReLU: relu_proof,
    PowNode: pow_proof,
    AddNode: add_proof,
    MulNode: mul_proof,
    SumNode: sum_proof,
    BatchNorm: batch_norm_proof,
    Dropout: dropout_proof,
}


def builder(cls: type) -> Callable[[], Proof] | None:
    """The function that builds ``cls``'s proof, or None if it has none."""
    if cls in SPECIAL:
        return SPECIAL[cls]
    if issubclass(cls, Elementwise):
        return lambda: elementwise_proof(cls)
    return None


def registry() -> dict[str, Callable[[], Proof]]:
    """Node class name -> proof builder, for every node class of the package that has one."""
    from ..suite import discover_nodes

    return {cls.__name__: b for cls in discover_nodes() if (b := builder(cls)) is not None}


def prove(node: str | type | object) -> Proof | None:
    """The proof for a node class (or its name, or an instance); None if there is none."""
    if isinstance(node, str):
        found = [c for c in all_node_classes() if c.__name__ == node]
        cls = found[0] if found else None
    else:
        cls = node if isinstance(node, type) else type(node)
    build = builder(cls) if cls is not None else None
    return build() if build is not None else None


def prove_all() -> list[Proof]:
    """Every node's proof, in the order the nodes are defined (each timed in ``seconds``)."""
    return [build() for build in registry().values()]


__all__ = ["SPECIAL", "TIME_LIMIT", "Proof", "builder", "prove", "prove_all", "registry"]
