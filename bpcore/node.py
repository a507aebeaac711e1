"""The node: forward, backward and a symbolic form, side by side.

Every computation in bpcore is a :class:`Node`. A node

* ``forward(*inputs)`` computes its output and caches what ``backward`` will need;
* ``backward(dout)`` takes the upstream gradient ``dout = dL/dout`` and returns
  ``dL/dinput = dout * (local derivative)`` for each differentiable input;
* ``symbolic(*inputs)`` is the same forward written for SymPy (inputs are numpy arrays of
  SymPy symbols, dtype ``object``), from which :mod:`bpcore.symbolic` derives the local
  derivative with ``sympy.diff`` and checks ``backward`` against it.

Subclasses register themselves, so :func:`all_node_classes` finds every node in the package
(the verification suite walks this list; a node cannot be forgotten).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

_REGISTRY: list[type[Node]] = []


class Node:
    """Base class of every node. See the module docstring for the contract."""

    #: Short symbol drawn inside the node's circle in graph figures.
    symbol: ClassVar[str] = "?"
    #: The forward formula in LaTeX, in the book's notation.
    formula: ClassVar[str] = ""
    #: How many leading inputs get a gradient (later inputs, e.g. labels, are constants).
    n_grad: ClassVar[int] = 1
    #: Abstract helper classes set this to False to stay out of the registry.
    registered: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("registered", True):
            _REGISTRY.append(cls)

    def forward(self, *inputs):
        raise NotImplementedError

    def backward(self, dout) -> tuple:
        raise NotImplementedError

    def symbolic(self, *inputs: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @classmethod
    def examples(cls, rng: np.random.Generator) -> list[tuple[Node, tuple]]:
        """Instances and inputs on which the node is verified (several shapes)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def all_node_classes() -> list[type[Node]]:
    """Every registered node class, in definition order."""
    return list(_REGISTRY)


def elementwise(f, x: np.ndarray) -> np.ndarray:
    """Apply a SymPy function to each entry of an object array (used by symbolic forms)."""
    return np.vectorize(f, otypes=[object])(np.asarray(x, dtype=object))


def is_scalar(x: object) -> bool:
    """True for the fast path: plain Python floats (the 0-d case of the graph)."""
    return isinstance(x, float)
