"""Optimisers: update rules against steps worked out by hand, convergence, and bad input.

The quadratic used throughout is f(w) = 1/2 (1 w_1^2 + 4 w_2^2), so df/dw = (w_1, 4 w_2);
starting at w = (1, -2) the first gradient is (1, -8). Expected values below are written out
from the update rules with plain arithmetic, never by calling bpcore. Tolerance 1e-12: every
step is a handful of float64 operations, so agreement is to a few ulps.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from bpcore.checks import ShapeError
from bpcore.nn.optim import SGD, Adam, Momentum, RMSprop, make_optimizer

CURVATURE = np.array([1.0, 4.0])
TOL = 1e-12


def grad(w: np.ndarray) -> np.ndarray:
    return CURVATURE * w


def take_steps(opt, n: int) -> list[np.ndarray]:
    params = {"w": np.array([1.0, -2.0])}
    seen = []
    for _ in range(n):
        opt.step(params, {"w": grad(params["w"])})
        seen.append(params["w"].copy())
    return seen


def test_sgd_step():
    (w1,) = take_steps(SGD(lr=0.1), 1)
    # w - 0.1 * (1, -8)
    np.testing.assert_allclose(w1, [0.9, -1.2], rtol=0, atol=TOL)


def test_momentum_two_steps():
    w1, w2 = take_steps(Momentum(lr=0.1, beta=0.9), 2)
    # v1 = -0.1*(1,-8) = (-0.1, 0.8);                 w1 = (0.9, -1.2)
    # g2 = (0.9, -4.8); v2 = 0.9*v1 - 0.1*g2 = (-0.18, 1.2); w2 = (0.72, 0.0)
    np.testing.assert_allclose(w1, [0.9, -1.2], rtol=0, atol=TOL)
    np.testing.assert_allclose(w2, [0.72, 0.0], rtol=0, atol=TOL)


def test_rmsprop_first_step():
    (w1,) = take_steps(RMSprop(lr=0.01, rho=0.9, eps=1e-8), 1)
    # s = 0.1 g^2 = (0.1, 6.4); g / sqrt(s) = (1/sqrt(0.1), -8/sqrt(6.4)) = ±sqrt(10)
    step = 0.01 * math.sqrt(10.0)
    # eps enters as g/(sqrt(s)+eps): relative change ~ eps/sqrt(s) < 4e-8, so compare to 1e-9
    np.testing.assert_allclose(w1, [1.0 - step, -2.0 + step], rtol=0, atol=1e-9)


def test_adam_first_two_steps_with_bias_correction():
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    w1, w2 = take_steps(Adam(lr=lr, beta1=b1, beta2=b2, eps=eps), 2)

    # step 1, by hand: m = 0.1 g, v = 0.001 g^2, so m_hat = g and v_hat = g^2:
    # the first Adam step is lr * sign(g) whatever the size of g (bias correction at work).
    g1 = (1.0, -8.0)
    exp_w1 = [1.0 - lr * g1[0] / (abs(g1[0]) + eps), -2.0 - lr * g1[1] / (abs(g1[1]) + eps)]
    np.testing.assert_allclose(w1, exp_w1, rtol=0, atol=TOL)
    np.testing.assert_allclose(w1, [0.9, -1.9], rtol=0, atol=1e-8)

    # step 2, component by component with scalars
    expected = []
    for w_prev, g_first, curv in ((exp_w1[0], g1[0], 1.0), (exp_w1[1], g1[1], 4.0)):
        g_second = curv * w_prev
        m = b1 * ((1 - b1) * g_first) + (1 - b1) * g_second
        v = b2 * ((1 - b2) * g_first**2) + (1 - b2) * g_second**2
        m_hat = m / (1 - b1**2)
        v_hat = v / (1 - b2**2)
        expected.append(w_prev - lr * m_hat / (math.sqrt(v_hat) + eps))
    np.testing.assert_allclose(w2, expected, rtol=0, atol=TOL)
    # and the same numbers written out: m = (0.18, -1.48), v = (0.001809, 0.121696)
    m_hat = np.array([0.18, -1.48]) / 0.19
    v_hat = np.array([0.001809, 0.121696]) / 0.001999
    np.testing.assert_allclose(w2, np.array([0.9, -1.9]) - 0.1 * m_hat / np.sqrt(v_hat),
                               rtol=0, atol=1e-8)


@pytest.mark.parametrize("opt", [SGD(0.1), Momentum(0.05), RMSprop(0.01), Adam(0.05)],
                         ids=repr)
def test_each_optimizer_decreases_a_convex_quadratic(opt):
    rng = np.random.default_rng(0)
    Q = rng.normal(size=(5, 5))
    A = Q @ Q.T / 5 + np.eye(5)  # symmetric positive definite, eigenvalues in about [1, 5]
    params = {"w": rng.normal(size=(5, 1)), "b": np.array([[3.0, -1.0]])}

    def f() -> float:
        w, b = params["w"], params["b"]
        return float(0.5 * (w.T @ A @ w).item() + 0.5 * (b**2).sum())

    start = f()
    for _ in range(400):
        opt.step(params, {"w": A @ params["w"], "b": params["b"].copy()})
    # the minimum is 0; 400 steps of any of them get within 1% of the starting value
    assert f() < 0.01 * start


def test_step_updates_in_place_and_keeps_state_per_key():
    w, b = np.ones((2, 2)), np.zeros((2, 1))
    params = {"W1": w, "b1": b}
    opt = Momentum(lr=1.0, beta=0.5)
    opt.step(params, {"W1": np.ones((2, 2)), "b1": np.full((2, 1), 2.0)})
    assert params["W1"] is w and params["b1"] is b  # same arrays, changed in place
    np.testing.assert_allclose(w, 0.0)
    np.testing.assert_allclose(b, -2.0)
    opt.step(params, {"W1": np.zeros((2, 2)), "b1": np.zeros((2, 1))})
    # each key keeps its own velocity: v_W = 0.5*(-1), v_b = 0.5*(-2)
    np.testing.assert_allclose(w, -0.5)
    np.testing.assert_allclose(b, -3.0)


@pytest.mark.parametrize("cls", [SGD, Momentum, RMSprop, Adam])
@pytest.mark.parametrize("lr", [0.0, -0.1, float("nan"), float("inf")])
def test_bad_learning_rate_is_refused(cls, lr):
    with pytest.raises(ValueError, match="learning rate lr must be a finite number > 0"):
        cls(lr)


def test_non_numeric_learning_rate_is_refused():
    with pytest.raises(TypeError, match="learning rate lr must be a number"):
        SGD("0.1")


@pytest.mark.parametrize("kwargs, name", [({"beta": 1.0}, "beta"), ({"beta": -0.1}, "beta")])
def test_bad_momentum_is_refused(kwargs, name):
    with pytest.raises(ValueError, match=name):
        Momentum(0.1, **kwargs)


def test_bad_adam_hyperparameters_are_refused():
    with pytest.raises(ValueError, match="beta2"):
        Adam(0.1, beta2=1.5)
    with pytest.raises(ValueError, match="eps"):
        Adam(0.1, eps=0.0)


def test_mismatched_keys_are_named():
    params = {"W1": np.zeros((2, 2)), "b1": np.zeros((2, 1))}
    with pytest.raises(KeyError, match=r"missing \['b1'\], unexpected \['b2'\]"):
        SGD(0.1).step(params, {"W1": np.zeros((2, 2)), "b2": np.zeros((2, 1))})


def test_mismatched_shape_is_named():
    params = {"W1": np.zeros((2, 3))}
    with pytest.raises(ShapeError, match=r"grads\['W1'\] has shape \(3, 2\), expected \(2, 3\)"):
        SGD(0.1).step(params, {"W1": np.zeros((3, 2))})
    np.testing.assert_array_equal(params["W1"], 0.0)  # nothing was changed


def test_make_optimizer_by_name():
    assert isinstance(make_optimizer("Adam", 0.01), Adam)
    assert make_optimizer("sgd", 0.5).lr == 0.5
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'"):
        make_optimizer("lbfgs", 0.1)


def test_float32_parameters_stay_float32():
    params = {"W": np.ones((2, 2), dtype=np.float32)}
    Adam(0.1).step(params, {"W": np.ones((2, 2))})
    assert params["W"].dtype == np.float32
    np.testing.assert_allclose(params["W"], 0.9, rtol=1e-6)


def test_list_gradients_are_accepted_and_non_array_params_refused():
    params = {"w": np.zeros(2)}
    SGD(0.1).step(params, {"w": [1.0, -2.0]})  # converted to an array of the param's dtype
    np.testing.assert_allclose(params["w"], [-0.1, 0.2], rtol=0, atol=TOL)
    with pytest.raises(TypeError, match=r"params\['w'\] must be a numpy array"):
        SGD(0.1).step({"w": [0.0, 0.0]}, {"w": np.ones(2)})  # a list cannot be updated in place
    with pytest.raises(ShapeError, match=r"grads\['w'\] has shape \(3,\), expected \(2,\)"):
        SGD(0.1).step({"w": np.zeros(2)}, {"w": [1.0, 2.0, 3.0]})
