r"""The verification suite: every node, three witnesses, one table (``bpcore verify``).

For every node class registered in the package -- found by importing every ``bpcore``
submodule and asking :func:`~bpcore.node.all_node_classes`, never from a hand-kept list, so a
new node cannot be forgotten -- and for several seeds, each of the node's ``examples(rng)``
(several shapes) goes through :func:`~bpcore.symbolic.verify_node`:

* **SymPy**: ``sympy.diff`` of the node's ``symbolic`` form, evaluated at the example;
* **backprop**: the node's own ``backward``;
* **finite differences**: central differences of its ``forward`` in float64.

The table keeps, per node, the worst relative error (:func:`~bpcore.gradcheck.rel_error`,
norm-wise) of each pair over all examples and seeds. A node without a symbolic form, without
examples or without a formula is a failure, not a skip: the suite exists to make such gaps
visible. A :class:`~bpcore.network.Network` is not a node (it is layers plus a loss node); it
gets a row "Network (composite)" in which its ``backward`` is checked against central
differences of its loss, for every activation and output/loss pairing of ``MLP``.

Tolerance: :data:`TOL` = 1e-7 relative. SymPy and backprop are both exact formulas evaluated in
float64, so they agree to ~1e-15. Central differences with h = 1e-5 in float64 have truncation
error O(h²) ≈ 1e-10 and rounding error ≈ eps·|f|/h ≈ 1e-11 (relative), so correct gradients
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
import math
import pkgutil
import time
import traceback
from dataclasses import asdict, dataclass, field

import numpy as np

from .gradcheck import DEFAULT_TOL, numerical_gradient
from .node import Node, all_node_classes
from .symbolic import verify_node

#: Pass threshold for every relative error in the suite (see the module docstring).
TOL = DEFAULT_TOL
#: Seeds for the examples' random inputs and the random upstream gradients.
DEFAULT_SEEDS = 3
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
class NodeResult:
    """Worst relative errors of one node over all its examples and seeds."""

    name: str
    formula: str
    module: str
    sym_vs_bp: float | None = 0.0
    bp_vs_fd: float = 0.0
    sym_vs_fd: float | None = 0.0
    checks: int = 0
    shapes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    problem: str = ""
    #: SymPy proved the backward's formula for symbolic sizes (bpcore.proofs); not a pass
    #: condition: a node without such a proof is still verified at the sizes of its examples.
    proved_all_sizes: bool = False
    proof_seconds: float = 0.0
    proof_note: str = ""

    @property
    def worst(self) -> float:
        errs = [e for e in (self.sym_vs_bp, self.bp_vs_fd, self.sym_vs_fd) if e is not None]
        return float(np.max(errs))  # np.max propagates NaN; max() could skip it

    @property
    def passed(self) -> bool:
        return not self.problem and self.checks > 0 and self.worst <= TOL  # NaN fails

    def to_dict(self) -> dict:
        d = asdict(self)
        d["passed"] = self.passed
        return d


@dataclass
class SuiteReport:
    """The whole table plus what the suite ran with."""

    results: list[NodeResult]
    tol: float
    seeds: int
    seconds: float

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)

    @property
    def failures(self) -> list[NodeResult]:
        return [r for r in self.results if not r.passed]

    def to_json(self) -> str:
        return json.dumps({"passed": self.passed, "tolerance": self.tol, "seeds": self.seeds,
                           "seconds": round(self.seconds, 3),
                           "nodes": [r.to_dict() for r in self.results]}, indent=2)

    def table(self) -> str:
        """Plain-text table for the terminal (errors in full, formulas as LaTeX source)."""
        head = (f"{'node':<18} {'formula':<34} {'SymPy vs bp':>11} {'bp vs FD':>9} "
                f"{'SymPy vs FD':>11} {'checks':>6} {'time':>6} {'all sizes':>9}  result")
        rows = [head, "-" * len(head)]
        for r in self.results:
            formula = r.formula if len(r.formula) <= 34 else r.formula[:33] + "…"
            verdict = "ok" if r.passed else "FAIL" + (f": {r.problem}" if r.problem else "")
            rows.append(f"{r.name:<18} {formula:<34} {_sci(r.sym_vs_bp):>11} "
                        f"{_sci(r.bp_vs_fd):>9} {_sci(r.sym_vs_fd):>11} {r.checks:>6} "
                        f"{r.seconds:>5.2f}s {_proved(r):>9}  {verdict}")
        n_bad = len(self.failures)
        rows.append("")
        rows.append(f"{len(self.results)} rows, {n_bad} failed; tolerance {self.tol:.0e} relative; "
                    f"{self.seeds} seeds; {self.seconds:.1f} s")
        return "\n".join(rows)

    def markdown(self) -> str:
        """A Markdown table with a verdict per comparison (the formulas are in :meth:`table`).

        Deterministic, so a notebook that displays it re-runs to the same output on every
        machine: a passing error is shown as the bound it is below (its digits are rounding
        noise that changes with the CPU), a failing one to two digits.
        """
        rows = ["| node | SymPy = backprop | backprop = FD | SymPy = FD | checks "
                "| all sizes | result |", "|---|---|---|---|---|---|---|"]
        for r in self.results:
            verdict = "pass" if r.passed else "**FAIL**" + (f": {r.problem}" if r.problem else "")
            rows.append(f"| `{r.name}` | {_cell(r.sym_vs_bp, SYMBOLIC_BOUND)} "
                        f"| {_cell(r.bp_vs_fd, self.tol)} | {_cell(r.sym_vs_fd, self.tol)} "
                        f"| {r.checks} | {_proved(r)} | {verdict} |")
        return "\n".join(rows)


#: SymPy and backprop evaluate exact formulas in float64: they agree far below this.
SYMBOLIC_BOUND = 1e-12


def _proved(r: NodeResult) -> str:
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


def verify_class(cls: type[Node], seeds: int = DEFAULT_SEEDS, tol: float = TOL) -> NodeResult:
    """Run one node class through every example for every seed; never raises."""
    r = NodeResult(cls.__name__, getattr(cls, "formula", "") or "", cls.__module__)
    t0 = time.perf_counter()
    try:
        for seed in range(seeds):
            examples = cls.examples(np.random.default_rng(seed))
            if not examples:
                raise _Missing("examples() is empty")
            for node, inputs in examples:
                _add_checks(r, node, inputs, verify_node(node, inputs, tol=tol, seed=seed))
    except Exception as exc:  # report, do not crash: the other nodes still get checked
        r.problem = _describe(exc)
    if not r.formula and not r.problem:
        r.problem = "no formula"
    r.seconds = time.perf_counter() - t0
    _add_proof(r, cls)
    return r


def _add_proof(r: NodeResult, cls: type) -> None:
    """Fill the "proved for all sizes" column from :mod:`bpcore.proofs`."""
    from .proofs import prove

    try:
        proof = prove(cls)
    except Exception as exc:  # a broken proof is reported, like a broken node
        r.proof_note = f"proof raised {type(exc).__name__}: {exc}"
        return
    if proof is None:
        r.proof_note = "no symbolic-size proof"
        return
    r.proved_all_sizes, r.proof_seconds = proof.proved, proof.seconds
    r.proof_note = proof.verdict()


class _Missing(Exception):
    """A node lacks something the suite needs (reported as a failure)."""


def _describe(exc: Exception) -> str:
    """A one-line failure reason; the base class's NotImplementedError means a missing part."""
    if isinstance(exc, _Missing):
        return str(exc)
    where = traceback.extract_tb(exc.__traceback__)[-1]
    if isinstance(exc, NotImplementedError) and where.name == "examples":
        return "no examples()"
    if isinstance(exc, NotImplementedError) and where.name == "symbolic":
        return "no symbolic form"
    return f"{type(exc).__name__}: {exc} ({where.name}, line {where.lineno})"


def _add_checks(r: NodeResult, node: Node, inputs, report) -> None:
    """Fold one example's errors into the node's worst errors."""
    r.checks += 1
    shape = _shape_text(tuple(inputs), node.n_grad)
    if shape not in r.shapes:
        r.shapes.append(shape)
    for c in report.checks:
        r.sym_vs_bp = _worse(r.sym_vs_bp, c.sym_vs_bp)
        r.bp_vs_fd = _worse(r.bp_vs_fd, c.bp_vs_fd)
        r.sym_vs_fd = _worse(r.sym_vs_fd, c.sym_vs_fd)


def _worse(old: float | None, new: float) -> float:
    if old is None or math.isnan(new):
        return new
    return old if old >= new else new  # a NaN already stored stays


# -- the network, which is a composition rather than a node --------------------------------------
def _network_configs() -> list[tuple[str, str, str]]:
    from .layers import ACTIVATIONS
    from .network import HEADS

    hidden = sorted(a for a in ACTIVATIONS if a != "identity")
    return ([(act, out, loss, False) for act in hidden for out, loss in sorted(HEADS)]
            + [(act, "softmax", "softmax_ce", True) for act in ("sigmoid", "tanh")])


def verify_network(seeds: int = DEFAULT_SEEDS, tol: float = TOL) -> NodeResult:
    """``Network.backward`` against central differences of ``Network.loss``, every
    configuration of :func:`~bpcore.network.MLP`, with and without batch norm (small nets
    [3, 4, 3], m = 5). Dropout is verified as a node; in a network its masks change at every
    forward, which finite differences cannot follow."""
    from .network import MLP, Network

    r = NodeResult("Network (composite)", r"L\big(\mathrm{net}(x), t\big)", Network.__module__,
                   sym_vs_bp=None, sym_vs_fd=None)
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
                r.bp_vs_fd = _worse(r.bp_vs_fd, network_error(model, x, t))
                r.checks += 1
                name = f"{act}{'+BN' if bn else ''}→{out}/{loss}"
                if name not in r.shapes:
                    r.shapes.append(name)
    except Exception as exc:
        r.problem = f"{type(exc).__name__}: {exc}"
    r.seconds = time.perf_counter() - t0
    return r


def network_error(model, x: np.ndarray, t: object) -> float:
    """Worst relative error of ``model.backward()`` against central differences of
    ``model.loss(x, t)``, over the parameter arrays. The parameters are restored."""
    model.loss(x, t)
    analytic = model.backward()
    keys = list(model.params)
    saved = {k: model.params[k].copy() for k in keys}

    def loss(*arrays):
        for k, a in zip(keys, arrays):
            model.params[k][...] = a  # in place: the layers own these arrays
        return model.loss(x, t)

    try:
        numeric = numerical_gradient(loss, *saved.values())
    finally:
        for k in keys:
            model.params[k][...] = saved[k]
    # A parameter whose gradient is exactly 0 (a bias followed by batch norm, which subtracts
    # any constant) has no scale of its own: it is compared against a thousandth of the whole
    # gradient's size, since central differences have only absolute accuracy (~1e-11) there.
    floor = 1e-3 * max(float(np.linalg.norm(n)) for n in numeric)
    return max(float(np.linalg.norm(analytic[k] - n)) / max(float(np.linalg.norm(analytic[k])),
                                                              float(np.linalg.norm(n)), floor)
               for k, n in zip(keys, numeric))


def run_suite(seeds: int = DEFAULT_SEEDS, classes: list[type[Node]] | None = None,
              include_network: bool | None = None, tol: float = TOL) -> SuiteReport:
    """Verify ``classes`` (default: every node in the package, plus the network row)."""
    t0 = time.perf_counter()
    results: list[NodeResult] = []
    if classes is None:
        for module, error in import_all_modules():
            results.append(NodeResult(f"import {module}", "", module, problem=error))
        classes = discover_nodes()
        include_network = True if include_network is None else include_network
    results += [verify_class(c, seeds, tol) for c in classes]
    if include_network:
        row = verify_network(seeds, tol)
        if row is not None:  # None only from a test double
            results.append(row)
    return SuiteReport(results, tol, seeds, time.perf_counter() - t0)
