r"""How wide a proof renders in MathJax, and where to break it: a small typesetter.

A proof is shown in the book's column (about 676 px at a 1280 px window). The estimator here
adds up the glyph widths of TeX's fonts (which MathJax uses) under TeX's rules for fractions,
scripts, big operators and spacing, erring wide, so that a proof can break its rows before they
run out of the column, and a test can bound them without a browser (tests/test_proofs.py
calibrates it against widths measured in Chromium).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import sympy as sp


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
