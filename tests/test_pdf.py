"""The PDF editions (``make pdf``): built without errors, complete, and readable on paper.

The PDFs are built once per session by ``make pdf PDF_DIR=<tmp> PDF_HTML=`` (fixture
``built_pdfs``), so the checks neither need nor touch ``_build/pdf``; with
``BACKPROP_PDF_DIR`` set (CI sets it after its own ``make pdf``) the checks read that folder
instead of building again. The build needs the Debian packages of README.md ("PDF editions"):
without them the build checks are skipped, and fail when ``CI=true``. The checks of the log
reader itself (can it fail?) need nothing.

What is checked, for every edition (English, and Chinese once ``book/zh`` has its config):

* the LaTeX log: no error, no undefined reference or citation, no label left unsettled, no
  "Missing character" (a glyph the font lacks), no overfull line wider than
  :data:`OVERFULL_PT` in a code cell, its output or any other verbatim block;
* ``pdffonts``: every font is embedded;
* ``pdftotext``: every chapter's title (read from the files of the edition's ``_toc.yml``)
  in the order of the table of contents; 反向传播 in the Chinese edition; in the English one,
  the glossary's Chinese terms (book/glossary.md), and every exercise's solution;
* ``pdfimages``: every PNG figure of the notebooks is printed, at 100 dpi at most (one wider
  than the HTML's 690 px column as wide as 690 px at 100 dpi), so its smallest text, 10 px in
  the HTML, is at least 7.2 pt on paper.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ["xelatex", "latexmk", "makeindex", "pdffonts", "pdftotext", "pdfimages"]
PACKAGES = ("texlive-xetex latexmk texlive-latex-recommended texlive-latex-extra "
            "texlive-fonts-recommended texlive-lang-cjk texlive-lang-chinese fonts-noto-cjk "
            "poppler-utils")

#: An overfull line in a code or output block may stick out this much (rounding, a frame's
#: rule); Sphinx wraps anything longer (``verbatimforcewraps``, ``verbatimmaxoverfull=0``).
OVERFULL_PT = 3.0
#: The HTML column the notebooks' figures are drawn for, and their resolution.
COLUMN_PX, FIGURE_DPI = 690, 100


# --------------------------------------------------------------------------- the editions


@dataclass(frozen=True)
class Edition:
    name: str  # the PDF's file name without .pdf
    config: Path
    toc: Path

    @property
    def chinese(self) -> bool:
        config = yaml.safe_load(self.config.read_text(encoding="utf-8")) or {}
        language = str(((config.get("sphinx") or {}).get("config") or {}).get("language")
                       or config.get("language") or "")
        return language.startswith("zh")


def _pdf_edition():
    spec = importlib.util.spec_from_file_location("pdf_edition",
                                                  ROOT / "book" / "_ext" / "pdf_edition.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def editions() -> list[Edition]:
    """The editions ``make pdf`` builds (as book/_ext/pdf_edition.py lists them)."""
    return [Edition(name, config, toc) for name, config, toc, _ in _pdf_edition().editions()]


def toc_files(toc: Path) -> list[Path]:
    """The source files of a table of contents, in order (root first)."""
    data = yaml.safe_load(toc.read_text(encoding="utf-8"))
    names = [data["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                names.append(node["file"])
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key) or []:
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(data)
    files = []
    for name in names:
        for base in (ROOT, toc.parent):
            found = [base / (name + s) for s in ("", ".md", ".ipynb")
                     if (base / (name + s)).is_file()]
            if found:
                files.append(found[0])
                break
        else:
            raise AssertionError(f"{toc}: no file for {name!r}")
    return files


def markdown_of(path: Path) -> str:
    """A source file's Markdown (a notebook's markdown cells, joined)."""
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return path.read_text(encoding="utf-8")


def title_of(path: Path) -> str:
    """The page's title: its first level-1 heading, without Markdown markup."""
    for line in markdown_of(path).splitlines():
        if line.startswith("# "):
            return re.sub(r"[*_`]", "", line[2:]).strip()
    raise AssertionError(f"{path} has no '# title'")


def normalise(text: str) -> str:
    """Letters and digits only, lower case: what survives line breaks, hyphenation,
    ligatures, small capitals and spacing between CJK characters."""
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(c for c in text if c.isalnum())


# --------------------------------------------------------------------------- the log


OVERFULL = re.compile(r"^Overfull \\hbox \((?P<pt>[\d.]+)pt too wide\)")
#: book/_ext/pdf_edition.py has LaTeX write these to the log around every code block and
#: code-cell output.
CODE_BEGIN, CODE_END = "<bpv-code>", "</bpv-code>"


def log_problems(log: str) -> list[str]:
    """What is wrong in a LaTeX log."""
    problems = []
    lines = log.splitlines()
    depth = 0  # inside how many code blocks / outputs
    for i, line in enumerate(lines):
        if line.startswith(CODE_BEGIN):
            depth += 1
        elif line.startswith(CODE_END):
            depth = max(depth - 1, 0)
        elif line.startswith("!") or re.match(r"^\S+\.tex:\d+: ", line):
            problems.append("error: " + " ".join(lines[i:i + 2]))
        elif re.search(r"(Reference|Citation) `[^']*' on page \S+ undefined", line):
            problems.append("undefined: " + line.strip())
        elif "There were undefined references" in line or "undefined citations" in line:
            problems.append("undefined: " + line.strip())
        elif "Label(s) may have changed" in line:
            problems.append("unsettled: " + line.strip())
        elif line.startswith("Missing character:"):
            problems.append("missing glyph: " + line.strip())
        elif (m := OVERFULL.match(line)) and depth and float(m["pt"]) > OVERFULL_PT:
            box = lines[i + 1].strip() if i + 1 < len(lines) else ""
            problems.append(f"overfull line in code or output ({float(m['pt']):g} pt, "
                            f"{line[len(m[0]):].strip()}): {box[:100]}")
    return problems


# --------------------------------------------------------------------------- the build


def _tools_or_skip() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        message = (f"PDF tools not found ({', '.join(missing)}): apt-get install -y "
                   f"--no-install-recommends {PACKAGES}")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: not skipping)")
        pytest.skip(message)


@pytest.fixture(scope="session")
def built_pdfs(tmp_path_factory) -> Path:
    """The folder ``make pdf`` wrote the editions to: ``<name>.pdf``, and the LaTeX files
    (the .tex and its .log) in ``<name>/_build/latex/``."""
    _tools_or_skip()
    given = os.environ.get("BACKPROP_PDF_DIR")
    if given:
        folder = Path(given).resolve()
        assert folder.is_dir(), f"BACKPROP_PDF_DIR={given} is not a folder: run make pdf"
        return folder
    folder = tmp_path_factory.mktemp("pdf")
    proc = subprocess.run(["make", "--no-print-directory", "pdf", f"PDF_DIR={folder}",
                           "PDF_HTML="], cwd=ROOT, capture_output=True, text=True,
                          timeout=3600)
    (folder / "make-pdf.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    assert proc.returncode == 0, "make pdf failed:\n" + (proc.stdout + proc.stderr)[-5000:]
    return folder


@functools.lru_cache(maxsize=4)
def pdf_text(pdf: Path) -> list[str]:
    """The text of each page (``pdftotext``), once per PDF."""
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                         text=True, check=True).stdout
    return out.split("\f")


EDITIONS = editions()
IDS = [e.name for e in EDITIONS]


def _opened(ed: Edition, built_pdfs: Path):
    pdf = built_pdfs / f"{ed.name}.pdf"
    assert pdf.is_file(), f"make pdf did not write {pdf.name}"
    return ed, pdf, built_pdfs / ed.name / "_build" / "latex"


@pytest.fixture(params=EDITIONS, ids=IDS)
def edition(request, built_pdfs):
    return _opened(request.param, built_pdfs)


ENGLISH = [e for e in EDITIONS if not e.chinese]
CHINESE = [e for e in EDITIONS if e.chinese]


@pytest.fixture(params=ENGLISH, ids=[e.name for e in ENGLISH])
def english(request, built_pdfs):
    """The English edition only (its checks say nothing about the Chinese one)."""
    return _opened(request.param, built_pdfs)


@pytest.fixture(params=CHINESE, ids=[e.name for e in CHINESE])
def chinese(request, built_pdfs):
    return _opened(request.param, built_pdfs)


def test_both_editions_are_printed():
    assert len(ENGLISH) == 1 and len(CHINESE) == 1, [e.name for e in EDITIONS]


# --------------------------------------------------------------------------- checks


def test_latex_log_is_clean(edition):
    ed, _, latex = edition
    log = (latex / f"{ed.name}.log").read_text(encoding="utf-8", errors="replace")
    assert CODE_BEGIN in log, "no code blocks marked in the log: see book/_ext/pdf_edition.py"
    problems = log_problems(log)
    assert not problems, f"{ed.name}.log:\n" + "\n".join(problems[:40])


def test_every_font_is_embedded(edition):
    _, pdf, _ = edition
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[0].split()[-5:] == ["emb", "sub", "uni", "object", "ID"], out[0]
    rows = [line for line in out[2:] if line.strip()]
    assert rows, "pdffonts lists no fonts"
    # name type encoding emb sub uni object-number generation: read from the right
    not_embedded = [row for row in rows if row.split()[-5] != "yes"]
    assert not not_embedded, "fonts not embedded:\n" + "\n".join(not_embedded)


def body_text(pages: list[str]) -> str:
    """The pages after the table of contents (lines with dot leaders), joined."""
    leaders = [i for i, page in enumerate(pages[: max(len(pages) // 4, 1)])
               if len(re.findall(r"(?:\. ){5,}", page)) >= 3]
    start = leaders[-1] + 1 if leaders else 0
    return "\n".join(pages[start:])


def titles_out_of_order(text: str, titles: list[str]) -> list[str]:
    """The titles not found in ``text`` after the one before them."""
    body, position, missing = normalise(text), 0, []
    for title in titles:
        found = body.find(normalise(title), position)
        if found < 0:
            missing.append(title)
        else:
            position = found + 1
    return missing


def test_every_chapter_title_in_order(edition):
    ed, pdf, _ = edition
    titles = [title_of(path) for path in toc_files(ed.toc)]
    missing = titles_out_of_order(body_text(pdf_text(pdf)), titles)
    assert not missing, (f"{ed.name}: chapter titles not found after the previous chapter's "
                         f"(titles in the order of {ed.toc.name}: {titles}): {missing}")


def test_chinese_edition_is_chinese(chinese):
    ed, pdf, _ = chinese
    assert "反向传播" in normalise("".join(pdf_text(pdf)))


def glossary_terms() -> list[str]:
    """The Chinese terms of book/glossary.md (each run of CJK characters of its two Chinese
    columns: the book's term and the others a reader meets)."""
    terms = []
    for line in (ROOT / "book" / "glossary.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 3 and cells[0] != "English":
            terms += re.findall(r"[\u3400-\u9fff]+", cells[1] + " " + cells[2])
    return list(dict.fromkeys(terms))


def test_glossary_chinese_terms_in_english_pdf(english):
    _, pdf, _ = english
    terms = glossary_terms()
    assert len(terms) > 20, f"found only {terms} in book/glossary.md"
    text = normalise("".join(pdf_text(pdf)))
    missing = [t for t in terms if t not in text]
    assert not missing, f"glossary terms not in the PDF: {missing}"


# A solution directive, and a gated one (its text between solution-start and solution-end).
SOLUTION = re.compile(r"^(`{3,}|:{3,})\{solution\}[^\n]*\n(?P<body>.*?)^\1\s*$", re.S | re.M)
GATED = re.compile(r"^(`{3,}|:{3,})\{solution-start\}.*?^\1\s*$(?P<body>.*?)"
                   r"^[`:]{3,}\{solution-end\}", re.S | re.M)


def solution_phrases(path: Path) -> list[str]:
    """For each solution in a source file, a run of eight plain words of its text ("" if
    it has no run of five), not next to a formula."""
    phrases = []
    text = markdown_of(path)
    for m in sorted([*SOLUTION.finditer(text), *GATED.finditer(text)], key=lambda m: m.start()):
        body = re.sub(r"^:\w+:.*$", "", m["body"], flags=re.M)  # directive options
        body = re.sub(r"^(`{3,}|:{3,}).*?^\1\s*$", "\n", body, flags=re.S | re.M)  # code
        runs = re.split(r"\$[^$]*\$|`[^`]*`|\{[^}]*\}|\[[^\]]*\]\([^)]*\)|[*_()\[\]]|\n\s*\n",
                        body)
        words = max((r.split() for r in runs), key=len, default=[])
        # the words next to an inline formula can be moved by pdftotext (a stacked fraction
        # puts its neighbour on another line), so a long run loses its first word
        words = words[1:] if len(words) >= 10 else words
        phrases.append(" ".join(words[:8]) if len(words) >= 5 else "")
    return phrases


def test_every_solution_is_printed(english):
    """Solutions are dropdowns in the HTML book; in the PDF every one is printed."""
    ed, pdf, _ = english
    text = "".join(pdf_text(pdf))
    phrases = [(path, p) for path in toc_files(ed.toc) for p in solution_phrases(path)]
    assert len(phrases) > 10, "no solutions found in the book's sources"
    assert text.count("Solution to Exercise") == len(phrases), (
        f"{len(phrases)} solutions in the sources, {text.count('Solution to Exercise')} "
        "printed")
    flat = normalise(text)
    missing = [f"{path.name}: {p!r}" for path, p in phrases if p and normalise(p) not in flat]
    assert not missing, "solution text not in the PDF:\n" + "\n".join(missing)


def png_outputs(path: Path) -> int:
    if path.suffix != ".ipynb":
        return 0
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return sum("image/png" in o.get("data", {}) for c in cells for o in c.get("outputs", []))


def test_figures_are_printed_large_enough(edition):
    """Each figure at no more than 100 dpi, or, if wider than the HTML column, at the width
    of 690 px: its smallest text (10 px in the HTML) is at least 7.2 pt on paper."""
    ed, pdf, _ = edition
    out = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True,
                         check=True).stdout.splitlines()[2:]
    images = [line.split() for line in out if line.split()[2:3] == ["image"]]
    expected = sum(png_outputs(path) for path in toc_files(ed.toc))
    assert len(images) >= expected, f"{expected} PNG figures in the notebooks, {len(images)} "
    small = []
    for row in images:
        page, width, x_ppi = row[0], int(row[3]), float(row[12])
        allowed = FIGURE_DPI * max(1.0, width / COLUMN_PX) * 1.02
        if x_ppi > allowed:
            small.append(f"page {page}: {width} px wide at {x_ppi:g} dpi (> {allowed:.0f})")
    assert not small, "figures printed too small:\n" + "\n".join(small)


# --------------------------------------------------------------------------- the checks fail


def test_log_reader_finds_an_undefined_reference():
    log = ("LaTeX Warning: Reference `equation:book/ch1:eq-2' on page 12 undefined on input "
           "line 3.\n\nLaTeX Warning: There were undefined references.\n")
    problems = log_problems(log)
    assert any("eq-2" in p for p in problems), problems
    assert log_problems("LaTeX Warning: Citation `id7' on page 4 undefined on input line 9.")


def test_log_reader_finds_a_missing_glyph_and_an_error():
    log = ("Missing character: There is no ℓ (U+2113) in font DejaVuSansMono!\n"
           "! Undefined control sequence.\nl.7 \\foo\n")
    problems = log_problems(log)
    assert any(p.startswith("missing glyph") for p in problems), problems
    assert any(p.startswith("error") for p in problems), problems


def test_log_reader_finds_an_overfull_code_line_only():
    overfull = ("Overfull \\hbox (12.5pt too wide) in paragraph at lines 5--5\n"
                "[]\\TU/DejaVuSansMono(0)/m/n/9 a very long line of code\n")
    code = f"{CODE_BEGIN}\n{overfull}{CODE_END}\n"
    assert log_problems(code), "an overfull line of code was not reported"
    assert not log_problems(overfull), "an overfull line of prose was reported"
    assert not log_problems(code.replace("12.5pt", "2.0pt")), "a 2 pt overfull line was reported"


def test_title_check_finds_a_chapter_out_of_order():
    text = "Contents\nBackprop, verified\n\nTHE CHAIN RULE\n...\nTHE COMPUTATION GRAPH\n"
    in_order = ["Backprop, verified", "The chain rule", "The computation graph"]
    assert titles_out_of_order(text, in_order) == []
    assert titles_out_of_order(text, [in_order[0], in_order[2], in_order[1]]) == ["The chain rule"]


def test_a_clean_log_passes():
    log = f"This is XeTeX.\n{CODE_BEGIN}\n{CODE_END}\nOutput written on book.pdf (3 pages).\n"
    assert log_problems(log) == []
