"""L2 weight decay as part of the network's loss: L + (lambda/2) sum_l ||W^[l]||^2."""

from __future__ import annotations

import numpy as np
import pytest

import bpcore as bp

pytestmark = pytest.mark.usefixtures("warnings_are_errors")


def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(4, 6)), rng.integers(0, 3, size=6)


def test_the_penalty_is_half_lambda_times_the_squared_weights():
    x, t = data()
    lam = 0.1
    plain, decayed = bp.MLP([4, 5, 3], seed=0), bp.MLP([4, 5, 3], seed=0, weight_decay=lam)
    squares = sum(np.sum(plain.params[k] ** 2) for k in ("W1", "W2"))  # not b1, b2
    assert decayed.loss(x, t) == pytest.approx(plain.loss(x, t) + lam / 2 * squares, rel=1e-12)


def test_the_gradient_adds_lambda_w_to_weights_only():
    x, t = data()
    lam = 0.1
    plain, decayed = bp.MLP([4, 5, 3], seed=0), bp.MLP([4, 5, 3], seed=0, weight_decay=lam)
    plain.loss(x, t)
    decayed.loss(x, t)
    g0, g1 = plain.backward(), decayed.backward()
    np.testing.assert_allclose(g1["W1"], g0["W1"] + lam * plain.params["W1"], rtol=1e-12)
    np.testing.assert_array_equal(g1["b2"], g0["b2"])
    assert bp.network_gradcheck(decayed, x, t).ok


def test_weight_decay_with_batch_norm_spares_gamma_and_beta():
    x, t = data()
    net = bp.MLP([4, 5, 3], seed=0, batchnorm=True, weight_decay=0.5)
    assert net._decayed == ["W1", "W2"]
    assert bp.network_gradcheck(net, x, t).ok


@pytest.mark.parametrize("bad", [-0.1, float("nan")])
def test_a_negative_or_nan_weight_decay_is_refused(bad):
    with pytest.raises(ValueError, match="weight_decay must be a finite number >= 0"):
        bp.MLP([4, 5, 3], weight_decay=bad)
