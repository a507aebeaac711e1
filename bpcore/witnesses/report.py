r"""What a witness says: one report type for every comparison in bpcore.

A *witness* computes a gradient one way: backprop, central finite differences, SymPy's
derivative at a point, or SymPy's proof for symbolic sizes. A :class:`Comparison` sets two of
them side by side for one input (or parameter): the relative error, whether it is within the
tolerance, and the entry where the two differ most. A :class:`Report` is the list of
comparisons for one subject (a function, a node, a layer, a proof, a network). Finite
differences (:func:`~bpcore.witnesses.gradcheck.gradcheck`), SymPy verification
(:func:`~bpcore.witnesses.symbolic.verify`), the proofs and the suite all return it.

The relative error is norm-wise,

.. math:: \operatorname{rel}(a, b) = \frac{\lVert a - b\rVert}{\max(\lVert a\rVert,
          \lVert b\rVert, \text{floor})},

so one tiny entry near zero does not dominate. What a report prints is only what every machine
prints: a passing error is rounding noise whose digits change with the CPU and the BLAS
kernel, so it is shown as "ok"; a failing error is far above the noise and is shown to two
digits.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field
from html import escape

import numpy as np

#: Default pass threshold for a relative error (see bpcore.witnesses.gradcheck for why).
DEFAULT_TOL = 1e-7
#: The floor of the relative error's denominator: two gradients of ~0 agree.
TINY = 1e-12
#: Printed notes are wrapped to this many characters (the book's code column is 78).
WIDTH = 78


def rel_error(a: object, b: object, floor: float = TINY) -> float:
    r"""Relative error :math:`\lVert a-b\rVert / \max(\lVert a\rVert, \lVert b\rVert, floor)`.

    Norms are Euclidean over all entries. ``floor`` is the smallest denominator: raise it to
    compare absolutely where a gradient is legitimately ~0 (finite differences have only
    absolute accuracy there). A NaN anywhere gives NaN, which fails every tolerance.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare gradients of shapes {a.shape} and {b.shape}")
    num = float(np.linalg.norm((a - b).ravel()))
    den = max(float(np.linalg.norm(a.ravel())), float(np.linalg.norm(b.ravel())), floor)
    return num / den


def worst_entry(a: object, b: object) -> tuple[int, ...]:
    """The index where ``a`` and ``b`` differ most (a NaN difference counts as the most)."""
    diff = np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))
    if diff.ndim == 0:
        return ()
    flat = np.where(np.isnan(diff), np.inf, diff).reshape(-1)
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(flat)), diff.shape))


def worst(errors) -> float:
    """The largest of ``errors`` (None skipped); NaN if any is NaN (``max()`` could skip it)."""
    found = [e for e in errors if e is not None]
    return float(np.max(found)) if found else 0.0


def verdict(err: float, tol: float = DEFAULT_TOL) -> str:
    """``"ok"`` for an error within ``tol``, else the error to two digits.

    What a notebook prints about a gradient check: the size of a passing error is rounding
    noise and changes from one CPU to another, so it is never shown; a failing error is far
    above the noise, and its digits are the same on every machine.
    """
    return "ok" if err <= tol else f"FAIL ({err:.2g})"


def bucket(err: float | None) -> str:
    """An error rounded up to a power of ten, e.g. ``< 1e-10`` (for tables read by people).

    Near the rounding noise the power itself can change between machines (an error of 9e-11
    on one CPU is 1.1e-10 on another), so stored notebook outputs use :func:`verdict`.
    """
    if err is None:
        return "—"
    if err == 0:
        return "0"
    if not math.isfinite(err):
        return str(err)
    return f"< 1e{math.ceil(math.log10(err)):+03d}"


@dataclass(frozen=True)
class Comparison:
    """Two witnesses compared for one input: the error, the verdict, the worst entry.

    ``error`` is a relative error, or None where the witnesses give no number to compare (a
    proof's symbolic residue, a check that could not run); ``ok`` is then given explicitly.
    ``note`` says what went wrong (a proof's leftover, a diagnosis of a reader's gradient).
    ``kind`` is ``"gradient"`` for a gradient compared with a witness, ``"check"`` for a property
    of the code itself (its inputs left unchanged, the same answer after a second forward).
    """

    name: str
    witnesses: str
    error: float | None
    tol: float = DEFAULT_TOL
    worst_entry: tuple[int, ...] | None = None
    ok: bool | None = None
    note: str = ""
    kind: str = "gradient"

    def __post_init__(self) -> None:
        if self.ok is None:  # from the error: NaN fails (NaN <= tol is False)
            object.__setattr__(self, "ok", self.error is not None and self.error <= self.tol)

    @classmethod
    def of(cls, name: str, witnesses: str, a: object, b: object, tol: float = DEFAULT_TOL,
           floor: float = TINY, note: str = "") -> Comparison:
        """Compare the arrays ``a`` and ``b`` (same shape)."""
        return cls(name, witnesses, rel_error(a, b, floor), tol, worst_entry(a, b), note=note)

    @property
    def verdict(self) -> str:
        """What a table shows: ``ok``, ``FAIL (2.3e-02)``, or ``FAIL`` with no number."""
        if self.error is None or (not self.ok and self.error <= self.tol):
            return "ok" if self.ok else "FAIL"
        return verdict(self.error, self.tol)

    def to_dict(self) -> dict:
        return {"name": self.name, "witnesses": self.witnesses, "error": self.error,
                "tol": self.tol, "ok": self.ok, "note": self.note, "kind": self.kind,
                "worst_entry": None if self.worst_entry is None else list(self.worst_entry)}


@dataclass
class Report:
    """Every comparison made for one ``subject``; ``ok`` when there is one and all pass.

    Prints as a table (a row per input, a column per pair of witnesses, cells ``ok`` or
    ``FAIL (err)``) followed by the notes of the comparisons that failed; shows as an HTML
    table in a notebook. ``values`` keeps the gradients each witness computed, by witness.
    """

    subject: str
    comparisons: list[Comparison] = field(default_factory=list)
    tol: float = DEFAULT_TOL
    values: dict[str, list] = field(default_factory=dict)

    def add(self, comparison: Comparison) -> Comparison:
        self.comparisons.append(comparison)
        return comparison

    @property
    def ok(self) -> bool:
        return bool(self.comparisons) and all(c.ok for c in self.comparisons)

    @property
    def worst(self) -> float:
        """The largest relative error (NaN if any is NaN; 0 if there are none)."""
        return worst(c.error for c in self.comparisons)

    @property
    def failures(self) -> list[Comparison]:
        return [c for c in self.comparisons if not c.ok]

    def error(self, witnesses: str, name: str | None = None) -> float | None:
        """The worst error of one pair of witnesses (for one input, if ``name`` is given);
        None if that pair was not compared."""
        found = [c.error for c in self.comparisons
                 if c.witnesses == witnesses and (name is None or c.name == name)]
        return worst(found) if found else None

    def _grid(self) -> tuple[list[str], list[str], dict[tuple[str, str], Comparison]]:
        grads = [c for c in self.comparisons if c.kind == "gradient"]
        names = list(dict.fromkeys(c.name for c in grads))
        pairs = list(dict.fromkeys(c.witnesses for c in grads))
        return names, pairs, {(c.name, c.witnesses): c for c in grads}

    def _checks(self) -> list[Comparison]:
        return [c for c in self.comparisons if c.kind != "gradient"]

    def _notes(self) -> list[tuple[str, str]]:
        """(who, note) for each failure with a note: the input's name, or the check's."""
        found = [(c.name if c.kind == "gradient" else c.witnesses, c.note)
                 for c in self.failures if c.note]
        return list(dict.fromkeys(found))  # one note per input, whichever witness saw it

    def summary(self) -> str:
        if not self.comparisons:
            return f"{self.subject}: nothing was compared"
        if self.ok:
            return f"{self.subject}: the witnesses agree (relative tolerance {self.tol:.0e})"
        return (f"{self.subject}: FAIL, {len(self.failures)} of {len(self.comparisons)} "
                f"comparisons (relative tolerance {self.tol:.0e})")

    def table(self) -> str:
        names, pairs, cells = self._grid()
        rows = []
        if names:
            first = max([len("input")] + [len(n) for n in names]) + 2
            widths = [max(len(p), 14) + 2 for p in pairs]
            rows.append("input".ljust(first) + "".join(p.rjust(w) for p, w in zip(pairs, widths)))
            for n in names:
                rows.append(n.ljust(first) + "".join(
                    (cells[(n, p)].verdict if (n, p) in cells else "—").rjust(w)
                    for p, w in zip(pairs, widths)))
        rows += [f"{c.witnesses}: {c.verdict}" for c in self._checks()]
        rows += textwrap.wrap(self.summary(), WIDTH, subsequent_indent="    ")
        for who, note in self._notes():  # wrapped: a note must fit a notebook's column
            rows += textwrap.wrap(f"{who}: {note}", WIDTH, initial_indent="  ",
                                  subsequent_indent="    ")
        return "\n".join(rows)

    def __repr__(self) -> str:
        return self.table()

    def _repr_html_(self) -> str:
        names, pairs, cells = self._grid()
        head = "".join(f"<th>{escape(p)}</th>" for p in pairs)
        body = []
        for n in names:
            tds = "".join(f"<td>{escape(cells[(n, p)].verdict) if (n, p) in cells else '—'}</td>"
                          for p in pairs)
            body.append(f"<tr><td><code>{escape(n)}</code></td>{tds}</tr>")
        table = (f"<table><thead><tr><th>input</th>{head}</tr></thead>"
                 f"<tbody>{''.join(body)}</tbody></table>" if names else "")
        checks = "".join(f"<li>{escape(c.witnesses)}: {escape(c.verdict)}</li>"
                         for c in self._checks())
        notes = "".join(f"<li><code>{escape(who)}</code>: {escape(note)}</li>"
                        for who, note in self._notes())
        return (f'<div class="bp-report">{table}'
                + (f'<ul class="bp-checks">{checks}</ul>' if checks else "")
                + f"<p>{escape(self.summary())}</p>"
                + (f'<ul class="bp-notes">{notes}</ul>' if notes else "") + "</div>")

    def to_dict(self) -> dict:
        return {"subject": self.subject, "ok": self.ok, "tol": self.tol,
                "comparisons": [c.to_dict() for c in self.comparisons]}
