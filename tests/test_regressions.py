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


# -- found by the independent check against PyTorch (issue 17) -----------------------------------
@pytest.mark.parametrize("eps", [0.0, -1e-5, float("nan"), float("inf")])
def test_batch_norm_eps_must_be_positive_and_finite(eps):
    # eps = 0 on a constant feature gave NaN (0/0) with only a RuntimeWarning; eps < 0 gave NaN
    # from sqrt; eps = nan gave NaN everywhere.
    with pytest.raises(ValueError, match=r"eps must be a finite number > 0, got"):
        bp.BatchNorm(3, eps=eps)
    with pytest.raises(ValueError, match=r"eps must be a finite number > 0"):
        bp.BatchNormLayer(3, eps=eps)


@pytest.mark.parametrize("momentum", [1.5, -0.1, float("nan")])
def test_batch_norm_momentum_must_be_in_the_unit_interval(momentum):
    # momentum = 1.5 made the running variance negative (-38 after six steps) and eval output
    # NaN; nan did the same.
    with pytest.raises(ValueError, match=r"momentum must be a finite number in \[0, 1\]"):
        bp.BatchNorm(3, momentum=momentum)


def test_batch_norm_momentum_at_the_ends_is_accepted():
    # 0 keeps only the last batch, 1 never moves: both legal running averages
    x = np.array([[1.0, 3.0]])  # mean 2, variance 1
    for momentum, mean in ((0.0, 2.0), (1.0, 0.0)):
        node = bp.BatchNorm(1, momentum=momentum)
        node.forward(x, np.ones((1, 1)), np.zeros((1, 1)))
        assert node.running_mean[0, 0] == mean


@pytest.mark.parametrize("training", [True, False])
def test_dropout_layer_backward_refuses_a_dout_of_the_wrong_shape(training):
    # A (1, 4) dout for a (3, 4) output was broadcast into a (3, 4) dx in train mode and
    # returned as (1, 4) in eval mode.
    layer = bp.DropoutLayer(0.5, seed=0).train(training)
    layer.forward(np.ones((3, 4)))
    with pytest.raises(bp.ShapeError, match=r"dout has shape \(1, 4\), expected \(3, 4\)"):
        layer.backward(np.ones((1, 4)))
    with pytest.raises(bp.ShapeError, match=r"dy has shape \(1, 4\), expected \(3, 4\)"):
        layer.node.backward(np.ones((1, 4)))


def test_dropout_layer_backward_refuses_nan():
    layer = bp.DropoutLayer(0.5, seed=0)
    layer.forward(np.ones((3, 4)))
    dout = np.ones((3, 4))
    dout[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"dout has 1 non-finite value\(s\) \(first: nan at "
                                         r"index \(1, 2\)\)"):
        layer.backward(dout)


def test_fit_with_batch_norm_skips_a_last_batch_of_one():
    # 7 examples in batches of 3 leave a last batch of 1, which batch norm cannot normalise;
    # fit stopped in the middle of training with a ValueError. Now that batch is skipped: the
    # epoch trains on 6 examples, and which 6 changes with the shuffle.
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(4, 7)), rng.integers(0, 3, size=7)
    net = bp.MLP([4, 5, 3], batchnorm=True, seed=0)
    assert net.min_batch == 2
    seen = []
    original = net.loss

    def counting_loss(xb, yb, check=True):
        seen.append(xb.shape[1])
        return original(xb, yb, check=check)

    net.loss = counting_loss
    history = bp.fit(net, X, y, epochs=3, batch_size=3, optimizer=bp.SGD(0.1))
    assert seen == [3, 3] * 3
    assert history.epochs == 3
    with pytest.raises(ValueError, match="batch_size = 1, but the model needs at least 2"):
        bp.fit(bp.MLP([4, 5, 3], batchnorm=True), X, y, epochs=1, batch_size=1,
               optimizer=bp.SGD(0.1))
