"""Batch norm and dropout (chapter 7): modes, state, bad input, and what they do to training.

Gradients are checked elsewhere for every node (test_contract.py, test_properties.py and
``bpcore verify``); here the values are worked out by hand or from the definitions.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import bpcore as bp
from bpcore import ShapeError
from bpcore.witnesses.gradcheck import network_gradcheck

pytestmark = pytest.mark.usefixtures("warnings_are_errors")  # see conftest.py


# -- batch norm ---------------------------------------------------------------------------------
def test_batch_norm_train_mode_normalises_each_feature_over_the_batch():
    x = np.array([[1.0, 2.0, 3.0, 6.0], [10.0, 10.0, 10.0, 14.0]])
    node = bp.BatchNorm(2, eps=1e-300)  # eps > 0 is required; this one vanishes beside 3.5
    y = node.forward(x, np.ones((2, 1)), np.zeros((2, 1)))
    # row 0: mean 3, variance (4 + 1 + 0 + 9) / 4 = 3.5
    np.testing.assert_allclose(y[0], (x[0] - 3.0) / np.sqrt(3.5), rtol=1e-14)
    np.testing.assert_allclose(y.mean(axis=1), 0.0, atol=1e-15)
    np.testing.assert_allclose(y.var(axis=1), 1.0, rtol=1e-14)
    gamma, beta = np.array([[2.0], [0.5]]), np.array([[1.0], [-1.0]])
    y2 = bp.BatchNorm(2, eps=1e-300).forward(x, gamma, beta)
    np.testing.assert_allclose(y2, gamma * y + beta, rtol=1e-14)


def test_running_statistics_start_at_0_and_1_and_follow_the_batches():
    node = bp.BatchNorm(1, momentum=0.9)
    np.testing.assert_array_equal(node.running_mean, [[0.0]])
    np.testing.assert_array_equal(node.running_var, [[1.0]])
    x = np.array([[1.0, 3.0]])  # mean 2, variance 1
    node.forward(x, np.ones((1, 1)), np.zeros((1, 1)))
    np.testing.assert_allclose(node.running_mean, [[0.9 * 0 + 0.1 * 2]], rtol=1e-15)
    np.testing.assert_allclose(node.running_var, [[0.9 * 1 + 0.1 * 1]], rtol=1e-15)
    # eval mode uses them (and does not change them)
    node.training = False
    y = node.forward(np.array([[0.2, 5.0]]), np.ones((1, 1)), np.zeros((1, 1)))
    np.testing.assert_allclose(y, (np.array([[0.2, 5.0]]) - 0.2) / np.sqrt(1.0 + 1e-5),
                               atol=1e-15)
    np.testing.assert_allclose(node.running_mean, [[0.2]], rtol=1e-15)


def test_eval_mode_before_training_is_gamma_x_over_sqrt_one_plus_eps_plus_beta():
    layer = bp.BatchNormLayer(3).eval()
    x = np.arange(6.0).reshape(3, 2)
    np.testing.assert_allclose(layer.forward(x), x / np.sqrt(1 + 1e-5), rtol=1e-15)


def test_eval_mode_prediction_does_not_depend_on_the_rest_of_the_batch():
    rng = np.random.default_rng(0)
    net = bp.MLP([4, 6, 3], activation="tanh", batchnorm=True, seed=0)
    x = rng.normal(size=(4, 8))
    net.loss(x, rng.integers(0, 3, 8))  # one train step's statistics
    alone = net.eval().forward(x[:, :1])
    together = net.forward(x)[:, :1]
    np.testing.assert_allclose(alone, together, rtol=1e-12)
    net.train()
    assert not np.allclose(net.forward(x[:, :3])[:, :1], together)  # train mode: batch stats


@pytest.mark.parametrize("make, error, match", [
    (lambda: bp.BatchNorm(2).forward(np.ones((2, 1)), np.ones((2, 1)), np.zeros((2, 1))),
     ValueError, r"needs at least 2 examples, got m = 1"),
    (lambda: bp.BatchNorm(2).forward(np.ones((2, 4)), np.ones((2,)), np.zeros((2, 1))),
     ShapeError, r"gamma has shape \(2,\), expected \(2, 1\)"),
    (lambda: bp.BatchNorm(2).forward(np.ones((2, 4)), np.ones((2, 1)), np.zeros((3, 1))),
     ShapeError, r"beta has shape \(3, 1\), expected \(2, 1\)"),
    (lambda: bp.BatchNorm(2).forward(np.ones(4), np.ones((2, 1)), np.zeros((2, 1))),
     ShapeError, r"x has shape \(4,\), expected \(n, m\)"),
    (lambda: bp.BatchNorm(3).forward(np.ones((2, 4)), np.ones((2, 1)), np.zeros((2, 1))),
     ShapeError, "running statistics are for 3"),
    (lambda: bp.BatchNorm(1).forward(np.array([[1.0, np.nan]]), np.ones((1, 1)),
                                     np.zeros((1, 1))), ValueError, "x has 1 non-finite"),
], ids=lambda x: None)
def test_batch_norm_bad_input(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_batch_norm_with_one_example_in_eval_mode_is_fine():
    node = bp.BatchNorm(2, training=False)
    y = node.forward(np.ones((2, 1)), np.ones((2, 1)), np.zeros((2, 1)))
    assert np.all(np.isfinite(y))


def test_constant_feature_gives_zero_not_nan():
    # variance 0: x̂ = 0 / sqrt(eps) = 0, and the gradient is finite
    node = bp.BatchNorm(1)
    y = node.forward(np.full((1, 4), 3.0), np.ones((1, 1)), np.zeros((1, 1)))
    np.testing.assert_array_equal(y, np.zeros((1, 4)))
    dx, dg, db = node.backward(np.arange(4.0).reshape(1, 4))
    assert np.all(np.isfinite(dx)) and np.all(np.isfinite(dg))


def test_closed_form_backward_equals_the_three_paths_written_out():
    # dx from the staged graph: the direct path through x̂, and the paths through mu and var
    rng = np.random.default_rng(4)
    x, dy = rng.normal(size=(2, 5)), rng.normal(size=(2, 5))
    gamma, eps, m = np.array([[1.5], [-0.7]]), 1e-5, 5
    node = bp.BatchNorm(2, eps=eps)
    node.forward(x, gamma, np.zeros((2, 1)))
    dx, _, _ = node.backward(dy)
    mu, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    inv = 1 / np.sqrt(var + eps)
    dxhat = dy * gamma
    dvar = np.sum(dxhat * (x - mu), axis=1, keepdims=True) * -0.5 * inv**3
    dmu = -np.sum(dxhat * inv, axis=1, keepdims=True) + dvar * np.mean(-2 * (x - mu), axis=1,
                                                                        keepdims=True)
    staged = dxhat * inv + dvar * 2 * (x - mu) / m + dmu / m
    np.testing.assert_allclose(dx, staged, rtol=1e-12)


def test_network_with_batch_norm_has_true_gradients_and_a_zero_bias_gradient():
    rng = np.random.default_rng(2)
    net = bp.MLP([5, 6, 6, 3], activation="tanh", batchnorm=True, seed=2)
    x, t = rng.normal(size=(5, 7)), rng.integers(0, 3, 7)
    assert network_gradcheck(net, x, t).worst < 1e-7
    net.loss(x, t)
    grads = net.backward()
    # a bias followed by batch norm changes nothing: the mean absorbs it
    assert np.abs(grads["b1"]).max() < 1e-12 and np.abs(grads["W1"]).max() > 1e-3
    assert {"gamma1", "beta1", "gamma2", "beta2"} <= set(grads)


def test_predict_and_accuracy_use_eval_mode_and_leave_the_modes_alone():
    rng = np.random.default_rng(3)
    net = bp.MLP([4, 5, 3], batchnorm=True, dropout=0.5, seed=3)
    x = rng.normal(size=(4, 10))
    before = [layer.training for layer in net.layers.values()]
    bn = net.layers["bn1"].node
    stats = (bn.running_mean.copy(), bn.running_var.copy())
    p1, p2 = net.predict(x), net.predict(x)
    np.testing.assert_array_equal(p1, p2)  # no dropout mask at prediction
    np.testing.assert_array_equal(bn.running_mean, stats[0])  # statistics not moved
    assert [layer.training for layer in net.layers.values()] == before


# -- dropout ------------------------------------------------------------------------------------
def test_dropout_keeps_with_probability_p_and_scales_by_one_over_p():
    node = bp.Dropout(0.25, seed=0)
    x = np.ones((200, 200))
    y = node.forward(x)
    kept = y != 0
    assert set(np.unique(y)) == {0.0, 4.0}  # 1 / 0.25
    assert abs(kept.mean() - 0.25) < 0.01  # 40,000 draws: sd 0.0022
    assert abs(y.mean() - 1.0) < 0.04  # E[y] = x
    (dx,) = node.backward(np.full_like(x, 3.0))
    np.testing.assert_array_equal(dx, np.where(kept, 12.0, 0.0))  # same mask in backward


def test_dropout_masks_are_seeded_and_change_from_step_to_step():
    a, b = bp.Dropout(0.5, seed=7), bp.Dropout(0.5, seed=7)
    x = np.ones((4, 6))
    first = a.forward(x)
    np.testing.assert_array_equal(first, b.forward(x))
    assert not np.array_equal(first, a.forward(x))


def test_dropout_eval_mode_is_the_identity():
    layer = bp.DropoutLayer(0.3, seed=1).eval()
    x = np.arange(12.0).reshape(3, 4)
    assert layer.forward(x) is x
    np.testing.assert_array_equal(layer.backward(np.ones((3, 4))), np.ones((3, 4)))


def test_keep_probability_one_keeps_everything():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(bp.Dropout(1.0).forward(x), x)


@pytest.mark.parametrize("p, error", [(0.0, ValueError), (1.5, ValueError), (-0.1, ValueError),
                                      (float("nan"), ValueError), ("0.5", TypeError),
                                      (True, TypeError)])
def test_dropout_bad_keep_probability(p, error):
    with pytest.raises(error, match="keep probability p"):
        bp.Dropout(p)


def test_verification_does_not_change_a_dropout_nodes_generator():
    node = bp.Dropout(0.5, seed=3)
    twin = copy.deepcopy(node)
    assert bp.verify_node(node, (np.ones((3, 3)),)).ok
    np.testing.assert_array_equal(node.forward(np.ones((2, 2))), twin.forward(np.ones((2, 2))))


def test_cli_trains_with_batch_norm_and_dropout(capsys):
    from bpcore import cli

    assert cli.main(["train", "--batchnorm", "--dropout", "0.9", "--epochs", "2",
                     "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "batch norm" in out and "dropout p = 0.9" in out and "test accuracy" in out
    with pytest.raises(SystemExit):
        cli.main(["train", "--dropout", "0"])
    err = capsys.readouterr().err
    assert "keep probability p must be a finite number in (0, 1], got 0.0" in err
