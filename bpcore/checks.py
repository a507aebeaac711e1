"""Input validation: every rule bpcore enforces, once, in one place.

Each rule raises an error that names the offending argument and says what was expected, so a
wrong shape never turns into a silent numpy broadcasting accident and a NaN never travels
silently. Types that are wrong are ``TypeError``; values out of range are ``ValueError``; shapes
that do not fit are :class:`ShapeError` (a ``ValueError``).

The rules run on every public call, so the cheap ones come first: a float array is checked for
NaN and infinity with one reduction, and only a failing array is scanned to say where.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


class ShapeError(ValueError):
    """An array has a shape that does not fit the computation."""


# -- numbers ---------------------------------------------------------------------------------------
def positive_int(value: object, name: str) -> int:
    """``value`` as an int >= 1 (sizes, counts, epochs), or a named error.

    A value that is not an integer (a float, a bool, a string) is a TypeError; an integer below
    1 is a ValueError.
    """
    return _integer(value, name, 1, "a positive integer")


def non_negative_int(value: object, name: str) -> int:
    """``value`` as an int >= 0 (a count that may be zero, such as images held out), or a
    named error: TypeError for a non-integer (a float, a bool, a string), ValueError below 0."""
    return _integer(value, name, 0, "a non-negative integer")


def _integer(value: object, name: str, least: int, what: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {what}, got {value!r} ({type(value).__name__})")
    if value < least:
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return int(value)


def real_number(value: object, name: str, low: float = -math.inf, high: float = math.inf,
                low_open: bool = False, high_open: bool = False, why: str = "") -> float:
    """``value`` as a finite float in the interval from ``low`` to ``high``, or a named error.

    The interval is closed unless ``low_open``/``high_open``; an infinite end is always open.
    A bool, a string or an array is a TypeError; NaN, infinity and values outside the interval
    are a ValueError whose message gives the interval (and ``why``, if given).
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    x = float(value)
    below = x < low or (low_open and x == low)
    above = x > high or (high_open and x == high)
    if not math.isfinite(x) or below or above:
        interval = _interval(low, high, low_open, high_open)
        reason = f" ({why})" if why else ""
        raise ValueError(f"{name} must be a finite number{interval}, got {value}{reason}")
    return x


def _interval(low: float, high: float, low_open: bool, high_open: bool) -> str:
    if low == -math.inf and high == math.inf:
        return ""
    if high == math.inf:
        return f" {'>' if low_open else '>='} {low:g}"
    if low == -math.inf:
        return f" {'<' if high_open else '<='} {high:g}"
    return f" in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


# -- arrays ----------------------------------------------------------------------------------------
#: The float dtypes kept as they are (a float32 network stays float32); others become float64.
FLOATS = (np.dtype(np.float64), np.dtype(np.float32))


def as_float_array(x: object, name: str) -> np.ndarray:
    """Return ``x`` as a float64 array, refusing non-numeric and non-finite input."""
    if isinstance(x, np.ndarray):
        arr = x
    elif isinstance(x, (numbers.Number, list, tuple)) and not isinstance(x, bool):
        arr = np.asarray(x)
    else:
        raise TypeError(f"{name} must be a number or a numpy array, got {type(x).__name__}")
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise TypeError(f"{name} must hold numbers, got an array of dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    check_finite(arr, name)
    return arr


def float_array(x: object, name: str) -> np.ndarray:
    """A finite float32/float64 array kept as it is; anything else through
    :func:`as_float_array` (float64, same checks)."""
    if isinstance(x, np.ndarray) and x.dtype in FLOATS:
        check_finite(x, name)
        return x
    return as_float_array(x, name)


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` if ``arr`` holds NaN or infinity, saying how many and where.

    One reduction first: a NaN or infinity anywhere makes the sum non-finite. (A sum that
    overflows from huge finite values is scanned as well, and passes.)
    """
    if arr.dtype.kind not in "fc" or np.isfinite(arr.sum()):
        return
    mask = ~np.isfinite(arr)
    if not mask.any():  # the sum overflowed; every value is finite
        return
    bad = np.argwhere(mask)
    where = tuple(int(i) for i in bad[0])
    raise ValueError(f"{name} has {len(bad)} non-finite value(s) "
                     f"(first: {arr[where]} at index {where})")


def same_shape(arr: np.ndarray, expected: tuple[int, ...], name: str, what: str = "") -> None:
    """Raise ShapeError unless ``arr.shape == expected`` (``what`` says whose shape that is)."""
    if arr.shape != tuple(expected):
        tail = f" ({what})" if what else ""
        raise ShapeError(f"{name} has shape {arr.shape}, expected {tuple(expected)}{tail}")


def broadcast_shape(a: np.ndarray, b: np.ndarray, op: str) -> tuple[int, ...]:
    """The shape of ``a op b`` under numpy broadcasting, or a ShapeError naming both shapes."""
    try:
        return np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ShapeError(
            f"cannot {op} arrays of shapes {a.shape} and {b.shape}: they do not broadcast"
        ) from None


def examples_as_columns(X: object, y: object | None = None, x_name: str = "X",
                        y_name: str = "y", n_features: int | None = None) -> None:
    """The book's convention: ``X`` of shape ``(n, m)``, one column per example, m >= 1, and
    (if given) ``y`` with one label per column, shape ``(m,)``, or one-hot ``(K, m)``."""
    shape = np.shape(X)
    if len(shape) != 2 or (n_features is not None and shape[0] != n_features):
        n = "n_features" if n_features is None else n_features
        raise ShapeError(f"{x_name} has shape {shape}, expected ({n}, m): one column of {n} "
                         "per example")
    if shape[1] == 0:
        raise ShapeError(f"{x_name} has no examples (shape {shape}): nothing to train or "
                         "evaluate on")
    if y is None:
        return
    y_shape = np.shape(y)
    if len(y_shape) not in (1, 2) or y_shape[-1] != shape[1]:
        raise ShapeError(f"{y_name} has shape {y_shape} but {x_name} has {shape[1]} examples "
                         f"(columns); expected ({shape[1]},) or (K, {shape[1]})")


def affine_inputs(a_prev: np.ndarray, W: np.ndarray, b: np.ndarray) -> None:
    """Shapes of ``z = W a_prev + b``: a_prev (n_in, m), W (n_out, n_in), b (n_out, 1)."""
    if a_prev.ndim != 2:
        raise ShapeError(f"a_prev has shape {a_prev.shape}, expected (n_in, m): a 2-D array "
                         "with one column per example")
    n_in = a_prev.shape[0]
    if W.ndim != 2 or W.shape[1] != n_in:
        raise ShapeError(f"W has shape {W.shape}, expected (n_out, {n_in}): W needs one column "
                         f"per row of a_prev, which has shape {a_prev.shape}")
    n_out = W.shape[0]
    if b.shape != (n_out, 1):
        raise ShapeError(f"b has shape {b.shape}, expected ({n_out}, 1): one bias per row of W, "
                         "as a column")


# -- targets of a loss ----------------------------------------------------------------------------
#: Columns of one-hot / soft targets must sum to 1 within this absolute tolerance.
ONE_HOT_TOL = 1e-6


def logits(z: object, name: str = "z") -> np.ndarray:
    """``z`` as a finite float array of shape ``(K,)`` or ``(K, m)`` with K, m >= 1.

    float64 and float32 arrays are kept as they are (a float32 network stays float32);
    anything else becomes float64.
    """
    arr = float_array(z, name)
    if arr.ndim not in (1, 2):
        raise ShapeError(f"{name} has shape {arr.shape}, expected (K,) for one example or "
                         "(K, m) for m examples as columns")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} has shape {arr.shape}: there are no classes (K = 0)")
    if arr.ndim == 2 and arr.shape[1] == 0:
        raise ValueError(f"{name} has shape {arr.shape}: empty batch (m = 0 examples)")
    return arr


def labels(t: object, z_shape: tuple[int, ...], name: str = "t") -> tuple[bool, np.ndarray]:
    """Validate targets for outputs of shape ``z_shape`` = ``(K, m)`` or ``(K,)``.

    Returns ``(is_one_hot, array)``: a float64 array of shape ``z_shape`` whose columns are
    probability distributions (one-hot or soft), or an integer array of class labels of shape
    ``z_shape[1:]`` with ``0 <= label < K``.
    """
    K, batch = z_shape[0], tuple(z_shape[1:])
    if isinstance(t, (bool, np.bool_)):
        raise TypeError(f"{name} is a bool; class labels must be integers 0..K-1")
    if isinstance(t, np.ndarray):
        arr = t
    elif isinstance(t, (numbers.Number, list, tuple)):
        arr = np.asarray(t)
    else:
        raise TypeError(f"{name} must be integer class labels or a one-hot array, "
                        f"got {type(t).__name__}")
    kind = arr.dtype.kind  # dtype.kind is much cheaper than np.issubdtype in a hot loop
    if kind not in "iufb":
        raise TypeError(f"{name} must hold real numbers, got an array of dtype {arr.dtype}")

    if arr.shape == tuple(z_shape):  # one-hot (or soft) targets, one column per example
        tf = arr if arr.dtype == np.float64 else arr.astype(np.float64)
        check_finite(tf, name)
        lo, hi = float(tf.min()), float(tf.max())
        if lo < 0.0 or hi > 1.0:
            raise ValueError(f"{name}: one-hot targets must lie in [0, 1], "
                             f"found values between {lo:g} and {hi:g}")
        sums = tf.sum(axis=0)
        bad = np.abs(sums - 1.0) > ONE_HOT_TOL
        if np.any(bad):
            j = int(np.argmax(bad)) if tf.ndim == 2 else 0
            s = float(sums[j]) if tf.ndim == 2 else float(sums)
            where = f"column {j} sums" if tf.ndim == 2 else "it sums"
            raise ValueError(f"{name}: each column of one-hot targets must sum to 1 "
                             f"(a distribution over the K = {K} classes); {where} to {s:g}")
        return True, tf

    if arr.shape == batch:  # integer class labels, one per example
        if kind in "fb":
            raise TypeError(
                f"{name} has shape {arr.shape} and dtype {arr.dtype}: integer class labels "
                f"must have an integer dtype (convert with t.astype(int)), or pass one-hot "
                f"targets of shape {tuple(z_shape)}")
        # One reduction checks both ends: seen as unsigned, a negative label is huge. (This
        # runs on every training step, so it is kept to a single pass.)
        top = arr.max() if kind == "u" or arr.size == 0 else arr.view(f"u{arr.itemsize}").max()
        if arr.size and top >= K:
            flat = arr.reshape(-1)
            i = int(np.argmax((flat < 0) | (flat >= K)))
            raise ValueError(f"{name}: class labels must satisfy 0 <= label < K = {K} "
                             f"(z has {K} rows); found {int(flat[i])} at index {i}")
        return False, arr

    raise ShapeError(f"{name} has shape {arr.shape}, but z has shape {tuple(z_shape)}: expected "
                     f"one-hot targets of shape {tuple(z_shape)} or integer class labels of "
                     f"shape {batch}")
