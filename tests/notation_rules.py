"""The book's notation as rules a test can apply to any LaTeX: the proofs' and the pages'.

One meaning per symbol (the notation page): d is upright, as in dz = dL/dz; the transpose
is \\top and the entrywise product \\odot; delta is only the error term, so a Kronecker delta
is written [j = k]. ``violations`` returns what breaks a rule, so a test can show it fails.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

BOOK = Path(__file__).resolve().parents[1] / "book"

#: Text inside these commands is words or names, not symbols.
_WORDS = re.compile(r"\\(?:text|textbf|mathrm|operatorname|mathbf|hphantom|begin|end|texttt)"
                    r"\{(?:[^{}]|\{[^{}]*\})*\}")

#: (rule, pattern): each pattern finds a break of the rule in LaTeX with the words removed.
RULES: list[tuple[str, re.Pattern]] = [
    ("d is upright (\\mathrm{d}), not an italic d before a name",
     re.compile(r"(?<![\\A-Za-z])d(?:[A-Za-z]|\\[a-z]+|_\{)")),
    ("a transpose is \\top, not T", re.compile(r"\^\{?T\b")),
    ("the entrywise product is \\odot, not \\circ", re.compile(r"\\circ\b")),
    ("a Kronecker delta is [j = k]; delta is the error term", re.compile(r"\\delta_\{?\w+ \w+")),
]


def words_removed(tex: str) -> str:
    return _WORDS.sub(" ", tex)


def violations(tex: str) -> list[tuple[str, str]]:
    """(rule, excerpt) for every place ``tex`` breaks one of :data:`RULES`."""
    bare = words_removed(tex)
    return [(rule, bare[max(0, m.start() - 20):m.end() + 10])
            for rule, pattern in RULES for m in pattern.finditer(bare)]


def math_spans(text: str) -> list[str]:
    """The LaTeX between $...$ and $$...$$ in Markdown, code fences left out."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    # inline math may wrap onto the next line, never past a blank line
    return [a or b for a, b in re.findall(r"\$\$(.+?)\$\$|\$((?:[^$\n]|\n(?![ \t]*\n))+?)\$",
                                          text, flags=re.S)]


def page_texts() -> dict[str, list[str]]:
    """Every page's Markdown: each notebook's Markdown cells and each .md page."""
    pages = {}
    for path in sorted(BOOK.glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        pages[path.name] = ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
    for path in sorted(BOOK.glob("*.md")):
        pages[path.name] = [path.read_text(encoding="utf-8")]
    return pages


def latin_and_greek(tex: str) -> set[str]:
    """The one-letter names and Greek letters ``tex`` uses as symbols."""
    bare = words_removed(tex)
    greek = set(re.findall(r"\\(alpha|beta|gamma|delta|epsilon|theta|lambda|mu|sigma)\b", bare))
    return greek | set(re.findall(r"[A-Za-z]", re.sub(r"\\[a-zA-Z]+", " ", bare)))
