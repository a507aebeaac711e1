"""Data for chapter 6: scikit-learn's handwritten digits, and minibatches.

The digits (1,797 images of 8x8 pixels, 10 classes, Alpaydin and Kaynak 1998) ship inside
scikit-learn, so nothing is downloaded. Following the book's column convention, an image is a
column: ``X`` has shape ``(64, m)`` and labels ``y`` have shape ``(m,)``.

scikit-learn does not run in the browser, so the bpcore wheel that the book serves to JupyterLite
carries the digits and the split as a small file, ``digits_split.npz``, written at build time
(``scripts/lite_assets.py``, with scikit-learn): there the chapters get the same images and
the same split.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .. import checks
from ..checks import positive_int

#: Pixel values in the digits data are integers 0..16.
DIGITS_MAX = 16.0

#: The digits and one split, packed for a Python without scikit-learn (the browser build).
PACKED_DIGITS = Path(__file__).with_name("digits_split.npz")


def load_digits_split(test_size: float = 0.25, seed: int = 0, dtype: type = np.float64
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The digits, scaled to [0, 1], split into train and test sets stratified by class.

    Returns ``X_train (64, m_train), y_train (m_train,), X_test (64, m_test), y_test (m_test,)``;
    labels are integers 0..9 of numpy's index type (``np.intp``: int64 on a 64-bit machine,
    int32 in the browser's 32-bit WebAssembly, where ``np.bincount`` refuses int64). The same
    ``seed`` always gives the same split.
    """
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be a fraction in (0, 1), got {test_size}")
    try:
        images, labels, train, test = digits_and_split(test_size, seed)
    except ImportError as exc:  # scikit-learn is the optional extra "data"
        packed = _packed_digits_split(test_size, seed)
        if packed is None:
            raise ImportError("load_digits_split needs scikit-learn: pip install scikit-learn"
                              ) from exc
        images, labels, train, test = packed
    X = (images / DIGITS_MAX).astype(dtype)  # (m, 64): rows are images here
    y = labels.astype(np.intp)
    # transpose to the book's convention (one example per column), contiguous for fast matmuls
    return (np.ascontiguousarray(X[train].T), y[train],
            np.ascontiguousarray(X[test].T), y[test])


def digits_and_split(test_size: float, seed: int
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's digits (pixels 0..16, labels) and the stratified train/test indices."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    # splitting the row numbers gives the very rows train_test_split(X, y, ...) would return
    train, test = train_test_split(np.arange(digits.target.size), test_size=test_size,
                                   random_state=seed, stratify=digits.target)
    return digits.data, digits.target, train, test


def _packed_digits_split(test_size: float, seed: int
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """The split stored by :func:`pack_digits_split`, if there is one for these arguments."""
    if not PACKED_DIGITS.is_file():
        return None
    with np.load(PACKED_DIGITS) as packed:
        if packed["test_size"] != test_size or packed["seed"] != seed:
            return None
        return (packed["images"].astype(np.float64), packed["labels"], packed["train"],
                packed["test"])


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
    checks.examples_as_columns(X, y)
    if y.ndim != 1:
        raise checks.ShapeError(f"y has shape {y.shape}: a stratified split needs integer "
                                f"labels of shape ({X.shape[1]},)")
    rng = np.random.default_rng(seed)
    val = np.zeros(y.shape, dtype=bool)
    for label in np.unique(y):  # the same share of every class in both parts
        members = rng.permutation(np.flatnonzero(y == label))
        val[members[:round(fraction * members.size)]] = True
    return (np.ascontiguousarray(X[:, ~val]), y[~val],
            np.ascontiguousarray(X[:, val]), y[val])


def minibatches(X: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator,
                min_size: int = 1) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One epoch of minibatches: shuffle the columns with ``rng``, then yield consecutive slices.

    Every example appears exactly once per epoch; the last batch keeps the remainder (it may be
    smaller than ``batch_size``), unless it has fewer than ``min_size`` examples, in which
    case it is skipped (``drop_last`` for a model that cannot train on a batch that small).
    ``y`` may be labels ``(m,)`` or one-hot targets ``(K, m)``.
    """
    batch_size = positive_int(batch_size, "batch_size")
    checks.examples_as_columns(X, y)
    yield from row_batches(np.ascontiguousarray(X.T), y, batch_size, rng, min_size)


def row_batches(X_rows: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator,
                min_size: int = 1) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """:func:`minibatches` of ``X = X_rows.T``, given as rows (one example per row, C order).

    Gathering rows reads each example's pixels in one piece, where gathering columns of a
    C-ordered X strides through all of it: for MNIST that is the difference between about 0.1 s
    and 1 s an epoch. The batches are the same C-ordered (n, b) arrays, with the same numbers.
    :func:`~bpcore.nn.train.fit` transposes its data once and calls this every epoch.
    """
    m = X_rows.shape[0]
    order = rng.permutation(m)
    one_hot = y.ndim == 2
    for start in range(0, m, batch_size):
        idx = order[start:start + batch_size]
        if idx.size < min_size:
            return
        # y[idx] / y[:, idx] rather than y[..., idx]: a quarter of the cost, once per batch
        yield np.ascontiguousarray(X_rows[idx].T), (y[:, idx] if one_hot else y[idx])
