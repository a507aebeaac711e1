"""Bad input at every public entry point: a clear error naming the problem, or a correct result.

Tried at each entry point that exists -- Value operators, the nodes, gradcheck / verify, the layer
block, the MLP, the losses, the optimisers, ``fit`` and the command line: wrong shapes, NaN and
infinity, an empty batch, integer arrays, labels out of range, a learning rate <= 0. Every error
is matched on its message (``match=``), so an error that does not say what is wrong fails.

Decisions this file pins down:

* **Integer arrays are data, not mistakes**: they are converted to float64 and give the same
  result as the float array (Values, nodes, layers, the MLP's inputs, losses' logits).
  *Labels* are the exception: class labels must have an integer dtype -- a float or bool label
  array is refused, because ``0.7`` is not a class.
* **NaN and infinity are refused where data enters** (Value leaves, gradcheck / verify inputs,
  softmax and losses, the layer block, the MLP), with the count and the first position.
* **An empty batch** (m = 0 columns) is refused by everything that divides by m (softmax, the
  losses, the MLP); the plain affine node returns the correct (empty / zero) result.
* **Learning rates** must be positive and finite, everywhere they can be given.

The gaps this sweep found (NaN through the activation nodes, integer parameters in the
optimisers, lists in ``fit``, a non-Value in ``draw_graph``) are fixed; their tests are plain
tests.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import bpcore as bp
from bpcore import ShapeError, Value
from bpcore.nn.affine import Affine, LayerBlock
from bpcore.nn.losses import one_hot
from bpcore.nn.network import MLP
from bpcore.nn.optim import SGD, Adam, Momentum, RMSprop, make_optimizer
from bpcore.nn.train import fit

NAN, INF = float("nan"), float("inf")


def nan_at(shape, index):
    a = np.ones(shape)
    a[index] = NAN
    return a


# -- Value operators -------------------------------------------------------------------------
@pytest.mark.parametrize("make, error, match", [
    (lambda: Value(NAN), ValueError, r"1 non-finite value\(s\) \(first: nan"),
    (lambda: Value(nan_at((2, 3), (1, 2)), "W"), ValueError,
     r"W has 1 non-finite value\(s\) \(first: nan at index \(1, 2\)\)"),
    (lambda: Value(np.array([1.0, -INF])), ValueError, r"first: -inf at index \(1,\)"),
    (lambda: Value(1.0) + NAN, ValueError, "non-finite"),
    (lambda: Value(1.0) * np.array([INF]), ValueError, "non-finite"),
    (lambda: Value("3"), TypeError, "must be a number or a numpy array, got str"),
    (lambda: Value(None), TypeError, "got NoneType"),
    (lambda: Value(1 + 2j), TypeError, "must be real, got dtype complex128"),
    (lambda: Value(np.array([1, "a"], dtype=object)), TypeError, "dtype object"),
    (lambda: Value(1.0) + [1.0],
     TypeError, "operand must be a Value, a number or a numpy array, got list"),
    (lambda: Value(np.ones(3)) + Value(np.ones(4)), ShapeError, r"shapes \(3,\) and \(4,\)"),
    (lambda: Value(np.ones((2, 3))) @ Value(np.ones((2, 3))), ShapeError,
     r"W of shape \(2, 3\) by a of shape \(2, 3\)"),
    (lambda: Value(np.ones(3)) @ Value(np.ones(3)),
     ShapeError, r"expected W \(n, k\) and a \(k, m\)"),
    (lambda: Value(1.0) / 0.0, ZeroDivisionError, "reciprocal of zero"),
    (lambda: Value(0.0).log(), ValueError, "log of a number <= 0"),
    (lambda: Value(-2.0) ** 0.5, ValueError, "non-integer power of a negative number"),
    (lambda: Value(2.0) ** "a", TypeError, "the exponent c must be a number, got str"),
    (lambda: (Value(np.ones(2)) * 2.0).backward(),
     ValueError, r"non-scalar output of shape \(2,\)"),
    (lambda: (Value(np.ones(2)) * 2.0).backward(np.ones(3)), ShapeError,
     r"upstream gradient has shape \(3,\), expected \(2,\)"),
    (lambda: (Value(np.ones(2)) * 2.0).backward(np.array([1.0, NAN])), ValueError,
     "upstream gradient has 1 non-finite"),
], ids=lambda x: None)
def test_value_bad_input(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_value_integer_input_is_converted_to_float():
    a, b = Value(np.array([[1, 2], [3, 4]])), Value(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert a.data.dtype == np.float64
    (a * a).sum().backward()
    (b * b).sum().backward()
    np.testing.assert_array_equal(a.grad, b.grad)
    n = Value(3)
    (n * n).backward()
    assert n.grad == 6.0 and isinstance(n.data, float)


def test_value_empty_array_gives_empty_gradient():
    v = Value(np.array([]))
    s = v.sum()
    s.backward()
    assert s.data == 0.0 and v.grad.shape == (0,)


# -- nodes ----------------------------------------------------------------------------------
@pytest.mark.parametrize("make, error, match", [
    (lambda: bp.Softmax().forward(np.array([1.0, NAN])), ValueError, r"z has 1 non-finite.*\(1,\)"),
    (lambda: bp.Softmax().forward(np.array([1.0, INF])), ValueError, "first: inf"),
    (lambda: bp.Softmax().forward(np.zeros((3, 0))), ValueError, r"empty batch \(m = 0"),
    (lambda: bp.Softmax().forward(np.zeros((3, 2, 2))),
     ShapeError, r"expected \(K,\) for one example"),
    (lambda: bp.SoftmaxWithLoss().forward(np.zeros((3, 2)), np.array([0, 3])), ValueError,
     "0 <= label < K = 3.*found 3 at index 1"),
    (lambda: bp.SoftmaxWithLoss().forward(np.zeros((3, 2)), np.array([0, -1])), ValueError,
     "found -1 at index 1"),
    (lambda: bp.SoftmaxWithLoss().forward(np.zeros((3, 2)), np.array([0.0, 1.0])), TypeError,
     "integer class labels must have an integer dtype"),
    (lambda: bp.SoftmaxWithLoss().forward(np.zeros((2, 2)), np.array([True, False])), TypeError,
     "dtype bool"),
    (lambda: bp.SoftmaxWithLoss().forward(np.zeros((3, 2)), np.array([0, 1, 2])), ShapeError,
     r"t has shape \(3,\), but z has shape \(3, 2\)"),
    (lambda: bp.SoftmaxWithLoss().forward(np.zeros((3, 2)), np.zeros((2, 3))), ShapeError,
     r"expected one-hot targets of shape \(3, 2\)"),
    (lambda: bp.SoftmaxWithLoss().forward(np.zeros((3, 0)), np.zeros(0, int)), ValueError,
     "empty batch"),
    (lambda: bp.SoftmaxWithLoss().forward(nan_at((2, 1), (0, 0)), np.array([0])), ValueError,
     "z has 1 non-finite"),
    (lambda: bp.CrossEntropy().forward(np.array([[0.0], [1.0]]), np.array([0])), ValueError,
     "probability <= 0 where the target is positive"),
    (lambda: bp.MSE().forward(np.ones((2, 3)), np.ones((3, 2))), ShapeError,
     r"t have shape \(3, 2\), but predictions a have shape \(2, 3\)"),
    (lambda: bp.MSE().forward(np.array([NAN]), np.array([1.0])), ValueError, "a has 1 non-finite"),
    (lambda: bp.MSE().forward(np.zeros((2, 0)), np.zeros((2, 0))), ValueError, "empty batch"),
    (lambda: bp.AddNode().forward(np.ones(3), np.ones(4)), ShapeError, "do not broadcast"),
    (lambda: bp.MatMulNode().forward(np.ones((2, 3)), np.ones((2, 3))),
     ShapeError, "cannot multiply"),
    (lambda: bp.LogNode().forward(np.array([1.0, 0.0])), ValueError, "log of a number <= 0"),
    (lambda: bp.ReciprocalNode().forward(np.array([1.0, 0.0])),
     ZeroDivisionError, "reciprocal of zero"),
], ids=lambda x: None)
def test_node_bad_input(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("node", [bp.Sigmoid(), bp.Tanh(), bp.ReLU(), bp.Softmax(), bp.ExpNode()])
def test_node_integer_array_equals_float_array(node):
    x_int = np.array([[-2, 0, 3], [1, 2, -1]])
    out_int = node.forward(x_int)
    out_float = type(node)().forward(x_int.astype(float))
    assert out_int.dtype == np.float64
    np.testing.assert_array_equal(out_int, out_float)


def test_losses_integer_logits_and_targets_work():
    z = np.array([[1, 2], [3, -1], [0, 0]])
    loss_int = bp.SoftmaxWithLoss().forward(z, np.array([0, 2]))
    loss_float = bp.SoftmaxWithLoss().forward(z.astype(float), np.array([0, 2]))
    assert loss_int == loss_float
    # a vector is one example (m = 1): (1^2 + 2^2) / (2 * 1)
    assert bp.MSE().forward(np.array([1, 2]), np.array([0, 0])) == 2.5


def test_losses_at_extreme_logits_are_finite_and_warning_free():
    # Underflow of exp(-2000) to 0 is exact enough and numpy does not warn about it; overflow,
    # invalid values and division by zero would be real problems.
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = bp.SoftmaxWithLoss().forward(np.array([[1000.0], [-1000.0]]), np.array([1]))
        assert loss == pytest.approx(2000.0, rel=1e-12)  # -log softmax = 1000 - (-1000)
        y = bp.Softmax().forward(np.array([1000.0, -1000.0, 999.0]))
    assert np.all(np.isfinite(y)) and y.sum() == pytest.approx(1.0, rel=1e-15)


@pytest.mark.parametrize("make, error, match", [
    (lambda: bp.softmax(np.array([NAN, 1.0])), ValueError, "z has 1 non-finite"),
    (lambda: bp.softmax_with_loss(np.zeros((3, 2)), np.array([0, 5])), ValueError, "found 5"),
    (lambda: bp.mse_loss(np.ones(3), np.ones(4)), ShapeError, "MSE needs the same shape"),
    (lambda: one_hot(np.array([0, 3]), 3), ValueError, "0 <= label < K = 3"),
    (lambda: one_hot(np.array([0]), 0), ValueError, "K must be a positive integer, got 0"),
    (lambda: one_hot(np.array([0.5]), 3), TypeError, "integer dtype"),
    (lambda: bp.logsumexp(np.array([NAN])), ValueError, "non-finite"),
], ids=lambda x: None)
def test_loss_functions_bad_input(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("node", [bp.Sigmoid(), bp.Tanh(), bp.ReLU()])
def test_activation_nodes_refuse_nan(node):
    with pytest.raises(ValueError, match="non-finite"):
        node.forward(np.array([1.0, NAN]))


# -- gradcheck and verify ----------------------------------------------------------------------
@pytest.mark.parametrize("make, error, match", [
    (lambda: bp.numerical_gradient(lambda x: x, 1.0, h=0),
     ValueError, "step h must be positive, got 0"),
    (lambda: bp.numerical_gradient(lambda x: x, 1.0, h=-1e-5),
     ValueError, "step h must be positive"),
    (lambda: bp.numerical_gradient(lambda x: x, np.ones(2)), ValueError,
     r"f must return a scalar, got shape \(2,\)"),
    (lambda: bp.numerical_gradient(lambda x: x, NAN), ValueError, "input 0 has 1 non-finite"),
    (lambda: bp.gradcheck(lambda x: x * x, NAN), ValueError, "non-finite"),
    (lambda: bp.gradcheck(lambda x: x * x, "a"), TypeError, "got str"),
    (lambda: bp.gradcheck(lambda x: x * x, np.ones(2)), ValueError, "non-scalar output"),
    (lambda: bp.verify(lambda x: x * x, np.array([1.0, INF])),
     ValueError, "input 0 has 1 non-finite"),
    (lambda: bp.verify_node(bp.Sigmoid(), (NAN,)), ValueError, "non-finite"),
    (lambda: bp.verify_node(bp.AddNode(), (1.0,)), TypeError, "missing 1 required positional"),
    (lambda: bp.rel_error(np.ones(2), np.ones(3)), ValueError,
     r"cannot compare gradients of shapes \(2,\) and \(3,\)"),
], ids=lambda x: None)
def test_checking_tools_bad_input(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_gradcheck_on_integer_input_works():
    report = bp.gradcheck(lambda x: (x * x).sum(), np.array([1, 2, 3]))
    assert report.ok


# -- layers ------------------------------------------------------------------------------------
@pytest.mark.parametrize("node", [Affine(), LayerBlock("relu")], ids=["Affine", "LayerBlock"])
@pytest.mark.parametrize("inputs, error, match", [
    ((np.ones((3, 2)), np.ones((2, 4)), np.ones((2, 1))), ShapeError,
     r"W has shape \(2, 4\), expected \(n_out, 3\)"),
    ((np.ones((3, 2)), np.ones((2, 3)), np.ones((3, 1))), ShapeError,
     r"b has shape \(3, 1\), expected \(2, 1\)"),
    ((np.ones((3, 2)), np.ones((2, 3)), np.ones(2)),
     ShapeError, r"b has shape \(2,\), expected \(2, 1\)"),
    ((nan_at((3, 2), (0, 1)), np.ones((2, 3)), np.ones((2, 1))), ValueError,
     r"a_prev has 1 non-finite value\(s\) \(first: nan at index \(0, 1\)\)"),
    ((np.ones((3, 2)), nan_at((2, 3), (1, 0)), np.ones((2, 1))), ValueError, "W has 1 non-finite"),
], ids=["W-cols", "b-rows", "b-1d", "nan-a_prev", "nan-W"])
def test_layer_bad_input(node, inputs, error, match):
    with pytest.raises(error, match=match):
        node.forward(*inputs)


def test_layer_block_rejects_unknown_activation_and_early_backward():
    with pytest.raises(ValueError, match="unknown activation 'softplus'; choose one of"):
        LayerBlock("softplus")
    with pytest.raises(RuntimeError, match="backward called before forward"):
        LayerBlock("relu").backward(np.ones((2, 2)))
    block = LayerBlock("relu")
    block.forward(np.ones((3, 2)), np.ones((2, 3)), np.ones((2, 1)))
    with pytest.raises(ShapeError, match=r"da has shape \(3, 3\), expected \(2, 2\)"):
        block.backward(np.ones((3, 3)))


def test_affine_integer_inputs_and_empty_batch():
    a_prev = np.array([[1, 2], [0, -1], [3, 1]])
    W, b = np.array([[1, 0, 2], [-1, 1, 0]]), np.array([[1], [0]])
    z = Affine().forward(a_prev, W, b)
    assert z.dtype == np.float64
    np.testing.assert_array_equal(z, W @ a_prev + b)
    node = Affine()
    assert node.forward(np.ones((3, 0)), np.ones((2, 3)), np.ones((2, 1))).shape == (2, 0)
    da_prev, dW, db = node.backward(np.ones((2, 0)))  # a sum over no examples: zero gradients
    assert da_prev.shape == (3, 0)
    np.testing.assert_array_equal(dW, np.zeros((2, 3)))
    np.testing.assert_array_equal(db, np.zeros((2, 1)))


def test_layer_block_on_an_empty_batch_gives_empty_and_zero_gradients():
    # No 1/m in the block (the loss carries it), so m = 0 is no division by zero: the
    # gradients are the correct empty sums, like the Affine node's.
    block = LayerBlock("relu")
    a = block.forward(np.ones((3, 0)), np.ones((2, 3)), np.ones((2, 1)))
    da_prev, dW, db = block.backward(np.ones((2, 0)))
    assert a.shape == (2, 0) and da_prev.shape == (3, 0)
    np.testing.assert_array_equal(dW, np.zeros((2, 3)))
    np.testing.assert_array_equal(db, np.zeros((2, 1)))


# -- MLP ---------------------------------------------------------------------------------------
@pytest.fixture
def mlp():
    return MLP([3, 4, 2], seed=0)


X5 = np.linspace(-1, 1, 15).reshape(3, 5)
LABELS5 = np.array([0, 1, 1, 0, 1])


@pytest.mark.parametrize("make, error, match", [
    (lambda: MLP([3]), ValueError, r"sizes needs at least \[n_input, n_output\]"),
    (lambda: MLP([3, 0, 2]), ValueError, r"sizes\[1\] must be a positive integer, got 0"),
    (lambda: MLP([3, 2.5, 2]), TypeError, r"sizes\[1\] must be a positive integer, got 2.5"),
    (lambda: MLP([3, 4, 2], activation="gelu"), ValueError, "unknown activation 'gelu'"),
    (lambda: MLP([3, 4, 2], loss="hinge"), ValueError, "loss='hinge' is not supported"),
    (lambda: MLP([3, 4, 1]), ValueError, "softmax output needs at least 2 units"),
], ids=lambda x: None)
def test_mlp_bad_construction(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("x, t, error, match", [
    (np.ones((4, 5)), LABELS5, ShapeError, r"x has shape \(4, 5\), expected \(3, m\)"),
    (np.ones(3), np.array([0]), ShapeError, r"x has shape \(3,\), expected \(3, m\)"),
    (nan_at((3, 5), (2, 4)), LABELS5,
     ValueError, r"x has 1 non-finite value\(s\) \(first: nan at index \(2, 4\)\)"),
    (np.full((3, 5), INF), LABELS5, ValueError, "x has 15 non-finite"),
    (np.ones((3, 0)), np.zeros(0, int), ShapeError, r"x has no examples \(shape \(3, 0\)\)"),
    (X5, np.array([0, 1, 2, 0, 1]), ValueError, r"0 <= label < K = 2 .*found 2 at index 2"),
    (X5, np.array([0, 1, -1, 0, 1]), ValueError, "found -1"),
    (X5, LABELS5.astype(float), TypeError, "labels must have an integer dtype"),
    (X5, np.array([0, 1]), ShapeError, r"t has shape \(2,\), but z has shape \(2, 5\)"),
    (X5, np.ones((3, 5)), ShapeError, r"t has shape \(3, 5\), but z has shape \(2, 5\)"),
    (X5, np.zeros((2, 5)), ValueError, "must sum to 1"),
], ids=lambda x: None)
def test_mlp_loss_bad_input(mlp, x, t, error, match):
    with pytest.raises(error, match=match):
        mlp.loss(x, t)


def test_mlp_backward_before_loss(mlp):
    with pytest.raises(RuntimeError, match=r"call loss\(x, t\) before backward\(\)"):
        mlp.backward()


def test_mlp_accuracy_checks_labels(mlp):
    with pytest.raises(ValueError, match="found 5"):
        mlp.accuracy(X5, np.array([0, 5, 1, 0, 1]))
    with pytest.raises(ShapeError, match=r"labels has shape \(2,\), but z has shape"):
        mlp.accuracy(X5, np.array([0, 1]))


def test_mlp_integer_x_equals_float_x(mlp):
    x_int = np.array([[1, 0, -1, 2, 0], [0, 1, 1, -2, 3], [2, 2, 0, 1, -1]])
    loss_int = mlp.loss(x_int, LABELS5)
    g_int = mlp.backward()
    loss_float = mlp.loss(x_int.astype(float), LABELS5)
    g_float = mlp.backward()
    assert loss_int == loss_float
    for k in g_float:
        np.testing.assert_array_equal(g_int[k], g_float[k])


def test_mlp_huge_but_finite_inputs_give_finite_loss(mlp):
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = mlp.loss(np.full((3, 5), 1e150), LABELS5)
    assert np.isfinite(loss)


# -- optimisers -----------------------------------------------------------------------------------
@pytest.mark.parametrize("make, error, match", [
    (lambda: SGD(0), ValueError, "learning rate lr must be a finite number > 0, got 0"),
    (lambda: SGD(-0.1), ValueError, "got -0.1"),
    (lambda: SGD(NAN), ValueError, "got nan"),
    (lambda: SGD(INF), ValueError, "got inf"),
    (lambda: SGD("0.1"), TypeError, "learning rate lr must be a number, got str"),
    (lambda: Momentum(0.0), ValueError, "finite number > 0, got 0.0"),
    (lambda: RMSprop(-1.0), ValueError, "finite number > 0, got -1.0"),
    (lambda: Adam(0.0), ValueError, "finite number > 0, got 0.0"),
    (lambda: Momentum(0.1, beta=1.0), ValueError,
     r"beta must be a finite number in \[0, 1\), got 1.0"),
    (lambda: RMSprop(0.1, eps=0), ValueError, "eps must be a finite number > 0"),
    (lambda: make_optimizer("lbfgs", 0.1), ValueError, "unknown optimizer 'lbfgs'; choose one of"),
    (lambda: make_optimizer("adam", 0), ValueError, "learning rate lr must be a finite number > 0"),
], ids=lambda x: None)
def test_optimiser_bad_hyperparameters(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_optimiser_step_checks_keys_and_shapes_before_changing_anything():
    params = {"W": np.ones((2, 2)), "b": np.zeros((2, 1))}
    before = {k: v.copy() for k, v in params.items()}
    with pytest.raises(ShapeError, match=r"grads\['b'\] has shape \(2,\), expected \(2, 1\)"):
        SGD(0.1).step(params, {"W": np.ones((2, 2)), "b": np.ones(2)})
    with pytest.raises(KeyError, match=r"missing \['b'\], unexpected \['V'\]"):
        SGD(0.1).step(params, {"W": np.ones((2, 2)), "V": np.ones((2, 1))})
    for k in params:  # the failed calls changed nothing
        np.testing.assert_array_equal(params[k], before[k])


def test_optimiser_step_names_integer_params():
    with pytest.raises(TypeError, match=r"params\['W'\]"):
        SGD(0.1).step({"W": np.ones((2, 2), dtype=int)}, {"W": np.ones((2, 2))})


# -- fit ----------------------------------------------------------------------------------------
@pytest.fixture
def data():
    X = np.random.default_rng(0).normal(size=(3, 20))
    return X, np.arange(20) % 2


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(epochs=0), ValueError, "epochs must be a positive integer, got 0"),
    (dict(batch_size=0), ValueError, "batch_size must be a positive integer, got 0"),
    (dict(epochs=1.5), TypeError, r"epochs must be a positive integer, got 1.5 \(float\)"),
    (dict(optimizer="sgd"), TypeError, "optimizer must be a bpcore.nn.optim.Optimizer, got str"),
    (dict(X_val=np.ones((3, 2))), ValueError, "give both X_val and y_val, or neither"),
], ids=lambda x: None)
def test_fit_bad_arguments(data, kwargs, error, match):
    X, y = data
    args = dict(epochs=1, batch_size=5, optimizer=SGD(0.1)) | kwargs
    with pytest.raises(error, match=match):
        fit(MLP([3, 4, 2]), X, y, **args)


def test_fit_bad_data(data):
    X, y = data
    with pytest.raises(ShapeError, match=r"y has shape \(10,\) but X has 20 examples"):
        fit(MLP([3, 4, 2]), X, y[:10], 1, 5, SGD(0.1))
    # fit checks the whole data set once, before the first step, and names it as fit does
    with pytest.raises(ValueError, match=r"X has 60 non-finite value\(s\)"):
        fit(MLP([3, 4, 2]), np.full((3, 20), NAN), y, 1, 5, SGD(0.1))
    with pytest.raises(ValueError, match=r"0 <= label < K = 2 .*found 2"):
        fit(MLP([3, 4, 2]), X, np.arange(20) % 3, 1, 5, SGD(0.1))


def test_fit_integer_features_work(data):
    X, y = data
    history = fit(MLP([3, 4, 2]), np.round(X * 3).astype(int), y, 2, 5, SGD(0.1))
    assert len(history.loss) == 2 and all(np.isfinite(history.loss))


def test_fit_refuses_an_empty_training_set(data):
    X, y = data
    with pytest.raises(ValueError, match=r"X has no examples \(shape \(3, 0\)\)"):
        fit(MLP([3, 4, 2]), X[:, :0], y[:0], 1, 5, SGD(0.1))


def test_fit_accepts_nested_lists_like_arrays(data):
    X, y = data
    from_lists = fit(MLP([3, 4, 2]), X.tolist(), y.tolist(), 2, 5, SGD(0.1))
    from_arrays = fit(MLP([3, 4, 2]), X, y, 2, 5, SGD(0.1))
    assert from_lists.loss == from_arrays.loss


# -- drawing -----------------------------------------------------------------------------------
def test_draw_graph_needs_a_value():
    from bpcore.figures import draw_graph

    with pytest.raises(TypeError, match="draw_graph needs the Value at the end of a recorded "
                       "graph, got float"):
        draw_graph(3.0)


# -- command line ---------------------------------------------------------------------------------
@pytest.mark.parametrize("args, message", [
    (["verify", "--seeds", "0"], "argument --seeds: must be at least 1, got 0"),
    (["verify", "--seeds", "x"], "argument --seeds: expected an integer, got 'x'"),
    (["train", "--lr", "0"], "argument --lr: must be a positive number, got 0"),
    (["train", "--lr", "-1"], "argument --lr: must be a positive number, got -1"),
    (["train", "--epochs", "0"], "argument --epochs: must be at least 1, got 0"),
    (["train", "--hidden", "0"], "argument --hidden: must be at least 1, got 0"),
    (["nope"], "invalid choice: 'nope'"),
    ([], "the following arguments are required: COMMAND"),
], ids=lambda x: None)
def test_cli_bad_arguments(args, message):
    proc = subprocess.run([sys.executable, "-m", "bpcore", *args], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2
    assert message in proc.stderr
