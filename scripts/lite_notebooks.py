"""The notebooks the book serves to JupyterLite, made to read as well as the HTML book.

The chapters are MyST notebooks: their markdown uses roles (``{doc}``, ``{eq}``, ``{cite}``),
labelled display equations (``$$ ... $$ (label)``) and directives (``{exercise}``,
``{solution}``, the gated ``{solution-start}`` ... ``{solution-end}``) that only the book's
Sphinx build understands. JupyterLab shows them as they are written. This module writes, for
each notebook, a copy whose markdown says what the HTML book shows:

* ``{doc}`path``` becomes the page's title (or the text given), ``{eq}`label``` the equation's
  number as the book prints it, "(1.2)", ``{cite}`key``` the author-year citation the book
  prints, "[Rumelhart *et al.*, 1986]" (formatted by sphinxcontrib-bibtex's own referencing
  style); any other role becomes its text.
* A labelled display equation gets its number as ``\\tag{1.2}``; ``(label)=`` targets, MyST
  comments and block breaks are removed.
* An exercise becomes a box headed "**Exercise 1.3** (Title)", numbered as in the book; its
  solution a ``<details>`` block, "Solution to Exercise 1.3", closed until the reader opens it.
  A gated solution spans cells: its prose goes into ``<details>`` blocks, and each code cell in
  it is collapsed (JupyterLab's ``source_hidden`` and ``outputs_hidden``), with a line saying
  so. Admonitions become block quotes with a bold title, ``{math}`` a display equation.
* Stored outputs whose text is a list of lines (nbformat allows a list or a string) are joined
  into one string: JupyterLab, reading the raw file in JupyterLite, shows a list joined with
  commas, a comma at the start of every line but the first.

Code cells and their outputs are otherwise unchanged. Numbers are computed as Sphinx computes
them (``assign_figure_numbers``): the table of contents is walked from the root page, the
chapters of a ``numbered`` part are numbered in order (continuing across parts, as
``use_multitoc_numbering`` does), and the labelled equations and the exercises of a numbered
chapter are counted 1, 2, ... with the chapter's number in front; pages outside numbered parts
share one counter and get plain numbers. A reference to an unknown page, equation, exercise or
citation key is an error, as it is in the book's build.

The Sphinx extension ``book/_ext/run_in_browser.py`` calls :func:`transform_files` at the start
of every HTML build and serves the copies (``_build/lite_notebooks/``); a notebook that the table
of contents does not list has no page in the book and is not served. Run alone::

    .venv/bin/python scripts/lite_notebooks.py [SRC_DIR [OUT_DIR]]

transforms ``SRC_DIR/*.ipynb`` (default ``book``) into ``OUT_DIR`` (default
``_build/lite_notebooks``).
"""

from __future__ import annotations

import argparse
import copy
import json
import posixpath
import re
import shutil
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class LiteNotebookError(ValueError):
    """A notebook's MyST cannot be turned into what the book shows."""


# ------------------------------------------------------------------ MyST blocks


@dataclass
class Directive:
    """A fenced MyST directive: ```{name} arg, its options and its body."""

    name: str
    arg: str = ""
    options: dict[str, str] = field(default_factory=dict)
    body: str = ""

    @property
    def classes(self) -> list[str]:
        return self.options.get("class", "").split()


@dataclass
class Verbatim:
    """A fenced code block (or one whose fence is not a directive): kept as written."""

    text: str


Block = str | Directive | Verbatim

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,}|:{3,})(?P<info>.*?)\s*$")
_DIRECTIVE = re.compile(r"^\{(?P<name>[\w:.+-]+)\}\s*(?P<arg>.*)$")
_OPTION = re.compile(r"^:(?P<key>[\w-]+):(?:\s+(?P<value>.*?))?\s*$")


def _closing(line: str, fence: str) -> bool:
    stripped = line.rstrip("\r\n")
    match = re.match(r"^ {0,3}(`+|~+|:+)\s*$", stripped)
    return bool(match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence))


def _directive(info: str, body_lines: list[str]) -> Directive:
    match = _DIRECTIVE.match(info)
    name, arg = match.group("name"), match.group("arg").strip()
    options: dict[str, str] = {}
    lines = list(body_lines)
    if lines and lines[0].strip() == "---":  # options as a YAML block
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if end is not None:
            for line in lines[1:end]:
                key, _, value = line.partition(":")
                if key.strip():
                    options[key.strip()] = value.strip()
            lines = lines[end + 1:]
    else:
        while lines and (option := _OPTION.match(lines[0].rstrip("\r\n"))):
            options[option.group("key")] = option.group("value") or ""
            lines = lines[1:]
    return Directive(name, arg, options, "".join(lines).strip("\n"))


def split_blocks(text: str) -> list[Block]:
    """Split MyST markdown into plain text (``str``), directives and verbatim code blocks.

    Fences follow CommonMark: a fence of three or more backticks, tildes or (MyST's
    ``colon_fence``) colons closes at a line of the same character at least as long, so a
    directive written with four backticks may hold a code block of three."""
    lines = text.splitlines(keepends=True)
    blocks: list[Block] = []
    plain: list[str] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i].rstrip("\r\n"))
        info = match.group("info").strip() if match else ""
        fence = match.group("fence") if match else ""
        is_directive = bool(match) and _DIRECTIVE.match(info) is not None
        if not match or (fence[0] == "`" and "`" in info) or (fence[0] == ":" and not is_directive):
            plain.append(lines[i])
            i += 1
            continue
        end = next((j for j in range(i + 1, len(lines)) if _closing(lines[j], fence)),
                   len(lines))
        if plain:
            blocks.append("".join(plain))
            plain = []
        if is_directive:
            blocks.append(_directive(info, lines[i + 1:end]))
        else:
            blocks.append(Verbatim("".join(lines[i:end + 1])))
        i = end + 1
    if plain:
        blocks.append("".join(plain))
    return blocks


def walk(blocks: Iterable[Block]) -> Iterator[Block]:
    """Every block in document order, a directive before the blocks of its body."""
    for block in blocks:
        yield block
        if isinstance(block, Directive) and block.name not in RAW_DIRECTIVES:
            yield from walk(split_blocks(block.body))


#: Directives whose bodies are not MyST markdown.
RAW_DIRECTIVES = {"code", "code-block", "sourcecode", "code-cell", "eval-rst", "math",
                  "raw", "literalinclude", "toctree"}

# ------------------------------------------------------------------ equations and headings

_DISPLAY_LABEL = re.compile(r"[ \t]*\((?P<label>[^()\s]+)\)")


def display_math(text: str) -> Iterator[tuple[int, int, str | None]]:
    """The ``$$ ... $$`` spans of plain text: (start, end of the closing ``$$``, label)."""
    tokens = [m.start() for m in re.finditer(r"(?<!\\)\$\$", text)]
    for open_, close in zip(tokens[::2], tokens[1::2]):
        end = close + 2
        label = _DISPLAY_LABEL.match(text, end)
        yield open_, end, (label.group("label") if label else None)


def _title(text: str) -> str | None:
    for block in split_blocks(text):
        if isinstance(block, str):
            heading = re.search(r"^#[ \t]+(.+?)[ \t#]*$", block, re.M)
            if heading:
                return heading.group(1)
    return None


# ------------------------------------------------------------------ the book's structure


@dataclass
class Exercise:
    number: str | None  # "1.3", "1" on an unnumbered page, None with :nonumber:
    title: str


@dataclass
class Page:
    docname: str  # "book/ch1_computation_graph"
    path: Path
    title: str
    secnum: tuple[int, ...]  # (1,) for chapter 1, () outside numbered parts
    #: per page, in document order: equation labels and exercises
    equations: list[tuple[str, str]] = field(default_factory=list)
    exercises: list[tuple[str | None, Exercise]] = field(default_factory=list)


@dataclass
class Book:
    """What the HTML book prints for references: page titles and numbers, equations'
    numbers, exercises' numbers and titles, citations."""

    root: Path
    pages: dict[str, Page]
    equations: dict[str, str]  # label (lowercased, as docutils ids are) -> "1.2"
    exercises: dict[str, Exercise]  # label (lowercased) -> exercise
    bibliography: dict = field(default_factory=dict)  # key -> pybtex Entry
    reference_style: str = "author_year"
    eqref_format: str = "({number})"
    #: the bibliography's order, which is also the order of the keys in a citation
    sorting_style: str = "author_year_title"
    #: docname -> file name of the notebooks JupyterLite serves (side by side), which
    #: {doc} links to; any other page is named in italics
    served: dict[str, str] = field(default_factory=dict)
    #: the edition's language: which of :data:`WORDS` the served notebooks use
    language: str = "en"

    def words(self) -> dict[str, str]:
        return WORDS.get(self.language, WORDS["en"])

    def docname(self, path: Path) -> str:
        return Path(path).resolve().relative_to(self.root.resolve()).with_suffix("").as_posix()

    def page(self, path: Path) -> Page:
        if self.docname(path) not in self.pages:
            raise LiteNotebookError(f"{path} is not in the book's table of contents")
        return self.pages[self.docname(path)]

    def in_book(self, paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
        """The notebooks that are pages of the book, and those that are not (drafts the
        table of contents does not list yet: the HTML book has no page for them)."""
        paths = [Path(p) for p in paths]
        pages = [p for p in paths if self.docname(p) in self.pages]
        return pages, [p for p in paths if p not in pages]


def _markdown_of(path: Path) -> str:
    """A page's markdown: a notebook's markdown cells, or a markdown file without its front
    matter."""
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return "\n\n".join(_source(c) for c in cells if c["cell_type"] == "markdown")
    text = path.read_text(encoding="utf-8")
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        text = text[end + 4:] if end >= 0 else text
    return text


def _toc_pages(toc: dict, multitoc: bool) -> Iterator[tuple[str, tuple[int, ...]]]:
    """(file, section number) for every page, in the order Sphinx walks them."""
    yield toc["root"], ()
    parts = toc.get("parts") or [{"chapters": toc.get("chapters") or [],
                                  "numbered": toc.get("numbered", False)}]
    chapter = 0

    def entries(items: list[dict], numbered: bool, prefix: tuple[int, ...] | None):
        nonlocal chapter
        for item in items:
            if "file" not in item:
                continue
            if prefix is None:  # a chapter
                if numbered:
                    chapter += 1
                secnum = (chapter,) if numbered else ()
            else:  # a section of a chapter: numbered under it, counted with it
                secnum = prefix
            yield item["file"], secnum
            yield from entries(item.get("sections") or [], numbered, secnum)

    for part in parts:
        if not multitoc and part.get("numbered"):
            chapter = 0
        yield from entries(part.get("chapters") or [], bool(part.get("numbered")), None)


def load_book(root: Path = ROOT, toc_path: Path | None = None,
              bibfiles: Iterable[Path] = (), *, multitoc: bool = True,
              reference_style: str = "author_year",
              eqref_format: str = "({number})",
              sorting_style: str = "author_year_title", language: str = "en") -> Book:
    """Read the table of contents, every page it lists, and the bibliography."""
    import yaml

    root = Path(root)
    toc = yaml.safe_load(Path(toc_path or root / "_toc.yml").read_text(encoding="utf-8"))
    pages: dict[str, Page] = {}
    equations: dict[str, str] = {}
    exercises: dict[str, Exercise] = {}
    counters: dict[tuple[str, tuple[int, ...]], int] = {}

    def next_number(kind: str, secnum: tuple[int, ...]) -> str:
        counters[kind, secnum] = counters.get((kind, secnum), 0) + 1
        return ".".join(str(n) for n in (*secnum, counters[kind, secnum]))

    for file, secnum in _toc_pages(toc, multitoc):
        docname = posixpath.splitext(file)[0]
        path = next((p for p in (root / f"{docname}.ipynb", root / f"{docname}.md",
                                 root / file) if p.is_file()), None)
        if path is None:
            raise LiteNotebookError(f"{file}, listed in the table of contents, is missing")
        text = _markdown_of(path)
        page = Page(docname, path, _title(text) or docname, secnum)
        for block in walk(split_blocks(text)):
            if isinstance(block, str):
                for _start, _end, label in display_math(block):
                    if label:
                        page.equations.append((label, next_number("math", secnum)))
            elif isinstance(block, Verbatim):
                continue
            elif block.name == "math" and "label" in block.options:
                page.equations.append((block.options["label"], next_number("math", secnum)))
            elif block.name in ("exercise", "exercise-start"):
                number = (None if "nonumber" in block.options
                          else next_number("exercise", secnum))
                exercise = Exercise(number, block.arg)
                page.exercises.append((block.options.get("label"), exercise))
                if block.options.get("label"):
                    exercises[block.options["label"].lower()] = exercise
        equations.update((label.lower(), number) for label, number in page.equations)
        pages[docname] = page

    bibliography = {}
    for bibfile in bibfiles:
        from pybtex.database import parse_file

        bibliography.update(parse_file(str(bibfile)).entries)
    return Book(root, pages, equations, exercises, bibliography, reference_style,
                eqref_format, sorting_style, language=language)


# ------------------------------------------------------------------ citations


def format_citation(book: Book, role: str, target: str) -> str:
    """A citation as the HTML book prints it, in markdown: sphinxcontrib-bibtex's own
    referencing style, rendered without the link."""
    import pybtex.backends.markdown
    import pybtex.plugin
    from pybtex.richtext import BaseMultipartText, Text
    from sphinxcontrib.bibtex.citation_target import parse_citation_targets
    from sphinxcontrib.bibtex.plugin import find_plugin
    from sphinxcontrib.bibtex.richtext import BaseReferenceText
    from sphinxcontrib.bibtex.style.referencing import format_references
    from sphinxcontrib.bibtex.style.template import SphinxReferenceInfo

    style = find_plugin("sphinxcontrib.bibtex.style.referencing", book.reference_style)()
    name = role.partition(":")[2] or "p"  # {cite} is {cite:p}
    if name not in style.role_names():
        raise LiteNotebookError(f"unknown citation role {{{role}}}")
    cited = {}
    for one in parse_citation_targets(target):
        if one.key not in book.bibliography:
            raise LiteNotebookError(f"citation key {one.key!r} is not in the bibliography")
        cited[one.key] = one
    # sphinxcontrib-bibtex lists several keys in the bibliography's order, not as written
    sort = pybtex.plugin.find_plugin("pybtex.style.sorting", book.sorting_style)().sort
    references = []
    for entry in sort([book.bibliography[key] for key in cited]):
        one = cited[entry.key]
        label = type("Formatted", (), {"label": one.key})()
        references.append((entry, label, SphinxReferenceInfo(
            None, "", "", "", None, one.pre, one.post)))

    def unlinked(text):
        if isinstance(text, BaseReferenceText):
            return Text(*[unlinked(part) for part in text.parts])
        if isinstance(text, BaseMultipartText):
            return text._create_similar([unlinked(part) for part in text.parts])
        return text

    class Markdown(pybtex.backends.markdown.Backend):
        def format_str(self, text):  # the words as they are, no markdown escapes
            return text

    return unlinked(format_references(style, name, references)).render(Markdown())


# ------------------------------------------------------------------ markdown


_ROLE_OR_CODE = re.compile(
    r"(?P<role>\{(?P<name>[\w:.+-]+)\}(?P<rt>`+)(?P<content>.+?)(?P=rt))"
    r"|(?P<code>(?P<ct>`+).+?(?P=ct))", re.S)
_TEXT_TARGET = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.S)
_CODE_ROLES = {"code", "literal", "samp", "file", "command", "program", "envvar", "option",
               "kbd"}
_ADMONITIONS = {"note": "Note", "tip": "Tip", "hint": "Hint", "important": "Important",
                "seealso": "See also", "warning": "Warning", "caution": "Caution",
                "attention": "Attention", "danger": "Danger", "error": "Error"}

#: The words the served notebooks add, per edition (the book's ``language``), as the HTML
#: book's theme and sphinx-exercise print them.
WORDS = {
    "en": {"exercise": "Exercise {number}", "solution": "Solution to Exercise {number}",
           "titled": "{text} ({title})", "continued": ", continued", "show": "Show",
           "code_one": "{what} is in the collapsed cell below: click the cell to show it.",
           "code_many": "{what} is in the {count} collapsed cells below: click a cell to "
                        "show it.",
           "its_code": "Its code", "code_of": "The {solution_lc}"},
    "zh_CN": {"exercise": "练习 {number}", "solution": "练习 {number} 的解答",
              "titled": "{text}（{title}）", "continued": "（续）", "show": "显示",
              "code_one": "{what}在下面折叠的单元格中：点击单元格即可显示。",
              "code_many": "{what}在下面 {count} 个折叠的单元格中：点击单元格即可显示。",
              "its_code": "其代码", "code_of": "{solution}的代码"},
}
_ADMONITIONS_ZH = {"note": "注意", "tip": "提示", "hint": "提示", "important": "重要",
                   "seealso": "另见", "warning": "警告", "caution": "小心",
                   "attention": "注意", "danger": "危险", "error": "错误"}


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


@dataclass
class _Context:
    book: Book
    page: Page
    exercise_index: int = 0

    def next_exercise(self) -> Exercise:
        if self.exercise_index >= len(self.page.exercises):
            raise LiteNotebookError(f"{self.page.docname}: more exercises than counted")
        exercise = self.page.exercises[self.exercise_index][1]
        self.exercise_index += 1
        return exercise

    def exercise(self, label: str) -> Exercise:
        label = label.lower()  # labels are ids: docutils lowercases them
        if label not in self.book.exercises:
            raise LiteNotebookError(f"{self.page.docname}: a solution to {label!r}, "
                                    "which is no exercise's label")
        exercise = self.book.exercises[label]
        return Exercise(exercise.number, _roles(self, exercise.title))

    def equation(self, label: str) -> str:
        label = label.lower()
        if label not in self.book.equations:
            raise LiteNotebookError(f"{self.page.docname}: no equation is labelled {label!r}")
        return self.book.equations[label]


def _role(ctx: _Context, name: str, content: str) -> str:
    explicit = _TEXT_TARGET.match(content)
    text, target = ((explicit.group("text"), explicit.group("target").strip()) if explicit
                    else (None, content.strip()))
    short = name.split(":")[-1]
    if name == "doc":
        path = target if target.startswith("/") else posixpath.join(
            posixpath.dirname(ctx.page.docname), target)
        docname = posixpath.splitext(posixpath.normpath(path).lstrip("/"))[0]
        if docname not in ctx.book.pages:
            raise LiteNotebookError(f"{ctx.page.docname}: {{doc}}`{content}` names no page")
        shown = text or ctx.book.pages[docname].title
        if docname in ctx.book.served:  # JupyterLite opens it in a new tab
            return f"[{shown}]({ctx.book.served[docname]})"
        return f"*{shown}*"
    if name in ("eq", "math:numref"):
        return text or ctx.book.eqref_format.format(number=ctx.equation(target))
    if name == "cite" or name.startswith("cite:"):
        return format_citation(ctx.book, name, content)
    if name == "math":
        return f"${content}$"
    if name in ("sub", "sup"):
        return f"<{name}>{content}</{name}>"
    if name in _CODE_ROLES or (":" in name and short in {
            "func", "meth", "class", "mod", "attr", "obj", "data", "exc", "const"}) or name in {
            "func", "meth", "class", "mod", "attr", "obj", "data", "exc", "const", "any"}:
        if text:
            return f"`{text}`"
        shown = target.split(".")[-1] if target.startswith("~") else target
        return f"`{shown.lstrip('~')}`"
    if name == "numref" and not text and target.lower() in ctx.book.exercises:
        number = ctx.book.exercises[target.lower()].number or ""
        return ctx.book.words()["exercise"].format(number=number).strip()
    if name == "abbr":
        return re.sub(r"\s*\(.*\)$", "", content)
    return text if text else target


def _roles(ctx: _Context, text: str) -> str:
    def replace(match: re.Match) -> str:
        if match.group("code"):
            return match.group("code")
        return _role(ctx, match.group("name"), match.group("content"))

    return _ROLE_OR_CODE.sub(replace, text)


def _plain(ctx: _Context, text: str) -> str:
    """Plain MyST text (no fences): numbered equations, roles resolved, MyST-only lines out."""
    pieces, last = [], 0
    for start, end, label in list(display_math(text)):
        if label:  # "$$ ... $$ (label)" -> "$$ ... \tag{1.2} $$"
            tag = f"\\tag{{{ctx.equation(label)}}}"
            body = text[start:end - 2]  # from the opening $$ to the closing one
            body = f"{body}{tag}\n$$" if body.endswith("\n") else f"{body.rstrip()} {tag} $$"
            pieces += [text[last:start], body]
            last = _DISPLAY_LABEL.match(text, end).end()
    text = "".join(pieces) + text[last:]
    inside_math = [(s, e) for s, e, _ in display_math(text)]
    kept, offset = [], 0
    for line in text.splitlines(keepends=True):
        in_math = any(s <= offset < e for s, e in inside_math)
        offset += len(line)
        if not in_math and re.match(r"^(\([\w:.-]+\)=|%|\+\+\+)", line):
            continue  # a target, a comment, a block break: MyST-only
        kept.append(line)
    return _roles(ctx, "".join(kept))


def _boxed(kind: str, heading: str, body: str) -> str:
    """A visible box: a bold heading and markdown inside an HTML block (JupyterLab renders
    markdown between HTML tags when blank lines surround it). ``kind`` is a JupyterLab alert
    class: info, warning, danger, success."""
    inner = f"{heading}\n\n{body}".strip()
    return f'<div class="alert alert-{kind}">\n\n{inner}\n\n</div>'


def _details(summary: str, body: str, *, open_: bool = False) -> str:
    opened = " open" if open_ else ""
    return f"<details{opened}>\n<summary><b>{summary}</b></summary>\n\n{body.strip()}\n\n</details>"


def exercise_heading(exercise: Exercise, title: str, words: dict = WORDS["en"]) -> str:
    heading = "**" + words["exercise"].format(number=exercise.number or "").strip() + "**"
    return words["titled"].format(text=heading, title=title) if title else heading


def solution_title(exercise: Exercise, words: dict = WORDS["en"]) -> str:
    """As sphinx-exercise titles it: "Solution to Exercise 1.3 (Title)"."""
    title = " ".join(words["solution"].format(number=exercise.number or "").split())
    return words["titled"].format(text=title, title=exercise.title) if exercise.title else title


def render(ctx: _Context, text: str) -> str:
    """MyST markdown (one cell, or a directive's body) as JupyterLab's markdown."""
    return "\n\n".join(part for part in (_block(ctx, b) for b in split_blocks(text))
                       if part.strip()).strip("\n") + ("\n" if text.endswith("\n") else "")


def _block(ctx: _Context, block: Block) -> str:
    if isinstance(block, str):
        return _plain(ctx, block).strip("\n")
    if isinstance(block, Verbatim):
        return block.text.rstrip("\n")
    return _directive_markdown(ctx, block)


def _directive_markdown(ctx: _Context, d: Directive) -> str:
    name = d.name
    if name == "exercise":
        exercise = ctx.next_exercise()
        title = _roles(ctx, d.arg)
        return _boxed("info", exercise_heading(exercise, title, ctx.book.words()),
                      render(ctx, d.body))
    if name == "solution":
        exercise = ctx.exercise(d.arg.strip())
        return _details(solution_title(exercise, ctx.book.words()), render(ctx, d.body),
                        open_="dropdown" not in d.classes)
    if name == "math":
        label = d.options.get("label")
        tag = f" \\tag{{{ctx.equation(label)}}}" if label else ""
        return f"$$\n{d.body.strip()}{tag}\n$$"
    if name in ("code", "code-block", "sourcecode", "code-cell"):
        return f"```{d.arg.split()[0] if d.arg else ''}\n{d.body}\n```"
    if name == "eval-rst":
        body = re.sub(r":(?:[\w-]+:)?math:`([^`]+)`", r"$\1$", d.body)
        body = re.sub(r":[\w:-]+:`~?([^`<]*?)\s*(?:<[^>]*>)?`", r"`\1`", body)
        return body
    if name in ("image", "figure"):
        alt = d.options.get("alt", "")
        caption = render(ctx, d.body)
        return f"![{alt}]({d.arg})" + (f"\n\n*{caption.strip()}*" if caption.strip() else "")
    if name in ("toctree", "bibliography", "raw", "glue", "glue:figure", "tableofcontents"):
        return ""
    if name in ("dropdown", "toggle") or "dropdown" in d.classes:
        return _details(_roles(ctx, d.arg) or ctx.book.words()["show"], render(ctx, d.body))
    names = _ADMONITIONS_ZH if ctx.book.language.startswith("zh") else _ADMONITIONS
    title = names.get(name)
    if name == "admonition" or title is not None:
        heading = _roles(ctx, d.arg) if name == "admonition" else title
        return f"<blockquote>\n\n**{heading}**\n\n{render(ctx, d.body).strip()}\n\n</blockquote>"
    # anything else: its body, under its argument if it has one
    body = render(ctx, d.body)
    return (f"**{_roles(ctx, d.arg)}**\n\n{body}" if d.arg else body).strip()


# ------------------------------------------------------------------ notebooks

#: JupyterLab's metadata for a collapsed cell: input and output hidden until clicked.
COLLAPSED = {"source_hidden": True, "outputs_hidden": True}
GATED = {"exercise-start", "exercise-end", "solution-start", "solution-end"}


def hidden_code_note(exercise: Exercise, count: int, *, after_summary: bool,
                     words: dict = WORDS["en"]) -> str:
    """The line that says where a gated solution's collapsed code cells are (under the
    solution's summary line, or alone when the solution has no prose)."""
    what = (words["its_code"] if after_summary
            else words["code_of"].format(solution=(title := solution_title(exercise, words)),
                                         solution_lc=title[:1].lower() + title[1:]))
    where = (words["code_one"] if count == 1 else words["code_many"])
    return f"*{where.format(what=what, count=count)}*"


def join_outputs(cell: dict) -> None:
    """Stored text as one string, never a list of lines (JupyterLite would join a list with
    commas)."""
    for output in cell.get("outputs", []):
        if isinstance(output.get("text"), list):
            output["text"] = "".join(output["text"])
        for mime, value in (output.get("data") or {}).items():
            if isinstance(value, list) and not mime.endswith("json"):
                output["data"][mime] = "".join(value)


def _gated_code_cells(cells: list[dict], parsed: list[list[Block] | None]) -> list[int]:
    """How many code cells each gated solution holds, in the order the solutions start."""
    counts: list[int] = []
    inside = False
    for cell, blocks in zip(cells, parsed):
        if blocks is None:
            if inside and cell["cell_type"] == "code":
                counts[-1] += 1
            continue
        for block in blocks:
            if isinstance(block, Directive) and block.name == "solution-start":
                counts.append(0)
                inside = True
            elif isinstance(block, Directive) and block.name == "solution-end":
                inside = False
    return counts


@dataclass
class _Solution:
    """A gated solution, open across cells."""

    exercise: Exercise
    hidden: bool  # :class: dropdown: closed until the reader opens it
    code_cells: int
    pieces: int = 0  # how many of its markdown pieces are written


@dataclass
class _Cells:
    """What carries from one cell to the next: the gated solution that is open."""

    ctx: _Context
    code_counts: list[int]
    solution: _Solution | None = None

    def markdown(self, blocks: list[Block]) -> str:
        """A markdown cell: runs of blocks, each plain, the head of a gated exercise (boxed
        with the text that follows it in the cell) or part of a gated solution."""
        ctx, out, parts = self.ctx, [], []
        mode, heading, note = ("solution" if self.solution else "plain"), "", False

        def close(mode: str) -> None:
            text = "\n\n".join(p for p in parts if p.strip())
            parts.clear()
            if mode == "exercise":
                out.append(_boxed("info", heading, text))
            elif mode == "solution" and text:
                words = ctx.book.words()
                summary = solution_title(self.solution.exercise, words)
                summary += words["continued"] if self.solution.pieces else ""
                out.append(_details(summary, text, open_=not self.solution.hidden))
                self.solution.pieces += 1
            elif text:
                out.append(text)

        for block in blocks:
            name = block.name if isinstance(block, Directive) else None
            if name not in GATED:
                parts.append(_block(ctx, block))
                continue
            close(mode)
            if name == "exercise-start":
                mode = "exercise"
                heading = exercise_heading(ctx.next_exercise(), _roles(ctx, block.arg),
                                           ctx.book.words())
            elif name == "solution-start":
                if not self.code_counts:
                    raise LiteNotebookError("a solution-start that was not counted")
                self.solution = _Solution(ctx.exercise(block.arg.strip()),
                                          "dropdown" in block.classes,
                                          self.code_counts.pop(0))
                mode = "solution"
                note = self.solution.hidden and self.solution.code_cells > 0
            else:  # the end of a gated exercise or solution
                if name == "solution-end":
                    self.solution = None
                mode = "plain"
        close(mode)
        if note and self.solution is not None:
            out.append(hidden_code_note(self.solution.exercise, self.solution.code_cells,
                                        after_summary=self.solution.pieces > 0,
                                        words=ctx.book.words()))
        return "\n\n".join(out)

    def code(self, cell: dict) -> None:
        join_outputs(cell)
        if self.solution is not None and self.solution.hidden:
            cell.setdefault("metadata", {}).setdefault("jupyter", {}).update(COLLAPSED)


def transform_notebook(nb: dict, page: Page, book: Book) -> dict:
    """The notebook as served to JupyterLite (a new dict; ``nb`` is not changed)."""
    nb = copy.deepcopy(nb)
    parsed = [split_blocks(_source(c)) if c["cell_type"] == "markdown" else None
              for c in nb["cells"]]
    state = _Cells(_Context(book, page), _gated_code_cells(nb["cells"], parsed))
    kept = []
    for cell, blocks in zip(nb["cells"], parsed):
        if cell["cell_type"] == "code":
            state.code(cell)
        elif blocks is not None:
            text = state.markdown(blocks)
            if not text.strip():
                continue  # a cell that held only MyST markers (```{exercise-end}```)
            cell["source"] = text + "\n"
        kept.append(cell)
    if state.solution is not None:
        raise LiteNotebookError(f"{page.docname}: a solution-start without its solution-end")
    nb["cells"] = kept
    return nb


def transform_files(notebooks: Iterable[Path], out_dir: Path, book: Book) -> list[Path]:
    """Write the served copy of each notebook into ``out_dir``, under the same name."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    notebooks = [Path(p) for p in notebooks]
    book.served = {book.page(p).docname: p.name for p in notebooks}
    written = []
    for path in notebooks:
        path = Path(path)
        nb = json.loads(path.read_text(encoding="utf-8"))
        try:
            served = transform_notebook(nb, book.page(path), book)
        except LiteNotebookError as exc:
            raise LiteNotebookError(f"{path.name}: {exc}") from exc
        target = out_dir / path.name
        target.write_text(json.dumps(served, indent=1, ensure_ascii=False) + "\n",
                          encoding="utf-8")
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("src", nargs="?", default=str(ROOT / "book"),
                        help="folder of notebooks (default: book)")
    parser.add_argument("out", nargs="?", default=str(ROOT / "_build" / "lite_notebooks"),
                        help="folder for the served copies (default: _build/lite_notebooks)")
    parser.add_argument("--root", default=str(ROOT), help="the book's root folder")
    parser.add_argument("--toc", default=None, help="table of contents (default: ROOT/_toc.yml)")
    parser.add_argument("--bib", nargs="*", default=None,
                        help="BibTeX files (default: ROOT/book/references.bib)")
    args = parser.parse_args(argv)
    root = Path(args.root)
    bibfiles = ([Path(b) for b in args.bib] if args.bib is not None
                else [root / "book" / "references.bib"])
    book = load_book(root, Path(args.toc) if args.toc else None, bibfiles)
    pages, drafts = book.in_book(sorted(Path(args.src).glob("*.ipynb")))
    try:
        written = transform_files(pages, Path(args.out), book)
    except LiteNotebookError as exc:
        print(f"lite_notebooks: {exc}", file=sys.stderr)
        return 1
    print(f"{len(written)} notebooks written to {args.out}")
    for draft in drafts:
        print(f"not in the table of contents, not served: {draft}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
