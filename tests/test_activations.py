"""Sigmoid, Tanh and ReLU: backprop vs SymPy vs finite differences, extremes, dispatchers.

Expected values come from formulas written here independently with the ``math`` module
(``1/(1+math.exp(-x))`` on moderate inputs, exact limits at ±1000), never from the code under test.
Gradient tolerance 1e-7 relative: float64 central differences with h = 1e-5 agree to about 1e-10 on
these smooth functions (see bpcore.witnesses.gradcheck), so 1e-7 leaves margin while a wrong local
derivative (an error of order 1) fails by many orders of magnitude.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import sympy as sp

import bpcore as bp
from bpcore.nn.activations import ReLU, Sigmoid, Tanh

TOL = 1e-7
NODES = [Sigmoid, Tanh, ReLU]


def _math_sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))  # fine for the moderate |x| < 700 used with it


@pytest.mark.parametrize("cls", NODES, ids=lambda c: c.__name__)
def test_examples_agree_three_ways(cls):
    examples = cls.examples(np.random.default_rng(0))
    shapes = {np.shape(inputs[0]) for _, inputs in examples}
    assert () in shapes and len(shapes) >= 3, "examples must cover a scalar and several shapes"
    assert any(isinstance(inputs[0], float) for _, inputs in examples)
    for node, inputs in examples:
        report = bp.verify_node(node, inputs)
        assert report.ok, f"{cls.__name__} on shape {np.shape(inputs[0])}:\n{report}"


@pytest.mark.parametrize("x", [-8.0, -2.5, -0.3, 0.0, 0.7, 3.0, 9.5])
def test_sigmoid_value_and_gradient_against_math(x):
    s = _math_sigmoid(x)
    v = bp.Value(x)
    y = bp.sigmoid(v)
    y.backward()
    assert y.data == pytest.approx(s, rel=1e-14)
    assert v.grad == pytest.approx(s * (1.0 - s), rel=1e-12)


@pytest.mark.parametrize("x", [-4.0, -0.5, 0.0, 0.25, 2.0])
def test_tanh_value_and_gradient_against_math(x):
    t = (math.exp(x) - math.exp(-x)) / (math.exp(x) + math.exp(-x))
    v = bp.Value(x)
    y = bp.tanh(v)
    y.backward()
    assert y.data == pytest.approx(t, rel=1e-13, abs=1e-15)
    assert v.grad == pytest.approx(1.0 - t * t, rel=1e-12)


def test_relu_value_gradient_and_kink_convention():
    x = np.array([-2.0, -1e-9, 0.0, 1e-9, 3.5])
    v = bp.Value(x)
    y = bp.relu(v)
    y.backward(np.array([10.0, 20.0, 30.0, 40.0, 50.0]))
    np.testing.assert_array_equal(y.data, [0.0, 0.0, 0.0, 1e-9, 3.5])
    # Gradient passes where x > 0 only; at the kink x = 0 it is taken as 0.
    np.testing.assert_array_equal(v.grad, [0.0, 0.0, 0.0, 40.0, 50.0])
    for x0, expected in [(-1.5, 0.0), (0.0, 0.0), (2.0, 7.0)]:
        s = bp.Value(x0)
        bp.relu(s).backward(7.0)
        assert s.grad == expected


@pytest.mark.parametrize("data", [-1000.0, 1000.0, np.array([[-1000.0, 1000.0], [-745.0, 40.0]])],
                         ids=["minus1000", "plus1000", "array"])
def test_extreme_inputs_exact_limits_no_warnings(data):
    x = np.asarray(data, dtype=float)
    # Exact limits in float64: sigmoid(x) rounds to 1 for x > 37 and to 0 for x < -745;
    # tanh(x) rounds to ±1 for |x| > 20; every gradient there is exactly 0.
    want_sig = np.where(x > 0, 1.0, 0.0)
    want_tanh = np.sign(x)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        for op, want in [(bp.sigmoid, want_sig), (bp.tanh, want_tanh)]:
            v = bp.Value(data)
            y = op(v)
            y.backward(None if isinstance(data, float) else np.ones_like(x))
            assert np.all(np.isfinite(y.data)) and np.all(np.isfinite(v.grad))
            np.testing.assert_array_equal(np.asarray(y.data), want)
            np.testing.assert_array_equal(np.asarray(v.grad), np.zeros_like(x))
            np.testing.assert_array_equal(np.asarray(op(data)), want)  # numeric path too


def test_sigmoid_tiny_but_representable_values_are_accurate():
    # exp(-x) is still a normal float here; the stable formula must not lose it.
    for x in [-30.0, -100.0, -600.0]:
        assert bp.sigmoid(x) == pytest.approx(math.exp(x) / (1.0 + math.exp(x)), rel=1e-13)
        arr = bp.sigmoid(np.array([x]))
        assert arr[0] == pytest.approx(math.exp(x) / (1.0 + math.exp(x)), rel=1e-13)


def test_naive_sigmoid_overflows_where_the_stable_one_does_not():
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        1.0 / (1.0 + np.exp(-np.array([-1000.0])))


def _four_node_sigmoid(x):
    return 1.0 / ((x * -1.0).exp() + 1.0)


@pytest.mark.parametrize("x", [-3.0, -0.4, 0.0, 1.3, 5.0])
def test_four_node_graph_equals_fused_node(x):
    a, b = bp.Value(x), bp.Value(x)
    composite, fused = _four_node_sigmoid(a), bp.sigmoid(b)
    composite.backward()
    fused.backward()
    assert fused.data == pytest.approx(composite.data, rel=1e-14)
    assert b.grad == pytest.approx(a.grad, rel=1e-12)
    assert len(bp.topological_order(composite)) > len(bp.topological_order(fused))


def test_four_node_graph_on_arrays_with_upstream_gradient():
    rng = np.random.default_rng(3)
    x, dout = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    a, b = bp.Value(x), bp.Value(x)
    _four_node_sigmoid(a).backward(dout)
    bp.sigmoid(b).backward(dout)
    want = np.array([[dout[i, j] * _math_sigmoid(x[i, j]) * (1 - _math_sigmoid(x[i, j]))
                      for j in range(4)] for i in range(3)])
    np.testing.assert_allclose(a.grad, want, rtol=1e-12)
    np.testing.assert_allclose(b.grad, want, rtol=1e-12)


def test_sympy_textbook_derivatives():
    x = sp.Symbol("x", real=True)
    s = 1 / (1 + sp.exp(-x))
    assert bp.equal(sp.diff(Sigmoid().symbolic(x), x), s * (1 - s))
    assert bp.equal(sp.diff(Tanh().symbolic(x), x), 1 - sp.tanh(x) ** 2)
    d_relu = sp.diff(ReLU().symbolic(x), x)
    assert d_relu.subs(x, 2) == 1 and d_relu.subs(x, -2) == 0


def test_dispatchers_on_every_kind_of_input():
    x = sp.Symbol("x", real=True)
    assert bp.equal(bp.sigmoid(x), 1 / (1 + sp.exp(-x)))
    assert bp.equal(bp.tanh(x), sp.tanh(x))
    assert bp.relu(x).subs(x, 3) == 3 and bp.relu(x).subs(x, -3) == 0
    syms = bp.witnesses.symbols_like("a", (2,))
    out = bp.sigmoid(syms)
    assert isinstance(out, np.ndarray) and out.dtype == object and out.shape == (2,)
    assert bp.equal(out[1], 1 / (1 + sp.exp(-syms[1])))

    for op, ref in [(bp.sigmoid, _math_sigmoid), (bp.tanh, math.tanh),
                    (bp.relu, lambda t: max(t, 0.0))]:
        y = op(0.8)
        assert isinstance(y, float) and y == pytest.approx(ref(0.8), rel=1e-14)
        assert isinstance(op(2), float) and op(2) == pytest.approx(ref(2.0), rel=1e-14)
        arr = op(np.array([-1.2, 0.8]))
        assert isinstance(arr, np.ndarray) and arr.dtype == np.float64
        np.testing.assert_allclose(arr, [ref(-1.2), ref(0.8)], rtol=1e-14)
        v = op(bp.Value(np.array([-1.2, 0.8])))
        assert isinstance(v, bp.Value)
        np.testing.assert_allclose(v.data, [ref(-1.2), ref(0.8)], rtol=1e-14)


def test_dispatchers_serve_verify():
    report = bp.verify(lambda a, b: bp.sigmoid(a * b) + bp.tanh(a) * bp.relu(b),
                       np.array([0.3, -1.1]), np.array([2.0, 0.6]), names=["a", "b"])
    assert report.ok, report


def test_nodes_are_registered():
    names = {c.__name__ for c in bp.all_node_classes()}
    assert {"Sigmoid", "Tanh", "ReLU"} <= names
