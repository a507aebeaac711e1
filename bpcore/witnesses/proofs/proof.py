r"""The proof object: a derivation for symbolic sizes, its assumptions and SymPy's verdict.

Each check a proof makes (derived − claimed, simplified) is a
:class:`~bpcore.witnesses.report.Comparison` in the proof's report; the proof is *proved* only
if at least one was made and every one came out exactly 0. A proof runs under a time limit;
if SymPy stops, raises or runs out of time, the verdict says so.
"""

from __future__ import annotations

import re
import signal
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import sympy as sp

from ..derivation import Derivation
from ..report import Comparison, Report
from .sums import _is_zero, _residue
from .texwidth import (
    WIDTH_EM,
    _em,
    _formula_rows,
    _lines,
    _one_line,
    _plain,
    _text,
    _wrap_tex,
    _wrap_words,
)

#: Seconds a single proof may take before it is given up as "SymPy did not finish".
TIME_LIMIT = 10.0

#: SymPy's KroneckerDelta(j, k) in LaTeX.
_KRONECKER = re.compile(r"\\delta_\{(\w+) (\w+)\}")

def book_notation(tex: str) -> str:
    """SymPy's LaTeX in the book's symbols: ``^{T}`` -> ``^{\\top}``, ``\\circ`` -> ``\\odot``,
    and a Kronecker delta ``\\delta_{j k}`` -> ``[j = k]`` (the book keeps delta for the
    error term)."""
    tex = tex.replace("^{T}", r"^{\top}").replace(r"\circ", r"\odot")
    return _KRONECKER.sub(r"[\1 = \2]", tex)


def _flat_cases(expr):
    r"""The same expression with nested ``Piecewise`` written as one ``cases`` (for display).

    A branch ``(Piecewise((a, c1), (b, True)), c0)`` becomes ``(a, c0 & c1), (b, c0)``; a
    branch whose condition includes an earlier branch's condition is never reached and is
    dropped, and so is a branch before the final ``otherwise`` with the same value.
    """
    def nested(e) -> bool:
        return isinstance(e, sp.Piecewise) and any(
            isinstance(v, sp.Piecewise) and v.args[-1].cond == sp.true for v, _ in e.args)

    def conjuncts(c) -> set:
        return set(sp.And.make_args(c))

    def flat(pw):
        branches = []
        for value, cond in pw.args:
            inner = flat(value).args if nested(value) else (
                value.args if isinstance(value, sp.Piecewise)
                and value.args[-1].cond == sp.true else ((value, sp.true),))
            branches += [(v, sp.And(cond, c)) for v, c in inner]
        kept = []
        for value, cond in branches:
            if not any(conjuncts(c0) <= conjuncts(cond) for _, c0 in kept):
                kept.append((value, cond))
        while len(kept) > 1 and kept[-1][1] == sp.true and kept[-2][0] == kept[-1][0]:
            kept.pop(-2)
        return sp.Piecewise(*kept)

    return expr.replace(nested, flat)


@dataclass
class Proof:
    r"""A derivation for symbolic sizes and the verdict SymPy computed for it.

    ``claims`` are the formulas the node's backward implements, one (lhs, rhs) LaTeX pair per
    gradient, and ``claim`` the same on one line; ``steps`` the derivation (a
    :class:`~bpcore.witnesses.derivation.Derivation`); ``assumptions`` the facts it used, numbered
    (A1), (A2), ... in the notes of the steps that use them. ``proved`` is True only if every
    ``derived - claimed`` checked simplified to 0; otherwise ``reason`` says why. ``seconds`` is the
    wall time (kept out of the reprs, so notebook outputs stay stable).

    ``show`` rewrites an expression for display only (nested cases flattened; batch norm's
    abbreviations): steps given as SymPy expressions are shown through it, broken into rows
    where they would be too wide, while the checks use the expressions themselves.
    """

    node: str
    claim: str
    steps: Derivation = field(default_factory=Derivation)
    assumptions: list[str] = field(default_factory=list)
    proved: bool = False
    reason: str = ""
    seconds: float = 0.0
    for_all: str = ""  # the symbolic sizes, e.g. "K, m"
    #: One comparison per equality checked: derived against claimed, ok if the difference
    #: simplified to exactly 0 (no number: the residue, if any, is in the note).
    report: Report = field(default_factory=lambda: Report("proof"))
    claims: list[tuple[str, str]] = field(default_factory=list)
    show: Callable = field(default=_flat_cases, repr=False, compare=False)

    # -- building --------------------------------------------------------------------------------
    def tex(self, rhs) -> str:
        """LaTeX of a right-hand side: a string as it is, an expression through ``show``, in
        the book's notation (SymPy writes a transpose ``^{T}`` and the entrywise product
        ``\\circ``; the book writes ``^{\\top}`` and ``\\odot``)."""
        return rhs if isinstance(rhs, str) else book_notation(_lines(self.show(rhs)))

    def step(self, lhs: str, rhs, note: str = "") -> None:
        self.steps.add(lhs, self.tex(rhs), note)

    def assume(self, fact: str) -> str:
        """Record an assumption (LaTeX); returns its tag, e.g. ``"(A2)"``, for step notes."""
        self.assumptions.append(fact)
        return f"(A{len(self.assumptions)})"

    def check(self, what: str, derived, claimed, lhs: str | None = None,
              claim_note: str = "the backward's formula") -> bool:
        r"""Show the claimed formula and ``derived - claimed`` after simplification; True if
        that is exactly 0.

        ``what`` names the quantity (LaTeX); ``lhs`` replaces the default left-hand side
        :math:`[what]_{\text{derived} - \text{claimed}}` (and then the claimed formula is
        not shown on a line of its own); ``claim_note`` is the note of the claimed formula.
        """
        if lhs is None:
            self.step(rf"\Bigl[{what}\Bigr]_{{\text{{claimed}}}}", claimed, claim_note)
        rest = _residue(derived, claimed)
        ok = _is_zero(rest)
        lhs = lhs or rf"\Bigl[{what}\Bigr]_{{\text{{derived}} - \text{{claimed}}}}"
        self.step(lhs, rest, "simplified" if ok else "NOT zero")
        note = ""
        if not ok:
            left = sp.sstr(rest)
            left = left if len(left) < 300 else left[:300] + " ..."
            note = (f"for {_plain(what)}, SymPy did not reduce derived - claimed to 0 (it "
                    f"left {left}): the formula is wrong, or SymPy missed an identity")
            self.fail(note)
        self.report.add(Comparison(_plain(what), "SymPy: derived = claimed", None, ok=ok,
                                   note=note))
        return ok

    @property
    def n_checks(self) -> int:
        """How many equalities derived == claimed were checked."""
        return len(self.report.comparisons)

    def fail(self, reason: str) -> None:
        if not self.reason:
            self.reason = reason

    # -- showing ---------------------------------------------------------------------------------
    def verdict(self) -> str:
        if self.proved:
            sizes = f" for all sizes {self.for_all}" if self.for_all else ""
            n = self.n_checks
            return f"proved{sizes} ({n} equalit{'y' if n == 1 else 'ies'} checked by SymPy)"
        return f"NOT proved: {self.reason}"

    def rows(self) -> list[tuple[str, str]]:
        r"""The display as (left, right) cells of an ``aligned`` block, at most
        ``texwidth.WIDTH_EM`` wide: each gradient of the claim on a row of its own; each step
        ``lhs = rhs``, with its note in brackets after it if there is room, else on rows of
        its own under it; assumptions and the verdict wrapped. Rows with an empty left cell
        hold text (or the continuation of a formula)."""
        formulas = self.claims + [(lhs, rhs) for lhs, rhs, _ in self.steps.steps]
        room = WIDTH_EM - max((_em(lhs) for lhs, _ in formulas), default=0.0)
        rows = [("", rf"\textbf{{{self.node}}}\ \text{{backward:}}")]
        for lhs, rhs in self.claims:
            rows += _formula_rows(lhs, rhs)
        for lhs, rhs, note in self.steps.steps:
            rows += _formula_rows(lhs, rhs)
            if not note:
                continue
            beside = rf" \qquad {_text(f'[{note}]')}"
            if _em(rows[-1][1] + beside) <= room:
                rows[-1] = (rows[-1][0], rows[-1][1] + beside)
            else:
                rows += [("", rf"\quad {_text(line)}")
                         for line in _wrap_words(f"[{note}]", room - 1.0)]
        for n, fact in enumerate(self.assumptions, 1):
            label = rf"\text{{(A{n})}}\ "
            lines = _wrap_tex(fact, room - _em(label))
            rows += [("", (label if k == 0 else rf"\hphantom{{{label}}}") + line)
                     for k, line in enumerate(lines)]
        rows += [("", _text(line)) for line in _wrap_words(self.verdict(), room)]
        return rows

    def _repr_latex_(self) -> str:
        return _aligned(self.rows())

    def summary(self) -> ProofSummary:
        """The claim and the verdict without the steps (a page of proofs, each one line)."""
        return ProofSummary(self)

    def __repr__(self) -> str:
        lines = [f"Proof({self.node}): {self.verdict()}"]
        lines += [f"  claim: {lhs} = {_one_line(rhs)}" for lhs, rhs in self.claims]
        lines += [f"  (A{n}) {a}" for n, a in enumerate(self.assumptions, 1)]
        lines += [f"  {lhs} = {_one_line(rhs)}" + (f"    [{note}]" if note else "")
                  for lhs, rhs, note in self.steps.steps]
        return "\n".join(lines)


def _aligned(rows: list[tuple[str, str]]) -> str:
    body = " \\\\\n".join(f"{lhs} &{rhs}".lstrip() for lhs, rhs in rows)
    return "$$\\begin{aligned}\n" + body + "\n\\end{aligned}$$"


@dataclass
class ProofSummary:
    """A proof's claim and verdict, as a short display (see :meth:`Proof.summary`)."""

    proof: Proof

    def rows(self) -> list[tuple[str, str]]:
        full = self.proof.rows()
        claims = [r for lhs, rhs in self.proof.claims for r in _formula_rows(lhs, rhs)]
        verdict = [("", _text(line)) for line in
                   _wrap_words(self.proof.verdict(), WIDTH_EM - 1.0)]
        return full[:1] + claims + verdict

    def _repr_latex_(self) -> str:
        return _aligned(self.rows())

    def __repr__(self) -> str:
        lines = [f"Proof({self.proof.node}): {self.proof.verdict()}"]
        return "\n".join(lines + [f"  claim: {lhs} = {_one_line(rhs)}"
                                   for lhs, rhs in self.proof.claims])


class _OutOfTime(BaseException):
    """The time limit's alarm. A BaseException, so that no ``except Exception`` inside SymPy
    (there are some) can swallow it and let a stopped proof carry on."""


@contextmanager
def _time_limit(seconds: float | None):
    """Raise :class:`_OutOfTime` after ``seconds`` of this process's CPU time (a profiling
    timer, SIGPROF: Unix, main thread only).

    CPU time, not wall time: on a machine busy with other work SymPy gets the same number of
    seconds to think, so a proof's verdict does not depend on the load. Elsewhere (Windows, a
    worker thread) there is no limit. A profiling timer someone else had set is restored with
    the time it has left.
    """
    usable = (seconds and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def on_alarm(signum, frame):
        raise _OutOfTime

    old_handler = signal.signal(signal.SIGPROF, on_alarm)
    old_delay, old_interval = signal.setitimer(signal.ITIMER_PROF, seconds)
    start = time.process_time()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, old_handler)
        if old_delay:
            left = max(old_delay - (time.process_time() - start), 1e-3)
            signal.setitimer(signal.ITIMER_PROF, left, old_interval)


def _run(node: str, claim: Callable[[], list], for_all: str, body: Callable[[Proof], None],
         time_limit: float | None, show: Callable = _flat_cases) -> Proof:
    """Run ``body`` (which adds steps and checks to the proof), timed and time-limited.

    ``claim()`` gives the claimed formula, one (lhs, rhs) pair per gradient (rhs LaTeX or a
    SymPy expression); it is built inside the try, so a planted formula that SymPy refuses to
    build is reported as the reason. The verdict is True only if at least one equality was
    checked, all were 0, and nothing went wrong. ``show`` is the proof's display rewriting.
    """
    proof = Proof(node=node, claim="", for_all=for_all, show=show, report=Report(node),
                  steps=Derivation(title=f"{node}: backward for symbolic sizes {for_all}"))
    start = time.perf_counter()
    try:
        with _time_limit(time_limit):
            proof.claims = [(lhs, proof.tex(rhs)) for lhs, rhs in claim()]
            proof.claim = r",\ ".join(f"{lhs} = {_one_line(rhs)}" for lhs, rhs in proof.claims)
            body(proof)
    except _OutOfTime:
        proof.fail(f"SymPy did not finish within {time_limit:g} s of CPU time (stopped "
                   f"after step {len(proof.steps.steps)})")
    except Exception as err:  # a SymPy failure or an ill-formed claim: reported, not hidden
        proof.fail(f"SymPy stopped with {type(err).__name__}: {err}")
    proof.seconds = time.perf_counter() - start
    if proof.n_checks == 0:
        proof.fail("no equality derived == claimed was checked")
    proof.proved = not proof.reason
    return proof
