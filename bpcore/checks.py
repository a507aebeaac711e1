"""Input validation shared by every public entry point.

Each helper raises an error that names the offending array and says what was expected,
so a wrong shape never turns into a silent numpy broadcasting accident.
"""

from __future__ import annotations

import numbers

import numpy as np


class ShapeError(ValueError):
    """An array has a shape that does not fit the computation."""


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


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` if ``arr`` holds NaN or infinity, saying where."""
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))
        where = tuple(int(i) for i in bad[0]) if arr.ndim else ()
        value = arr[where] if arr.ndim else arr
        raise ValueError(
            f"{name} has {len(bad)} non-finite value(s) (first: {value} at index {where})"
        )


def check_shape(arr: np.ndarray, expected: tuple, name: str) -> None:
    """Check ``arr.shape`` against ``expected``; ``None`` in ``expected`` matches any size."""
    ok = arr.ndim == len(expected) and all(
        e is None or e == s for e, s in zip(expected, arr.shape)
    )
    if not ok:
        want = "(" + ", ".join("*" if e is None else str(e) for e in expected) + ")"
        raise ShapeError(f"{name} has shape {arr.shape}, expected {want}")


def broadcast_shape(a: np.ndarray, b: np.ndarray, op: str) -> tuple[int, ...]:
    """The shape of ``a op b`` under numpy broadcasting, or a ShapeError naming both shapes."""
    try:
        return np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ShapeError(
            f"cannot {op} arrays of shapes {a.shape} and {b.shape}: they do not broadcast"
        ) from None


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` down to ``shape``: the backward of numpy broadcasting.

    A value that was broadcast was *used* once per copy, so its gradient is the sum of the
    gradients of all copies (the fan-out rule).
    """
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad
