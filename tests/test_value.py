"""Unit tests of the core graph: Value, its operators, backward, and the checking tools.

Expected gradients are computed by hand (in the comments) or by plain Python arithmetic that
does not go through bpcore, so a wrong backward cannot agree with itself. Float comparisons use
a relative tolerance of 1e-12: these are a handful of exact float operations (rounding ~1e-16),
not finite differences.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from doubles import Square, WrongSquare

import bpcore as bp
from bpcore import Node, ShapeError, Value
from bpcore.engine.value import apply, topological_order

REL = 1e-12


# -- the worked examples ---------------------------------------------------------------------
def test_apple_example_forward_and_backward():
    # price = apple * n * tax: 100 * 2 * 1.1 = 220.
    apple, n, tax = Value(100.0, "apple"), Value(2.0, "n"), Value(1.1, "tax")
    price = apple * n * tax
    assert price.data == pytest.approx(220.0, rel=REL)
    price.backward()
    assert price.grad == 1.0
    assert apple.grad == pytest.approx(2.2, rel=REL)  # n * tax
    assert n.grad == pytest.approx(110.0, rel=REL)  # apple * tax
    assert tax.grad == pytest.approx(200.0, rel=REL)  # apple * n


def test_sum_then_product():
    # f = (a + b) * c at a=2, b=3, c=4: f = 20, df/da = df/db = c = 4, df/dc = a + b = 5.
    a, b, c = Value(2.0), Value(3.0), Value(4.0)
    f = (a + b) * c
    f.backward()
    assert f.data == 20.0
    assert (a.grad, b.grad, c.grad) == (4.0, 4.0, 5.0)


def test_fan_out_sums_gradients():
    x = Value(3.0)
    (x * x).backward()
    assert x.grad == 6.0  # 2x
    a = Value(5.0)
    (a + a).backward()
    assert a.grad == 2.0


def test_fan_out_through_a_shared_interior_node():
    # u = x * 2 is used twice: f = u * u + u, df/dx = (2u + 1) * 2 with u = 2x.
    x = Value(1.5)
    u = x * 2.0
    f = u * u + u
    f.backward()
    assert x.grad == pytest.approx((2 * 3.0 + 1) * 2, rel=REL)
    assert u.grad == pytest.approx(2 * 3.0 + 1, rel=REL)


def test_subtraction_division_power_exp_log():
    # f = (x - y) / y + x**3 + exp(x) + log(y) at x = 0.5, y = 2.
    x, y = Value(0.5), Value(2.0)
    f = (x - y) / y + x**3 + x.exp() + y.log()
    f.backward()
    assert f.data == pytest.approx((0.5 - 2) / 2 + 0.125 + math.exp(0.5) + math.log(2), rel=REL)
    # df/dx = 1/y + 3x^2 + e^x ; df/dy = -x/y^2 + 1/y
    assert x.grad == pytest.approx(0.5 + 0.75 + math.exp(0.5), rel=REL)
    assert y.grad == pytest.approx(-0.5 / 4 + 0.5, rel=REL)


def test_reflected_operators_with_constants():
    x = Value(3.0)
    f = 2.0 * x + 1 - (5 / x) + (1.0 - x)
    f.backward()
    assert f.data == pytest.approx(6 + 1 - 5 / 3 + 1 - 3, rel=REL)
    assert x.grad == pytest.approx(2 + 5 / 9 - 1, rel=REL)


def test_float_fast_path_records_the_same_graph_as_the_generic_path():
    # Value * float takes the fast path; Value * int goes through apply(). Same graph, grads.
    fast_x, slow_x = Value(1.25), Value(1.25)
    fast = fast_x * 3.0 + 2.0
    slow = slow_x * 3 + 2
    assert type(fast.node) is type(slow.node) is bp.AddNode
    assert type(fast.parents[0].node) is type(slow.parents[0].node) is bp.MulNode
    assert fast.data == slow.data
    fast.backward()
    slow.backward()
    assert fast_x.grad == slow_x.grad == 3.0
    assert isinstance(fast.data, float) and isinstance(fast.grad, float)


def test_matrix_graph_gradients_by_hand():
    # L = sum(W @ a): dL/dW[i, j] = sum_k a[j, k];  dL/da[j, k] = sum_i W[i, j].
    W = Value(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    a = Value(np.array([[1.0, -1.0, 2.0], [0.5, 0.0, 3.0]]))
    L = (W @ a).sum()
    L.backward()
    np.testing.assert_allclose(W.grad, np.tile([[2.0, 3.5]], (3, 1)), rtol=REL)
    np.testing.assert_allclose(a.grad, np.tile([[9.0], [12.0]], (1, 3)), rtol=REL)


def test_broadcast_add_sums_gradient_over_the_copies():
    z = Value(np.ones((2, 3)))
    b = Value(np.array([[1.0], [2.0]]))
    ((z + b) * 2.0).sum().backward()
    np.testing.assert_array_equal(b.grad, [[6.0], [6.0]])  # 3 copies x 2
    np.testing.assert_array_equal(z.grad, np.full((2, 3), 2.0))


# -- deep graphs and repeated backward --------------------------------------------------------
def test_chain_of_100000_nodes():
    x = Value(1.0)
    y = x
    depth = 100_000
    for _ in range(depth):
        y = y * 1.000001
    y.backward()  # would raise RecursionError with a recursive topological sort
    expected = 1.000001**depth  # plain Python, not bpcore
    assert x.grad == pytest.approx(expected, rel=1e-9)  # 1e5 roundings of 1e-16 each
    assert len(topological_order(y)) == 2 * depth + 1  # x, the constants, the products


def test_repeated_backward_with_zero_grad_gives_the_same_gradients():
    a, b = Value(1.5), Value(-2.0)
    f = a * b + a * a
    f.backward()
    first = (a.grad, b.grad)
    f.zero_grad()
    assert (a.grad, b.grad, f.grad) == (0.0, 0.0, 0.0)
    f.backward()
    assert (a.grad, b.grad) == first == (-2.0 + 3.0, 1.5)


def test_leaf_gradients_accumulate_but_interior_ones_do_not():
    a, b = Value(1.5), Value(-2.0)
    u = a * b
    f = u + a
    f.backward()
    f.backward()  # no zero_grad: leaves accumulate, the interior is recomputed
    assert a.grad == 2 * (-2.0 + 1.0)
    assert b.grad == 2 * 1.5
    assert u.grad == 1.0
    assert f.grad == 1.0


def test_topological_order_puts_parents_first_and_lists_each_value_once():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c
    order = topological_order(e)
    assert len(order) == len({id(v) for v in order}) == 5
    position = {id(v): i for i, v in enumerate(order)}
    for v in order:
        for p in v.parents:
            assert position[id(p)] < position[id(v)]


def test_backward_with_an_upstream_gradient_on_an_array_output():
    x = Value(np.array([1.0, 2.0, 3.0]))
    y = x * x
    y.backward(np.array([1.0, 0.0, -1.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, -6.0])


# -- errors ----------------------------------------------------------------------------------
def test_backward_on_non_scalar_needs_a_gradient():
    y = Value(np.ones((2, 3))) * 2.0
    with pytest.raises(ValueError, match=r"non-scalar output of shape \(2, 3\)"):
        y.backward()


def test_backward_with_wrong_upstream_shape():
    y = Value(np.ones((2, 3))) * 2.0
    msg = r"upstream gradient has shape \(3, 2\), expected \(2, 3\)"
    with pytest.raises(ShapeError, match=msg):
        y.backward(np.ones((3, 2)))


def test_non_numeric_operands_are_type_errors():
    msg = "operand must be a Value, a number or a numpy array, got str"
    with pytest.raises(TypeError, match=msg):
        Value(1.0) + "a"
    with pytest.raises(TypeError, match="must be a number or a numpy array, got str"):
        Value("x")
    with pytest.raises(TypeError, match="got NoneType"):
        Value(2.0) * None
    with pytest.raises(TypeError, match="got bool"):
        Value(True)
    with pytest.raises(TypeError, match="dtype <U1"):
        Value(np.array(["a"]))
    with pytest.raises(TypeError, match="the exponent must be a constant"):
        Value(2.0) ** Value(3.0)
    with pytest.raises(TypeError, match="no truth value"):
        bool(Value(1.0))


def test_non_finite_leaves_are_refused():
    with pytest.raises(ValueError, match=r"non-finite value\(s\) \(first: nan"):
        Value(float("nan"))
    with pytest.raises(ValueError, match="x has 1 non-finite"):
        Value(np.array([1.0, np.inf]), "x")
    with pytest.raises(ValueError, match="non-finite"):
        Value(1.0) * float("inf")


def test_mismatched_shapes_name_both_shapes():
    with pytest.raises(ShapeError, match=r"cannot add arrays of shapes \(3,\) and \(4,\)"):
        Value(np.ones(3)) + Value(np.ones(4))
    with pytest.raises(ShapeError, match=r"cannot multiply arrays of shapes \(2, 3\) and \(3, 2\)"):
        Value(np.ones((2, 3))) * np.ones((3, 2))
    with pytest.raises(ShapeError, match=r"W of shape \(2, 3\) by a of shape \(2, 3\)"):
        Value(np.ones((2, 3))) @ Value(np.ones((2, 3)))


def test_division_by_zero_and_log_of_non_positive():
    with pytest.raises(ZeroDivisionError, match="reciprocal of zero"):
        Value(1.0) / Value(0.0)
    with pytest.raises(ZeroDivisionError, match="reciprocal of zero"):
        Value(1.0) / np.array([1.0, 0.0])
    with pytest.raises(ValueError, match="log of a number <= 0"):
        Value(0.0).log()
    with pytest.raises(ValueError, match="log of a number <= 0"):
        Value(np.array([1.0, -2.0])).log()


def test_integer_input_is_converted_to_float():
    v = Value(3)
    assert isinstance(v.data, float) and v.data == 3.0
    a = Value(np.array([1, 2, 3]))
    assert a.data.dtype == np.float64
    (a * a).sum().backward()
    np.testing.assert_array_equal(a.grad, [2.0, 4.0, 6.0])


# -- the checking tools can fail (test doubles: tests/doubles.py) -------------------------------
def test_gradcheck_fails_on_a_wrong_backward_and_passes_on_the_right_one():
    bad = bp.gradcheck(lambda x: apply(WrongSquare(), x), 1.5)
    assert not bad.ok
    assert bad.worst == pytest.approx(abs(4.5 - 3.0) / 4.5, rel=1e-6)  # |3x-2x| / |3x|
    assert "FAIL" in repr(bad)
    good = bp.gradcheck(lambda x: apply(Square(), x), 1.5)
    assert good.ok and good.worst < 1e-9


def test_verify_node_and_verify_report_a_wrong_gradient():
    report = bp.verify_node(WrongSquare(), (1.5,))
    assert not report.ok
    assert "FAIL" in repr(report)
    assert report.error("backprop = FD") > 0.1 and report.error("SymPy = backprop") > 0.1
    assert report.error("SymPy = FD") < 1e-9  # SymPy and FD agree with each other
    assert bp.verify_node(Square(), (1.5,)).ok

    def f(x):
        return apply(WrongSquare(), x) if isinstance(x, Value) else x**2

    assert not bp.verify(f, 0.7).ok


def test_wrong_symbolic_form_is_caught_too():
    class WrongSymbolic(Square):
        registered = False

        def symbolic(self, x):
            return x**3

    report = bp.verify_node(WrongSymbolic(), (1.5,))
    assert not report.ok
    assert report.error("backprop = FD") < 1e-9 and report.error("SymPy = backprop") > 0.1


def test_test_doubles_stay_out_of_the_registry():
    assert WrongSquare not in bp.all_node_classes()


# -- symbolic derivation -----------------------------------------------------------------------
def test_derive_gives_the_textbook_sigmoid_derivative():
    _, (grad,) = bp.derive(lambda x: 1 / (1 + bp.exp(-x)), "x")
    x = sp.Symbol("x", real=True)
    s = 1 / (1 + sp.exp(-x))
    assert bp.equal(grad, s * (1 - s))
    assert not bp.equal(grad, s)  # equal() can say no


def test_derive_product_rule_and_shapes():
    derivation, (ga, gb) = bp.derive(lambda a, b: a * b + a, "a", "b")
    a, b = sp.Symbol("a", real=True), sp.Symbol("b", real=True)
    assert bp.equal(ga, b + 1) and bp.equal(gb, a)
    assert len(derivation.steps) == 3
    _, (gW,) = bp.derive(lambda W: (W * W).sum(), "W", shapes=[(2, 2)])
    assert gW.shape == (2, 2)
    assert bp.equal(gW[1, 0], 2 * sp.Symbol("W_{2,1}", real=True))


class HalfNaN(Node):
    """x1 * x2 whose second gradient is NaN: a NaN anywhere must fail the checks."""

    registered = False
    n_grad = 2

    def forward(self, x1, x2):
        self.x1, self.x2 = x1, x2
        return x1 * x2

    def backward(self, dout):
        return dout * self.x2, dout * math.nan

    def symbolic(self, x1, x2):
        return x1 * x2


def test_a_nan_gradient_in_any_position_fails_the_checks():
    report = bp.gradcheck(lambda a, b: apply(HalfNaN(), a, b), 1.5, 2.0)
    assert not report.ok and math.isnan(report.worst)
    assert not bp.verify_node(HalfNaN(), (1.5, 2.0)).ok
