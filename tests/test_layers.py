"""Tests for bpcore.nn.affine and bpcore.nn.layers (Affine, LayerBlock, Dense, Layer),
bpcore.nn.network (MLP), bpcore.nn.init and the chained-blocks figure.

Gradient tolerance: 1e-7 relative (norm-wise). Central differences in float64 with h ~ 1e-5
have truncation error O(h^2) ~ 1e-10 and rounding error ~ eps/h ~ 1e-11 relative, so correct
gradients agree to ~1e-9..1e-10 (measured: worst 4e-9 on these networks), while a gradient
with a missing 1/m, a missing transpose or a wrong activation derivative is off by O(1).
"""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

matplotlib.use("Agg")

import bpcore  # noqa: E402
from bpcore.checks import ShapeError  # noqa: E402
from bpcore.figures import draw_blocks  # noqa: E402
from bpcore.nn import init as binit  # noqa: E402
from bpcore.nn.activations import Identity, ReLU, Sigmoid, Tanh  # noqa: E402
from bpcore.nn.affine import Affine, LayerBlock  # noqa: E402
from bpcore.nn.losses import mse_loss, softmax_cross_entropy  # noqa: E402
from bpcore.nn.network import MLP  # noqa: E402
from bpcore.witnesses.gradcheck import numerical_gradient
from bpcore.witnesses.report import rel_error  # noqa: E402

TOL = 1e-7


# -- nodes through the shared verifier (SymPy vs backprop vs FD) ----------------------------------
def _cases(cls):
    return [pytest.param(node, inputs, id=f"{node!r}-" + "-".join(str(np.shape(x)) for x in inputs))
            for node, inputs in cls.examples(np.random.default_rng(5))]


@pytest.mark.parametrize("node, inputs", _cases(Affine) + _cases(LayerBlock) + _cases(Identity))
def test_verify_node(node, inputs):
    report = bpcore.verify_node(node, inputs)
    assert report.ok, repr(report)


def test_layer_block_examples_cover_every_activation_and_several_shapes():
    examples = LayerBlock.examples(np.random.default_rng(0))
    assert {n.activation_name for n, _ in examples} == {"relu", "sigmoid", "tanh", "identity"}
    assert len({np.shape(x[1]) for _, x in examples}) >= 3


def test_affine_backward_by_hand():
    # z = W a + b for a 2x2 W and one example; gradients written out entry by entry.
    a_prev = np.array([[1.0], [2.0]])
    W = np.array([[3.0, -1.0], [0.5, 2.0]])
    b = np.array([[0.25], [-1.0]])
    node = Affine()
    np.testing.assert_allclose(node.forward(a_prev, W, b), [[1.25], [3.5]])
    dz = np.array([[2.0], [-3.0]])
    da_prev, dW, db = node.backward(dz)
    np.testing.assert_allclose(da_prev, [[3 * 2 + 0.5 * -3], [-1 * 2 + 2 * -3]])
    np.testing.assert_allclose(dW, [[2 * 1, 2 * 2], [-3 * 1, -3 * 2]])
    np.testing.assert_allclose(db, [[2.0], [-3.0]])


def test_layer_block_backward_is_the_affine_backward_after_the_activation():
    # One contract: the block's (da_prev, dW, db) are the Affine node's true gradients of
    # dz = da * g'(z); no 1/m anywhere.
    rng = np.random.default_rng(1)
    a_prev, W, b = rng.normal(size=(4, 5)), rng.normal(size=(3, 4)), rng.normal(size=(3, 1))
    da = rng.normal(size=(3, 5))
    block, aff = LayerBlock("tanh"), Affine()
    a = block.forward(a_prev, W, b)
    aff.forward(a_prev, W, b)
    got = block.backward(da)
    ref = aff.backward(da * (1 - a**2))
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g, r, rtol=1e-13)


@pytest.mark.parametrize("name, node_cls", [("relu", ReLU), ("sigmoid", Sigmoid),
                                            ("tanh", Tanh), ("identity", Identity)])
def test_the_block_fast_path_computes_what_the_activation_node_computes(name, node_cls):
    # The network's unchecked path reads the activation from its node: same numbers.
    rng = np.random.default_rng(2)
    z = np.concatenate([rng.normal(scale=4, size=(3, 6)), [[-1000.0] * 6, [1000.0] * 6]])
    da = rng.normal(size=z.shape)
    block = LayerBlock(name)
    a = block._forward(np.eye(6), z, np.zeros((5, 1)))  # W = z, a_prev = I: z passes through
    node = node_cls()
    np.testing.assert_array_equal(a, node.forward(z))
    _, dW, _ = block._backward(da)  # dW = dz a_prev^T = dz
    np.testing.assert_array_equal(dW, node.backward(da)[0])


def test_sigmoid_block_extreme_inputs_are_exact_and_silent():
    block = LayerBlock("sigmoid")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            a = block.forward(np.array([[1.0, -1.0]]), np.array([[1000.0]]), np.zeros((1, 1)))
            _, dW, _ = block.backward(np.ones((1, 2)))
    np.testing.assert_array_equal(a, [[1.0, 0.0]])
    np.testing.assert_array_equal(dW, [[0.0]])


def test_custom_activation_node_works_in_the_block(square_activation):
    rng = np.random.default_rng(3)
    inputs = (rng.normal(size=(3, 4)), rng.normal(size=(2, 3)), rng.normal(size=(2, 1)))
    Square = square_activation
    report = bpcore.verify_node(LayerBlock(Square()), inputs)
    assert report.ok, repr(report)


# -- MLP gradients against central finite differences ---------------------------------------------
def _mlp_fd_worst(net: MLP, x: np.ndarray, t: np.ndarray) -> float:
    net.loss(x, t)
    grads = net.backward()
    assert list(grads) == list(net.params)
    worst = 0.0
    for key, p in net.params.items():
        saved = p.copy()

        def f(v, key=key):
            net.params[key][...] = v
            return net.loss(x, t)

        numeric = numerical_gradient(f, saved.copy())[0]
        net.params[key][...] = saved
        worst = max(worst, rel_error(grads[key], numeric))
    return worst


def _min_abs_preactivation(net: MLP, x: np.ndarray) -> float:
    net.forward(x)
    return min(float(np.min(np.abs(layer.block.z))) for layer in list(net.layers.values())[:-1])


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("output, loss", [("softmax", "softmax_ce"), ("sigmoid", "mse"),
                                          ("identity", "mse")])
def test_mlp_gradients_match_finite_differences(seed, output, loss):
    rng = np.random.default_rng(seed)
    n_hidden = int(rng.integers(1, 4))
    K = int(rng.integers(2, 5))
    sizes = [int(rng.integers(2, 6))] + [int(rng.integers(2, 7)) for _ in range(n_hidden)] + [K]
    m = int(rng.integers(1, 8))
    activation = ["relu", "sigmoid", "tanh"][seed % 3]
    net = MLP(sizes, activation=activation, output=output, loss=loss, init="xavier", seed=seed)
    for v in net.params.values():  # non-zero biases, so db is tested too
        v += rng.normal(scale=0.1, size=v.shape)
    x = rng.normal(size=(sizes[0], m))
    labels = rng.integers(0, K, size=m)
    if activation == "relu":  # the kink: FD must not straddle a pre-activation at 0
        assert _min_abs_preactivation(net, x) > 1e-3
    if loss == "softmax_ce":
        assert _mlp_fd_worst(net, x, labels) < TOL
    targets = np.eye(K)[:, labels] if output == "softmax" else rng.uniform(size=(K, m))
    assert _mlp_fd_worst(net, x, targets) < TOL


def test_mlp_single_sigmoid_output_with_binary_labels():
    rng = np.random.default_rng(7)
    net = MLP([4, 4, 4, 4, 1], activation="tanh", output="sigmoid", loss="mse", seed=7)
    x, labels = rng.normal(size=(4, 6)), rng.integers(0, 2, size=6)
    assert _mlp_fd_worst(net, x, labels.reshape(1, 6).astype(float)) < TOL
    assert set(np.unique(net.predict(x))) <= {0, 1}
    assert 0.0 <= net.accuracy(x, labels) <= 1.0


def test_mlp_loss_matches_independent_implementations():
    rng = np.random.default_rng(4)
    x, labels = rng.normal(size=(5, 9)), rng.integers(0, 3, size=9)
    net = MLP([5, 4, 3], seed=4)
    z = net.forward(x)  # logits of the linear last layer
    ref_loss, ref_p = softmax_cross_entropy(z.copy(), labels)
    assert net.loss(x, labels) == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(net.loss_node.y, ref_p, rtol=1e-12)
    # by hand: -mean log p[label]
    p = np.exp(z) / np.exp(z).sum(axis=0)
    assert net.loss(x, labels) == pytest.approx(-np.mean(np.log(p[labels, np.arange(9)])),
                                                rel=1e-12)
    reg = MLP([5, 4, 2], output="identity", loss="mse", seed=4)
    t = rng.normal(size=(2, 9))
    assert reg.loss(x, t) == pytest.approx(mse_loss(reg.forward(x), t), rel=1e-12)


def test_mlp_backward_equals_a_hand_written_network():
    # Two layers written out in plain NumPy with the book's formulas.
    rng = np.random.default_rng(8)
    net = MLP([3, 4, 2], activation="tanh", output="softmax", seed=8)
    x, labels = rng.normal(size=(3, 5)), rng.integers(0, 2, size=5)
    W1, b1, W2, b2 = (net.params[k].copy() for k in ("W1", "b1", "W2", "b2"))
    a1 = np.tanh(W1 @ x + b1)
    z2 = W2 @ a1 + b2
    p = np.exp(z2) / np.exp(z2).sum(axis=0)
    dz2 = p - np.eye(2)[:, labels]
    dz1 = (W2.T @ dz2) * (1 - a1**2)
    expected = {"W1": dz1 @ x.T / 5, "b1": dz1.sum(axis=1, keepdims=True) / 5,
                "W2": dz2 @ a1.T / 5, "b2": dz2.sum(axis=1, keepdims=True) / 5}
    net.loss(x, labels)
    grads = net.backward()
    for k, v in expected.items():
        np.testing.assert_allclose(grads[k], v, rtol=1e-12, atol=1e-15)


# -- in-place parameters, dtypes ------------------------------------------------------------------
def test_params_updated_in_place_are_seen_by_the_next_forward():
    rng = np.random.default_rng(9)
    net = MLP([4, 6, 3], seed=9)
    x, labels = rng.normal(size=(4, 20)), rng.integers(0, 3, size=20)
    W1 = net.params["W1"]
    before = net.loss(x, labels)
    for _ in range(20):
        grads = net.backward()
        for k, p in net.params.items():
            p -= 0.5 * grads[k]  # in place, as the optimisers do
        net.loss(x, labels)
    assert net.params["W1"] is W1
    assert net.loss(x, labels) < before
    net.params["W2"][...] = 0.0
    net.params["b2"][...] = 0.0
    np.testing.assert_array_equal(net.forward(x), np.zeros((3, 20)))  # equal logits


@pytest.mark.parametrize("output, loss", [("softmax", "softmax_ce"), ("sigmoid", "mse")])
def test_float32_stays_float32(output, loss):
    rng = np.random.default_rng(10)
    net = MLP([5, 7, 3], activation="sigmoid", output=output, loss=loss, dtype=np.float32)
    assert all(p.dtype == np.float32 for p in net.params.values())
    x = rng.normal(size=(5, 4))  # float64 input: converted once at the entry
    t = rng.integers(0, 3, size=4) if loss == "softmax_ce" else rng.uniform(size=(3, 4))
    assert net.forward(x).dtype == np.float32
    assert isinstance(net.loss(x, t), float)
    grads = net.backward()
    assert all(g.dtype == np.float32 for g in grads.values())
    blocks = [layer.block for layer in net.layers.values()]
    assert all(b.z.dtype == np.float32 and b.a.dtype == np.float32 for b in blocks)
    # and float32 agrees with float64 to float32 precision
    net64 = MLP([5, 7, 3], activation="sigmoid", output=output, loss=loss, dtype=np.float64)
    net64.loss(x, t)
    for k, p in net.params.items():
        np.testing.assert_allclose(p, net64.params[k], rtol=1e-6, atol=1e-7)


@settings(max_examples=30, deadline=None)
@given(sizes=st.lists(st.integers(1, 6), min_size=2, max_size=5), m=st.integers(1, 6),
       head=st.sampled_from([("softmax", "softmax_ce"), ("sigmoid", "mse"),
                             ("identity", "mse")]),
       activation=st.sampled_from(["relu", "sigmoid", "tanh"]),
       dtype=st.sampled_from([np.float64, np.float32]), seed=st.integers(0, 2**16))
def test_mlp_any_shape_gives_grads_shaped_like_params(sizes, m, head, activation, dtype, seed):
    output, loss = head
    if output == "softmax" and sizes[-1] < 2:
        sizes = sizes[:-1] + [2]
    net = MLP(sizes, activation=activation, output=output, loss=loss, seed=seed, dtype=dtype)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(sizes[0], m))
    labels = rng.integers(0, max(sizes[-1], 2), size=m)
    t = labels if loss == "softmax_ce" else rng.uniform(size=(sizes[-1], m))
    out = net.forward(x)
    assert out.shape == (sizes[-1], m) and out.dtype == dtype
    assert np.isfinite(net.loss(x, t))
    grads = net.backward()
    assert list(grads) == list(net.params)
    for k, g in grads.items():
        assert g.shape == net.params[k].shape and g.dtype == dtype
        assert np.all(np.isfinite(g))
    pred = net.predict(x)
    assert pred.shape == (m,) and pred.min() >= 0 and pred.max() < max(sizes[-1], 2)


def test_mlp_extreme_inputs_give_finite_loss_without_warnings():
    net = MLP([2, 3, 3], seed=0)
    x = np.array([[1e3, -1e3], [-1e3, 1e3]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = net.loss(x, np.array([0, 2]))
        grads = net.backward()
    assert np.isfinite(loss)
    assert all(np.all(np.isfinite(g)) for g in grads.values())


def test_predict_and_accuracy():
    net = MLP([2, 3], activation="relu", output="softmax", seed=0)  # one block: softmax regression
    net.params["W1"][...] = [[1, 0], [0, 1], [-1, -1]]
    x = np.array([[3.0, 0.0, -2.0], [0.0, 3.0, -2.0]])
    np.testing.assert_array_equal(net.predict(x), [0, 1, 2])
    assert net.accuracy(x, np.array([0, 1, 1])) == pytest.approx(2 / 3)
    assert net.accuracy(x, np.eye(3)[:, [0, 1, 2]]) == 1.0


# -- bad input ------------------------------------------------------------------------------------
def test_block_and_affine_shape_errors_name_the_array():
    a_prev, W, b = np.ones((4, 2)), np.ones((3, 4)), np.ones((3, 1))
    for node in (Affine(), LayerBlock("relu")):
        with pytest.raises(ShapeError, match=r"W has shape \(3, 5\), expected \(n_out, 4\)"):
            node.forward(a_prev, np.ones((3, 5)), b)
        with pytest.raises(ShapeError, match=r"b has shape \(3,\), expected \(3, 1\)"):
            node.forward(a_prev, W, np.ones(3))
        with pytest.raises(ShapeError, match=r"a_prev has shape \(4,\), expected \(n_in, m\)"):
            node.forward(np.ones(4), W, b)
        with pytest.raises(ValueError, match=r"a_prev has 4 non-finite"):
            node.forward(np.array([[1.0, np.nan]] * 4), W, b)
    block = LayerBlock("tanh")
    with pytest.raises(RuntimeError, match="before forward"):
        block.backward(np.ones((3, 2)))
    block.forward(a_prev, W, b)
    with pytest.raises(ShapeError, match=r"da has shape \(2, 3\), expected \(3, 2\)"):
        block.backward(np.ones((2, 3)))


def test_mlp_input_errors():
    net = MLP([4, 5, 3])
    x = np.ones((4, 6))
    with pytest.raises(ShapeError, match=r"x has shape \(3, 6\), expected \(4, m\)"):
        net.forward(np.ones((3, 6)))
    with pytest.raises(ShapeError, match=r"x has shape \(4,\), expected \(4, m\)"):
        net.loss(np.ones(4), np.array([0]))
    with pytest.raises(ValueError, match=r"x has 1 non-finite value\(s\) \(first: inf at index"):
        bad = x.copy()
        bad[2, 3] = np.inf
        net.loss(bad, np.zeros(6, dtype=int))
    with pytest.raises(ValueError, match=r"0 <= label < K = 3 .* found 3 at index 3"):
        net.loss(x, np.array([0, 1, 2, 3, 0, 1]))
    with pytest.raises(ValueError, match=r"0 <= label < K = 3 .* found -1"):
        net.loss(x, np.array([0, 1, 2, -1, 0, 1]))
    with pytest.raises(ValueError, match=r"0 <= label < K = 3 .* found -7"):
        net.loss(x, np.array([0, 1, 2, -7, 0, 1], dtype=np.int8))
    with pytest.raises(ShapeError, match=r"targets t have shape \(6,\), but predictions a"):
        MLP([4, 1], output="sigmoid", loss="mse").loss(x, np.array([0, 1, 1, 1, 0, 1]))
    with pytest.raises(ShapeError, match=r"x has no examples \(shape \(4, 0\)\)"):
        net.forward(np.ones((4, 0)))
    with pytest.raises(ShapeError, match=r"t has shape \(5,\), but z has shape \(3, 6\)"):
        net.loss(x, np.zeros(5, dtype=int))
    with pytest.raises(TypeError, match="integer class labels must have an integer dtype"):
        net.loss(x, np.zeros(6))
    with pytest.raises(ShapeError, match=r"t has shape \(2, 6\), but z has shape \(3, 6\)"):
        net.loss(x, np.zeros((2, 6)))
    with pytest.raises(ValueError, match="t has 1 non-finite"):
        t = np.zeros((3, 6))
        t[0, 0] = np.nan
        net.loss(x, t)
    with pytest.raises(RuntimeError, match=r"call loss\(x, t\) before backward"):
        MLP([2, 2]).backward()
    net.loss(x, np.zeros(6, dtype=int))
    net.predict(x)  # replaces the caches the loss left for backward
    with pytest.raises(RuntimeError, match=r"call loss\(x, t\) before backward"):
        net.backward()


def test_mlp_constructor_errors():
    with pytest.raises(ValueError, match="not supported"):
        MLP([2, 3], output="softmax", loss="mse")
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        MLP([2, 3, 2], activation="gelu")
    with pytest.raises(ValueError, match="at least 2 units"):
        MLP([2, 1], output="softmax")
    with pytest.raises(ValueError, match=r"sizes\[1\] must be a positive integer"):
        MLP([2, 0, 2])
    with pytest.raises(TypeError, match=r"sizes\[1\] must be a positive integer"):
        MLP([2, 2.5, 2])
    with pytest.raises(TypeError, match="float64 or float32"):
        MLP([2, 2], dtype=np.int64)
    with pytest.raises(ValueError, match="unknown activation"):
        LayerBlock("swish")


# -- initialisers ---------------------------------------------------------------------------------
@pytest.mark.parametrize("fn, std", [(binit.xavier, np.sqrt(2 / (500 + 300))),
                                     (binit.he, np.sqrt(2 / 500))])
def test_initialiser_scale(fn, std):
    W = fn(300, 500, np.random.default_rng(0))
    assert W.shape == (300, 500)
    # 150000 draws: the sample std is within 1% of sigma with overwhelming probability
    # (its relative standard error is 1/sqrt(2n) ~ 0.2%).
    assert abs(W.std() / std - 1) < 0.01
    assert abs(W.mean()) < 5 * std / np.sqrt(W.size)


def test_initialise_shapes_dtype_and_seed():
    params = binit.initialise([4, 3, 2], "he", np.random.default_rng(1), np.float32)
    assert [(W.shape, b.shape) for W, b in params] == [((3, 4), (3, 1)), ((2, 3), (2, 1))]
    assert all(W.dtype == np.float32 and b.dtype == np.float32 for W, b in params)
    assert all(not b.any() for _, b in params)
    again = binit.initialise([4, 3, 2], "he", np.random.default_rng(1), np.float32)
    assert all(np.array_equal(p[0], q[0]) for p, q in zip(params, again))
    assert not binit.initialise([4, 3], "zeros")[0][0].any()
    W = binit.initialise([4, 3], 0.0)[0][0]
    assert not W.any()
    W = binit.initialise([200, 100], 0.5, np.random.default_rng(2))[0][0]
    assert abs(W.std() / 0.5 - 1) < 0.02
    net_a, net_b = MLP([3, 4, 2], seed=3), MLP([3, 4, 2], seed=3)
    assert all(np.array_equal(net_a.params[k], net_b.params[k]) for k in net_a.params)


def test_initialiser_errors():
    with pytest.raises(ValueError, match="unknown init 'glorious'"):
        binit.initialise([2, 2], "glorious")
    with pytest.raises(ValueError, match="at least two entries"):
        binit.initialise([3])
    with pytest.raises(ValueError, match="scale must be a finite number >= 0"):
        binit.normal(-1.0)
    with pytest.raises(ValueError, match="n_in must be a positive integer"):
        binit.he(3, 0, np.random.default_rng(0))


# -- the figure -----------------------------------------------------------------------------------
def test_blocks_figure_draws_every_block_and_cache():
    import matplotlib.pyplot as plt

    fig = draw_blocks(2)
    texts = [t.get_text() for t in fig.axes[0].texts]
    for k in (1, 2):
        assert any(t.startswith(f"layer {k}\n") for t in texts)
        assert any(t.startswith(f"layer {k} backward") for t in texts)
        assert f"$dW^{{[{k}]}}, db^{{[{k}]}}$" in texts
        # the cache holds what backward reads: a_prev, W, z and a (chapter 5's text)
        cache = next(t for t in texts if t.startswith("cache") and f"z^{{[{k}]}}" in t)
        for held in (f"a^{{[{k - 1}]}}", f"W^{{[{k}]}}", f"a^{{[{k}]}}"):
            assert held in cache
    plt.close(fig)
    for n in (1, 2):
        fig = draw_blocks(n, activations=[r"\mathrm{ReLU}"] * n)
        assert sum(t.get_text().startswith("layer ") for t in fig.axes[0].texts) == 2 * n
        plt.close(fig)
    with pytest.raises(ValueError, match="n_layers"):
        draw_blocks(0)
    with pytest.raises(ValueError, match="activations has 1 entries, expected 2"):
        draw_blocks(2, activations=["g"])
