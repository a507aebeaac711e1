"""Data for chapter 6: scikit-learn's handwritten digits, and minibatches.

The digits (1,797 images of 8x8 pixels, 10 classes, Alpaydin and Kaynak 1998) ship inside
scikit-learn, so nothing is downloaded. Following the book's column convention, an image is a
column: ``X`` has shape ``(64, m)`` and labels ``y`` have shape ``(m,)``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .checks import ShapeError, positive_int

#: Pixel values in the digits data are integers 0..16.
DIGITS_MAX = 16.0


def load_digits_split(test_size: float = 0.25, seed: int = 0, dtype: type = np.float64
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The digits, scaled to [0, 1], split into train and test sets stratified by class.

    Returns ``X_train (64, m_train), y_train (m_train,), X_test (64, m_test), y_test (m_test,)``;
    labels are integers 0..9. The same ``seed`` always gives the same split.
    """
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be a fraction in (0, 1), got {test_size}")
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError as exc:  # scikit-learn is the optional extra "data"
        raise ImportError("load_digits_split needs scikit-learn: pip install scikit-learn"
                          ) from exc
    digits = load_digits()
    X = (digits.data / DIGITS_MAX).astype(dtype)  # (m, 64): rows are images here
    y = digits.target.astype(np.int64)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=seed, stratify=y
    )
    # transpose to the book's convention (one example per column), contiguous for fast matmuls
    return (np.ascontiguousarray(X_train.T), y_train,
            np.ascontiguousarray(X_test.T), y_test)


def split_validation(X: np.ndarray, y: np.ndarray, fraction: float = 0.2, seed: int = 0
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hold out a stratified ``fraction`` of the columns of ``X`` as a validation set.

    Returns ``X_train, y_train, X_val, y_val``. Choices such as the learning rate are made on
    the validation set, so that the test set, used once at the end, still measures how the
    chosen network does on images that influenced nothing.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or y.shape != (X.shape[1],):
        raise ShapeError(f"X has shape {X.shape} and y {y.shape}: expected (n, m) and (m,)")
    rng = np.random.default_rng(seed)
    val = np.zeros(y.shape, dtype=bool)
    for label in np.unique(y):  # the same share of every class in both parts
        members = rng.permutation(np.flatnonzero(y == label))
        val[members[:round(fraction * members.size)]] = True
    return (np.ascontiguousarray(X[:, ~val]), y[~val],
            np.ascontiguousarray(X[:, val]), y[val])


def minibatches(X: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator
                ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One epoch of minibatches: shuffle the columns with ``rng``, then yield consecutive slices.

    Every example appears exactly once per epoch; the last batch keeps the remainder (it may be
    smaller than ``batch_size``). ``y`` may be labels ``(m,)`` or one-hot targets ``(K, m)``.
    """
    batch_size = positive_int(batch_size, "batch_size")
    if X.ndim != 2:
        raise ShapeError(f"X has shape {X.shape}, expected (n_features, m): examples as columns")
    m = X.shape[1]
    if y.shape[-1] != m:
        raise ShapeError(f"y has shape {y.shape} but X has {m} examples (columns); expected "
                         f"({m},) or (K, {m})")
    order = rng.permutation(m)
    one_hot = y.ndim == 2
    for start in range(0, m, batch_size):
        idx = order[start:start + batch_size]
        # y[idx] / y[:, idx] rather than y[..., idx]: a quarter of the cost, once per batch
        yield X[:, idx], (y[:, idx] if one_hot else y[idx])
