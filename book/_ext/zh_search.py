"""Sphinx extension: the Chinese edition's search finds the glossary's terms.

Sphinx indexes Chinese text with jieba, which cuts 反向传播 into 反向 and
传播, while a reader types the whole term: searching for it would find
nothing.
This extension gives jieba the glossary's Chinese terms as a user dictionary
(``html_search_options['dict']``), so each term is also indexed whole.
"""

from __future__ import annotations

import re
from pathlib import Path

CJK = re.compile(r"[\u3400-\u9fff]")


def glossary_terms(glossary: Path) -> list[str]:
    """The Chinese terms of the glossary's second and third columns."""
    terms = []
    for line in glossary.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if (not line.startswith("| ") or len(cells) < 3
                or cells[0] == "English"):
            continue
        for cell in cells[1:3]:
            for term in re.split(r"[、/，,（）()]", cell):
                term = term.strip()
                if CJK.search(term) and " " not in term:
                    terms.append(term)
    return list(dict.fromkeys(terms))


def _config_inited(app, config) -> None:
    glossary = Path(app.srcdir).parent / "glossary.md"
    chinese = str(config.language or "").startswith("zh")
    if not chinese or not glossary.is_file():
        return
    words = Path(app.outdir).parent / "jieba_glossary.txt"
    words.parent.mkdir(parents=True, exist_ok=True)
    # "word frequency": a high frequency keeps the term whole
    terms = glossary_terms(glossary)
    words.write_text("".join(f"{t} 100000\n" for t in terms),
                     encoding="utf-8")
    config.html_search_language = "zh"
    config.html_search_options = {**(config.html_search_options or {}),
                                  "dict": str(words)}


def setup(app):
    app.connect("config-inited", _config_inited)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
