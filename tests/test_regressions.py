"""Regression tests: each bug found in review, with the input that showed it.

Every test here failed before its fix (the expected values are worked out by hand in the
comments, not computed by the code under test).
"""

from __future__ import annotations

import numpy as np
import pytest

import bpcore as bp
from bpcore import Value
from bpcore.engine.value import apply

pytestmark = pytest.mark.usefixtures("warnings_are_errors")  # see conftest.py


def test_power_zero_at_zero_has_gradient_zero():
    # x**0 = 1 is constant, so d/dx = 0 everywhere; was ZeroDivisionError (0.0 ** -1.0).
    x = Value(0.0)
    (x**0).backward()
    assert x.grad == 0.0
    # arrays: was NaN with a RuntimeWarning (0 * 0**-1 = 0 * inf)
    xs = Value(np.array([0.0, 2.0, -3.0]))
    (xs**0).sum().backward()
    np.testing.assert_array_equal(xs.grad, [0.0, 0.0, 0.0])


def test_cross_entropy_gradient_is_zero_where_target_and_probability_are_zero():
    # L = -ln y_1 for y = [0, 1], t = 1: dL/dy = [0, -1]; was [nan, -1] with a RuntimeWarning.
    ce = bp.CrossEntropy()
    assert ce.forward(np.array([0.0, 1.0]), 1) == 0.0
    (g,) = ce.backward()
    np.testing.assert_array_equal(g, [0.0, -1.0])


def test_network_refuses_targets_that_are_not_distributions():
    # Targets whose columns do not sum to 1 make y - t a non-gradient; the MLP used to accept
    # them. Now the network's loss is SoftmaxWithLoss and its one label check refuses them.
    net = bp.MLP([3, 4, 2], seed=0)
    x = np.ones((3, 5))
    with pytest.raises(ValueError, match="each column of one-hot targets must sum to 1"):
        net.loss(x, np.zeros((2, 5)))
    with pytest.raises(ValueError, match="each column of one-hot targets must sum to 1"):
        bp.SoftmaxWithLoss().forward(np.ones((2, 5)), np.zeros((2, 5)))


def test_apply_keeps_integer_labels_as_constants():
    # apply used to turn the int64 labels into a float Value, and CrossEntropy then said
    # "must have an integer dtype". L = -(ln 0.3 + ln 0.4) / 2 for these columns.
    y = Value(np.array([[0.3, 0.6], [0.7, 0.4]]))
    L = apply(bp.CrossEntropy(), y, np.array([0, 1]))
    assert L.data == pytest.approx(-(np.log(0.3) + np.log(0.4)) / 2, rel=1e-15)
    L.backward()
    # dL/dy = -t / (m y): -1/(2 * 0.3) at (0, 0), -1/(2 * 0.4) at (1, 1), 0 elsewhere
    np.testing.assert_allclose(y.grad, [[-1 / 0.6, 0.0], [0.0, -1 / 0.8]], rtol=1e-15)
    assert L.parents == (y,)  # the labels are not a node input


def test_mse_empty_message_names_the_empty_axis():
    # shape (0, 3) has m = 3 examples and no outputs; it used to say "empty batch".
    with pytest.raises(ValueError, match=r"shape \(0, 3\): no outputs \(n = 0 rows\)"):
        bp.MSE().forward(np.zeros((0, 3)), np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r"shape \(3, 0\): empty batch \(m = 0 examples\)"):
        bp.MSE().forward(np.zeros((3, 0)), np.zeros((3, 0)))


@pytest.mark.parametrize("opt", [bp.SGD(0.1), bp.Momentum(0.1), bp.RMSprop(0.1), bp.Adam(0.1)],
                         ids=lambda o: type(o).__name__)
def test_learning_rate_is_checked_when_set_later(opt):
    # was accepted after construction
    with pytest.raises(ValueError, match="learning rate lr must be a finite number > 0"):
        opt.lr = -0.1
    with pytest.raises(ValueError, match="got nan"):
        opt.lr = float("nan")
    opt.lr = 0.05
    assert opt.lr == 0.05


def test_positive_integer_check_is_one_rule():
    # the same input used to raise ValueError in one place and TypeError in another
    for call in (lambda: bp.MLP([3, 2.5, 2]), lambda: bp.one_hot([0], 2.5),
                 lambda: bp.initialise([3, 2.5])):
        with pytest.raises(TypeError, match="must be a positive integer, got 2.5"):
            call()
    for call in (lambda: bp.MLP([3, 0, 2]), lambda: bp.one_hot([0], 0),
                 lambda: bp.initialise([3, 0])):
        with pytest.raises(ValueError, match="must be a positive integer, got 0"):
            call()
