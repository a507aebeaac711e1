"""The PDF editions of the book (``make pdf``), and the HTML book's links.

As a Sphinx extension (``_config.yml`` loads it for every build):

* LaTeX builds get the shape of a printed book. The root page
  (``book/intro``) becomes an unnumbered opening chapter; each caption of
  ``_toc.yml`` becomes a ``\\part``; the chapters of a part marked
  ``numbered: true`` are numbered as in the HTML book (chapter 1 is the
  computation graph, its first equation is (1.1)), all others are
  unnumbered, with their equations numbered (1), (2), ... as in the HTML.
  A page "About this PDF edition" after the title page says what a reader
  of the PDF does not get (the code does not run, solutions are not hidden,
  HTML tables are printed as text, links), and a line under the title of
  every chapter made from a notebook names the notebook and says that it
  runs in the HTML edition. Long tables get column widths, long
  derivations printed by the notebooks may break across pages, and an
  equation may carry its own ``\\tag``.
* HTML builds get a "PDF" menu in every page's header linking to
  ``pdf/<edition>.pdf``; the PDFs ``make pdf`` made (``_build/pdf/``) are
  copied there at the end of the build (``make pdf`` also copies them into
  an existing ``_build/html/pdf/``).

As a script, for ``make pdf``::

    python book/_ext/pdf_edition.py editions
    python book/_ext/pdf_edition.py config NAME CONFIG TOC OUT_DIR

``editions`` lists the editions to build (name, config, table of contents).
``config`` writes ``OUT_DIR/_config.yml``, the edition's config for its PDF
build: notebooks are not executed (``execute_notebooks: off``: the PDF
prints the outputs stored in the notebooks, which ``make test`` checks
against a fresh run); the LaTeX settings of the English ``_config.yml``
(its ``latex:`` section and ``latex_*`` keys) are every edition's defaults
(``latex_elements`` merged key by key); local extension paths are made
absolute; the LaTeX file is ``NAME.tex``. It prints the folder to build
from: ``.`` when the table of contents names files from the repository
root (``book/zh/ch1...``), else the folder of the table of contents.
"""

from __future__ import annotations

import re
import shutil
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: The PDF editions: (file name without .pdf, config, table of contents,
#: menu label). One whose two files are missing is not built (the Chinese
#: one, until book/zh exists).
EDITIONS = [
    ("backprop-verified", "_config.yml", "_toc.yml", "English (PDF)"),
    ("backprop-verified-zh", "book/zh/_config.yml", "book/zh/_toc.yml",
     "中文 (PDF)"),
]


def editions(root: Path = ROOT) -> list[tuple[str, Path, Path, str]]:
    """The editions whose config and table of contents exist."""
    return [(name, root / config, root / toc, label)
            for name, config, toc, label in EDITIONS
            if (root / config).is_file() and (root / toc).is_file()]


# ------------------------------------------------------------------ LaTeX

#: The words the PDF adds, by language (``language`` in the config; any
#: language but Chinese gets the English words).
TEXT = {
    "en": {
        "contents": "Contents",
        "about_title": "About this PDF edition",
        "about": r"""
This PDF is printed from the same notebooks as the HTML edition of the
book, with the outputs stored in them when the book was last built:
nothing is re-run to print it. A page cannot do everything the HTML book
does; this is what you lose.
\begin{itemize}
\item \textbf{The code does not run.} In the HTML edition every chapter
opens in your browser (JupyterLite), where you can change the code and run
it again. Here you read the code and the outputs it printed. To run it,
use the HTML edition or the notebooks themselves: the line under each
chapter's title names its notebook.
\item \textbf{Solutions are not hidden.} The HTML edition hides each
solution until you click it. Here every solution is printed in full right
after its exercise: cover it if you want to try the exercise first.
\item \textbf{Tables drawn in HTML are printed as text.} A few outputs
(the verification reports) are coloured tables in the HTML edition; here
they are printed in the plain-text form the notebooks also store, which
says the same.
\item \textbf{Links.} A link between chapters is a link within this PDF,
followed by the page it leads to. The search box, the page navigation and
the downloads are those of the HTML edition only.
\end{itemize}
""",
        "notebook": (r"This chapter is the notebook "
                     r"\sphinxcode{\sphinxupquote{%s}}: its code is printed "
                     r"with the outputs stored in it. In the HTML edition "
                     r"it runs in your browser."),
        "menu": "Download the whole book as PDF",
    },
    "zh": {
        "contents": "目录",
        "about_title": "关于本 PDF 版",
        "about": r"""
本 PDF 与 HTML 版使用同一批 notebook 排印，印出的是构建本书时
存入 notebook 的输出：排印时不重新运行任何代码。纸面做不到
HTML 版能做的一切，与 HTML 版相比，你会失去以下几点。
\begin{itemize}
\item \textbf{代码不能运行。}HTML 版的每一章都可以在浏览器中
打开（JupyterLite），修改代码后重新运行。这里只能读到代码和它
当时的输出。若要运行，请使用 HTML 版或 notebook 本身：每章
标题下的一行注明了对应的 notebook。
\item \textbf{答案不再隐藏。}HTML 版中每个答案在点击之前都是
折叠的。这里每个答案都完整地印在习题之后：如果想先自己做，
请先把它遮住。
\item \textbf{HTML 表格以文本形式印出。}少数输出（验证报告）
在 HTML 版中是彩色表格；这里印的是 notebook 同时保存的纯文本
形式，内容相同。
\item \textbf{链接。}章节之间的链接是本 PDF 内的链接，并注明
所指向的页码。搜索框、页面导航和下载只在 HTML 版中可用。
\end{itemize}
""",
        "notebook": (r"本章即 notebook \sphinxcode{\sphinxupquote{%s}}："
                     r"这里印出它的代码和其中保存的输出。"
                     r"在 HTML 版中，它可以在浏览器中运行。"),
        "menu": "下载整本书的 PDF",
    },
}


def _text(config) -> dict[str, str]:
    chinese = str(config.language or "").startswith("zh")
    return TEXT["zh" if chinese else "en"]


#: LaTeX the structure below relies on (put before the config's preamble).
MACROS = r"""
% ---- pdf_edition.py: parts, numbered and unnumbered chapters ----
\makeatletter
\allowdisplaybreaks % long derivations (align*) break across pages
\newcounter{bpvunnumbered}
\AtBeginDocument{%
  \edef\bpv@secnumdepth{\the\c@secnumdepth}%
  \let\bpv@theequation\theequation \let\bpv@theHequation\theHequation
  \let\bpv@thefigure\thefigure \let\bpv@theHfigure\theHfigure
  \let\bpv@thetable\thetable \let\bpv@theHtable\theHtable
  \let\bpv@theliteralblock\theliteralblock
  \let\bpv@theHliteralblock\theHliteralblock}
% A chapter of a part not numbered in _toc.yml: no number, still in the
% contents; its equations, figures and tables are numbered (1), (2), ...
% as in the HTML book (with hyperlink anchors of their own).
\newcommand\bpvunnumberedchapter{%
  \setcounter{secnumdepth}{-1}%
  \ifx\bpv@chaptermark\@undefined\let\bpv@chaptermark\chaptermark\fi
  \def\chaptermark##1{\markboth{##1}{}}% no stale "Chapter 7" in the foot
  \stepcounter{bpvunnumbered}%
  \setcounter{equation}{0}\setcounter{figure}{0}\setcounter{table}{0}%
  \setcounter{literalblock}{0}%
  \def\theequation{\arabic{equation}}%
  \def\theHequation{u\arabic{bpvunnumbered}.\arabic{equation}}%
  \def\thefigure{\arabic{figure}}%
  \def\theHfigure{u\arabic{bpvunnumbered}.\arabic{figure}}%
  \def\thetable{\arabic{table}}%
  \def\theHtable{u\arabic{bpvunnumbered}.\arabic{table}}%
  \def\theliteralblock{\arabic{literalblock}}%
  \def\theHliteralblock{u\arabic{bpvunnumbered}.\arabic{literalblock}}}
\newcommand\bpvnumberedchapter{%
  \setcounter{secnumdepth}{\bpv@secnumdepth}%
  \ifx\bpv@chaptermark\@undefined\else\let\chaptermark\bpv@chaptermark\fi
  \let\theequation\bpv@theequation \let\theHequation\bpv@theHequation
  \let\thefigure\bpv@thefigure \let\theHfigure\bpv@theHfigure
  \let\thetable\bpv@thetable \let\theHtable\bpv@theHtable
  \let\theliteralblock\bpv@theliteralblock
  \let\theHliteralblock\bpv@theHliteralblock}
% A caption of _toc.yml: an unnumbered part, listed in the contents.
\newcommand\bpvpart[1]{%
  \edef\bpv@saved{\the\c@secnumdepth}\setcounter{secnumdepth}{-2}%
  \part{#1}\setcounter{secnumdepth}{\bpv@saved}}
% The bibliography page has its chapter title: no second heading.
\renewenvironment{sphinxthebibliography}[1]
  {\begingroup\def\chapter*##1{}\begin{thebibliography}{#1}}
  {\end{thebibliography}\endgroup}
% A code block inside a box (an exercise, a solution): Sphinx frames it in
% an unbreakable minipage when it guesses that it fits on the page, but
% inside a box the guess leaves out the box's text above the code, and a
% long block ran into the page foot. Always take Sphinx's other branch
% there: the block has the box's background and breaks across pages.
\RequirePackage{etoolbox}
\patchcmd{\endsphinxVerbatim}
  {\pagetotal+\pagedepth>\pagegoal}{\pagetotal+\pagedepth>-\maxdimen}
  {}{\PackageError{pdf_edition}{cannot patch sphinxVerbatim}{}}
% Marks in the log around code blocks and code-cell outputs: the PDF test
% (tests/test_pdf.py) reads the overfull lines between them.
\AtBeginEnvironment{sphinxVerbatim}{\typeout{<bpv-code>}}
\AtEndEnvironment{sphinxVerbatim}{\typeout{</bpv-code>}}
\AtBeginEnvironment{sphinxclasscell_output}{\typeout{<bpv-code>}}
\AtEndEnvironment{sphinxclasscell_output}{\typeout{</bpv-code>}}
% Under the title of a chapter made from a notebook.
\newcommand\bpvnotebooknote[1]{%
  \par\noindent{\small\itshape\color{black!65}#1\par}\medskip}
\makeatother
"""

#: In a book that is not Chinese, xeCJK must leave Western punctuation to
#: the Western font: it set a curly quote or a dash full width ("node’ s").
WESTERN_PUNCTUATION = r"""
\ifdefined\xeCJKDeclareCharClass
  \xeCJKDeclareCharClass{Default}{"00B7, "2013, "2014, "2015, "2018,
    "2019, "201C, "201D, "2025, "2026, "2027}
\fi
"""

#: A Chinese book numbers its chapters 第 1 章 (heading and page foot).
CHINESE_CHAPTERS = r"""
\makeatletter
\def\@chapapp{第}\def\@chappos{章}
\ifdefined\DOCH
  \renewcommand{\DOCH}{\raggedleft\CNV\FmN{\@chapapp}\space
    \CNoV\thechapter\space\CNV\FmN{\@chappos}\par\nobreak\vskip 40\p@}
\fi
\makeatother
"""


def _latex_preamble(app, config) -> None:
    """Add the macros and the page "About this PDF edition" to the LaTeX."""
    text = _text(config)
    elements = dict(config.latex_elements)
    chinese = text is TEXT["zh"]
    language = CHINESE_CHAPTERS if chinese else WESTERN_PUNCTUATION
    elements["preamble"] = MACROS + language + elements.get("preamble", "")
    about = ("\n% ---- pdf_edition.py: what the PDF does not have ----\n"
             r"\chapter*{" + text["about_title"] + "}\n" + text["about"])
    elements["tableofcontents"] = about + elements.get(
        "tableofcontents", r"\sphinxtableofcontents")
    config.latex_elements = elements


def _builder_inited(app) -> None:
    if app.builder.format == "latex":
        # Sphinx names the contents after the first toctree caption
        # ("Before you start"): call them "Contents", in the book's language.
        contents = _text(app.config)["contents"]
        app.builder.get_contentsname = lambda indexfile: contents


def _raw(latex: str):
    from docutils import nodes

    return nodes.raw("", latex + "\n", format="latex")


def _make_book(app, doctree) -> None:
    """Give the assembled LaTeX doctree the shape of a book (see above)."""
    from docutils import nodes
    from sphinx import addnodes
    from sphinx.util.texescape import escape

    def in_file(node) -> bool:
        while node is not None:
            if isinstance(node, addnodes.start_of_file):
                return True
            node = node.parent
        return False

    root = next(iter(doctree.findall(nodes.section)), None)
    if root is None or in_file(root) or not isinstance(root[0], nodes.title):
        return
    wrappers = [n for n in doctree.findall(nodes.compound)
                if "toctree-wrapper" in n["classes"] and not in_file(n)]

    # The root page: an unnumbered opening chapter with the page's title
    # (the writer takes the root's first title for the book's title page
    # and prints it only there).
    intro = nodes.section("", ids=list(root["ids"]),
                          names=list(root["names"]))
    root["ids"], root["names"] = [], []
    intro += nodes.title("", "", *[c.deepcopy() for c in root[0].children])
    for child in list(root.children[1:]):
        if not any(child is w for w in wrappers):
            root.remove(child)
            intro += child
    root.insert(1, intro)
    root.insert(1, _raw(r"\bpvunnumberedchapter"))

    # A toctree caption is a part; its chapters are numbered as it says.
    site_map = getattr(app.config, "external_site_map", None)
    root_item = None if site_map is None else site_map[app.config.root_doc]
    subtrees = list(root_item.subtrees) if root_item is not None else []
    suffixes = tuple(app.config.source_suffix)

    def docnames(subtree) -> list[str]:
        out = []
        for item in subtree.items:
            name = str(item)
            for suffix in suffixes:
                name = name.removesuffix(suffix)
            out.append(name)
        return out

    text = _text(app.config)
    engine = app.config.latex_engine
    for wrapper in wrappers:
        files = [n for n in wrapper.children
                 if isinstance(n, addnodes.start_of_file)]
        names = [n["docname"] for n in files]
        subtree = next((t for t in subtrees if docnames(t) == names), None)
        numbered = bool(subtree is not None and subtree.numbered)
        if subtree is not None and subtree.caption:
            part = _raw(r"\bpvpart{" + escape(subtree.caption, engine) + "}")
            wrapper.parent.insert(wrapper.parent.index(wrapper), part)
        for sof in files:
            sof.insert(0, _raw(r"\bpvnumberedchapter" if numbered
                               else r"\bpvunnumberedchapter"))
            section = next((c for c in sof.children
                            if isinstance(c, nodes.section)), None)
            source = Path(app.env.doc2path(sof["docname"]))
            if section is None or source.suffix != ".ipynb":
                continue
            try:
                shown = source.relative_to(ROOT).as_posix()
            except ValueError:
                shown = source.name
            note = text["notebook"] % escape(shown, engine)
            section.insert(1, _raw(r"\bpvnotebooknote{" + note + "}"))


def _text_width(text: str) -> int:
    """Width of ``text`` in Latin characters (a CJK character is two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in text)


def _long_table_widths(doctree) -> None:
    """Column widths for long tables.

    Sphinx sets a table of more than 30 rows as a longtable, and one from a
    Markdown table (no widths given) with ``l`` columns, which never wrap:
    the glossary ran off the page. Give each column a share of the line
    from the length of its text instead."""
    from docutils import nodes

    for table in doctree.findall(nodes.table):
        rows = list(table.findall(nodes.row))
        if "colwidths-given" in table["classes"] or len(rows) <= 30:
            continue
        tgroup = next(table.findall(nodes.tgroup), None)
        if tgroup is None:
            continue
        specs = [c for c in tgroup.children if isinstance(c, nodes.colspec)]
        lengths: list[list[int]] = [[] for _ in specs]
        for row in rows:
            entries = [e for e in row.children if isinstance(e, nodes.entry)]
            for column, entry in zip(lengths, entries):
                column.append(_text_width(entry.astext()))
        for spec, column in zip(specs, lengths):
            mean = sum(column) / max(len(column), 1)
            longest = max(column, default=0)
            spec["colwidth"] = max(4, round(mean + (longest - mean) / 2))
        table["classes"] = [c for c in table["classes"]
                            if c != "colwidths-auto"] + ["colwidths-given"]


ALIGNED = re.compile(r"\A\s*\\begin\{aligned\}(.*)\\end\{aligned\}\s*\Z",
                     re.S)


def _breakable_derivations(doctree) -> None:
    """Let a long derivation printed by a notebook go on to the next page.

    The derivations the notebooks display (SymPy's steps, ``text/latex``
    outputs) are one ``aligned`` block each, which Sphinx sets inside
    ``equation*``: it never breaks, and a derivation longer than a page
    ran off its foot. Set it as ``align*`` (with ``\\allowdisplaybreaks``),
    which breaks between lines."""
    from docutils import nodes

    for node in list(doctree.findall(nodes.math_block)):
        if "text_latex" not in node["classes"] or node.get("label"):
            continue
        match = ALIGNED.match(node.astext())
        body = match.group(1) if match else ""
        if not match or (body.count(r"\begin{aligned}")
                         != body.count(r"\end{aligned}")):
            continue
        latex = "\\begin{align*}" + body + "\\end{align*}\n"
        node.replace_self(nodes.math_block(latex, latex, nowrap=True,
                                           classes=node["classes"]))


SPLIT = re.compile(r"\\begin\{split\}(.*?)\\end\{split\}", re.S)
TAG = re.compile(r"\\tag\*?\{[^{}]*\}")


def _tags_outside_split(app, doctree) -> None:
    """Let an equation carry its own ``\\tag{N1}``, as MathJax does.

    Sphinx sets a display equation inside ``split``, where amsmath refuses
    ``\\tag`` (an error that stops xelatex). Move the tag after the
    ``split``, into the ``equation`` around it."""
    from docutils import nodes
    from sphinx.util.math import wrap_displaymath

    def move(match: re.Match) -> str:
        tags = TAG.findall(match.group(1))
        if len(tags) != 1:
            return match.group(0)
        # no blank line may be left behind: it would end the paragraph
        inner = re.sub(r"\n\s*\n", "\n", TAG.sub("", match.group(1)))
        return "\\begin{split}" + inner + "\\end{split}" + tags[0]

    for node in list(doctree.findall(nodes.math_block)):
        if node.get("nowrap") or not TAG.search(node.astext()):
            continue
        label = (f"equation:{node['docname']}:{node['label']}"
                 if node.get("label") else None)
        latex = SPLIT.sub(move, wrap_displaymath(
            node.astext(), label, app.config.math_number_all))
        node.replace_self(nodes.math_block(latex, latex, nowrap=True,
                                           classes=node["classes"]))


def _doctree_resolved(app, doctree, docname) -> None:
    if app.builder.format != "latex" or docname != app.config.root_doc:
        return
    from sphinx import addnodes

    # the whole book, assembled by the LaTeX builder from the root page
    if any(doctree.findall(addnodes.start_of_file)):
        _make_book(app, doctree)
        _long_table_widths(doctree)
        _breakable_derivations(doctree)
        _tags_outside_split(app, doctree)


# ------------------------------------------------------------------- HTML


def _html_links(app, pagename, templatename, context, doctree) -> None:
    """A "PDF" menu in the page header: one link per edition."""
    if app.builder.format != "html" or "header_buttons" not in context:
        return
    pathto = context["pathto"]
    buttons = [{
        "type": "link",
        "url": pathto(f"pdf/{name}.pdf", 1),
        "text": label,
        "tooltip": label,
        "icon": "fas fa-file-pdf",
        "label": f"pdf-{name}",
    } for name, _, _, label in editions()]
    if not buttons:
        return
    menu = _text(app.config)["menu"]
    group = {"type": "group", "tooltip": menu, "icon": "fas fa-book",
             "buttons": buttons, "label": "book-pdf-buttons"}
    header = context["header_buttons"]
    where = next((i for i, b in enumerate(header)
                  if b.get("label") == "download-buttons"), len(header))
    header.insert(where, group)


def _copy_pdfs(app, exception) -> None:
    """Put the PDFs ``make pdf`` made where the header links point."""
    if exception is not None or app.builder.format != "html":
        return
    for name, *_ in editions():
        pdf = ROOT / "_build" / "pdf" / f"{name}.pdf"
        if pdf.is_file():
            target = Path(app.outdir) / "pdf"
            target.mkdir(exist_ok=True)
            shutil.copy2(pdf, target / pdf.name)


def setup(app):
    app.connect("config-inited", _latex_preamble)
    app.connect("builder-inited", _builder_inited)
    app.connect("doctree-resolved", _doctree_resolved)
    app.connect("html-page-context", _html_links, priority=502)
    app.connect("build-finished", _copy_pdfs)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


# --------------------------------------------------------------- make pdf


def _absolute_extensions(config: dict, folder: Path) -> None:
    local = (config.get("sphinx") or {}).get("local_extensions") or {}
    for name, path in list(local.items()):
        local[name] = str((folder / path).resolve())


def pdf_config(name: str, edition_config: Path, toc: Path, out_dir: Path,
               english_config: Path = ROOT / "_config.yml") -> Path:
    """Write ``out_dir/_config.yml`` for the PDF build of one edition (see
    above) and return the folder to build from."""
    import yaml

    def load(path: Path) -> dict:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}

    config, english = load(edition_config), load(english_config)
    _absolute_extensions(config, edition_config.parent)
    _absolute_extensions(english, english_config.parent)

    # The LaTeX settings of the English book are every edition's defaults.
    latex = config.setdefault("latex", {})
    for key, value in (english.get("latex") or {}).items():
        latex.setdefault(key, value)
    sphinx = config.setdefault("sphinx", {})
    settings = sphinx.setdefault("config", {})
    for key, value in ((english.get("sphinx") or {}).get("config")
                       or {}).items():
        if not key.startswith("latex_"):
            continue
        if isinstance(value, dict) and isinstance(settings.get(key), dict):
            settings[key] = {**value, **settings[key]}
        else:
            settings.setdefault(key, value)
    sphinx.setdefault("local_extensions", {}).setdefault(
        "pdf_edition", str(Path(__file__).resolve().parent))

    # Print the outputs stored in the notebooks: never execute for the PDF.
    config.setdefault("execute", {})["execute_notebooks"] = "off"
    latex.setdefault("latex_documents", {})["targetname"] = f"{name}.tex"

    out_dir.mkdir(parents=True, exist_ok=True)
    header = (f"# Written by book/_ext/pdf_edition.py for `make pdf` from\n"
              f"# {edition_config}: edit that file, not this one.\n")
    dump = yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
    (out_dir / "_config.yml").write_text(header + dump, encoding="utf-8")

    # The files of a table of contents are relative to the source folder.
    root_doc = str(load(toc).get("root", ""))
    for folder in (ROOT, toc.parent):
        if any((folder / (root_doc + suffix)).is_file()
               for suffix in ("", ".md", ".ipynb", ".rst")):
            return folder
    return ROOT


def main(argv: list[str]) -> int:
    if argv[1:2] == ["config"] and len(argv) == 6:
        name, config, toc, out_dir = argv[2:]
        source = pdf_config(name, Path(config).resolve(),
                            Path(toc).resolve(), Path(out_dir))
        print(source.relative_to(ROOT).as_posix() if source != ROOT else ".")
        return 0
    if argv[1:] == ["editions"]:
        for name, config, toc, _ in editions():
            print(name, config.relative_to(ROOT), toc.relative_to(ROOT))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
