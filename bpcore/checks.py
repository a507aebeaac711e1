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


#: The float dtypes kept as they are (a float32 network stays float32); others become float64.
FLOATS = (np.dtype(np.float64), np.dtype(np.float32))


def float_array(x: object, name: str) -> np.ndarray:
    """A finite float32/float64 array kept as it is; anything else through
    :func:`as_float_array` (float64, same checks)."""
    if isinstance(x, np.ndarray) and x.dtype in FLOATS:
        check_finite(x, name)
        return x
    return as_float_array(x, name)


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` if ``arr`` holds NaN or infinity, saying where."""
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))
        where = tuple(int(i) for i in bad[0]) if arr.ndim else ()
        value = arr[where] if arr.ndim else arr
        raise ValueError(
            f"{name} has {len(bad)} non-finite value(s) (first: {value} at index {where})"
        )


def positive_int(value: object, name: str) -> int:
    """``value`` as an int >= 1 (sizes, counts, epochs), or a named error.

    One rule everywhere: a value that is not an integer (a float, a bool, a string) is a
    TypeError; an integer below 1 is a ValueError.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {value!r} "
                        f"({type(value).__name__})")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def broadcast_shape(a: np.ndarray, b: np.ndarray, op: str) -> tuple[int, ...]:
    """The shape of ``a op b`` under numpy broadcasting, or a ShapeError naming both shapes."""
    try:
        return np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ShapeError(
            f"cannot {op} arrays of shapes {a.shape} and {b.shape}: they do not broadcast"
        ) from None
