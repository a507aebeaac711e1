"""Tests for bpcore.nn.losses: softmax, softmax-with-loss, cross-entropy and MSE.

Expected values never come from bpcore itself: they are computed independently with mpmath
at 50 significant digits (so the reference is exact to far below float64 rounding), with plain
Python loops, or by SymPy/finite differences through ``verify_node``.

Tolerances: float64 results of a few well-conditioned operations agree with the exact value
to ~1e-15 relative; we use 1e-12 (a thousand times looser, still far tighter than any real
bug). Central finite differences (h = 1e-5) agree to ~1e-9..1e-10, hence 1e-7 there.
"""

from __future__ import annotations

import re
import warnings

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpcore import Value, all_node_classes, verify_node
from bpcore.checks import ShapeError
from bpcore.nn.functional import softmax, softmax_with_loss
from bpcore.nn.losses import (
    MSE,
    CrossEntropy,
    Softmax,
    SoftmaxWithLoss,
    log_softmax,
    logsumexp,
    mse_loss,
    one_hot,
    softmax_cross_entropy,
)

mpmath.mp.dps = 50
REL = 1e-12
LOSS_NODES = [Softmax, SoftmaxWithLoss, CrossEntropy, MSE]


# -- independent references (mpmath, 50 digits) --------------------------------------------------
def ref_softmax_column(col):
    zs = [mpmath.mpf(float(v)) for v in col]
    es = [mpmath.exp(v) for v in zs]
    s = mpmath.fsum(es)
    return [e / s for e in es]


def ref_loss_and_grad(z: np.ndarray, labels: np.ndarray):
    """Mean cross-entropy and dL/dz for (K, m) logits and integer labels, in mpmath."""
    K, m = z.shape
    total = mpmath.mpf(0)
    grad = np.zeros((K, m))
    for i in range(m):
        zs = [mpmath.mpf(float(v)) for v in z[:, i]]
        lse = mpmath.log(mpmath.fsum(mpmath.exp(v) for v in zs))
        total += lse - zs[int(labels[i])]
        for k, y in enumerate(ref_softmax_column(z[:, i])):
            grad[k, i] = float((y - (1 if k == labels[i] else 0)) / m)
    return float(total / m), grad


def rel(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b), 1e-300))


@pytest.fixture
def no_warnings():
    """Fail on any Python warning and on numpy overflow / divide-by-zero / invalid (NaN).

    Underflow stays ignored (numpy's default): e**(-2000) rounding to 0.0 is the correctly
    rounded result, and a softmax probability of 0.0 there is exact to float64 precision.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            yield


# -- every node against SymPy and finite differences ---------------------------------------------
def _cases():
    rng = np.random.default_rng(4)
    for cls in LOSS_NODES:
        for j, (node, inputs) in enumerate(cls.examples(rng)):
            yield pytest.param(node, inputs, id=f"{cls.__name__}-{j}")


@pytest.mark.parametrize("node, inputs", list(_cases()))
def test_verify_node_examples(node, inputs):
    report = verify_node(node, inputs)
    assert report.ok, f"{type(node).__name__}\n{report}"
    assert report.worst < 1e-7


def test_nodes_are_registered_with_varied_examples():
    registered = set(all_node_classes())
    for cls in LOSS_NODES:
        assert cls in registered
    shapes = {np.shape(inp[0]) for _, inp in SoftmaxWithLoss.examples(np.random.default_rng(0))}
    assert {2, 3, 4, 5} <= {s[0] for s in shapes}  # K = 2..5
    assert any(len(s) == 1 or s[1] == 1 for s in shapes)  # batch size 1


def test_softmax_with_loss_example_labels_both_kinds():
    kinds = {np.shape(inp[1]) == np.shape(inp[0])
             for _, inp in SoftmaxWithLoss.examples(np.random.default_rng(1))}
    assert kinds == {True, False}


# -- stability at extreme logits -------------------------------------------------------------
EXTREME = [
    np.array([[1000.0, -1000.0, 0.0], [0.0, 1000.0, -1000.0], [-1000.0, 999.0, 1000.0]]),
    np.array([[1e4, -1e4], [-1e4, 1e4], [0.0, 9999.0], [3.0, -3.0]]),
    np.array([[-1000.0, -1000.0], [-1000.0, -1001.0]]),
]


@pytest.mark.parametrize("z", EXTREME, ids=["pm1000", "1e4", "all-negative"])
@pytest.mark.parametrize("label_row", [0, 1])
def test_extreme_logits_match_mpmath(z, label_row, no_warnings):
    labels = np.full(z.shape[1], label_row)
    loss, y = softmax_cross_entropy(z, labels)
    ref_loss, ref_grad = ref_loss_and_grad(z, labels)
    assert np.isfinite(loss) and np.all(np.isfinite(y))
    assert abs(loss - ref_loss) <= REL * max(abs(ref_loss), 1.0)

    node = SoftmaxWithLoss()
    assert node.forward(z, labels) == loss
    (dz,) = node.backward(1.0)
    assert np.all(np.isfinite(dz))
    assert np.max(np.abs(dz - ref_grad)) <= REL  # entries are in [-1/m, 1/m]


@pytest.mark.parametrize("z", EXTREME, ids=["pm1000", "1e4", "all-negative"])
def test_softmax_logsumexp_log_softmax_extreme(z, no_warnings):
    y = softmax(z)
    lse = logsumexp(z)
    ls = log_softmax(z)
    for i in range(z.shape[1]):
        ref = ref_softmax_column(z[:, i])
        ref_lse = mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(v))) for v in z[:, i]))
        assert np.max(np.abs(y[:, i] - np.array([float(r) for r in ref]))) <= REL
        assert abs(lse[i] - float(ref_lse)) <= REL * abs(float(ref_lse))
        ref_ls = [float(mpmath.mpf(float(v)) - ref_lse) for v in z[:, i]]
        assert rel(ls[:, i], ref_ls) <= REL


def test_softmax_node_backward_against_mpmath_jacobian(no_warnings):
    z = np.array([[1000.0, 0.3], [999.0, -0.2], [-1000.0, 1.1]])
    dout = np.array([[0.5, -1.0], [2.0, 0.25], [-0.7, 1.5]])
    node = Softmax()
    node.forward(z)
    (dz,) = node.backward(dout)
    for i in range(z.shape[1]):
        y = ref_softmax_column(z[:, i])
        K = len(y)
        # dL/dz_k = sum_j dout_j * dy_j/dz_k with dy_j/dz_k = y_j (delta_jk - y_k)
        ref = [float(mpmath.fsum(dout[j, i] * y[j] * ((1 if j == k else 0) - y[k])
                                 for j in range(K))) for k in range(K)]
        assert rel(dz[:, i], ref) <= REL


def test_naive_formula_would_overflow():
    """The point of the max shift: the naive formula really is broken at these logits."""
    z = EXTREME[0]
    with np.errstate(all="ignore"):
        naive = np.exp(z) / np.exp(z).sum(axis=0)
    assert np.isnan(naive).any()
    assert np.all(np.isfinite(softmax(z)))


# -- batch size 1, labels as ints or one-hot --------------------------------------------------
def test_batch_of_one_vector_and_column_agree():
    z = np.array([0.2, -1.3, 2.0, 0.7])
    ref_loss, ref_grad = ref_loss_and_grad(z.reshape(4, 1), np.array([2]))
    loss_vec, y_vec = softmax_cross_entropy(z, 2)
    loss_col, y_col = softmax_cross_entropy(z.reshape(4, 1), np.array([2]))
    assert y_vec.shape == (4,) and y_col.shape == (4, 1)
    assert abs(loss_vec - ref_loss) <= REL * ref_loss
    assert abs(loss_col - ref_loss) <= REL * ref_loss
    node = SoftmaxWithLoss()
    node.forward(z, 2)
    (dz,) = node.backward()
    assert dz.shape == (4,)
    assert rel(dz, ref_grad[:, 0]) <= REL
    # one-hot vector for a single example
    node.forward(z, np.array([0.0, 0.0, 1.0, 0.0]))
    assert rel(node.backward()[0], ref_grad[:, 0]) <= REL


def test_integer_and_one_hot_labels_agree():
    rng = np.random.default_rng(7)
    for K, m in [(2, 1), (3, 5), (5, 8), (10, 64)]:
        z = rng.normal(size=(K, m)) * 3
        labels = rng.integers(0, K, size=m)
        t = np.zeros((K, m))
        t[labels, np.arange(m)] = 1.0  # built here, not with bpcore.one_hot
        a, b = SoftmaxWithLoss(), SoftmaxWithLoss()
        la, lb = a.forward(z, labels), b.forward(z, t)
        assert abs(la - lb) <= REL * abs(la)
        np.testing.assert_allclose(a.backward(0.5)[0], b.backward(0.5)[0], rtol=0, atol=1e-15)
        ref_loss, ref_grad = ref_loss_and_grad(z, labels)
        assert abs(la - ref_loss) <= REL * ref_loss
        assert rel(a.backward()[0], ref_grad) <= REL


def test_one_hot_builds_columns():
    t = one_hot(np.array([2, 0, 1, 2]), 3)
    expected = np.array([[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 1]], dtype=float)
    assert t.shape == (3, 4)
    assert np.array_equal(t, expected)
    assert np.array_equal(one_hot(1, 3), np.array([0.0, 1.0, 0.0]))


def test_soft_targets_gradient_is_y_minus_t():
    z = np.array([[0.5, -0.2], [1.5, 0.1], [-1.0, 0.3]])
    t = np.array([[0.1, 0.5], [0.8, 0.25], [0.1, 0.25]])
    node = SoftmaxWithLoss()
    loss = node.forward(z, t)
    ref = 0.0
    for i in range(2):
        ys = ref_softmax_column(z[:, i])
        ref += float(-mpmath.fsum(t[k, i] * mpmath.log(ys[k]) for k in range(3)))
        expected = [float((ys[k] - mpmath.mpf(t[k, i])) / 2) for k in range(3)]
        assert rel(node.backward()[0][:, i], expected) <= REL
    assert abs(loss - ref / 2) <= REL * ref


def test_unchecked_fast_path_equals_checked():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(4, 6))
    labels = rng.integers(0, 4, size=6)
    l1, y1 = softmax_cross_entropy(z, labels)
    l2, y2 = softmax_cross_entropy(z, labels, check=False)
    assert l1 == l2 and np.array_equal(y1, y2)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-50, 50), min_size=6, max_size=6), st.floats(-1e3, 1e3),
       st.integers(0, 2))
def test_loss_invariant_to_shifting_a_column(vals, c, label):
    """Adding a constant to every logit of an example changes neither y nor the loss."""
    z = np.array(vals).reshape(3, 2)
    labels = np.array([label, (label + 1) % 3])
    l1, y1 = softmax_cross_entropy(z, labels)
    l2, y2 = softmax_cross_entropy(z + c, labels)
    # shifting by c rounds z + c to the float grid near |c|: error ~ eps * |c| per logit
    tol = 1e-12 + 4e-16 * (abs(c) + 50)
    assert abs(l1 - l2) <= tol * max(1.0, abs(l1)) * 10
    assert np.max(np.abs(y1 - y2)) <= tol * 10


# -- graph integration ------------------------------------------------------------------------
def test_value_graph_keeps_integer_labels_and_gives_mean_gradient():
    z = np.array([[2.0, -1.0, 0.5], [0.1, 0.4, -2.0]])
    labels = np.array([1, 1, 0])
    zv = Value(z, label="z")
    L = softmax_with_loss(zv, labels)
    L.backward()
    ref_loss, ref_grad = ref_loss_and_grad(z, labels)
    assert abs(L.data - ref_loss) <= REL * ref_loss
    assert rel(zv.grad, ref_grad) <= REL


def test_softmax_on_values_matches_node():
    z = np.array([[0.3, 1.0], [-0.5, 2.0], [1.5, 0.0]])
    zv = Value(z)
    y = softmax(zv)
    dout = np.array([[1.0, 0.0], [0.0, 2.0], [0.5, -1.0]])
    y.backward(dout)
    node = Softmax()
    node.forward(z)
    assert np.array_equal(zv.grad, node.backward(dout)[0])


# -- MSE ------------------------------------------------------------------------------------------
def test_mse_value_and_gradient_by_hand():
    a = np.array([[0.5, 1.0, -2.0], [0.0, 3.0, 1.0]])
    t = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
    m = 3
    by_hand = sum((a[k, i] - t[k, i]) ** 2 for k in range(2) for i in range(3)) / (2 * m)
    node = MSE()
    assert abs(node.forward(a, t) - by_hand) <= REL * by_hand
    assert abs(mse_loss(a, t) - by_hand) <= REL * by_hand
    expected = [[(a[k, i] - t[k, i]) / m for i in range(3)] for k in range(2)]
    assert rel(node.backward(1.0)[0], expected) <= REL
    assert rel(node.backward(2.0)[0], 2 * np.array(expected)) <= REL


def test_cross_entropy_unfused_chain_equals_fused():
    z = np.array([[0.3, -1.0], [1.2, 0.5], [-0.4, 2.0]])
    labels = np.array([0, 2])
    sm, ce, fused = Softmax(), CrossEntropy(), SoftmaxWithLoss()
    loss_chain = ce.forward(sm.forward(z), labels)
    loss_fused = fused.forward(z, labels)
    assert abs(loss_chain - loss_fused) <= REL * loss_fused
    (dy,) = ce.backward(1.0)
    (dz_chain,) = sm.backward(dy)
    assert rel(dz_chain, fused.backward(1.0)[0]) <= REL


# -- bad input: the right exception, a message that names the problem ---------------------------
Z = np.array([[1.0, 2.0], [0.0, -1.0], [0.5, 0.5]])  # K = 3 classes, m = 2 examples


@pytest.mark.parametrize("t, exc, pattern", [
    (np.array([0, 3]), ValueError, "0 <= label < K = 3.*found 3 at index 1"),
    (np.array([-1, 0]), ValueError, "0 <= label < K = 3.*found -1 at index 0"),
    (np.array([0.0, 2.0]), TypeError, "integer dtype"),
    (np.array([True, False]), TypeError, "integer dtype"),
    (np.array([0, 1, 2]), ShapeError, r"shape \(3,\).*z has shape \(3, 2\)"),
    (np.zeros((2, 2)), ShapeError, r"shape \(2, 2\).*z has shape \(3, 2\)"),
    (np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]]), ValueError, "column 1 sums to 0"),
    (np.array([[2.0, 1.0], [-1.0, 0.0], [0.0, 0.0]]), ValueError, r"\[0, 1\].*-1 and 2"),
    (np.array([[1.0, np.nan], [0.0, 0.0], [0.0, 1.0]]), ValueError, r"t has 1 non-finite"),
    ("cat", TypeError, "t must be integer class labels or a one-hot array"),
    (True, TypeError, "bool"),
])
def test_bad_labels(t, exc, pattern):
    with pytest.raises(exc, match=pattern):
        SoftmaxWithLoss().forward(Z, t)
    with pytest.raises(exc, match=pattern):
        softmax_cross_entropy(Z, t)


@pytest.mark.parametrize("z, exc, pattern", [
    (np.array([[1.0, np.inf], [0.0, 0.0]]), ValueError,
     r"z has 1 non-finite.*inf at index \(0, 1\)"),
    (np.array([[1.0, 0.0], [np.nan, 0.0]]), ValueError, r"non-finite.*nan at index \(1, 0\)"),
    (np.array([[1.0, 0.0], [-np.inf, 0.0]]), ValueError, r"non-finite.*-inf at index \(1, 0\)"),
    (np.zeros((2, 0)), ValueError, r"empty batch \(m = 0"),
    (np.zeros((0, 2)), ValueError, r"no classes \(K = 0\)"),
    (np.zeros((2, 2, 2)), ShapeError, r"shape \(2, 2, 2\), expected \(K,\).*\(K, m\)"),
    (np.array(["a", "b"]), TypeError, "must hold numbers"),
])
def test_bad_logits(z, exc, pattern):
    labels = np.zeros(z.shape[1] if z.ndim == 2 else (), dtype=int) if z.ndim <= 2 else 0
    with pytest.raises(exc, match=pattern):
        SoftmaxWithLoss().forward(z, labels)


@pytest.mark.parametrize("f", [softmax, log_softmax, logsumexp, lambda z: Softmax().forward(z)])
def test_bad_logits_in_softmax_functions(f):
    with pytest.raises(ValueError, match=re.escape("inf at index (1, 0)")):
        f(np.array([[0.0, 0.0], [np.inf, 1.0]]))
    with pytest.raises(ValueError, match="empty batch"):
        f(np.zeros((3, 0)))


def test_bad_mse_inputs():
    with pytest.raises(ShapeError, match=r"t have shape \(2, 3\).*a have shape \(3, 2\)"):
        MSE().forward(np.zeros((3, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"a has 1 non-finite"):
        mse_loss(np.array([1.0, np.nan]), np.zeros(2))
    with pytest.raises(ValueError, match="empty batch"):
        MSE().forward(np.zeros((2, 0)), np.zeros((2, 0)))


def test_bad_cross_entropy_and_one_hot():
    with pytest.raises(ValueError, match="probability <= 0 where the target is positive"):
        CrossEntropy().forward(np.array([[1.0, 0.5], [0.0, 0.5]]), np.array([1, 0]))
    with pytest.raises(ValueError, match="positive integer, got 0"):
        one_hot([0], 0)
    with pytest.raises(ValueError, match="0 <= label < K = 2"):
        one_hot([0, 2], 2)
    with pytest.raises(TypeError, match="integer dtype"):
        one_hot(np.array([0.0, 1.0]), 2)
    with pytest.raises(ShapeError, match=r"labels have shape \(2, 2\)"):
        one_hot(np.zeros((2, 2), dtype=int), 2)


def test_softmax_with_loss_serves_verify_on_a_linear_layer():
    """One function runs on Values, SymPy arrays and floats: bp.verify compares all three."""
    from bpcore import verify

    rng = np.random.default_rng(11)
    x = rng.normal(size=(2, 4))
    labels = np.array([0, 2, 1, 2])
    report = verify(lambda W, b: softmax_with_loss(W @ x + b, labels),
                    rng.normal(size=(3, 2)), rng.normal(size=(3, 1)), names=["W", "b"])
    assert report.ok, report
    # and the closed form (Y - T) X^T / m, computed here with plain numpy
    Wv, bv = Value(rng.normal(size=(3, 2))), Value(rng.normal(size=(3, 1)))
    softmax_with_loss(Wv @ x + bv, labels).backward()
    z = Wv.data @ x + bv.data
    e = np.exp(z - z.max(axis=0))
    Y = e / e.sum(axis=0)
    T = np.zeros((3, 4))
    T[labels, np.arange(4)] = 1.0
    assert rel(Wv.grad, (Y - T) @ x.T / 4) <= REL
    assert rel(bv.grad, (Y - T).sum(axis=1, keepdims=True) / 4) <= REL
