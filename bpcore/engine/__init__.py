"""The graph engine (chapters 1–3): the node contract, arithmetic nodes, and Values that record a
computation graph and walk it backwards.

* :mod:`.node` — :class:`~.node.Node` (forward, backward and a SymPy form side by side) and
  :class:`~.node.Elementwise`, a function applied entry by entry;
* :mod:`.arith` — add, multiply, negate, power, reciprocal, exp, log, matrix product, sum;
* :mod:`.value` — :class:`~.value.Value`, define-by-run graphs and their backward pass.
"""

from .arith import (
    AddNode,
    ExpNode,
    LogNode,
    MatMulNode,
    MulNode,
    NegNode,
    PowNode,
    ReciprocalNode,
    SumNode,
    unbroadcast,
)
from .node import Elementwise, Node, all_node_classes
from .value import Value, apply, topological_order

__all__ = [
    "AddNode", "Elementwise", "ExpNode", "LogNode", "MatMulNode", "MulNode", "NegNode", "Node",
    "PowNode", "ReciprocalNode", "SumNode", "Value", "all_node_classes", "apply",
    "topological_order", "unbroadcast",
]
