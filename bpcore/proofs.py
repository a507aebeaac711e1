r"""Proofs for every size: each node's backward derived with SymPy for *symbolic* dimensions.

:func:`bpcore.verify_node` checks a node at a few fixed shapes. Here the sizes are symbols
(K classes, m columns, an n×p weight matrix, ...), so one computation covers every shape:

* entries are ``IndexedBase`` objects summed with ``Sum(..., (j, 1, K))``; ``sympy.diff`` of
  such a sum with respect to one entry ``z[k, i]`` gives ``KroneckerDelta`` terms, which
  ``doit`` sums out, leaving a ``Piecewise`` whose branch for ``1 <= k <= K`` is the answer;
* matrices are ``MatrixSymbol`` objects with symbolic shapes; with an upstream gradient D held
  fixed, ``diff(Trace(D.T @ Z), W)`` is :math:`\partial L/\partial W` (chain rule).

Each proof derives the gradient from the forward, then asks SymPy whether
``derived - claimed`` simplifies to 0, where *claimed* is the formula the node's backward
implements. The formula is a parameter, so a wrong one can be planted and seen to fail. A
verdict is only ever what that computation returned: if SymPy stops, raises or runs out of
time, the proof says ``proved=False`` and why. Every assumption a proof uses is listed and
numbered, and the step that uses it names it.

Usage::

    from bpcore.proofs import prove, prove_all
    prove("SoftmaxWithLoss")          # a Proof: shows as LaTeX in a notebook
    [p.node for p in prove_all() if not p.proved]
"""

from __future__ import annotations

import re
import signal
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import sympy as sp
from sympy.core.relational import Relational

from .symbolic import Derivation

#: Seconds a single proof may take before it is given up as "SymPy did not finish".
TIME_LIMIT = 10.0

# -- symbols shared by the proofs ----------------------------------------------------------------
_SIZE = dict(integer=True, positive=True)
K, m, n, p, N = sp.symbols("K m n p N", **_SIZE)  # classes, columns, rows, inner size, entries
k, i = sp.symbols("k i", **_SIZE)  # the entry we differentiate by: row k, column i
j, ell, c, u, v = sp.symbols("j l c u v", **_SIZE)  # summation indices
Z, T, Y, G = (sp.IndexedBase(s) for s in ("z", "t", "y", "g"))
X1, X2 = sp.IndexedBase("x_1", real=True), sp.IndexedBase("x_2", real=True)
x_, y_ = sp.symbols("x y", real=True)


# -- the proof object ----------------------------------------------------------------------------
def _text(s: str) -> str:
    r"""Plain text made safe for ``\text{...}``: MathJax refuses ``_`` and ``^`` there, and
    braces, ``\``, ``$``, ``%``, ``#``, ``&`` would still be read as TeX."""
    for old, new in (("\\", ""), ("$", ""), ("%", " percent"), ("{", "("), ("}", ")"),
                     ("_", ""), ("^", "**"), ("#", ""), ("&", "and")):
        s = s.replace(old, new)
    return rf"\text{{{s}}}"


def _plain(tex: str) -> str:
    r"""A rough plain-text version of a label: ``\frac{\partial L}{\partial W}`` -> dL/dW."""
    s = re.sub(r"\\frac\{\\partial L\}\{\\partial (.+?)\}$", r"dL/d\1", tex)
    return re.sub(r"[\\{}]|\\left|\\right", "", s).strip()


# -- display: how wide LaTeX renders, and where to break it --------------------------------------
#: The widest a proof may render, in em of MathJax's default size: the book's column at a 1280 px
#: window is ~676 px, MathJax's em there is 20.37 px, and the estimate below is never more than
#: 3.5 % short of the width MathJax gives (tests/test_proofs.py): 30.2 em stays under 640 px.
WIDTH_EM = 30.2
#: Room kept for the left-hand sides when a formula is broken into lines as a step is added
#: (before the widest left-hand side of the proof is known): no left-hand side is wider.
LHS_EM = 12.0
_BREAK = r" \\ &\qquad {} "  # a formula continued on the next row, indented, after its sign

# Glyph widths (em) of TeX's fonts, which MathJax uses: roman text, math italic.
_ROMAN = dict(zip("abcdefghijklmnopqrstuvwxyz",
                  (.5, .556, .444, .556, .444, .306, .5, .556, .278, .306, .528, .278, .833, .556,
                   .5, .556, .528, .392, .394, .389, .556, .528, .722, .528, .528, .444)))
_ROMAN.update(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                  (.75, .708, .722, .764, .681, .653, .785, .75, .361, .514, .778, .625, .917, .75,
                   .778, .681, .778, .736, .556, .722, .75, .75, 1.028, .75, .75, .611)))
_ROMAN.update({c: .5 for c in "0123456789"})
_ROMAN.update({" ": .25, "\u00a0": .25, ".": .278, ",": .278, ":": .278, ";": .278,
               "!": .278, "?": .472, "(": .389, ")": .389, "[": .278, "]": .278, "-": .333,
               "'": .278, "/": .5, "=": .778, "+": .778, "*": .5, "<": .778, ">": .778,
               "|": .278, "≤": .778, "≥": .778, "Σ": .722, "⊙": .778, "ᵀ": .285, "ℓ": .417,
               "ᵢ": .13, "∂": .565, "δ": .371})
_ITALIC = dict(zip("abcdefghijklmnopqrstuvwxyz",
                   (.529, .429, .433, .52, .466, .549, .477, .576, .345, .412, .521, .298, .878,
                    .6, .485, .503, .46, .451, .469, .361, .572, .485, .716, .572, .49, .465)))
_ITALIC.update(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                   (.75, .759, .759, .828, .763, .749, .786, .888, .503, .633, .888, .68, 1.051,
                    .888, .763, .75, .791, .759, .644, .703, .766, .769, 1.048, .852, .763, .723)))
_ITALIC.update({c: .5 for c in "0123456789"})
_SYMBOL = {  # command -> (width, class): ord, bin (binary operator), rel (relation), op (Σ)
    "partial": (.566, "ord"), "infty": (1.0, "ord"), "ell": (.417, "ord"), "top": (.778, "ord"),
    "prime": (.275, "ord"), "ldots": (1.172, "ord"), "cdots": (1.172, "ord"),
    "odot": (.778, "bin"), "circ": (.5, "bin"), "cdot": (.278, "bin"), "times": (.778, "bin"),
    "pm": (.778, "bin"), "leq": (.778, "rel"), "geq": (.778, "rel"), "le": (.778, "rel"),
    "ge": (.778, "rel"), "ne": (.778, "rel"), "neq": (.778, "rel"), "to": (1.0, "rel"),
    "in": (.667, "rel"), "approx": (.778, "rel"), "equiv": (.778, "rel"), "mid": (.278, "rel"),
    "sum": (1.444, "op"), "prod": (1.278, "op"), "lim": (1.4, "op"),
    "log": (1.25, "fn"), "ln": (.84, "fn"), "exp": (1.42, "fn"), "max": (1.67, "fn"),
    "min": (1.45, "fn"), "tr": (.67, "fn"), "tanh": (1.78, "fn"), "sinh": (1.72, "fn"),
    "cosh": (1.67, "fn"), "sin": (1.11, "fn"), "cos": (1.28, "fn"),
}
_GREEK = {"alpha": .64, "beta": .566, "gamma": .542, "delta": .444, "epsilon": .406,
          "varepsilon": .466, "zeta": .438, "eta": .497, "theta": .469, "iota": .354,
          "kappa": .576, "lambda": .583, "mu": .603, "nu": .494, "xi": .438, "pi": .57,
          "rho": .517, "sigma": .571, "tau": .437, "phi": .596, "varphi": .654, "chi": .626,
          "psi": .651, "omega": .622, "Gamma": .615, "Delta": .833, "Theta": .763,
          "Lambda": .694, "Sigma": .722, "Phi": .722, "Psi": .778, "Omega": .722}
_SPACE = {",": .167, ":": .222, ";": .278, "!": -.167, " ": .333, "quad": 1.0, "qquad": 2.0,
          "enspace": .5}
_SPACING = {"bin": .222, "rel": .278}  # on each side, at display and text size
_SCALE = (1.0, 1.0, .7, .5)  # display, text, script, scriptscript
_DELIM = {"left": .75, "right": .75, "bigl": .46, "bigr": .46, "Bigl": .6, "Bigr": .6,
          "biggl": .74, "biggr": .74, "big": .46, "Big": .6, "bigg": .74}
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[{}^_&]|\s+|.", re.S)


class _Width:
    r"""A rough typesetter: the width (em) MathJax gives a LaTeX formula, from the glyph widths
    of TeX's fonts and its rules for fractions, scripts, big operators and spacing. It errs
    wide. Enough to decide where to break a proof's rows, and for a test to bound them without
    a browser (tests/test_proofs.py calibrates it against widths measured in Chromium)."""

    def __init__(self, tex: str) -> None:
        self.tokens = _TOKEN.findall(tex)
        self.pos = 0

    def peek(self) -> str | None:
        """The next token, skipping white space (math mode ignores it)."""
        while self.pos < len(self.tokens) and self.tokens[self.pos].isspace():
            self.pos += 1
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str | None:
        tok = self.peek()
        self.pos += 1
        return tok

    def raw(self) -> str:
        """The source of a braced argument (for \\text{...}), or of the next token."""
        if self.peek() != "{":
            return (self.take() or "").lstrip("\\")
        self.take()
        depth, out = 0, []
        while self.pos < len(self.tokens):
            tok = self.tokens[self.pos]
            self.pos += 1
            depth += (tok == "{") - (tok == "}")
            if depth < 0:
                break
            out.append(tok)
        return "".join(out)

    def arg(self, level: int) -> float:
        if self.peek() == "{":
            self.take()
            return self.seq(level, closing=True)
        return self.atom(level)[0]

    def rows(self, level: int) -> list[list[float]]:
        """Cells (split at &) of rows (split at \\\\) up to \\end{...} or a closing brace."""
        rows, cells = [], []
        while True:
            cells.append(self.seq(level, cell=True))
            tok = self.take()
            if tok == "&":
                continue
            rows.append(cells)
            cells = []
            if tok != "\\\\":
                if tok == "\\end":
                    self.raw()
                return rows

    def seq(self, level: int, closing: bool = False, cell: bool = False) -> float:
        """Width of the atoms up to a closing brace (taken if ``closing``) or, in a ``cell``,
        up to the next &, \\\\ or \\end."""
        total, prev = 0.0, None
        while (tok := self.peek()) is not None:
            if tok == "}":
                self.pos += closing
                break
            if cell and tok in ("&", "\\\\", "\\end"):
                break
            if tok in ("\\textstyle", "\\displaystyle", "\\scriptstyle"):
                self.take()
                level = {"\\textstyle": 1, "\\displaystyle": 0, "\\scriptstyle": 2}[tok]
                continue
            w, kind = self.atom(level)
            if self.peek() in ("^", "_"):
                w = self.scripts(w, kind, level)
                kind = kind if kind in ("op", "fn") else "ord"
            if kind == "bin" and prev in (None, "bin", "rel", "open", "punct", "op"):
                kind = "ord"  # a leading minus is a sign, not an operator
            if level <= 1:
                total += 2 * _SPACING.get(kind, 0.0)
                total += .167 if kind in ("op", "fn", "punct") else 0.0
                total += .167 if kind == "op" and prev in ("ord", "close") else 0.0
            total += w
            prev = kind if kind != "space" else prev
        return total

    def scripts(self, base: float, kind: str, level: int) -> float:
        sub = sup = 0.0
        while self.peek() in ("^", "_"):
            which = self.take()
            w = self.arg(2 if level < 2 else 3)
            sub, sup = (w, sup) if which == "_" else (sub, w)
        if kind == "op" and level == 0:  # limits under and over, in display style
            return max(base, sub, sup)
        return base + max(sub, sup) + .05

    def atom(self, level: int) -> tuple[float, str]:
        s = _SCALE[level]
        tok = self.take()
        if tok is None or tok in ("&", "\\\\"):
            return 0.0, "space"
        if tok == "{":
            return self.seq(level, closing=True), "ord"
        if tok in ("+", "-", "*"):
            return .778 * s, "bin"
        if tok in ("=", "<", ">"):
            return .778 * s, "rel"
        if tok in ("(", "["):
            return .389 * s, "open"
        if tok in (")", "]"):
            return .389 * s, "close"
        if tok == ",":
            return .278 * s, "punct"
        if not tok.startswith("\\"):
            return (_ITALIC.get(tok) or _ROMAN.get(tok) or .75) * s, "ord"
        name = tok[1:]
        if name in _SPACE:
            return _SPACE[name] * s, "space"
        if name in _GREEK:
            return _GREEK[name] * s, "ord"
        if name in _SYMBOL:
            w, kind = _SYMBOL[name]
            return (1.056 if name == "sum" and level > 0 else w) * s, kind
        if name in ("frac", "dfrac", "tfrac"):
            inner = {"dfrac": 1, "tfrac": 2}.get(name, (1, 2, 3, 3)[level])
            num, den = self.arg(inner), self.arg(inner)
            return max(num, den) + .44 * s, "ord"
        if name in ("text", "textbf", "textit", "textrm", "mathrm", "mathbf", "operatorname"):
            w = _text_em(re.sub(r"\\[A-Za-z]+|[{}\\]", "", self.raw()))
            w *= 1.1 if name in ("textbf", "mathbf") else 1.0
            return w * s, ("fn" if name == "operatorname" else "ord")
        if name in ("mathbb", "mathcal"):
            return .75 * len(self.raw()) * s, "ord"
        if name == "sqrt":
            return self.arg(level) + 1.0 * s, "ord"
        if name in _DELIM:
            delim = self.take()
            w = .12 if delim == "." else _DELIM[name]
            return w * s, ("open" if name.endswith(("left", "l")) else
                           "close" if name.endswith(("right", "r")) else "ord")
        if name in ("hat", "bar", "tilde", "vec", "overline", "mathit", "boldsymbol",
                    "hphantom", "phantom"):
            return self.arg(level), "ord"
        if name == "substack":
            self.take()
            return max((sum(r) for r in self.rows(level)), default=0.0), "ord"
        if name == "begin":
            env = self.raw()
            rows = self.rows(max(level, 1))
            cols = [max((r[c] for r in rows if len(r) > c), default=0.0)
                    for c in range(max(len(r) for r in rows))]
            return sum(cols) + len(cols) - 1 + (1.01 if env == "cases" else 0.0), "ord"
        if name in ("small", "large", "normalsize", "limits", "nolimits", "allowbreak"):
            return 0.0, "space"
        return .6 * s, "ord"  # {, }, and anything not listed


def _em(tex: str) -> float:
    """Estimated width in em of a LaTeX formula (one row) in display style."""
    return _Width(tex).seq(0)


def _text_em(text: str) -> float:
    """Estimated width in em of plain text in ``\\text{...}``."""
    return sum(_ROMAN.get(ch, .6) for ch in text) * 1.02


def _wrap(pieces: list[str], width: Callable[[str], float], room: float) -> list[str]:
    """Pieces joined greedily into lines at most ``room`` wide; a last line of one short
    piece takes the piece before it along, if that fits."""
    lines: list[list[str]] = []
    for piece in pieces:
        if lines and width("".join(lines[-1] + [piece]).strip()) <= room:
            lines[-1].append(piece)
        else:
            lines.append([piece])
    if (len(lines) > 1 and len(lines[-1]) == 1 and len(lines[-2]) > 1
            and width(lines[-1][0]) < 3.0
            and width("".join(lines[-2][-1:] + lines[-1]).strip()) <= room):
        lines[-1].insert(0, lines[-2].pop())
    return ["".join(line).strip() for line in lines]


def _wrap_words(text: str, room: float) -> list[str]:
    """Plain text cut at spaces into lines at most ``room`` em wide (a longer word is cut).
    A relation keeps its operands on its line: "1 ≤ k ≤ m" is not cut."""
    text = re.sub(r" (≤|≥|!=|=) ", "\u00a0\\1\u00a0", text)
    words = []
    for word in text.split(" "):
        while _text_em(word) > room and len(word) > 1:  # e.g. an expression in a reason
            cut = max((n for n in range(1, len(word)) if _text_em(word[:n]) <= room),
                      default=1)
            words.append(word[:cut] + " ")
            word = word[cut:]
        words.append(word + " ")
    return _wrap([w for w in words if w.strip()], _text_em, room)


def _tex_pieces(tex: str) -> list[str]:
    r"""LaTeX mixing ``\text{...}`` and math cut where a line may break: between the words of
    the text, and at the top-level ``,\ `` of the math (what follows a ``\textstyle`` stays
    whole)."""
    pieces, pos = [], 0
    for m_ in re.finditer(r"\\text\{([^{}]*)\}", tex):
        pieces += _math_pieces(tex[pos:m_.start()])
        words = re.findall(r"\s*\S+\s*|\s+", m_.group(1))
        pieces += [rf"\text{{{w}}}" for w in words]
        pos = m_.end()
    return [p for p in pieces + _math_pieces(tex[pos:]) if p.strip()]


def _math_pieces(tex: str) -> list[str]:
    pieces, depth, start = [], 0, 0
    for n, ch in enumerate(tex):
        depth += (ch == "{") - (ch == "}")
        if depth == 0 and tex.startswith(r",\ ", n) and r"\textstyle" not in tex[start:n]:
            pieces.append(tex[start:n + 3])
            start = n + 3
    return pieces + [tex[start:]]


def _wrap_tex(tex: str, room: float) -> list[str]:
    """Mixed text and math (an assumption) cut into lines at most ``room`` em wide."""
    lines = _wrap(_tex_pieces(tex), _em, room)
    out = []
    for line in lines:
        line = re.sub(r"^\\text\{\s+", r"\\text{", line)
        while (merged := re.sub(r"(\\text\{[^{}]*)\}\\text\{", r"\1", line)) != line:
            line = merged
        out.append(re.sub(r"\s+\}$", "}", line))
    return out


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


def _lines(expr, room: float = WIDTH_EM - LHS_EM) -> str:
    r"""LaTeX of ``expr`` as the right-hand side of ``=``; a top-level sum wider than ``room`` em
    is continued on further rows, each starting with its sign (``_BREAK`` between them)."""
    tex = sp.latex(expr)
    if not isinstance(expr, sp.Add) or _em("= " + tex) <= room:
        return tex
    terms = expr.as_ordered_terms()
    pieces = [sp.latex(terms[0])] + [
        f"- {sp.latex(-t)}" if t.could_extract_minus_sign() else f"+ {sp.latex(t)}"
        for t in terms[1:]]
    lines = [pieces[0]]
    for piece in pieces[1:]:
        first = len(lines) == 1
        width = _em(("= " if first else r"\qquad {} ") + f"{lines[-1]} {piece}")
        if width <= room:
            lines[-1] += f" {piece}"
        else:
            lines.append(piece)
    return _BREAK.join(lines)


def _one_line(tex: str) -> str:
    return tex.replace(_BREAK, " ")


def _factor(e) -> str:
    """LaTeX of a factor after ⊙: in parentheses if it is a sum or has a leading minus."""
    tex = sp.latex(e)
    if isinstance(e, sp.Add) or (tex.startswith("-") and len(tex) > 1):
        return rf"\left({tex}\right)"
    return tex


def _formula_rows(lhs: str, rhs: str) -> list[tuple[str, str]]:
    """``lhs = rhs`` as rows of (left, right) cells, one per line of ``rhs``."""
    first, *more = rhs.split(_BREAK)
    return [(lhs, f"= {first}")] + [("", rf"\qquad {{}} {line}") for line in more]


@dataclass
class Proof:
    r"""A derivation for symbolic sizes and the verdict SymPy computed for it.

    ``claims`` are the formulas the node's backward implements, one (lhs, rhs) LaTeX pair per
    gradient, and ``claim`` the same on one line; ``steps`` the derivation (a
    :class:`~bpcore.symbolic.Derivation`); ``assumptions`` the facts it used, numbered (A1),
    (A2), ... in the notes of the steps that use them. ``proved`` is True only if every
    ``derived - claimed`` checked simplified to 0; otherwise ``reason`` says why. ``seconds``
    is the wall time (kept out of the reprs, so notebook outputs stay stable).

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
    n_checks: int = 0  # how many equalities derived == claimed were checked
    claims: list[tuple[str, str]] = field(default_factory=list)
    show: Callable = field(default=_flat_cases, repr=False, compare=False)

    # -- building --------------------------------------------------------------------------------
    def tex(self, rhs) -> str:
        """LaTeX of a right-hand side: a string as it is, an expression through ``show``."""
        return rhs if isinstance(rhs, str) else _lines(self.show(rhs))

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
        self.n_checks += 1
        if lhs is None:
            self.step(rf"\Bigl[{what}\Bigr]_{{\text{{claimed}}}}", claimed, claim_note)
        rest = _residue(derived, claimed)
        ok = _is_zero(rest)
        lhs = lhs or rf"\Bigl[{what}\Bigr]_{{\text{{derived}} - \text{{claimed}}}}"
        self.step(lhs, rest, "simplified" if ok else "NOT zero")
        if not ok:
            left = sp.sstr(rest)
            left = left if len(left) < 300 else left[:300] + " ..."
            self.fail(f"for {_plain(what)}, SymPy did not reduce derived - claimed to 0 (it "
                      f"left {left}): the formula is wrong, or SymPy missed an identity")
        return ok

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
        :data:`WIDTH_EM` wide: each gradient of the claim on a row of its own; each step
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
        body = " \\\\\n".join(f"{lhs} &{rhs}".lstrip() for lhs, rhs in self.rows())
        return "$$\\begin{aligned}\n" + body + "\n\\end{aligned}$$"

    def __repr__(self) -> str:
        lines = [f"Proof({self.node}): {self.verdict()}"]
        lines += [f"  claim: {lhs} = {_one_line(rhs)}" for lhs, rhs in self.claims]
        lines += [f"  (A{n}) {a}" for n, a in enumerate(self.assumptions, 1)]
        lines += [f"  {lhs} = {_one_line(rhs)}" + (f"    [{note}]" if note else "")
                  for lhs, rhs, note in self.steps.steps]
        return "\n".join(lines)


class _OutOfTime(BaseException):
    """The time limit's alarm. A BaseException, so that no ``except Exception`` inside SymPy
    (there are some) can swallow it and let a stopped proof carry on."""


@contextmanager
def _time_limit(seconds: float | None):
    """Raise :class:`_OutOfTime` after ``seconds`` (SIGALRM: Unix, main thread only).

    Elsewhere (Windows, a worker thread) there is no limit. A timer someone else had set
    (pytest-timeout, say) is restored with the time it has left.
    """
    usable = (seconds and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def on_alarm(signum, frame):
        raise _OutOfTime

    old_handler = signal.signal(signal.SIGALRM, on_alarm)
    old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    start = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if old_delay:
            left = max(old_delay - (time.monotonic() - start), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, left, old_interval)


def _run(node: str, claim: Callable[[], list], for_all: str, body: Callable[[Proof], None],
         time_limit: float | None, show: Callable = _flat_cases) -> Proof:
    """Run ``body`` (which adds steps and checks to the proof), timed and time-limited.

    ``claim()`` gives the claimed formula, one (lhs, rhs) pair per gradient (rhs LaTeX or a
    SymPy expression); it is built inside the try, so a planted formula that SymPy refuses to
    build is reported as the reason. The verdict is True only if at least one equality was
    checked, all were 0, and nothing went wrong. ``show`` is the proof's display rewriting.
    """
    proof = Proof(node=node, claim="", for_all=for_all, show=show,
                  steps=Derivation(title=f"{node}: backward for symbolic sizes {for_all}"))
    start = time.perf_counter()
    try:
        with _time_limit(time_limit):
            proof.claims = [(lhs, proof.tex(rhs)) for lhs, rhs in claim()]
            proof.claim = r",\ ".join(f"{lhs} = {_one_line(rhs)}" for lhs, rhs in proof.claims)
            body(proof)
    except _OutOfTime:
        proof.fail(f"SymPy did not finish within {time_limit:g} s (stopped after step "
                   f"{len(proof.steps.steps)})")
    except Exception as err:  # a SymPy failure or an ill-formed claim: reported, not hidden
        proof.fail(f"SymPy stopped with {type(err).__name__}: {err}")
    proof.seconds = time.perf_counter() - start
    if proof.n_checks == 0:
        proof.fail("no equality derived == claimed was checked")
    proof.proved = not proof.reason
    return proof


# -- SymPy helpers -------------------------------------------------------------------------------
def _sum_out(expr):
    """Evaluate the sums that hold a ``KroneckerDelta``, innermost first.

    ``doit`` on the whole expression can fail inside SymPy (for batch norm, ``gosper_sum`` on
    an ``Indexed`` summand raises TypeError in SymPy 1.14); summing the deltas out from the
    inside avoids that.
    """
    return expr.replace(lambda e: isinstance(e, sp.Sum) and e.has(sp.KroneckerDelta),
                        lambda e: _pinned_first(e).doit())


def _pinned_first(s: sp.Sum) -> sp.Sum:
    r"""The same sum with the indices a ``KroneckerDelta`` pins summed first (innermost).

    ``Sum(delta(i, v) g[u, v], (u, 1, n), (v, 1, m)).doit()`` stays unevaluated: SymPy starts
    with u, finds no delta in u, and stops. Sums with constant bounds commute, so summing v
    first is the same number, and then the delta collapses it.
    """
    indices = {idx for idx, _, _ in s.limits}
    if any((lo.free_symbols | hi.free_symbols) & indices for _, lo, hi in s.limits):
        return s  # a bound depends on another index: the order matters, keep it
    pinned = set().union(*(d.free_symbols for d in s.function.atoms(sp.KroneckerDelta)))
    return sp.Sum(s.function, *sorted(s.limits, key=lambda lim: lim[0] not in pinned))


def _in_range(expr, *facts: Relational):
    """Keep, in every ``Piecewise``, the branch that holds when the ``facts`` are true.

    ``facts`` are index ranges (``k <= K``: the entry differentiated by exists). Branches are
    taken in order; a condition that cannot be decided leaves the Piecewise as it is.
    """
    known = {f.canonical for f in facts}

    def decide(cond):
        return cond.replace(lambda r: isinstance(r, Relational) and r.canonical in known,
                            lambda r: sp.true)

    def pick(pw):
        for value, cond in pw.args:
            cond = decide(cond)
            if cond == sp.true:
                return value
            if cond != sp.false:
                return pw
        return pw

    return expr.replace(lambda e: isinstance(e, sp.Piecewise), pick)


def _depth(e) -> int:
    """How deeply sums are nested in ``e``."""
    return max((_depth(a) for a in e.args), default=0) + isinstance(e, sp.Sum)


def _linear(expr):
    r"""Sums written out by linearity: :math:`\sum (a + b) = \sum a + \sum b`,
    :math:`\sum c\,a = c \sum a` for c free of the index, :math:`\sum_{s=1}^{K} c = K c`.

    The index of a sum nested d deep is renamed :math:`s_d`, so one sum written with different
    letters (j in one formula, l in another) becomes one object; an inner index is never
    captured, since the outer sum's index is always deeper.
    """
    if not expr.args:
        return expr
    if not isinstance(expr, sp.Sum):
        return expr.func(*[_linear(a) for a in expr.args])
    f = _linear(expr.function)
    for idx, lo, hi in expr.limits:  # innermost first
        terms = []
        for term in sp.Add.make_args(sp.expand(f)):
            const, part = term.as_independent(idx, as_Add=False)
            if part == 1:
                terms.append(const * (hi - lo + 1))
                continue
            s = sp.Symbol(f"s_{_depth(part) + 1}", integer=True)
            terms.append(const * sp.Sum(part.xreplace({idx: s}), (s, lo, hi)))
        f = sp.Add(*terms)
    return f


def _substitute_sum(expr, term: Callable, upper, value):
    r"""Replace every :math:`\sum_{s=1}^{upper} term(s)` in ``expr``, whatever its index
    letter, by ``value`` (an assumption such as :math:`\sum_j t_j = 1`, applied visibly)."""
    def match(e) -> bool:
        if not isinstance(e, sp.Sum) or len(e.limits) != 1:
            return False
        s, lo, hi = e.limits[0]
        return lo == 1 and hi == upper and e.function == term(s)

    return expr.replace(match, lambda e: value)


def _residue(derived, claimed):
    """``derived - claimed``, simplified as far as SymPy goes (0 means proved equal).

    Matrices: ``simplify`` of the matrix expression. Scalars: sums written out by linearity
    (:func:`_linear`), each remaining sum replaced by an opaque symbol (equal sums become the
    same symbol; sound, since an identity in free symbols holds for any values of them), then
    ``simplify``, and again after rewriting hyperbolic functions as exponentials.
    """
    if isinstance(derived, sp.MatrixExpr) or isinstance(claimed, sp.MatrixExpr):
        return sp.simplify(_canonical_lambdas(derived) - _canonical_lambdas(claimed))
    d = _linear(sp.sympify(derived) - sp.sympify(claimed))
    sums = sorted(d.atoms(sp.Sum), key=sp.default_sort_key)
    opaque = {s: sp.Dummy(f"S{q}") for q, s in enumerate(sums)}
    rest = sp.simplify(d.xreplace(opaque))
    if rest != 0:
        again = sp.simplify(rest.rewrite(sp.exp))
        rest = again if again == 0 else rest
    return rest.xreplace({v: s for s, v in opaque.items()})


def _is_zero(e) -> bool:
    return e == 0 or bool(getattr(e, "is_ZeroMatrix", False))


_XI = sp.Symbol("xi", real=True)


def _canonical_lambdas(expr):
    """Rename the variable of every one-argument ``Lambda`` to ξ.

    SymPy compares ``Lambda(x, g(x))`` and ``Lambda(d, g(d))`` as different objects, and the
    elementwise functions inside matrix derivatives carry such lambdas.
    """
    return expr.replace(
        lambda e: isinstance(e, sp.Lambda) and len(e.variables) == 1,
        lambda e: sp.Lambda(_XI, e.expr.xreplace({e.variables[0]: _XI})))


def _hadamard(a, b):
    """Elementwise product for SymPy matrix expressions and numpy arrays alike."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.multiply(a, b)
    return sp.hadamard_product(a, b)


def _dL(wrt: str) -> str:
    return rf"\frac{{\partial L}}{{\partial {wrt}}}"


def _chain(up: str = "g", out: str = "y") -> str:
    """The chain-rule assumption every vector-Jacobian proof starts from."""
    return (rf"\text{{chain rule: with }} {up} = \partial L/\partial {out} \text{{ held fixed, }}"
            rf" \partial L/\partial\theta = \partial J/\partial\theta,\ "
            rf"J = \textstyle\sum {up} \odot {out}(\theta)")


def _exists(*entries: str) -> str:
    many = len(entries) > 1
    return (rf"\text{{the {'entries' if many else 'entry'} }} {', '.join(entries)} "
            rf"\text{{ {'exist' if many else 'exists'} (indices in range)}}")


# -- 1. softmax with loss ------------------------------------------------------------------------
def swl_backward(y, t, m):
    r"""What ``SoftmaxWithLoss.backward`` computes: :math:`\partial L/\partial z = (y - t)/m`."""
    return (y - t) / m


def _softmax_entry(q, col):
    """y_{q,col} = e^{z_{q,col}} / Σ_l e^{z_{l,col}}."""
    return sp.exp(Z[q, col]) / sp.Sum(sp.exp(Z[ell, col]), (ell, 1, K))


def softmax_with_loss_proof(claim: Callable = swl_backward, targets_sum_to_one: bool = True,
                            time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove :math:`\partial L/\partial z_{ki} = (y_{ki} - t_{ki})/m` for every K and m.

    :math:`L = -\frac1m \sum_{c=1}^{m}\sum_{j=1}^{K} t_{jc}
    \ln\frac{e^{z_{jc}}}{\sum_l e^{z_{lc}}}`. SymPy's derivative is
    :math:`-\frac1m\bigl(t_{ki} - y_{ki}\sum_j t_{ji}\bigr)`: it becomes :math:`(y - t)/m` only
    by the assumption :math:`\sum_j t_{ji} = 1` (one-hot or soft targets), substituted as a
    step of its own. ``targets_sum_to_one=False`` leaves it out (then ``y - t`` fails).
    ``claim(y, t, m)`` is the formula under test, for the entry (k, i).
    """
    return _run("SoftmaxWithLoss",
                lambda: [(_dL("z_{ki}"), claim(Y[k, i], T[k, i], m))], "K, m",
                lambda pr: _swl_steps(pr, claim, targets_sum_to_one), time_limit)


def _swl_steps(pr: Proof, claim, targets_sum_to_one: bool) -> None:
    loss = -sp.Sum(T[j, c] * sp.log(_softmax_entry(j, c)), (j, 1, K), (c, 1, m)) / m
    pr.step("L", loss, "mean over the m columns")
    d = _sum_out(sp.diff(loss, Z[k, i]))
    pr.step(_dL("z_{ki}"), d, "sympy.diff, KroneckerDelta summed out")
    a1 = pr.assume(_exists("z_{ki}"))
    d = _linear(_in_range(d, k <= K, i <= m))
    pr.step(_dL("z_{ki}"), d, f"branch for {a1}, constants out of the sums")
    if targets_sum_to_one:
        a2 = pr.assume(r"\textstyle\sum_{j=1}^{K} t_{ji} = 1 \ \text{(each target column is "
                       r"a distribution: one-hot or soft)}")
        used = _substitute_sum(d, lambda s: T[s, i], K, sp.S.One)
        if used == d:
            pr.fail(f"{a2} found no sum of targets to replace")
        d = used
        pr.step(_dL("z_{ki}"), d, f"by {a2}")
    pr.check(_dL("z_{ki}"), d, claim(_softmax_entry(k, i), T[k, i], m))


# -- 2. softmax ----------------------------------------------------------------------------------
def softmax_jacobian(y, q, r):
    r"""The Jacobian ``Softmax.backward`` relies on, within one column:
    :math:`\partial y_q/\partial z_r = y_q(\delta_{qr} - y_r)`."""
    return y(q) * (sp.KroneckerDelta(q, r) - y(r))


def softmax_backward(y, g, r, total):
    r"""What ``Softmax.backward`` computes for entry r of a column:
    :math:`y_r\,(g_r - \sum_j y_j g_j)`; ``total(f)`` is :math:`\sum_{j=1}^{K} f(j)`."""
    return y(r) * (g(r) - total(lambda q: y(q) * g(q)))


def _classes(f):
    return sp.Sum(f(j), (j, 1, K))


def softmax_proof(jacobian: Callable = softmax_jacobian, claim: Callable = softmax_backward,
                  time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove the softmax Jacobian and backward :math:`dz = y \odot (g - \sum_j y_j g_j)` for
    every K and m (g is :math:`\partial L/\partial y`, y is softmax down each column)."""
    def claimed() -> list:
        return [(_dL("z_{ki}"), claim(lambda q: Y[q, i], lambda q: G[q, i], k, _classes))]

    return _run("Softmax", claimed, "K, m", lambda pr: _softmax_steps(pr, jacobian, claim),
                time_limit)


def _softmax_steps(pr: Proof, jacobian, claim) -> None:
    q = sp.Symbol("q", **_SIZE)
    a1 = pr.assume(_exists("y_{ji}", "z_{kq}"))
    jac = _in_range(_sum_out(sp.diff(_softmax_entry(j, i), Z[k, q])), k <= K)
    pr.step(r"\frac{\partial y_{ji}}{\partial z_{kq}}", jac,
            f"sympy.diff, branch for {a1}")

    def col(r):  # column i of y, entry r
        return _softmax_entry(r, i)

    pr.check(r"\partial y_{ji}/\partial z_{kq}", jac,
             jacobian(col, j, k) * sp.KroneckerDelta(i, q))
    pr.step(r"\frac{\partial y_{ji}}{\partial z_{kq}}", r"0 \ \text{for } q \ne i",
            "the factor δ(i, q): columns do not mix")
    a2 = pr.assume(_chain())
    J = sp.Sum(G[j, c] * _softmax_entry(j, c), (j, 1, K), (c, 1, m))
    pr.step("J", J, a2)
    d = _linear(_in_range(_sum_out(sp.diff(J, Z[k, i])), k <= K, i <= m))
    pr.step(_dL("z_{ki}"), d, f"sympy.diff, branch for {a1}")
    pr.check(_dL("z_{ki}"), d, claim(col, lambda r: G[r, i], k, _classes))


# -- 3. cross-entropy and 4. MSE -----------------------------------------------------------------
def ce_backward(y, t, m):
    r"""What ``CrossEntropy.backward`` computes: :math:`\partial L/\partial y = -t/(m\,y)`."""
    return -t / (m * y)


def mse_backward(a, t, m):
    r"""What ``MSE.backward`` computes: :math:`\partial L/\partial a = (a - t)/m`."""
    return (a - t) / m


def cross_entropy_proof(claim: Callable = ce_backward,
                        time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove :math:`\partial L/\partial y_{ki} = -t_{ki}/(m\,y_{ki})` for
    :math:`L = -\frac1m\sum_{c=1}^m\sum_{j=1}^K t_{jc}\ln y_{jc}`, every K and m."""
    loss = -sp.Sum(T[j, c] * sp.log(Y[j, c]), (j, 1, K), (c, 1, m)) / m
    return _loss_proof("CrossEntropy", loss, Y, claim, time_limit)


def mse_proof(claim: Callable = mse_backward, time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove :math:`\partial L/\partial a_{ki} = (a_{ki} - t_{ki})/m` for
    :math:`L = \frac{1}{2m}\sum_{c=1}^m\sum_{j=1}^K (a_{jc} - t_{jc})^2`, every K and m."""
    A = sp.IndexedBase("a")
    loss = sp.Sum((A[j, c] - T[j, c]) ** 2, (j, 1, K), (c, 1, m)) / (2 * m)
    return _loss_proof("MSE", loss, A, claim, time_limit)


def _loss_proof(node: str, loss, X, claim, time_limit) -> Proof:
    """A mean loss over (K, m) entries, differentiated by entry (k, i) and compared."""
    wrt = sp.latex(X[k, i])

    def body(pr: Proof) -> None:
        pr.step("L", loss, "mean over the m columns")
        d = _sum_out(sp.diff(loss, X[k, i]))
        pr.step(_dL(wrt), d, "sympy.diff, KroneckerDelta summed out")
        a1 = pr.assume(_exists(wrt))
        d = _in_range(d, k <= K, i <= m)
        pr.step(_dL(wrt), d, f"branch for {a1}")
        pr.check(_dL(wrt), d, claim(X[k, i], T[k, i], m))

    return _run(node, lambda: [(_dL(wrt), claim(X[k, i], T[k, i], m))],
                "K, m", body, time_limit)


# -- 5. affine and matmul: traces of matrix products ---------------------------------------------
def _matrices():
    """W (n, p), A (p, m), b (n, 1), the upstream D (n, m), the ones column 1 (m, 1)."""
    return (sp.MatrixSymbol("W", n, p), sp.MatrixSymbol("A", p, m), sp.MatrixSymbol("b", n, 1),
            sp.MatrixSymbol("D", n, m), sp.MatrixSymbol(r"\mathbf{1}", m, 1))


def affine_backward(W, A, D, one):
    r"""What ``Affine.backward(D)`` returns: :math:`(W^\top D,\ D A^\top,\ D\mathbf 1)`.

    Written with ``@`` and ``.T``, so it runs on SymPy matrices and numpy arrays alike."""
    return W.T @ D, D @ A.T, D @ one


def matmul_backward(W, A, D):
    r"""What ``MatMulNode.backward(D)`` returns: :math:`(D A^\top,\ W^\top D)`."""
    return D @ A.T, W.T @ D


def _gradients(names, values) -> list:
    return [(_dL(nm), v) for nm, v in zip(names, values)]


def _check_matrices(pr: Proof, J, inputs, claimed) -> None:
    """For each input X: derive ∂J/∂X, check the claimed shape, then the claimed formula."""
    for X, want in zip(inputs, claimed):
        got = sp.diff(J, X)
        name = sp.latex(X)
        pr.step(_dL(name), got, "sympy.diff of the trace")
        if want.shape != X.shape:
            pr.fail(f"the claimed dL/d{X} has shape {want.shape}, but {X} has shape "
                    f"{X.shape} (a transpose missing or misplaced?)")
            pr.step(_dL(name), want, f"claimed: wrong shape {want.shape}")
            continue
        pr.check(_dL(name), got, want)


def affine_proof(claim: Callable = affine_backward,
                 time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove ``Affine.backward``: for :math:`Z = W A + b\mathbf 1^\top` and
    :math:`D = \partial L/\partial Z`, :math:`\partial L/\partial A = W^\top D`,
    :math:`\partial L/\partial W = D A^\top`, :math:`\partial L/\partial b = D\mathbf 1`
    (the row sums of D), for all n, p, m. ``claim(W, A, D, one)`` returns the three."""
    W, A, b, D, one = _matrices()

    def body(pr: Proof) -> None:
        a1 = pr.assume(_chain("D", "Z"))
        a2 = pr.assume(r"\mathbf{1} \text{ is the all-ones column: } b\mathbf 1^\top "
                       r"\text{ adds b to every column}")
        J = sp.Trace(D.T @ (W @ A + b @ one.T))
        pr.step("J", J, f"{a1}, {a2}; Σ D ⊙ Z = tr(Dᵀ Z)")
        _check_matrices(pr, J, (A, W, b), tuple(claim(W, A, D, one)))

    return _run("Affine", lambda: _gradients("AWb", claim(W, A, D, one)), "n, p, m",
                body, time_limit)


def matmul_proof(claim: Callable = matmul_backward,
                 time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove ``MatMulNode.backward``: for :math:`Z = W A`, :math:`\partial L/\partial W =
    D A^\top` and :math:`\partial L/\partial A = W^\top D`, all n, p, m."""
    W, A, _, D, _ = _matrices()

    def body(pr: Proof) -> None:
        a1 = pr.assume(_chain("D", "Z"))
        J = sp.Trace(D.T @ (W @ A))
        pr.step("J", J, f"{a1}; Σ D ⊙ Z = tr(Dᵀ Z)")
        _check_matrices(pr, J, (W, A), tuple(claim(W, A, D)))

    return _run("MatMulNode", lambda: _gradients("WA", claim(W, A, D)), "n, p, m", body,
                time_limit)


# -- 6. the layer block --------------------------------------------------------------------------
def layer_block_backward(W, A, G, dg, one):
    r"""What ``LayerBlock.backward(G)`` returns (true gradients, no 1/m):
    :math:`dz = G \odot g'(Z)`, then :math:`(W^\top dz,\ dz\,A^\top,\ dz\,\mathbf 1)`."""
    dz = _hadamard(G, dg)
    return W.T @ dz, dz @ A.T, dz @ one


def layer_block_proof(claim: Callable = layer_block_backward,
                      time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove ``LayerBlock.backward`` for :math:`a = g(W A + b\mathbf 1^\top)` with any
    differentiable elementwise g and all n, p, m, and show that the per-example notation
    (:math:`\delta = m\,dz`, :math:`dW = \frac1m \delta A^\top`) gives the same numbers.

    ``claim(W, A, G, dg, one)`` returns (dA, dW, db); G is :math:`\partial L/\partial a`,
    dg the matrix :math:`g'(Z)`. The g' of each activation is proved in its own proof.
    """
    W, A, b, _, one = _matrices()
    G = sp.MatrixSymbol("G", n, m)
    g = sp.Function("g")
    Zm = W @ A + b @ one.T
    gZ = Zm.applyfunc(sp.Lambda(_XI, g(_XI)))
    dgZ = Zm.applyfunc(sp.Lambda(_XI, sp.diff(g(_XI), _XI)))
    names = {_canonical_lambdas(gZ): sp.MatrixSymbol("g(Z)", n, m),
             _canonical_lambdas(dgZ): sp.MatrixSymbol("g'(Z)", n, m)}

    def show(e):  # print g(Z), g'(Z) by name rather than in SymPy's mapping notation
        return _canonical_lambdas(e).xreplace(names)

    def body(pr: Proof) -> None:
        a1 = pr.assume(_chain("G", "a"))
        a2 = pr.assume(r"g \text{ differentiable, applied entry by entry: } "
                       r"a = g(Z),\ Z = W A + b\mathbf 1^\top")
        J = sp.Trace(G.T @ gZ)
        pr.step("J", J, f"{a1}, {a2}")
        _check_matrices(pr, J, (A, W, b), tuple(claim(W, A, G, dgZ, one)))
        _per_example_steps(pr, A, _hadamard(G, dgZ), one)

    return _run("LayerBlock", lambda: _gradients("AWb", claim(W, A, G, dgZ, one)),
                "n, p, m", body, time_limit, show=show)


def _per_example_steps(pr: Proof, A, dz, one) -> None:
    r"""The chapter's notation :math:`\delta = m\,dz` (per-example deltas) gives the same
    :math:`dW = \frac1m \delta A^\top` and :math:`db = \frac1m \delta\mathbf 1`."""
    delta = m * dz
    pr.step(r"\delta", delta, "per-example deltas: column i is ∂ℓᵢ/∂zᵢ = m dzᵢ")
    pr.check("dW", delta @ A.T / m, dz @ A.T, lhs=r"\tfrac1m\,\delta A^\top - dz\,A^\top")
    pr.check("db", delta @ one / m, dz @ one, lhs=r"\tfrac1m\,\delta\mathbf 1 - dz\,\mathbf 1")


# -- 7./8. elementwise nodes ---------------------------------------------------------------------
def _elementwise_jacobian(pr: Proof, const: sp.IndexedBase | None = None) -> None:
    r"""For any f applied entry by entry, :math:`\partial/\partial x_k \sum_s G_s f(x_s) =
    G_k f'(x_k)`: the Jacobian is diagonal, so dx = dout ⊙ f'(x) for every shape.

    With ``const`` (dropout's mask M), entry s is :math:`f(x_s; M_s)`, with a constant of its
    own: still a diagonal Jacobian."""
    f = sp.Function("f")
    X = sp.IndexedBase("x", real=True)
    a1 = pr.assume(_chain())
    if const is None:
        a2 = pr.assume(r"y_s = f(x_s) \text{ for each of the N entries (any shape, numbered } "
                       r"s = 1..N\text{): entry s of y depends on entry s of x alone}")
    else:
        a2 = pr.assume(rf"y_s = f(x_s; {const}_s) \text{{ for each of the N entries (any "
                       rf"shape, numbered }} s = 1..N\text{{): entry s of y depends on entry s "
                       rf"of x alone, and on a constant }} {const}_s \text{{ of its own}}")

    def entry(q):
        return f(X[q]) if const is None else f(X[q], const[q])

    J = sp.Sum(G[ell] * entry(ell), (ell, 1, N))
    pr.step("J", J, f"{a1}, {a2}")
    d = _in_range(_sum_out(sp.diff(J, X[k])), k <= N)
    pr.step(_dL("x_k"), d, "sympy.diff, KroneckerDelta summed out (1 ≤ k ≤ N)")
    pr.check(_dL("x_k"), d, G[k] * sp.diff(entry(k), X[k]), claim_note="a diagonal Jacobian")
    pr.step(_dL("x"), r"d_{out} \odot f'(x)",
            "the Jacobian is diagonal: the scalar derivative below proves every shape")


def _elementwise_proof(node: str, forward: Callable, claim: Callable, time_limit,
                       x=x_, domain: str | None = None) -> Proof:
    """Diagonal Jacobian (any shape), then f'(x) of ``forward`` == ``claim(x, y)``."""
    def body(pr: Proof) -> None:
        _elementwise_jacobian(pr)
        fx = forward(x)
        note = "the forward" + (f", {pr.assume(domain)}" if domain else "")
        pr.step("y", fx, note)
        d = sp.diff(fx, x)
        pr.step(r"\frac{dy}{dx}", d, "sympy.diff")
        pr.check("f'(x)", d, claim(x, fx))

    return _run(node, lambda: [(_dL("x"), rf"d_{{out}} \odot {_factor(claim(x, y_))}")],
                "N (any shape)", body, time_limit)


def _node_class(name: str) -> type:
    from . import activations, arith, layers

    for module in (activations, arith, layers):
        if hasattr(module, name):
            return getattr(module, name)
    raise KeyError(name)


def _node_forward(name: str) -> Callable:
    """The node's own ``symbolic`` form: the proof differentiates what the code defines."""
    return _node_class(name)().symbolic


#: Elementwise node -> its backward's local derivative, through the input x or cached output y.
ELEMENTWISE_BACKWARD: dict[str, Callable] = {
    "Sigmoid": lambda x, y: y * (1 - y),
    "Tanh": lambda x, y: 1 - y**2,
    "Identity": lambda x, y: sp.S.One,
    "NegNode": lambda x, y: -sp.S.One,
    "ReciprocalNode": lambda x, y: -(y**2),
    "ExpNode": lambda x, y: y,
    "LogNode": lambda x, y: 1 / x,
}


def elementwise_proof(node: str, claim: Callable | None = None,
                      time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove an elementwise node's backward :math:`dx = d_{out} \odot f'(x)` for every shape.

    ``claim(x, y)`` is the local derivative the backward uses, written through the input x
    and/or the cached output y (σ: y(1−y), tanh: 1−y², exp: y, 1/x: −y², ln: 1/x).
    """
    claim = claim or ELEMENTWISE_BACKWARD[node]
    if node == "LogNode":
        return _elementwise_proof(node, _node_forward(node), claim, time_limit,
                                  x=sp.Symbol("x", positive=True),
                                  domain=r"x > 0 \ \text{(the domain of ln)}")
    return _elementwise_proof(node, _node_forward(node), claim, time_limit)


def pow_backward(x, y, c):
    r"""What ``PowNode.backward`` computes: :math:`c\,x^{c-1}`."""
    return c * x ** (c - 1)


def pow_proof(claim: Callable = pow_backward, time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove ``PowNode``'s :math:`dx = d_{out} \odot c\,x^{c-1}` for a symbolic constant c.

    The node's own symbolic form needs a number for c, so the forward here is :math:`x^c`
    written directly, for every real c at once."""
    c = sp.Symbol("c", real=True)
    return _elementwise_proof("PowNode", lambda x: x**c, lambda x, y: claim(x, y, c),
                              time_limit, domain=r"c \text{ a constant (not differentiated)}")


def relu_backward(x, y):
    r"""What ``ReLU.backward`` uses: the mask :math:`[x > 0]` (so g'(0) = 0)."""
    return sp.Piecewise((1, x > 0), (0, True))


def relu_proof(claim: Callable = relu_backward, time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove ReLU's mask for x > 0 and for x < 0; at x = 0, where max(0, x) has no
    derivative, compute the one-sided slopes and record the mask's value there as a convention.

    Proved: :math:`g'(x) = [x > 0]` for every :math:`x \ne 0`. Convention: the value at 0
    (bpcore uses 0; that it lies between the one-sided slopes, a subgradient, is checked)."""
    forward = _node_forward("ReLU")

    def body(pr: Proof) -> None:
        _elementwise_jacobian(pr)
        pr.step("y", forward(x_), "the forward (bpcore's symbolic form)")
        a3 = pr.assume(r"x \ne 0 \text{ for the derivative } (x = 0 \text{ is a convention})")
        for sign, x in (("x > 0", sp.Symbol("x", positive=True)),
                        ("x < 0", sp.Symbol("x", negative=True))):
            d = sp.diff(forward(x), x)
            pr.step(rf"\frac{{dy}}{{dx}}\Big|_{{{sign}}}", d, f"sympy.diff, {a3}")
            pr.check(rf"f'(x),\ {sign}", d, claim(x, forward(x)))
        _relu_kink(pr, forward, claim)

    return _run("ReLU", lambda: [(_dL("x"), rf"d_{{out}} \odot {_factor(claim(x_, y_))}")],
                "N (any shape), x != 0", body, time_limit)


def _relu_kink(pr: Proof, forward, claim) -> None:
    """At 0: one-sided difference quotients, and the claimed value as a convention."""
    h = sp.Symbol("h", positive=True)
    right = sp.limit((forward(h) - forward(0)) / h, h, 0)
    left = sp.limit((forward(-h) - forward(0)) / (-h), h, 0)
    pr.step(r"\lim_{h \to 0^{+}} \frac{y(h) - y(0)}{h}", right, "slope from the right")
    pr.step(r"\lim_{h \to 0^{+}} \frac{y(-h) - y(0)}{-h}", left,
            "slope from the left: " + ("they differ, no derivative at 0" if right != left
                                       else "they agree"))
    at0 = sp.sympify(claim(sp.S.Zero, sp.S.Zero))
    a4 = pr.assume(rf"g'(0) := {sp.latex(at0)} \text{{ (a convention; any value in }} "
                   rf"[{sp.latex(left)}, {sp.latex(right)}] \text{{ is a subgradient)}}")
    inside = bool(sp.Min(left, right) <= at0) and bool(at0 <= sp.Max(left, right))
    pr.step("g'(0)", at0, f"{a4}, " + ("a subgradient" if inside
                                                 else "NOT a subgradient"))
    if not inside:
        pr.fail(f"the claimed g'(0) = {at0} is not between the one-sided slopes {left}, {right}")


# -- 8. add, mul with broadcasting; sum -----------------------------------------------------------
#: x_2 of each shape that broadcasts to (n, m): its entry at (row r, column q), and the axes
#: it is copied along. (m,) is (1, m): numpy puts missing axes in front, with size 1.
_BROADCASTS = {
    "(n, m)": (lambda r, q: X2[r, q], ()),
    "(n, 1)": (lambda r, q: X2[r], ("columns",)),
    "(1, m) or (m,)": (lambda r, q: X2[q], ("rows",)),
    "()": (lambda r, q: sp.Symbol("x_2", real=True), ("rows", "columns")),
}


def _unbroadcast(term: Callable, axes, fan_out: bool):
    r"""The claimed gradient of an input copied along ``axes``: ``term(r, q)`` summed over the
    copies (the fan-out rule; ``unbroadcast`` in the code) -- or, with ``fan_out=False`` (a
    planted bug), taken from the first copy only."""
    r = k if "rows" not in axes else (u if fan_out else 1)
    q = i if "columns" not in axes else (v if fan_out else 1)
    limits = [(u, 1, n)] * ("rows" in axes) + [(v, 1, m)] * ("columns" in axes)
    return sp.Sum(term(r, q), *limits) if (fan_out and limits) else term(r, q)


def _binary_proof(node: str, f: Callable, local: tuple[Callable, Callable], fan_out: bool,
                  time_limit) -> Proof:
    """y = f(x_1, x_2), x_1 of shape (n, m), x_2 of each shape that broadcasts to it."""
    def claimed() -> list:
        how = r"\operatorname{unbroadcast}" if fan_out else r"\operatorname{first\ copy}"
        x1, x2 = sp.symbols("x_1 x_2")
        return [(_dL(nm), rf"{how}(d_{{out}} \odot {_factor(g(x1, x2))})")
                for nm, g in zip(("x_1", "x_2"), local)]

    def body(pr: Proof) -> None:
        a1 = pr.assume(_chain())
        a2 = pr.assume(r"\text{broadcasting copies } x_2 \text{ along its size-1 axes; "
                       r"a missing leading axis counts as size 1}")
        a, b = sp.symbols("a b")
        symmetric = sp.simplify(f(a, b) - f(b, a)) == 0
        a3 = pr.assume(rf"f(x_1, x_2) = f(x_2, x_1) \text{{ (checked: {symmetric}), so a "
                       r"broadcast } x_1 \text{ is the same case with the names swapped}")
        if not symmetric:
            pr.fail(f"{node}: f is not symmetric, so the x_1-broadcast cases are not covered")
        for shape, (entry, axes) in _BROADCASTS.items():
            J = sp.Sum(G[u, v] * f(X1[u, v], entry(u, v)), (u, 1, n), (v, 1, m))
            pr.step("J", J, f"x2 of shape {shape}: {a1}, {a2}, {a3}")
            for wrt, dloc, copied in ((X1[k, i], local[0], ()), (entry(k, i), local[1], axes)):
                got = _in_range(_sum_out(sp.diff(J, wrt)), k <= n, i <= m)
                pr.step(_dL(sp.latex(wrt)), got, "sympy.diff, deltas summed out")

                def term(r, q, dloc=dloc, entry=entry):
                    return G[r, q] * dloc(X1[r, q], entry(r, q))

                pr.check(_dL(sp.latex(wrt)), got, _unbroadcast(term, copied, fan_out))

    return _run(node, claimed, "n, m", body, time_limit)


def add_proof(local=(lambda x1, x2: 1, lambda x1, x2: 1), fan_out: bool = True,
              time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove ``AddNode.backward``: :math:`dx_j = \operatorname{unbroadcast}(d_{out})` for
    every broadcast to an (n, m) result (x_2 of shape (n, m), (n, 1), (1, m), (m,) or ())."""
    return _binary_proof("AddNode", lambda a, b: a + b, local, fan_out, time_limit)


def mul_proof(local=(lambda x1, x2: x2, lambda x1, x2: x1), fan_out: bool = True,
              time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove ``MulNode.backward``: :math:`dx_1 = \operatorname{unbroadcast}(d_{out} \odot x_2)`,
    :math:`dx_2 = \operatorname{unbroadcast}(d_{out} \odot x_1)`, every broadcast shape."""
    return _binary_proof("MulNode", lambda a, b: a * b, local, fan_out, time_limit)


def sum_proof(claim: Callable = lambda g: g, time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove ``SumNode.backward``: :math:`y = \sum_s x_s` gives :math:`\partial L/\partial x_k
    = d_{out}` for every entry k, any shape (N entries)."""
    g = sp.Symbol("d_{out}")
    X = sp.IndexedBase("x", real=True)

    def body(pr: Proof) -> None:
        a1 = pr.assume(r"\text{chain rule: } J = d_{out}\, y \text{ with the scalar } "
                       r"d_{out} = \partial L/\partial y \text{ held fixed}")
        J = g * sp.Sum(X[ell], (ell, 1, N))
        pr.step("J", J, a1)
        d = _in_range(_sum_out(sp.diff(J, X[k])), k <= N)
        pr.step(_dL("x_k"), d, "sympy.diff, 1 ≤ k ≤ N")
        pr.check(_dL("x_k"), d, claim(g))

    return _run("SumNode", lambda: [(_dL("x_k"), claim(g))], "N (any shape)",
                body, time_limit)


# -- 9. batch normalisation ------------------------------------------------------------------------
def batch_norm_backward(xhat, g, q, m, gamma, std, total):
    r"""The closed form a BatchNorm backward implements, for one feature over m examples:

    .. math:: dx_q = \frac{\gamma}{m\sqrt{\sigma^2+\epsilon}}\Bigl(m\,g_q - \sum_s g_s
              - \hat x_q \sum_s g_s \hat x_s\Bigr),\quad d\gamma = \sum_s g_s \hat x_s,
              \quad d\beta = \sum_s g_s.

    ``xhat(s)``, ``g(s)`` give entries, ``std`` is √(σ²+ε), ``total(f)`` is Σ_{s=1}^m f(s).
    """
    dx = gamma / (m * std) * (m * g(q) - total(g) - xhat(q) * total(lambda s: g(s) * xhat(s)))
    return dx, total(lambda s: g(s) * xhat(s)), total(g)


_BN_X, _BN_G = sp.IndexedBase("x", real=True), sp.IndexedBase("g", real=True)
_EPS = sp.Symbol("epsilon", positive=True)
#: Names batch norm's display gives to parts of the forward. SymPy never sees them: the proof
#: differentiates and checks the expressions written out, and only what is shown uses them.
_MU, _VAR = sp.Symbol(r"\mu", real=True), sp.Symbol(r"\sigma^{2}", nonnegative=True)
_STD = sp.Symbol("s", positive=True)
_XHAT = sp.IndexedBase(r"\hat{x}", real=True)


def _bn_forward():
    """μ, s = √(σ² + ε) and x̂ as functions of the entries x_1..x_m, written out."""
    mu = sp.Sum(_BN_X[j], (j, 1, m)) / m
    std = sp.sqrt(sp.Sum((_BN_X[ell] - mu) ** 2, (ell, 1, m)) / m + _EPS)
    return mu, std, lambda s: (_BN_X[s] - mu) / std


def _constants_out(e):
    r"""Every one-index sum with the factors free of its index taken out:
    :math:`\sum_l m^2 (x_l - \mu)^2 = m^2 \sum_l (x_l - \mu)^2`."""
    def out(s):
        t, f = s.limits[0][0], s.function
        const, rest = (f if f.has(sp.Sum) else sp.factor_terms(f)).as_independent(
            t, as_Add=False)
        return const * sp.Sum(rest, s.limits)

    return e.replace(lambda s: isinstance(s, sp.Sum) and len(s.limits) == 1, out)


def _deviation_to_xhat(a):
    """In a sum, c x_t - c μ (t any index) becomes c s x̂_t."""
    for term in a.args:
        c, rest = term.as_coeff_Mul()
        if isinstance(rest, sp.Indexed) and rest.base == _BN_X and -c * _MU in a.args:
            return a - c * rest + c * _MU + c * _STD * _XHAT[rest.indices[0]]
    return a


def _bn_abbreviate(e):
    r"""A batch-norm expression written with :math:`\mu`, :math:`\sigma^2`,
    :math:`s = \sqrt{\sigma^2 + \epsilon}` and :math:`\hat x_t = (x_t - \mu)/s`, for
    display. Every rewrite keeps the value: a sum replaced by its name (:math:`\sum_j x_j =
    m\mu`, :math:`\sum_l (x_l - \mu)^2 = m\sigma^2`, :math:`\epsilon + \sigma^2 = s^2`,
    :math:`c x_t - c\mu = c s \hat x_t`) or constant factors taken out of sums and terms;
    :func:`_bn_expand` undoes it (the tests check that it gives the same expression back)."""
    e = _substitute_sum(e, lambda t: _BN_X[t], m, m * _MU)
    e = _constants_out(e)
    e = _substitute_sum(e, lambda t: (_BN_X[t] - _MU) ** 2, m, m * _VAR)
    e = e.xreplace({_EPS + _VAR: _STD**2})
    e = e.replace(lambda a: isinstance(a, sp.Add), _deviation_to_xhat)
    e = _constants_out(e)
    return sp.Add(*[sp.factor_terms(t) for t in sp.Add.make_args(e)])


def _bn_expand(e):
    """The names of :func:`_bn_abbreviate` replaced by what they stand for."""
    mu, std, xhat = _bn_forward()
    e = e.replace(lambda a: isinstance(a, sp.Indexed) and a.base == _XHAT,
                  lambda a: xhat(a.indices[0]))
    return e.xreplace({_STD: std}).xreplace({_VAR: (std**2 - _EPS)}).xreplace({_MU: mu})


def _bn_show(e):
    return _flat_cases(_bn_abbreviate(e))


def batch_norm_proof(claim: Callable = batch_norm_backward,
                     time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove the batch-norm backward for every batch size m (one feature; features are
    independent): :math:`\mu = \frac1m\sum x_s`, :math:`\sigma^2 = \frac1m\sum (x_s-\mu)^2`,
    :math:`\hat x = (x-\mu)/\sqrt{\sigma^2+\epsilon}`, :math:`y = \gamma\hat x + \beta`.

    The display names μ, σ², s = √(σ² + ε) and x̂ in steps of their own and writes the
    derivation with them; the checks use the expressions written out in the entries x_j."""
    Xb, Gb, eps = _BN_X, _BN_G, _EPS
    gamma, beta = sp.symbols("gamma beta", real=True)
    mu, std, xhat = _bn_forward()

    def batch(f):
        return sp.Sum(f(j), (j, 1, m))

    def claimed() -> list:
        shown = claim(lambda s: sp.IndexedBase(r"\hat{x}")[s], lambda s: Gb[s], k, m, gamma,
                      sp.sqrt(sp.Symbol(r"\sigma^{2}") + eps), batch)
        return _gradients(("x_k", r"\gamma", r"\beta"), shown)

    def body(pr: Proof) -> None:
        a1 = pr.assume(_chain())
        a2 = pr.assume(r"\text{each feature (row) is normalised over the batch on its own, so "
                       r"one row } x_1..x_m \text{ is the general case}")
        a3 = pr.assume(r"\epsilon > 0 \ \text{(the square root is real and non-zero)}")
        pr.step(r"\mu", r"\frac{1}{m} \sum_{j=1}^{m} x_j",
                "the batch mean; this name and the next three only shorten the display: "
                "SymPy works with the expressions written out in x1..xm")
        pr.step(r"\sigma^{2}", r"\frac{1}{m} \sum_{l=1}^{m} \left(x_l - \mu\right)^{2}",
                "the batch variance")
        pr.step("s", r"\sqrt{\sigma^{2} + \epsilon}", f"{a3}")
        pr.step(r"\hat{x}_i", r"\frac{x_i - \mu}{s}", "x normalised")
        pr.step("y_i", r"\gamma \hat{x}_i + \beta", f"the forward, {a2}")
        J = sp.Sum(Gb[i] * (gamma * xhat(i) + beta), (i, 1, m))
        pr.step("J", J, f"{a1}")
        dx, dgamma, dbeta = claim(xhat, lambda s: Gb[s], k, m, gamma, std, batch)
        d = _in_range(_sum_out(sp.diff(J, Xb[k])), k <= m)
        pr.step(_dL("x_k"), d, "sympy.diff, deltas summed out innermost first, "
                "1 ≤ k ≤ m")
        pr.check(_dL("x_k"), d, dx)
        pr.check(_dL(r"\gamma"), sp.diff(J, gamma), dgamma)
        pr.check(_dL(r"\beta"), sp.diff(J, beta), dbeta)

    return _run("BatchNorm", claimed, "m", body, time_limit, show=_bn_show)


# -- 10. dropout ---------------------------------------------------------------------------------
def dropout_backward(x, y, r, p):
    r"""What ``Dropout.backward`` uses in train mode: the cached mask :math:`M = r/p`."""
    return r / p


def dropout_proof(claim: Callable = dropout_backward,
                  time_limit: float | None = TIME_LIMIT) -> Proof:
    r"""Prove ``Dropout.backward`` in train mode, :math:`dx = d_{out} \odot M` with the mask
    :math:`M = r/p` (:math:`r_s \in \{0, 1\}`, keep probability p) drawn in forward, for
    every shape.

    For a fixed mask, dropout multiplies each entry by a constant of its own, y_s = M_s x_s:
    the Jacobian is diagonal, so the scalar derivative d(M x)/dx = M is the proof for every
    shape. Eval mode is the identity (no mask), which the Identity proof covers.
    ``claim(x, y, r, p)`` is the local derivative the backward uses."""
    r = sp.Symbol("r", real=True)
    keep = sp.Symbol("p", positive=True)

    def body(pr: Proof) -> None:
        _elementwise_jacobian(pr, const=sp.IndexedBase("M"))
        a3 = pr.assume(r"M = r/p \text{ is drawn once in forward (} r_s \in \{0, 1\} \text{, "
                       r"kept with probability } 0 < p \le 1\text{), cached and reused by "
                       r"backward: a constant, not a function of } x")
        y = x_ * r / keep
        pr.step("y", y, f"the forward for one entry, {a3}")
        d = sp.diff(y, x_)
        pr.step(r"\frac{dy}{dx}", d, "sympy.diff: elementwise with a constant mask, so this "
                "scalar derivative is the proof")
        pr.check("f'(x)", d, claim(x_, y, r, keep))

    return _run("Dropout", lambda: [(_dL("x"), rf"d_{{out}} \odot "
                                     rf"{_factor(claim(x_, y_, r, keep))}")],
                "N (any shape), train mode", body, time_limit)


# -- the registry ----------------------------------------------------------------------------------
def _elementwise(name: str) -> Callable[[], Proof]:
    return lambda: elementwise_proof(name)


#: Node class name -> a function building its proof with the formula the backward implements.
PROOFS: dict[str, Callable[[], Proof]] = {
    "SoftmaxWithLoss": softmax_with_loss_proof,
    "Softmax": softmax_proof,
    "CrossEntropy": cross_entropy_proof,
    "MSE": mse_proof,
    "Affine": affine_proof,
    "LayerBlock": layer_block_proof,
    "Sigmoid": _elementwise("Sigmoid"),
    "Tanh": _elementwise("Tanh"),
    "ReLU": relu_proof,
    "Identity": _elementwise("Identity"),
    "AddNode": add_proof,
    "MulNode": mul_proof,
    "NegNode": _elementwise("NegNode"),
    "PowNode": pow_proof,
    "ReciprocalNode": _elementwise("ReciprocalNode"),
    "ExpNode": _elementwise("ExpNode"),
    "LogNode": _elementwise("LogNode"),
    "MatMulNode": matmul_proof,
    "SumNode": sum_proof,
    "BatchNorm": batch_norm_proof,
    "Dropout": dropout_proof,
}


def prove(node: str | type | object) -> Proof | None:
    """The proof for a node class (or its name, or an instance); None if there is none."""
    if not isinstance(node, str):
        node = (node if isinstance(node, type) else type(node)).__name__
    build = PROOFS.get(node)
    return build() if build is not None else None


def prove_all() -> list[Proof]:
    """Every registered proof, in registry order (each timed in ``Proof.seconds``)."""
    return [build() for build in PROOFS.values()]
