r"""Check a reader's own backward: one call, every witness, and a diagnosis a teacher would give.

``check(subject, ...)`` runs the witnesses of this package on code the reader wrote, and
returns a :class:`~bpcore.witnesses.report.Report`. The subject may be

* a node (a :class:`~bpcore.engine.node.Node` subclass or instance, or any object with
  ``forward(*inputs)`` and ``backward(dout)`` returning one gradient per input);
* a layer (``params``, ``forward(x)``, ``backward(dout)`` returning dL/dx and filling ``grads``);
* a pair of plain functions ``(forward, backward)`` in the style of CS231n: ``forward(*inputs)``
  returns ``(out, cache)`` and ``backward(dout, cache)`` returns the gradients;
* a whole :class:`~bpcore.nn.network.Network` (every parameter).

The inputs are the reader's, or drawn at random for ``shapes=``, or taken from the reference's
(or the subject's own) ``examples``. The witnesses: central finite differences of the
subject's own forward, always; with ``against=`` a bpcore node or layer, the reference's forward
and its proved backward; SymPy, when the subject has a ``symbolic`` form (or ``symbolic=`` is
given). The scalar differentiated is
:math:`J = \sum \mathrm{d}_{\text{out}} \odot \text{forward}(x)` for a fixed random
``dout``, so ``backward(dout)`` must return exactly :math:`\partial J/\partial x`.

A wrong gradient is a result, not an exception. Each failing comparison carries a
**diagnosis**, computed from the numbers: a wrong shape (and per-example gradients where the
batch sum belongs), a transpose, a constant factor (named when it is m, 1/m, 2, 1/2 or −1), two
inputs' gradients swapped, a few wrong entries (where), NaN or infinity; and, from running the
subject twice, a backward that changed its inputs or ``dout``, a stale cache (backward answers
for an earlier forward), a forward that disagrees with the reference, the wrong number of
gradients. What the report prints is the same on every machine: verdicts and diagnoses.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Sequence

import numpy as np

from ..engine.node import Node
from .derivation import symbols_like
from .gradcheck import DEFAULT_H, network_gradcheck, numerical_gradient
from .report import DEFAULT_TOL, Comparison, Report, rel_error, worst_entry
from .symbolic import exact_gradients

#: Two gradients are "the same" for a diagnosis when they agree to this relative error: far
#: above the finite-difference noise (~1e-9), far below any real mistake.
SAME = 1e-6
#: At most this many wrong entries are "a few" (and at most a tenth of the array).
FEW = 3

FD = "yours = FD"
REFERENCE = "yours = reference"
SYMPY = "yours = SymPy"
SECOND = "the same backward after a second forward"


# -- the diagnosis --------------------------------------------------------------------------------
def diagnose(got, expected: np.ndarray, name: str, others: dict[str, np.ndarray] | None = None,
             m: int | None = None) -> str:
    """What is wrong with the gradient ``got`` of input ``name``, given the true ``expected``.

    ``others`` are the true gradients of the other inputs (to recognise a swap); ``m`` the
    number of examples (to name a factor m or 1/m). Returns "" if no classic mistake fits.
    """
    if got is None:
        return f"backward returned None for {name}"
    g = np.asarray(got, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if g.size and not np.all(np.isfinite(g)):
        where = worst_entry(np.where(np.isfinite(g), 0.0, np.inf), np.zeros_like(g))
        return f"NaN or infinity in the gradient (first at index {where})"
    if g.shape != e.shape:
        return _shape_diagnosis(g, e)
    if g.ndim == 2 and g.shape[0] == g.shape[1] and g.shape[0] > 1 and _same(g.T, e) \
            and not _same(g, e):
        return f"transposed: this is the transpose of the gradient of {name}"
    for other, oe in (others or {}).items():
        if np.shape(oe) == g.shape and _same(g, oe) and not _same(g, e):
            return f"swapped: this is the gradient of {other}, not of {name}"
    factor = _factor(g, e)
    # any two numbers are multiples of each other: for a single entry only a factor with a
    # name (m, 1/m, 2, 1/2, -1) says something
    text = _factor_diagnosis(factor, m, named_only=g.size < 2) if factor is not None else ""
    if text:
        return text
    if not np.any(g) and np.any(e):
        return "all zero: no gradient reached this input"
    return _entries_diagnosis(g, e)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return np.shape(a) == np.shape(b) and rel_error(a, b) <= SAME


def _shape_diagnosis(g: np.ndarray, e: np.ndarray) -> str:
    got, want = g.shape, e.shape
    head = f"wrong shape: expected {want}, got {got}"
    if (len(want) == 2 and want[1] == 1 and len(got) == 2 and got[0] == want[0] and got[1] > 1
            and _same(g.sum(axis=1, keepdims=True), e)):
        return (f"{head}: per-example gradients; sum them over the batch axis (axis 1, "
                f"keepdims=True) to get the gradient of the parameter")
    if len(got) == 2 and len(want) == 2 and got == want[::-1] and _same(g.T, e):
        return f"{head}: transposed (the transpose has the right numbers)"
    if g.size == e.size and _same(g.reshape(want), e):
        return f"{head}: the numbers are right, the shape is not (reshape it)"
    return head


def _factor(g: np.ndarray, e: np.ndarray) -> float | None:
    """c with g = c e (to SAME), c != 1; None if g is not a multiple of e."""
    ee = float(np.vdot(e, e))
    if ee == 0.0 or not g.size:
        return None
    c = float(np.vdot(g, e)) / ee
    if abs(c - 1.0) <= SAME or c == 0.0 or rel_error(g, c * e) > SAME:
        return None
    return c


def _factor_diagnosis(c: float, m: int | None, named_only: bool = False) -> str:
    def near(x: float) -> bool:
        return abs(c - x) <= SAME * max(1.0, abs(x))

    if m is not None and m > 2 and near(float(m)):
        return (f"m = {m} times too large: the 1/m of the mean is missing (the loss averages "
                f"over the m = {m} examples)")
    if m is not None and m > 2 and near(1.0 / m):
        return (f"m = {m} times too small: divided by m once too often (the 1/m arrives "
                "in dout from the loss)")
    named = {2.0: "twice the true gradient (a factor 2)",
             0.5: "half the true gradient (a factor 1/2)",
             -1.0: "the sign is wrong (a factor -1)"}
    for value, text in named.items():
        if near(value):
            return text
    return "" if named_only else f"off by a constant factor of about {c:.3g}"


def _entries_diagnosis(g: np.ndarray, e: np.ndarray) -> str:
    scale = max(float(np.max(np.abs(e))), float(np.max(np.abs(g))), 1e-300) if g.size else 1.0
    bad = np.argwhere(np.abs(g - e) > SAME * 100 * scale)
    if g.ndim == 0 or not 0 < len(bad) <= min(FEW, max(1, g.size // 10)):
        return ""
    where = ", ".join(str(tuple(int(i) for i in idx)) for idx in bad)
    return f"right except at {len(bad)} entr{'y' if len(bad) == 1 else 'ies'}: {where}"


# -- running a subject -----------------------------------------------------------------------------
class _Runner:
    """One way of calling a subject: forward on values, backward on dout, gradient names."""

    names: list[str]

    def forward(self, values: list):
        raise NotImplementedError

    def backward(self, dout) -> list:
        raise NotImplementedError


class _NodeRunner(_Runner):
    def __init__(self, node, n_grad: int, constants: tuple, names: list[str]):
        self.node, self.n_grad, self.constants, self.names = node, n_grad, constants, names

    def forward(self, values):
        return self.node.forward(*values, *self.constants)

    def backward(self, dout):
        grads = self.node.backward(dout)
        return list(grads) if isinstance(grads, (tuple, list)) else [grads]


class _LayerRunner(_Runner):
    def __init__(self, layer, names: list[str]):
        self.layer, self.names = layer, names
        self.keys = list(layer.params)

    def forward(self, values):
        for key, v in zip(self.keys, values[1:]):
            self.layer.params[key][...] = v  # in place: the layer may hold these arrays
        return self.layer.forward(values[0])

    def backward(self, dout):
        dx = self.layer.backward(dout)
        grads = getattr(self.layer, "grads", {}) or {}
        return [dx] + [grads.get(k) for k in self.keys]


class _FunctionsRunner(_Runner):
    def __init__(self, forward_fn, backward_fn, constants: tuple, names: list[str]):
        self.forward_fn, self.backward_fn = forward_fn, backward_fn
        self.constants, self.names = constants, names

    def forward(self, values):
        result = self.forward_fn(*values, *self.constants)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise TypeError("forward must return (out, cache), as in CS231n: backward(dout, "
                            "cache) then gets the cache")
        out, self.cache = result
        return out

    def backward(self, dout):
        grads = self.backward_fn(dout, self.cache)
        return list(grads) if isinstance(grads, (tuple, list)) else [grads]


# -- check ----------------------------------------------------------------------------------------
def check(subject, *inputs, shapes: Sequence[tuple[int, ...]] | None = None, against=None,
          symbolic: Callable | None = None, names: Sequence[str] | None = None, seed: int = 0,
          tol: float = DEFAULT_TOL, h: float = DEFAULT_H, n_grad: int | None = None) -> Report:
    """Check the backward of ``subject`` (a node, a layer, a ``(forward, backward)`` pair of
    functions, or a Network) against finite differences, a reference and SymPy; see the module.

    ``inputs`` are the forward's inputs (for a Network: ``x, t``); without them, ``shapes``
    gives random inputs of those shapes, and otherwise the inputs come from ``against``'s (or
    the subject's own) ``examples``. Inputs past ``n_grad`` (given, or the subject's, or
    ``against``'s) are constants, such as labels. Never raises because a gradient is wrong;
    raises TypeError or ValueError on misuse (no backward, no inputs to run on).
    """
    rng = np.random.default_rng(seed)
    if _is_network(subject):
        return _check_network(subject, inputs, seed, tol, h)
    if isinstance(subject, type):
        subject = subject()
    reference = against() if isinstance(against, type) else against
    inputs = _resolve_inputs(subject, reference, inputs, shapes, rng)
    runner, values, label = _runner(subject, reference, inputs, names, n_grad)
    report = Report(label, tol=tol)
    _run_checks(report, runner, values, reference, symbolic, rng, tol, h)
    return report


def _is_network(subject) -> bool:
    return all(hasattr(subject, a) for a in ("params", "loss", "backward", "layers"))


def _is_layer(subject) -> bool:
    return isinstance(getattr(subject, "params", None), dict) and hasattr(subject, "backward")


def _resolve_inputs(subject, reference, inputs, shapes, rng) -> tuple:
    if inputs:
        return tuple(inputs)
    if shapes is not None:
        return tuple(float(rng.normal()) if tuple(s) == () else rng.normal(size=tuple(s))
                     for s in shapes)
    for source in (reference, subject):
        examples = getattr(type(source), "examples", None) if source is not None else None
        if examples is not None:
            try:
                found = examples(rng)
            except NotImplementedError:
                continue
            return tuple(found[0][1])
    raise ValueError("nothing to run the check on: give the inputs, shapes=[...], or "
                     "against= a bpcore node or layer (its examples are used)")


def _runner(subject, reference, inputs, names, n_grad=None):
    """The runner for ``subject``, the differentiable values, and the report's subject line."""
    if isinstance(subject, tuple) and len(subject) == 2 and all(map(callable, subject)):
        forward_fn, backward_fn = subject
        n_grad = n_grad or _n_grad(None, reference, inputs)
        names = _names(names, n_grad, forward_fn)
        return (_FunctionsRunner(forward_fn, backward_fn, tuple(inputs[n_grad:]), names),
                list(inputs[:n_grad]), f"{forward_fn.__name__} / {backward_fn.__name__}")
    if not (hasattr(subject, "forward") and hasattr(subject, "backward")):
        raise TypeError(f"cannot check {subject!r}: it needs forward and backward methods (a "
                        "node or a layer), or give a pair of functions (forward, backward)")
    label = type(subject).__name__
    if _is_layer(subject) and not isinstance(subject, Node):
        keys = list(subject.params)
        x = inputs[0]
        values = [x] + [np.array(subject.params[k], dtype=np.float64) for k in keys]
        names = list(names) if names else ["x"] + keys
        return _LayerRunner(subject, names), values, label
    n_grad = n_grad or _n_grad(subject, reference, inputs)
    names = _names(names, n_grad, subject.forward)
    return _NodeRunner(subject, n_grad, tuple(inputs[n_grad:]), names), list(inputs[:n_grad]), \
        label


def _n_grad(subject, reference, inputs) -> int:
    """How many leading inputs get a gradient: the subject's own ``n_grad`` if its class sets
    one, else the reference's, else all of them (a reader's node that does not say)."""
    if subject is not None and _defines_n_grad(type(subject)):
        return min(subject.n_grad, len(inputs))
    if reference is not None and isinstance(getattr(reference, "n_grad", None), int):
        return min(reference.n_grad, len(inputs))
    return len(inputs)


def _defines_n_grad(cls: type) -> bool:
    return any("n_grad" in vars(c) for c in cls.__mro__ if c not in (Node, object))


def _names(names, n_grad: int, fn) -> list[str]:
    if names:
        return list(names)[:n_grad]
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        found = [p.name for p in params if p.name != "self"][:n_grad]
    except (TypeError, ValueError):
        found = []
    return found if len(found) == n_grad else [f"x{i + 1}" for i in range(n_grad)]


def _run_checks(report: Report, runner: _Runner, values: list, reference, symbolic, rng, tol,
                h) -> None:
    names = runner.names
    pristine = copy.deepcopy(runner)
    originals = [copy.deepcopy(v) for v in values]
    work = copy.deepcopy(pristine)
    out = work.forward(values)  # the reader's own arrays: a change to them is reported
    dout = 1.0 if np.ndim(out) == 0 else rng.normal(size=np.shape(out))
    dout_copy = copy.deepcopy(dout)
    grads = work.backward(dout)

    # the witness every check has: central differences of the subject's own forward
    def scalar(*args):
        fresh = copy.deepcopy(pristine)
        return float(np.sum(np.asarray(fresh.forward(list(args))) * dout))

    fd = numerical_gradient(scalar, *originals, h=h)
    m = _examples_count(originals[0])
    if len(grads) != len(names):
        report.add(Comparison("backward", "one gradient per input", None, tol, ok=False,
                              kind="check",
                              note=f"backward returned {len(grads)} gradient(s), expected "
                                   f"{len(names)} (one per input: {', '.join(names)})"))
        grads = (list(grads) + [None] * len(names))[:len(names)]
    expected = dict(zip(names, fd))
    for name, g, e in zip(names, grads, fd):
        others = {k: v for k, v in expected.items() if k != name}
        report.add(_compare(name, FD, g, e, others, m, tol))
    _check_unchanged(report, values, originals, dout, dout_copy, names, tol)
    if reference is not None:
        _check_reference(report, reference, originals, out, dout, grads, names, runner, m, tol)
    sym = symbolic or _symbolic_form(runner)
    if sym is not None:
        _check_symbolic(report, sym, originals, dout, grads, names, runner, m, tol)
    _check_second_forward(report, pristine, originals, dout, grads, names, rng, tol)


def _examples_count(x) -> int | None:
    return int(np.shape(x)[-1]) if np.ndim(x) == 2 else None


def _compare(name, witnesses, got, expected, others, m, tol) -> Comparison:
    e = np.asarray(expected, dtype=np.float64)
    try:
        g = None if got is None else np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return Comparison(name, witnesses, None, tol, ok=False,
                          note=f"the gradient is not an array of numbers ({type(got).__name__})")
    if g is None or g.shape != e.shape or not np.all(np.isfinite(g)):
        return Comparison(name, witnesses, None, tol, ok=False,
                          note=diagnose(got, e, name, others, m))
    c = Comparison.of(name, witnesses, g, e, tol)
    if not c.ok:
        note = diagnose(g, e, name, others, m)
        c = Comparison(c.name, c.witnesses, c.error, tol, c.worst_entry, note=note)
    return c


def _check_unchanged(report, values, originals, dout, dout_copy, names, tol) -> None:
    changed = [n for n, v, o in zip(names, values, originals)
               if not np.array_equal(np.asarray(v), np.asarray(o))]
    if not np.array_equal(np.asarray(dout), np.asarray(dout_copy)):
        changed.append("dout")
    report.add(Comparison("inputs", "inputs and dout unchanged", None, tol, ok=not changed,
                          kind="check",
                          note=f"changed in place: {', '.join(changed)} (work on copies: a "
                               "caller may use them again)" if changed else ""))


def _check_reference(report, reference, values, out, dout, grads, names, runner, m, tol):
    ref = copy.deepcopy(reference)
    if isinstance(runner, _LayerRunner) and isinstance(getattr(ref, "params", None), dict):
        for key, v in zip(ref.params, values[1:]):
            ref.params[key][...] = v
        ref_out = ref.forward(copy.deepcopy(values[0]))
        dx = ref.backward(dout)
        ref_grads = [dx] + [ref.grads[k] for k in ref.params]
    else:
        constants = getattr(runner, "constants", ())
        ref_out = ref.forward(*copy.deepcopy(values), *constants)
        ref_grads = list(ref.backward(dout))
    same = np.shape(out) == np.shape(ref_out) and rel_error(out, ref_out) <= tol
    report.add(Comparison("output", "forward = reference", None, tol, ok=same, kind="check",
                          note="" if same else "your forward disagrees with the reference's "
                          f"(shape {np.shape(out)} vs {np.shape(ref_out)})"
                          if np.shape(out) != np.shape(ref_out) else
                          "your forward disagrees with the reference's"))
    expected = dict(zip(names, ref_grads))
    for name, g, e in zip(names, grads, ref_grads):
        others = {k: v for k, v in expected.items() if k != name}
        report.add(_compare(name, REFERENCE, g, e, others, m, tol))


def _symbolic_form(runner) -> Callable | None:
    node = getattr(runner, "node", None)
    if node is None or not hasattr(node, "symbolic"):
        return None
    method = type(node).symbolic
    if method is Node.symbolic:
        return None
    return lambda *xs: node.symbolic(*xs, *runner.constants)


def _check_symbolic(report, sym, values, dout, grads, names, runner, m, tol) -> None:
    try:
        syms = [symbols_like(f"s{i}", np.shape(v)) for i, v in enumerate(values)]
        exact = exact_gradients(sym(*syms), np.asarray(dout), syms, values)
    except (NotImplementedError, TypeError, ValueError, AttributeError) as exc:
        report.add(Comparison("symbolic", SYMPY, None, tol, ok=False,
                              note=f"the symbolic form could not be differentiated: {exc}"))
        return
    expected = dict(zip(names, exact))
    for name, g, e in zip(names, grads, exact):
        others = {k: v for k, v in expected.items() if k != name}
        report.add(_compare(name, SYMPY, g, e, others, m, tol))


def _check_second_forward(report, pristine, values, dout, grads, names, rng, tol) -> None:
    """forward(other inputs), forward(inputs), backward: the same answer as one forward?"""
    # the other inputs: the same numbers in another order (a scalar scaled), so they stay in
    # the forward's domain (a variance stays positive)
    others = [1.1 * float(v) if np.ndim(v) == 0 else
              rng.permutation(np.asarray(v).ravel()).reshape(np.shape(v)) for v in values]
    try:
        with np.errstate(all="ignore"):
            probe = copy.deepcopy(pristine)
            if not np.array_equal(np.asarray(probe.forward(copy.deepcopy(values))),
                                  np.asarray(probe.forward(copy.deepcopy(values)))):
                return  # a random forward (dropout draws a new mask each time): no comparison
            twice = copy.deepcopy(pristine)
            twice.forward(copy.deepcopy(others))
            twice.forward(copy.deepcopy(values))
            again = twice.backward(dout)
            once_other = copy.deepcopy(pristine)
            once_other.forward(copy.deepcopy(others))
            at_other = once_other.backward(dout)
    except Exception as exc:  # the subject cannot run twice: say so, do not crash
        report.add(Comparison("backward", SECOND, None, tol, ok=False, kind="check",
                              note=f"a second forward failed: {type(exc).__name__}: {exc}"))
        return
    stale = []
    for name, g, a, o in zip(names, grads, again, at_other):
        if g is None or a is None or np.shape(g) != np.shape(a) or _same(a, g):
            continue
        stale.append((name, np.shape(o) == np.shape(a) and _same(a, o)))
    if not stale:
        report.add(Comparison("backward", SECOND, None, tol, ok=True, kind="check"))
        return
    earlier = all(s for _, s in stale)
    what = ("stale cache: backward answered for the inputs of an earlier forward (cache "
            "every forward's values, not only the first)" if earlier else
            "backward gives a different answer after a second forward")
    report.add(Comparison("backward", SECOND, None, tol, ok=False, kind="check",
                          note=f"{what} ({', '.join(n for n, _ in stale)})"))


# -- a whole network ---------------------------------------------------------------------------
def _check_network(net, inputs, seed, tol, h) -> Report:
    if len(inputs) != 2:
        raise ValueError("check a Network on (x, t): its input and its targets")
    x, t = inputs
    base = network_gradcheck(net, x, t, h=h, tol=tol)
    report = Report(type(net).__name__, tol=tol)
    grads, numeric = base.values["backprop"], base.values["FD"]
    expected = dict(zip([c.name for c in base.comparisons], numeric))
    m = _examples_count(x)
    for c, g, e in zip(base.comparisons, grads, numeric):
        note = "" if c.ok else diagnose(g, e, c.name,
                                        {k: v for k, v in expected.items() if k != c.name}, m)
        report.add(Comparison(c.name, FD, c.error, tol, c.worst_entry, c.ok, note))
    return report
