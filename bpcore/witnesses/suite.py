r"""The verification suite: every node, three witnesses, one table (``bpcore verify``).

For every node class registered in the package -- found by importing every ``bpcore``
submodule and asking :func:`~bpcore.engine.node.all_node_classes`, never from a hand-kept list, so a
new node cannot be forgotten -- and for several seeds, each of the node's ``examples(rng)``
(several shapes) goes through :func:`~bpcore.witnesses.symbolic.verify_node`:

* **SymPy**: ``sympy.diff`` of the node's ``symbolic`` form, evaluated at the example;
* **backprop**: the node's own ``backward``;
* **finite differences**: central differences of its ``forward`` in float64.

The table keeps, per node, the worst relative error (:func:`~bpcore.witnesses.report.rel_error`,
norm-wise) of each pair over all examples and seeds. A node without a symbolic form, without
examples or without a formula is a failure, not a skip: the suite exists to make such gaps
visible. A :class:`~bpcore.nn.network.Network` is not a node (it is layers plus a loss node); it
gets a row "Network (composite)" in which its ``backward`` is checked against central
differences of its loss, for every activation and output/loss pairing of ``MLP``.

Tolerance: :data:`TOL` = 1e-7 relative. SymPy and backprop are both exact formulas evaluated in
float64, so they agree to ~1e-15. Central differences with h = 1e-5 in float64 have truncation
error O(h²) ≈ 1e-10 and rounding error ≈ ``eps·|f|/h`` ≈ 1e-11 (relative), so correct gradients
land at 1e-8..1e-11 (the noise grows with the conditioning of the function: a log near a
small probability gives the upper end). 1e-7 leaves a margin above that noise, while any
real mistake -- a missing factor, a transposed matrix, a dropped term, a wrong 1/m -- gives
errors of order 1e-2..1. (float32 or one-sided differences would give 1e-3..1e-5 and could not
tell a subtle bug from noise; that is why everything here is float64 and central.)

Kinks: ReLU's derivative at exactly 0 is a convention (bpcore uses 0); finite differences
straddling the kink see a slope of about 1/2. The ReLU node's ``examples`` keep every input at
least 0.1 away from 0, so the check compares derivatives where they exist; the convention at 0
is tested separately in ``tests/test_properties.py``.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import time
import traceback
from dataclasses import dataclass, field

import numpy as np

from ..engine.node import Node, all_node_classes
from .gradcheck import network_gradcheck
from .report import DEFAULT_TOL, Comparison, Report
from .symbolic import PAIRS, verify_node

#: Pass threshold for every relative error in the suite (see the module docstring).
TOL = DEFAULT_TOL
#: Seeds for the examples' random inputs and the random upstream gradients.
DEFAULT_SEEDS = 3
#: SymPy and backprop evaluate exact formulas in float64: they agree far below this.
SYMBOLIC_BOUND = 1e-12
_SKIP_MODULES = ("__main__",)  # importing it would run the command line


# -- discovery ---------------------------------------------------------------------------------
def import_all_modules() -> list[tuple[str, str]]:
    """Import every ``bpcore`` submodule (so every node registers); return import failures."""
    import bpcore

    failures = []
    for info in pkgutil.walk_packages(bpcore.__path__, "bpcore."):
        if info.name.rsplit(".", 1)[-1] in _SKIP_MODULES:
            continue
        try:
            importlib.import_module(info.name)
        except Exception as exc:  # a module that fails to import is a failure row, not a crash
            failures.append((info.name, f"{type(exc).__name__}: {exc}"))
    return failures


def discover_nodes() -> list[type[Node]]:
    """Every node class defined in the package, after importing all of it.

    Classes defined outside ``bpcore`` (test doubles, a reader's own nodes in a notebook) are
    left out: the suite certifies the package.
    """
    import_all_modules()
    return [c for c in all_node_classes() if c.__module__.split(".")[0] == "bpcore"]


# -- results -----------------------------------------------------------------------------------
@dataclass
class Row:
    """One row of the table: a node's :class:`~bpcore.witnesses.report.Report` (each pair of
    witnesses at its worst over every example and seed) and what the suite ran on it."""

    report: Report
    formula: str = ""
    module: str = ""
    checks: int = 0
    shapes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: SymPy proved the backward's formula for symbolic sizes (bpcore.witnesses.proofs); not a
    #: pass condition: a node without such a proof is still verified at its examples' sizes.
    proved_all_sizes: bool = False
    proof_seconds: float = 0.0
    proof_note: str = ""

    @property
    def name(self) -> str:
        return self.report.subject

    @property
    def ok(self) -> bool:
        return self.checks > 0 and self.report.ok

    @property
    def problem(self) -> str:
        return "; ".join(c.note for c in self.report.failures if c.error is None)

    def error(self, pair: str) -> float | None:
        """The worst error of one pair of witnesses (None if that pair was not compared)."""
        return self.report.error(pair)

    @property
    def sym_vs_bp(self) -> float | None:
        return self.error(PAIRS[0])

    @property
    def bp_vs_fd(self) -> float | None:
        return self.error(PAIRS[1])

    @property
    def sym_vs_fd(self) -> float | None:
        return self.error(PAIRS[2])

    def to_dict(self) -> dict:
        return {"name": self.name, "formula": self.formula, "module": self.module,
                "sym_vs_bp": self.sym_vs_bp, "bp_vs_fd": self.bp_vs_fd,
                "sym_vs_fd": self.sym_vs_fd, "checks": self.checks,
                "shapes": self.shapes, "seconds": self.seconds, "problem": self.problem,
                "proved_all_sizes": self.proved_all_sizes, "proof_seconds": self.proof_seconds,
                "proof_note": self.proof_note, "passed": self.ok}


@dataclass
class SuiteReport:
    """The whole table plus what the suite ran with."""

    rows: list[Row]
    tol: float
    seeds: int
    seconds: float

    @property
    def ok(self) -> bool:
        return bool(self.rows) and all(r.ok for r in self.rows)

    @property
    def failures(self) -> list[Row]:
        return [r for r in self.rows if not r.ok]

    def to_json(self) -> str:
        return json.dumps({"passed": self.ok, "tolerance": self.tol, "seeds": self.seeds,
                           "seconds": round(self.seconds, 3),
                           "nodes": [r.to_dict() for r in self.rows]}, indent=2)

    def table(self) -> str:
        """Plain-text table for the terminal (errors in full, formulas as LaTeX source)."""
        head = (f"{'node':<18} {'formula':<34} {'SymPy vs bp':>11} {'bp vs FD':>9} "
                f"{'SymPy vs FD':>11} {'checks':>6} {'time':>6} {'all sizes':>9}  result")
        rows = [head, "-" * len(head)]
        for r in self.rows:
            formula = r.formula if len(r.formula) <= 34 else r.formula[:33] + "…"
            verdict = "ok" if r.ok else "FAIL" + (f": {r.problem}" if r.problem else "")
            rows.append(f"{r.name:<18} {formula:<34} {_sci(r.sym_vs_bp):>11} "
                        f"{_sci(r.bp_vs_fd):>9} {_sci(r.sym_vs_fd):>11} "
                        f"{r.checks:>6} {r.seconds:>5.2f}s {_proved(r):>9}  {verdict}")
        rows.append("")
        rows.append(f"{len(self.rows)} rows, {len(self.failures)} failed; tolerance "
                    f"{self.tol:.0e} relative; {self.seeds} seeds; {self.seconds:.1f} s")
        return "\n".join(rows)

    def markdown(self) -> str:
        """A Markdown table with a verdict per comparison (the formulas are in :meth:`table`).

        Deterministic, so a notebook that displays it re-runs to the same output on every
        machine: a passing error is shown as the bound it is below (its digits are rounding
        noise that changes with the CPU), a failing one to two digits.
        """
        rows = ["| node | SymPy = backprop | backprop = FD | SymPy = FD | checks "
                "| all sizes | result |", "|---|---|---|---|---|---|---|"]
        for r in self.rows:
            verdict = "pass" if r.ok else "**FAIL**" + (f": {r.problem}" if r.problem else "")
            rows.append(f"| `{r.name}` | {_cell(r.sym_vs_bp, SYMBOLIC_BOUND)} "
                        f"| {_cell(r.bp_vs_fd, self.tol)} "
                        f"| {_cell(r.sym_vs_fd, self.tol)} "
                        f"| {r.checks} | {_proved(r)} | {verdict} |")
        return "\n".join(rows)


def _proved(r: Row) -> str:
    return "proved" if r.proved_all_sizes else "—"


def _cell(err: float | None, bound: float) -> str:
    if err is None:
        return "—"
    return f"< {bound:.0e}" if err <= bound else f"**{err:.2g}**"


def _sci(err: float | None) -> str:
    return "—" if err is None else f"{err:.1e}"


# -- running -----------------------------------------------------------------------------------
def _shape_text(inputs: tuple, n_grad: int) -> str:
    return "×".join(str(tuple(np.shape(x))) for x in inputs[:n_grad])


def _problem(subject: str, note: str) -> Comparison:
    """A check that could not run: a failed comparison with no number and the reason."""
    return Comparison(subject, "suite", None, ok=False, note=note)


def verify_class(cls: type[Node], seeds: int = DEFAULT_SEEDS, tol: float = TOL) -> Row:
    """Run one node class through every example for every seed; never raises."""
    worst_of: dict[str, Comparison] = {}
    row = Row(Report(cls.__name__, tol=tol), getattr(cls, "formula", "") or "", cls.__module__)
    t0 = time.perf_counter()
    try:
        for seed in range(seeds):
            examples = cls.examples(np.random.default_rng(seed))
            if not examples:
                raise _Missing("examples() is empty")
            for node, inputs in examples:
                report = verify_node(node, inputs, tol=tol, seed=seed)
                row.checks += 1
                shape = _shape_text(tuple(inputs), node.n_grad)
                if shape not in row.shapes:
                    row.shapes.append(shape)
                for c in report.comparisons:
                    old = worst_of.get(c.witnesses)
                    if old is None or _worse(c.error, old.error):
                        worst_of[c.witnesses] = c
    except Exception as exc:  # report, do not crash: the other nodes still get checked
        row.report.add(_problem(cls.__name__, _describe(exc)))
    if not row.formula:
        row.report.add(_problem(cls.__name__, "no formula"))
    row.report.comparisons[:0] = [worst_of[p] for p in PAIRS if p in worst_of]
    row.seconds = time.perf_counter() - t0
    _add_proof(row, cls)
    return row


def _worse(new: float | None, old: float | None) -> bool:
    """True if ``new`` is a worse error than ``old`` (a NaN is the worst; a NaN stays)."""
    if old is None or (new is not None and np.isnan(new)):
        return True
    return new is not None and not np.isnan(old) and new > old


def _add_proof(row: Row, cls: type) -> None:
    """Fill the "proved for all sizes" column from :mod:`bpcore.witnesses.proofs`."""
    from .proofs import prove

    try:
        proof = prove(cls)
    except Exception as exc:  # a broken proof is reported, like a broken node
        row.proof_note = f"proof raised {type(exc).__name__}: {exc}"
        return
    if proof is None:
        row.proof_note = "no symbolic-size proof"
        return
    row.proved_all_sizes, row.proof_seconds = proof.proved, proof.seconds
    row.proof_note = proof.verdict()


class _Missing(Exception):
    """A node lacks something the suite needs (reported as a failure)."""


def _describe(exc: Exception) -> str:
    """A one-line failure reason; the base class's NotImplementedError means a missing part."""
    if isinstance(exc, _Missing):
        return str(exc)
    where = traceback.extract_tb(exc.__traceback__)[-1]
    if isinstance(exc, NotImplementedError) and where.name == "examples":
        return "no examples()"
    if isinstance(exc, NotImplementedError) and where.name in ("symbolic", "expression"):
        return "no symbolic form"
    return f"{type(exc).__name__}: {exc} ({where.name}, line {where.lineno})"


# -- the network, which is a composition rather than a node --------------------------------------
def _network_configs() -> list[tuple[str, str, str, bool]]:
    from ..nn.activations import ACTIVATIONS
    from ..nn.network import HEADS

    hidden = sorted(a for a in ACTIVATIONS if a != "identity")
    return ([(act, out, loss, False) for act in hidden for out, loss in sorted(HEADS)]
            + [(act, "softmax", "softmax_ce", True) for act in ("sigmoid", "tanh")])


def verify_network(seeds: int = DEFAULT_SEEDS, tol: float = TOL) -> Row:
    """``Network.backward`` against central differences of ``Network.loss``, every
    configuration of :func:`~bpcore.nn.network.MLP`, with and without batch norm (small nets
    [3, 4, 3], m = 5). Dropout is verified as a node; in a network its masks change at every
    forward, which finite differences cannot follow."""
    from ..nn.network import MLP, Network

    row = Row(Report("Network (composite)", tol=tol), r"L\big(\mathrm{net}(x), t\big)",
              Network.__module__)
    worst_c: Comparison | None = None
    t0 = time.perf_counter()
    try:
        for seed in range(seeds):
            rng = np.random.default_rng(seed)
            for act, out, loss, bn in _network_configs():
                sizes = [3, 4, 3]
                model = MLP(sizes, activation=act, output=out, loss=loss, init="he", seed=seed,
                            batchnorm=bn)
                x = rng.normal(size=(sizes[0], 5))
                if loss == "softmax_ce":
                    t = rng.integers(0, sizes[-1], size=5)
                else:
                    t = rng.normal(size=(sizes[-1], 5))
                name = f"{act}{'+BN' if bn else ''}→{out}/{loss}"
                for c in network_gradcheck(model, x, t, tol=tol).comparisons:
                    if worst_c is None or _worse(c.error, worst_c.error):
                        worst_c = Comparison(f"{name} {c.name}", c.witnesses, c.error, tol,
                                             c.worst_entry)
                row.checks += 1
                if name not in row.shapes:
                    row.shapes.append(name)
    except Exception as exc:
        row.report.add(_problem(row.name, f"{type(exc).__name__}: {exc}"))
    if worst_c is not None:
        row.report.comparisons.insert(0, worst_c)
    row.seconds = time.perf_counter() - t0
    return row


def run_suite(seeds: int = DEFAULT_SEEDS, classes: list[type[Node]] | None = None,
              include_network: bool | None = None, tol: float = TOL) -> SuiteReport:
    """Verify ``classes`` (default: every node in the package, plus the network row)."""
    t0 = time.perf_counter()
    rows: list[Row] = []
    if classes is None:
        for module, error in import_all_modules():
            rows.append(Row(Report(f"import {module}", [_problem(module, error)], tol),
                            module=module))
        classes = discover_nodes()
        include_network = True if include_network is None else include_network
    rows += [verify_class(c, seeds, tol) for c in classes]
    if include_network:
        rows.append(verify_network(seeds, tol))
    return SuiteReport(rows, tol, seeds, time.perf_counter() - t0)
