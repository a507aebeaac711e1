"""Chapter 2's claims as tests: products along a path, sums over fan-out, and the per-node view.

Expected gradients are the textbook formulas written out by hand (2(x + y), 2x + y, 3x²,
y(1 − y)), never values produced by the code under test. Backprop through these small graphs
performs the same few float operations as the formulas, so they agree to a few ulps:
rel=1e-12 leaves margin and still catches any wrong factor.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import bpcore as bp
from bpcore import Value

finite = st.floats(min_value=-50.0, max_value=50.0, allow_nan=False, allow_infinity=False)


@given(finite, finite)
def test_composite_square_of_sum(x0, y0):
    x, y = Value(x0, "x"), Value(y0, "y")
    t = x + y
    z = t**2
    z.backward()
    assert t.grad == pytest.approx(2 * (x0 + y0), rel=1e-12, abs=1e-12)
    assert x.grad == pytest.approx(2 * (x0 + y0), rel=1e-12, abs=1e-12)
    assert y.grad == pytest.approx(2 * (x0 + y0), rel=1e-12, abs=1e-12)


@given(finite, finite)
def test_fan_out_gradients_are_summed(x0, y0):
    x, y = Value(x0), Value(y0)
    f = (x + y) * x
    f.backward()
    assert x.grad == pytest.approx(2 * x0 + y0, rel=1e-12, abs=1e-12)
    assert y.grad == pytest.approx(x0, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("x0", [-3.0, -0.5, 2.0, 7.25])
def test_three_paths_to_x_add_up_to_3x_squared(x0):
    x = Value(x0)
    f = (x * x) * x
    f.backward()
    assert x.grad == pytest.approx(3 * x0**2, rel=1e-12)


def test_chain_of_products_along_a_path():
    # z = exp((3x + 1)^2 / 10): dz/dx = z * (2 (3x + 1) / 10) * 3, one factor per node
    x0 = 0.4
    x = Value(x0)
    z = (((3.0 * x + 1.0) ** 2) * 0.1).exp()
    z.backward()
    u = 3 * x0 + 1
    want = math.exp(u * u / 10) * (2 * u / 10) * 3
    assert x.grad == pytest.approx(want, rel=1e-12)


def test_dot_product_gradient_is_w_and_matches_finite_differences():
    rng = np.random.default_rng(0)
    x0, w = rng.normal(size=50), rng.normal(size=50)
    leaves = [Value(v) for v in x0.tolist()]
    total = leaves[0] * float(w[0])
    for v, wi in zip(leaves[1:], w[1:].tolist()):
        total = total + v * wi
    total.backward()
    grads = np.array([v.grad for v in leaves])
    np.testing.assert_array_equal(grads, w)
    fd = bp.numerical_gradient(lambda a: float(np.dot(a, w)), x0)[0]
    assert bp.rel_error(fd, w) < 1e-7


def test_backward_derivation_lists_only_real_inputs_and_all_match():
    x = Value(0.5, "x")
    y = 1.0 / ((x * -1.0).exp() + 1.0)
    y.backward()
    steps = bp.backward_derivation(y).steps
    # 1/x, +, exp, ×(-1): one line each; the constants -1 and 1 get none
    assert len(steps) == 4
    assert all(note.endswith(": ok") for _, _, note in steps)
    s = 1.0 / (1.0 + math.exp(-0.5))
    assert x.grad == pytest.approx(s * (1 - s), rel=1e-12)


def test_backward_derivation_flags_a_wrong_backward():
    class BadSquare(bp.PowNode):
        registered = False

        def backward(self, dout):
            return (dout * 3.0 * self.x,)  # wrong: should be 2x

    x = Value(1.5, "x")
    y = bp.engine.apply(BadSquare(2.0), x)
    y.backward()
    notes = [note for _, _, note in bp.backward_derivation(y).steps]
    assert len(notes) == 1 and notes[0].endswith(": MISMATCH with backprop")


def test_backward_derivation_names_contributions_and_states_their_sum():
    # f = x * x: two edges from x, each a contribution of 3; the gradient is their sum, 6
    x = Value(3.0, "x")
    f = x * x
    f.backward()
    steps = bp.backward_derivation(f).steps
    assert [note for _, _, note in steps] == [
        "contribution 1/2: ok", "contribution 2/2: ok", "contributions summed: ok"]
    assert r"\Big|" in steps[0][0] and r"\Big|" not in steps[2][0]
    assert steps[2][1] == "3 + 3 = 6"
