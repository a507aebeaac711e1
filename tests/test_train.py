"""Data loading, minibatches and the training loop."""

from __future__ import annotations

import numpy as np
import pytest

from bpcore.checks import ShapeError
from bpcore.nn.data import load_digits_split, minibatches
from bpcore.nn.optim import SGD, Adam
from bpcore.nn.train import History, fit

# -- minibatches ----------------------------------------------------------------------------


@pytest.mark.parametrize("m, batch_size", [(10, 3), (10, 5), (10, 1), (7, 32), (1, 1)])
def test_minibatches_cover_every_example_once_per_epoch(m, batch_size):
    X = np.arange(2 * m, dtype=float).reshape(2, m)  # column j is (j, m + j)
    y = np.arange(m)
    rng = np.random.default_rng(0)
    orders = []
    for _ in range(3):  # three epochs, each a fresh shuffle
        seen, sizes = [], []
        for xb, yb in minibatches(X, y, batch_size, rng):
            np.testing.assert_array_equal(xb[0], yb)  # columns and labels stay paired
            np.testing.assert_array_equal(xb[1], yb + m)
            seen.extend(yb.tolist())
            sizes.append(len(yb))
        assert sorted(seen) == list(range(m))  # every example exactly once
        expected_sizes = [batch_size] * (m // batch_size) + ([m % batch_size] if m % batch_size
                                                             else [])
        assert sizes == expected_sizes  # full batches, then the remainder
        orders.append(seen)
    if m >= 7:
        assert orders[0] != orders[1]  # reshuffled each epoch


def test_minibatches_accept_one_hot_targets():
    X = np.zeros((3, 5))
    T = np.eye(4)[:, [0, 1, 2, 3, 0]]  # (K, m) one-hot
    batches = list(minibatches(X, T, 2, np.random.default_rng(1)))
    assert [tb.shape for _, tb in batches] == [(4, 2), (4, 2), (4, 1)]


@pytest.mark.parametrize("bad", [0, -3])
def test_minibatches_refuse_bad_batch_size(bad):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        list(minibatches(np.zeros((2, 4)), np.zeros(4), bad, np.random.default_rng(0)))


def test_minibatches_refuse_non_integer_batch_size():
    with pytest.raises(TypeError, match="batch_size must be a positive integer, got 2.5"):
        list(minibatches(np.zeros((2, 4)), np.zeros(4), 2.5, np.random.default_rng(0)))


def test_minibatches_refuse_mismatched_labels():
    with pytest.raises(ShapeError, match=r"y has shape \(3,\) but X has 4 examples"):
        list(minibatches(np.zeros((2, 4)), np.zeros(3), 2, np.random.default_rng(0)))


# -- the digits -------------------------------------------------------------------------------


def test_load_digits_split_shapes_scaling_and_stratification():
    X_train, y_train, X_test, y_test = load_digits_split(test_size=0.25, seed=0)
    assert X_train.shape[0] == X_test.shape[0] == 64  # examples as columns
    assert X_train.shape[1] + X_test.shape[1] == 1797  # the digits data set has 1797 images
    assert X_test.shape[1] == 450  # ceil(0.25 * 1797)
    assert y_train.shape == (X_train.shape[1],) and y_test.shape == (X_test.shape[1],)
    assert X_train.min() == 0.0 and X_train.max() == 1.0  # pixel values 0..16, divided by 16
    assert np.issubdtype(y_train.dtype, np.integer)
    # stratified: every class has the same share in both parts, to within one image
    train_counts = np.bincount(y_train, minlength=10)
    test_counts = np.bincount(y_test, minlength=10)
    share = test_counts / (train_counts + test_counts)
    assert np.all(np.abs(share - 0.25) < 1.0 / (train_counts + test_counts).min() + 1e-12)
    # fixed: the same seed gives the same split, another seed a different one
    again = load_digits_split(test_size=0.25, seed=0)
    np.testing.assert_array_equal(again[3], y_test)
    other = load_digits_split(test_size=0.25, seed=1)
    assert not np.array_equal(other[3], y_test)


def test_load_digits_split_refuses_bad_test_size():
    with pytest.raises(ValueError, match="test_size"):
        load_digits_split(test_size=1.5)


# -- fit ---------------------------------------------------------------------------------------


class SoftmaxRegression:
    """A one-layer model with the MLP interface, written out here so fit is tested alone.

    z = W x + b, mean cross-entropy of softmax(z); gradients (1/m)(y - t) x^T and (1/m)Σ(y - t).
    """

    def __init__(self, n_in: int, n_classes: int) -> None:
        self.params = {"W1": np.zeros((n_classes, n_in)), "b1": np.zeros((n_classes, 1))}

    def _probs(self, x: np.ndarray) -> np.ndarray:
        z = self.params["W1"] @ x + self.params["b1"]
        e = np.exp(z - z.max(axis=0))
        return e / e.sum(axis=0)

    def loss(self, x: np.ndarray, labels: np.ndarray) -> float:
        y = self._probs(x)
        m = x.shape[1]
        self._cache = (x, y, labels)
        return float(-np.log(y[labels, np.arange(m)]).mean())

    def backward(self) -> dict[str, np.ndarray]:
        x, y, labels = self._cache
        m = x.shape[1]
        dz = y.copy()
        dz[labels, np.arange(m)] -= 1.0
        return {"W1": dz @ x.T / m, "b1": dz.sum(axis=1, keepdims=True) / m}

    def accuracy(self, x: np.ndarray, labels: np.ndarray) -> float:
        return float((self._probs(x).argmax(axis=0) == labels).mean())


def blobs(seed: int, m: int = 120) -> tuple[np.ndarray, np.ndarray]:
    """Three well-separated Gaussian clusters in 2-D, as columns."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 3.0, -3.0], [3.0, -2.0, -2.0]])
    y = rng.integers(0, 3, size=m)
    X = centres[:, y] + 0.5 * rng.normal(size=(2, m))
    return X, y


def test_fit_reduces_the_loss_on_a_tiny_problem():
    X, y = blobs(0)
    X_val, y_val = blobs(1, m=60)
    model = SoftmaxRegression(2, 3)
    history = fit(model, X, y, epochs=20, batch_size=16, optimizer=SGD(0.5), seed=0,
                  X_val=X_val, y_val=y_val)
    assert isinstance(history, History)
    assert history.epochs == 20 and len(history.train_acc) == 20 and len(history.val_acc) == 20
    # the zero model starts at loss log 3 = 1.0986 (uniform softmax); training must go well below
    assert history.loss[0] < np.log(3)
    assert history.loss[-1] < 0.25 * history.loss[0]
    assert history.train_acc[-1] > 0.95 and history.val_acc[-1] > 0.95  # clusters 6σ apart
    assert "20 epochs" in repr(history)


def test_fit_is_reproducible_with_a_fixed_seed():
    X, y = blobs(0)
    runs = []
    for _ in range(2):
        model = SoftmaxRegression(2, 3)
        runs.append(fit(model, X, y, epochs=3, batch_size=7, optimizer=Adam(0.05), seed=4).loss)
    assert runs[0] == runs[1]


def test_fit_without_validation_data_records_no_validation_accuracy():
    X, y = blobs(0, m=30)
    history = fit(SoftmaxRegression(2, 3), X, y, epochs=2, batch_size=8, optimizer=SGD(0.1))
    assert history.val_acc == [] and len(history.loss) == 2


@pytest.mark.parametrize("kwargs, error, message", [
    ({"epochs": 0}, ValueError, "epochs must be a positive integer"),
    ({"batch_size": 0}, ValueError, "batch_size must be a positive integer"),
    ({"optimizer": "sgd"}, TypeError, "optimizer must be a bpcore.nn.optim.Optimizer"),
    ({"X_val": np.zeros((2, 3))}, ValueError, "give both X_val and y_val"),
])
def test_fit_refuses_bad_arguments(kwargs, error, message):
    X, y = blobs(0, m=30)
    args = {"epochs": 1, "batch_size": 8, "optimizer": SGD(0.1)} | kwargs
    with pytest.raises(error, match=message):
        fit(SoftmaxRegression(2, 3), X, y, **args)


def test_fit_reports_divergence():
    class Exploding(SoftmaxRegression):
        def loss(self, x, labels):
            super().loss(x, labels)
            return float("inf")

    X, y = blobs(0, m=30)
    with pytest.raises(FloatingPointError, match="epoch 1.*learning rate"):
        fit(Exploding(2, 3), X, y, epochs=2, batch_size=8, optimizer=SGD(10.0))


def test_progress_bar_goes_to_stderr(capsys):
    X, y = blobs(0, m=30)
    fit(SoftmaxRegression(2, 3), X, y, epochs=2, batch_size=8, optimizer=SGD(0.1), progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "training" in captured.err and "2/2" in captured.err


def test_fit_trains_bpcores_mlp_with_every_optimizer():
    from bpcore.nn.network import MLP
    from bpcore.nn.optim import Momentum, RMSprop

    X, y = blobs(0)
    for opt in (SGD(0.1), Momentum(0.05), RMSprop(0.01), Adam(0.01)):
        model = MLP([2, 8, 3], seed=0)
        start = model.loss(X, y)
        history = fit(model, X, y, epochs=15, batch_size=16, optimizer=opt, seed=0)
        # a random He-initialised network starts near or above log 3; training must at least
        # halve the loss on these separable clusters, and classify them
        assert history.loss[-1] < 0.5 * start, opt
        assert history.train_acc[-1] > 0.95, opt


def test_fit_refuses_empty_or_mismatched_data():
    X, y = blobs(0, m=30)
    with pytest.raises(ValueError, match=r"X has no examples \(shape \(2, 0\)\)"):
        fit(SoftmaxRegression(2, 3), X[:, :0], y[:0], epochs=1, batch_size=8, optimizer=SGD(0.1))
    with pytest.raises(ShapeError, match=r"y_val has shape \(4,\) but X_val has 5 examples"):
        fit(SoftmaxRegression(2, 3), X, y, epochs=1, batch_size=8, optimizer=SGD(0.1),
            X_val=X[:, :5], y_val=y[:4])
    with pytest.raises(ShapeError, match=r"X has shape \(30,\), expected \(n_features, m\)"):
        fit(SoftmaxRegression(2, 3), X[0], y, epochs=1, batch_size=8, optimizer=SGD(0.1))


def test_split_validation_is_stratified_disjoint_and_repeatable():
    from bpcore.nn.data import split_validation

    X = np.arange(2 * 100, dtype=float).reshape(2, 100)  # column j holds j and 100 + j
    y = np.repeat(np.arange(4), 25)
    X_tr, y_tr, X_val, y_val = split_validation(X, y, fraction=0.2, seed=3)
    assert X_val.shape == (2, 20) and X_tr.shape == (2, 80)
    np.testing.assert_array_equal(np.bincount(y_val), [5, 5, 5, 5])  # 20% of every class
    cols = sorted(X_tr[0].tolist() + X_val[0].tolist())
    assert cols == list(range(100))  # every column exactly once
    np.testing.assert_array_equal(y_tr, y[X_tr[0].astype(int)])  # labels follow their columns
    again = split_validation(X, y, fraction=0.2, seed=3)
    np.testing.assert_array_equal(again[2], X_val)
    with pytest.raises(ValueError, match=r"fraction must be in \(0, 1\)"):
        split_validation(X, y, fraction=1.0)
