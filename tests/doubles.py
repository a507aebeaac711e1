"""Test doubles shared by the test files (``from doubles import Square``; pytest puts tests/ on
the path). ``registered = False`` keeps each one out of the package's node list, so the suite
never certifies a test double."""

from __future__ import annotations

from bpcore import Elementwise


class Square(Elementwise):
    """y = x², elementwise, with the right backward (2x): a complete node, as the README says
    a new one is written (function, derivative, SymPy expression, formula, examples)."""

    registered = False
    symbol = "sq"
    formula = "y = x^2"

    def function(self, x):
        return x * x

    def derivative(self, x, y):
        return 2 * x

    def expression(self, v):
        return v**2

    @classmethod
    def examples(cls, rng):
        return [(cls(), (float(rng.normal()),)), (cls(), (rng.normal(size=(2, 3)),))]


class SlightlyWrongSquare(Square):
    """Off by 0.1 %: far above the 1e-7 tolerance, far below anything a plot would show."""

    registered = False

    def backward(self, dout):
        return (dout * 2.0 * self.x * 1.001,)


class WrongSquare(Square):
    """A wrong backward: 3x instead of 2x."""

    registered = False

    def backward(self, dout):
        return (dout * 3.0 * self.x,)
