r"""The node: forward, backward and a symbolic form, side by side.

Every computation in bpcore is a :class:`Node`. A node

* ``forward(*inputs)`` computes its output and caches what ``backward`` will need;
* ``backward(dout)`` takes the upstream gradient ``dout`` :math:`= \partial L/\partial y` and
  returns :math:`\partial L/\partial x = \mathrm{d}_{\text{out}} \cdot \partial y/\partial x`
  for each differentiable input (a tuple, one entry per input);
* ``symbolic(*inputs)`` is the same forward written for SymPy (inputs are SymPy symbols or
  numpy arrays of them, dtype ``object``), from which :mod:`bpcore.witnesses` derives the
  local derivative with ``sympy.diff`` and checks ``backward`` against it.

Subclasses register themselves, so :func:`all_node_classes` finds every node (the verification
suite and the tests walk this list: a node cannot be forgotten).

:class:`Elementwise` is the common case of a function applied entry by entry: it carries the
function, its local derivative and its SymPy expression, and every other part of bpcore (the
layer block, the proofs, the command line's choices) reads them from there.
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

    # The unchecked path a network takes on every training step. By default it *is* the
    # checked path; a node with a faster version overrides these, computing the same numbers.
    def _forward(self, *inputs):
        return self.forward(*inputs)

    def _backward(self, dout, need_dx: bool = True) -> tuple:
        """``backward(dout)``; ``need_dx=False`` says the first input's gradient is unused
        (the input layer's), so a node may skip computing it and return None in its place."""
        return self.backward(dout)

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


def as_number(x):
    """Python ints become floats, so that they take the scalar fast path."""
    return float(x) if isinstance(x, int) and not isinstance(x, bool) else x


class Elementwise(Node):
    r"""A function applied entry by entry, :math:`y = f(x)`: one node carries it all.

    * ``function(x)``: :math:`f` for a float or an array (an array keeps its float dtype);
    * ``derivative(x, y)``: the local derivative :math:`f'(x)`, written through the input x
      and/or the output y, whichever is cheaper (:math:`\sigma' = y(1-y)`); it takes numbers,
      arrays or SymPy expressions, so the proofs check the very formula backward uses;
    * ``expression(v)``: :math:`f` of one SymPy scalar.

    ``forward`` caches x and y; ``backward(dout)`` returns
    :math:`\mathrm{d}_{\text{out}} \odot f'(x)` (the Jacobian is diagonal, so this product is
    the whole chain rule). ``check_input`` is where a subclass refuses inputs outside its
    domain.
    """

    registered: ClassVar[bool] = False

    def function(self, x):
        raise NotImplementedError

    def derivative(self, x, y):
        raise NotImplementedError

    def expression(self, v):
        raise NotImplementedError

    def check_input(self, x):
        """Return x, or raise an error naming what is wrong with it (default: any x)."""
        return x

    def forward(self, x):
        self.x = self.check_input(as_number(x))
        self.y = self.function(self.x)
        return self.y

    def _forward(self, x):
        self.x = x  # the network's path: x is already a checked float array
        self.y = self.function(x)
        return self.y

    def backward(self, dout):
        return (dout * self.derivative(self.x, self.y),)

    def symbolic(self, x):
        return elementwise(self.expression, x) if isinstance(x, np.ndarray) \
            else self.expression(x)
