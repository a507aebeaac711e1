"""The notebooks served to JupyterLite (scripts/lite_notebooks.py): MyST made to read as the HTML.

Unit tests on small made-up books (a table of contents, pages, a bibliography in tmp_path), then
the real book's notebooks transformed as the build serves them. That the numbers match the built
HTML, and that the copies read well in JupyterLite, is checked against a real build in
tests/test_browser_lite.py.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("lite_notebooks",
                                              ROOT / "scripts" / "lite_notebooks.py")
ln = importlib.util.module_from_spec(spec)
sys.modules["lite_notebooks"] = ln  # its dataclasses look their module up
spec.loader.exec_module(ln)

BIB = """
@article{rumelhart1986learning,
  author = {Rumelhart, David E. and Hinton, Geoffrey E. and Williams, Ronald J.},
  title = {Learning representations by back-propagating errors},
  journal = {Nature}, year = {1986}
}
@book{saito2016deep, author = {Saito, Koki}, title = {Deep Learning from Scratch}, year = {2016}}
@inproceedings{glorot2010understanding,
  author = {Glorot, Xavier and Bengio, Yoshua}, title = {Understanding}, year = {2010}
}
"""

TOC = """
format: jb-book
root: book/intro
parts:
  - caption: Before you start
    chapters:
      - file: book/notation
  - caption: Foundations
    numbered: true
    chapters:
      - file: book/ch1
      - file: book/ch2
  - caption: Appendices
    chapters:
      - file: book/appendix
"""


CELL_IDS = itertools.count()


def md(text: str) -> dict:
    return {"cell_type": "markdown", "id": f"c{next(CELL_IDS)}", "metadata": {},
            "source": text}


def code(source: str, outputs=(), **metadata) -> dict:
    return {"cell_type": "code", "id": f"c{next(CELL_IDS)}", "metadata": dict(metadata),
            "execution_count": None, "outputs": list(outputs), "source": source}


def notebook(*cells) -> dict:
    return {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def make_book(tmp_path: Path, pages: dict[str, object], toc: str = TOC):
    """Write a book: ``pages`` maps a docname to markdown text (a .md page) or a notebook."""
    (tmp_path / "_toc.yml").write_text(toc)
    (tmp_path / "refs.bib").write_text(BIB)
    defaults = {"book/intro": "# Intro\n", "book/notation": "# Notation\n",
                "book/ch1": notebook(md("# One\n")), "book/ch2": notebook(md("# Two\n")),
                "book/appendix": notebook(md("# Appendix\n"))}
    for docname, page in {**defaults, **pages}.items():
        suffix = ".md" if isinstance(page, str) else ".ipynb"
        path = tmp_path / f"{docname}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page if isinstance(page, str) else json.dumps(page))
    return ln.load_book(tmp_path, tmp_path / "_toc.yml", [tmp_path / "refs.bib"])


def served(tmp_path: Path, docname: str, book) -> dict:
    path = tmp_path / f"{docname}.ipynb"
    nb = json.loads(path.read_text())
    return ln.transform_notebook(nb, book.page(path), book)


def markdown_of(nb: dict) -> list[str]:
    return [c["source"] for c in nb["cells"] if c["cell_type"] == "markdown"]


# ------------------------------------------------------------------ MyST blocks


def test_fences_nest_by_length_and_options_are_read():
    text = ("Before.\n\n````{solution} ex-1\n:class: dropdown\n:label: sol\n\nText.\n\n"
            "```python\nprint(1)\n```\n````\n\n:::{note}\nColons.\n:::\n\n```python\n"
            "x = {eq}`not-a-role`\n```\nAfter.\n")
    blocks = ln.split_blocks(text)
    assert blocks[0] == "Before.\n\n"
    solution = blocks[1]
    assert (solution.name, solution.arg) == ("solution", "ex-1")
    assert solution.options == {"class": "dropdown", "label": "sol"}
    assert solution.body == "Text.\n\n```python\nprint(1)\n```"
    assert blocks[3].name == "note" and blocks[3].body == "Colons."
    assert isinstance(blocks[5], ln.Verbatim) and "{eq}`not-a-role`" in blocks[5].text
    assert blocks[6] == "After.\n"


def test_display_math_pairs_dollars_and_finds_labels():
    text = "$$ a $$ and\n$$\nb\n$$ (eq-b)\n\n$$c$$"
    spans = list(ln.display_math(text))
    assert [label for *_, label in spans] == [None, "eq-b", None]


# ------------------------------------------------------------------ numbers


def test_numbers_follow_the_table_of_contents(tmp_path):
    """Chapters of the numbered part are 1, 2; their equations and exercises 1.1, 1.2, ...;
    pages outside it share one counter, from the root on (as Sphinx counts)."""
    book = make_book(tmp_path, {
        "book/notation": "# Notation\n\n```{math}\n:label: eq-n1\nx\n```\n\n"
                         "$$ y $$ (eq-n2)\n\n```{exercise}\n:label: ex-n\nQ\n```\n",
        "book/ch1": notebook(md("# One\n\n$$ a $$\n\n$$ b $$ (eq-1a)\n"),
                             md("$$\nc\n$$ (eq-1b)\n\n```{exercise}\n:label: ex-1a\nQ\n```"),
                             md("```{exercise-start} Gated\n:label: ex-1b\n```\nQ\n"),
                             md("```{exercise-end}\n```")),
        "book/ch2": notebook(md("# Two\n\n$$ d $$ (eq-2a)\n\n```{exercise}\n:label: ex-2a\n"
                                ":nonumber:\nQ\n```\n\n```{exercise} Titled\n:label: ex-2b\n"
                                "Q\n```\n")),
        "book/appendix": notebook(md("# Appendix\n\n$$ e $$ (eq-app)\n")),
    })
    assert book.pages["book/ch1"].secnum == (1,) and book.pages["book/ch2"].secnum == (2,)
    assert book.pages["book/notation"].secnum == () == book.pages["book/appendix"].secnum
    assert book.equations == {"eq-n1": "1", "eq-n2": "2", "eq-1a": "1.1", "eq-1b": "1.2",
                              "eq-2a": "2.1", "eq-app": "3"}
    numbers = {label: (e.number, e.title) for label, e in book.exercises.items()}
    assert numbers == {"ex-n": ("1", ""), "ex-1a": ("1.1", ""), "ex-1b": ("1.2", "Gated"),
                       "ex-2a": (None, ""), "ex-2b": ("2.1", "Titled")}
    assert book.pages["book/ch1"].title == "One"


def test_multitoc_numbering_continues_across_numbered_parts(tmp_path):
    toc = TOC.replace("  - caption: Appendices\n", "  - caption: More\n    numbered: true\n")
    book = make_book(tmp_path, {}, toc)
    assert book.pages["book/appendix"].secnum == (3,)
    restarted = ln.load_book(tmp_path, tmp_path / "_toc.yml", multitoc=False)
    assert restarted.pages["book/appendix"].secnum == (1,)


# ------------------------------------------------------------------ markdown


def test_roles_become_what_the_book_prints(tmp_path):
    book = make_book(tmp_path, {
        "book/ch1": notebook(md(
            "# One\n\n$$ a $$ (eq-A)\n\nSee {doc}`ch2`, {doc}`the notation </book/notation>`, "
            "{eq}`eq-A`, {cite}`rumelhart1986learning`, {cite:p}`saito2016deep`, "
            "{cite:t}`glorot2010understanding`, {cite}`saito2016deep,glorot2010understanding`,"
            " {math}`x^2`, {py:func}`~bpcore.check`, {term}`gradient` and `{eq}` in code.\n"))})
    text = markdown_of(served(tmp_path, "book/ch1", book))[0]
    # several keys are listed in the bibliography's order (author, year, title), as the HTML
    # lists them
    assert ("See *Two*, *the notation*, (1.1), [Rumelhart *et al.*, 1986], [Saito, 2016], "
            "Glorot and Bengio [2010], [Glorot and Bengio, 2010, Saito, 2016], $x^2$, "
            "`check`, gradient and `{eq}` in code.") in text


@pytest.mark.parametrize("source, error", [
    ("{doc}`nowhere`", "names no page"),
    ("{eq}`eq-unknown`", "no equation is labelled"),
    ("{cite}`nobody2000`", "not in the bibliography"),
    ("```{solution} ex-unknown\nA\n```", "no exercise's label"),
])
def test_an_unknown_reference_is_an_error(tmp_path, source, error):
    book = make_book(tmp_path, {"book/ch1": notebook(md(f"# One\n\n{source}\n"))})
    with pytest.raises(ln.LiteNotebookError, match=error):
        served(tmp_path, "book/ch1", book)


def test_a_labelled_equation_shows_its_number_and_no_label(tmp_path):
    book = make_book(tmp_path, {"book/ch1": notebook(md(
        "# One\n\n$$\nz = x + y\n$$ (eq-sum)\n\nand $$ w = 2 $$ (eq-w) inline, $$ u $$ plain."
        "\n\n```{math}\n:label: eq-m\nv = 1\n```\n"))})
    text = markdown_of(served(tmp_path, "book/ch1", book))[0]
    assert "$$\nz = x + y\n\\tag{1.1}\n$$" in text
    assert "$$ w = 2 \\tag{1.2} $$ inline, $$ u $$ plain." in text
    assert "$$\nv = 1 \\tag{1.3}\n$$" in text
    assert "(eq-" not in text and ":label:" not in text


def test_myst_only_lines_are_removed(tmp_path):
    book = make_book(tmp_path, {"book/ch1": notebook(md(
        "(sec-one)=\n# One\n\n% a comment\n+++\nText.\n\n$$\na % TeX comment stays\n$$\n"))})
    text = markdown_of(served(tmp_path, "book/ch1", book))[0]
    assert "(sec-one)=" not in text and "a comment" not in text and "+++" not in text
    assert text.startswith("# One") and "a % TeX comment stays" in text


def test_exercise_is_a_numbered_box_and_its_solution_a_closed_details(tmp_path):
    book = make_book(tmp_path, {"book/ch1": notebook(md(
        "# One\n\n```{exercise} Fan-out\n:label: ex-a\n\nWhy {eq}`eq-a`?\n\n$$ a $$ (eq-a)\n```"
        "\n\n````{solution} ex-a\n:class: dropdown\n\nBecause.\n\n```python\nx = 1\n```\n````"
        "\n\n```{exercise}\n:label: ex-b\n:nonumber:\nAnd?\n```\n\n```{solution} ex-b\nOpen."
        "\n```\n"))})
    text = markdown_of(served(tmp_path, "book/ch1", book))[0]
    assert ('<div class="alert alert-info">\n\n**Exercise 1.1** (Fan-out)\n\nWhy (1.1)?\n\n'
            "$$ a \\tag{1.1} $$\n\n</div>") in text
    assert ("<details>\n<summary><b>Solution to Exercise 1.1 (Fan-out)</b></summary>\n\n"
            "Because.\n\n"
            "```python\nx = 1\n```\n\n</details>") in text
    # no number with :nonumber:; a solution without the dropdown class is shown open
    assert "**Exercise**\n\nAnd?" in text
    assert "<details open>\n<summary><b>Solution to Exercise</b></summary>\n\nOpen." in text
    for myst in ("```{", ":label:", ":class:", "{eq}"):
        assert myst not in text


def test_admonitions_and_other_directives(tmp_path):
    book = make_book(tmp_path, {"book/ch1": notebook(md(
        "# One\n\n```{note}\nMind $x$.\n```\n\n```{admonition} Careful\nReally.\n```\n\n"
        "```{eval-rst}\nSee :func:`bpcore.check` and :math:`x^2`.\n```\n\n"
        "```{code-block} python\nprint(2)\n```\n"))})
    text = markdown_of(served(tmp_path, "book/ch1", book))[0]
    assert "<blockquote>\n\n**Note**\n\nMind $x$.\n\n</blockquote>" in text
    assert "<blockquote>\n\n**Careful**\n\nReally.\n\n</blockquote>" in text
    assert "See `bpcore.check` and $x^2$." in text
    assert "```python\nprint(2)\n```" in text


# ------------------------------------------------------------------ gated exercises, cells


def gated_notebook() -> dict:
    return notebook(
        md("# One\n\n## Write it yourself\n\n```{exercise-start} The node\n:label: ex-w\n```\n\n"
           "Fix the class below."),
        code("class A: ...", tags=["write-it-yourself"]),
        md("```{exercise-end}\n```"),
        md("```{solution-start} ex-w\n:class: dropdown\n```\n\nThe fix:"),
        code("class A:\n    fixed = True", [{"output_type": "stream", "name": "stdout",
                                              "text": ["ok\n", "ok\n"]}], tags=["solution"]),
        md("Also, see this.\n\n```{solution-end}\n```\n\n```{exercise}\n:label: ex-x\nNext.\n"
           "```"),
        code("print('after')"),
    )


def test_gated_exercise_and_solution_span_cells(tmp_path):
    book = make_book(tmp_path, {"book/ch1": gated_notebook()})
    nb = served(tmp_path, "book/ch1", book)
    kinds = [c["cell_type"] for c in nb["cells"]]
    assert kinds == ["markdown", "code", "markdown", "code", "markdown", "code"], \
        "the cell holding only {exercise-end} is dropped, nothing else"
    head, task, solution_md, solution, after_md, after = nb["cells"]
    assert ('<div class="alert alert-info">\n\n**Exercise 1.1** (The node)\n\n'
            "Fix the class below.\n\n</div>") in head["source"]
    assert "jupyter" not in task["metadata"] and task["metadata"]["tags"] == ["write-it-yourself"]
    assert solution_md["source"].startswith(
        "<details>\n<summary><b>Solution to Exercise 1.1 (The node)</b></summary>\n\n"
        "The fix:\n\n</details>")
    assert solution_md["source"].endswith(
        "</details>\n\n*Its code is in the collapsed cell below: click the cell to show it.*\n")
    assert solution["metadata"] == {"tags": ["solution"], "jupyter": ln.COLLAPSED}
    assert solution["source"] == "class A:\n    fixed = True"
    assert solution["outputs"][0]["text"] == "ok\nok\n"
    assert after_md["source"].startswith(
        "<details>\n<summary><b>Solution to Exercise 1.1 (The node), continued</b>"
        "</summary>\n\n"
        "Also, see this.\n\n</details>\n\n<div class=\"alert alert-info\">\n\n**Exercise 1.2**")
    assert "jupyter" not in after["metadata"], "the code after the solution is shown"


def test_a_gated_solution_without_prose_says_where_its_code_is(tmp_path):
    nb = gated_notebook()
    nb["cells"][3]["source"] = "```{solution-start} ex-w\n:class: dropdown\n```\n"
    book = make_book(tmp_path, {"book/ch1": nb})
    note = served(tmp_path, "book/ch1", book)["cells"][2]["source"]
    assert note == ("*The solution to Exercise 1.1 (The node) is in the collapsed cell below: "
                    "click the cell to show it.*\n")


def test_an_unclosed_gated_solution_is_an_error(tmp_path):
    nb = gated_notebook()
    nb["cells"] = nb["cells"][:5]
    book = make_book(tmp_path, {"book/ch1": nb})
    with pytest.raises(ln.LiteNotebookError, match="without its solution-end"):
        served(tmp_path, "book/ch1", book)


def test_a_page_served_beside_links_to_its_notebook(tmp_path):
    """JupyterLite opens a link to a served notebook in a new tab; other pages are named."""
    book = make_book(tmp_path, {"book/ch1": notebook(md(
        "# One\n\nSee {doc}`ch2`, {doc}`chapter two <ch2>` and {doc}`notation`.\n"))})
    out = tmp_path / "served"
    ln.transform_files([tmp_path / "book/ch1.ipynb", tmp_path / "book/ch2.ipynb"], out, book)
    text = json.loads((out / "ch1.ipynb").read_text())["cells"][0]["source"]
    assert "See [Two](ch2.ipynb), [chapter two](ch2.ipynb) and *Notation*." in text


def test_outputs_are_strings_and_code_is_unchanged(tmp_path):
    outputs = [{"output_type": "stream", "name": "stdout", "text": ["p ok\n", "q ok\n"]},
               {"output_type": "execute_result", "execution_count": 1, "metadata": {},
                "data": {"text/plain": ["a\n", "b"], "text/html": ["<b>", "</b>"],
                         "application/json": {"k": ["x", "y"]}}}]
    original = notebook(md("# One\n"), code(["x = 1\n", "x"], outputs, tags=["t"]))
    book = make_book(tmp_path, {"book/ch1": original})
    nb = served(tmp_path, "book/ch1", book)
    cell = nb["cells"][1]
    assert cell["source"] == ["x = 1\n", "x"] and cell["metadata"] == {"tags": ["t"]}
    assert cell["outputs"][0]["text"] == "p ok\nq ok\n"
    assert cell["outputs"][1]["data"] == {"text/plain": "a\nb", "text/html": "<b></b>",
                                          "application/json": {"k": ["x", "y"]}}
    assert original["cells"][1]["outputs"][0]["text"] == ["p ok\n", "q ok\n"], \
        "the source notebook is not changed"
    nbformat.validate(nbformat.from_dict(nb))


# ------------------------------------------------------------------ the book's notebooks

MYST_NOISE = ("{doc}", "{eq}", "{cite", ":label:", ":class: dropdown", "```{", ":::{")


@pytest.fixture(scope="module")
def served_book(tmp_path_factory):
    out = tmp_path_factory.mktemp("lite_notebooks")
    assert ln.main(["--root", str(ROOT), str(ROOT / "book"), str(out)]) == 0
    return {p.name: json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(out.glob("*.ipynb"))}


def test_a_notebook_outside_the_table_of_contents_is_not_served(tmp_path):
    book = make_book(tmp_path, {"book/draft": notebook(md("# Draft\n"))})
    pages, drafts = book.in_book(sorted((tmp_path / "book").glob("*.ipynb")))
    assert [p.name for p in pages] == ["appendix.ipynb", "ch1.ipynb", "ch2.ipynb"]
    assert [p.name for p in drafts] == ["draft.ipynb"]


def test_every_notebook_of_the_book_is_served(served_book):
    """Every notebook the table of contents lists (a draft it does not list is left out)."""
    book = ln.load_book(ROOT)
    pages, _ = book.in_book((ROOT / "book").glob("*.ipynb"))
    assert sorted(served_book) == sorted(p.name for p in pages)
    for name, nb in served_book.items():
        nbformat.validate(nbformat.from_dict(nb))
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown":
                for noise in MYST_NOISE:
                    assert noise not in cell["source"], f"{name}: {noise!r} in\n{cell['source']}"
            for output in cell.get("outputs", []):
                assert not isinstance(output.get("text", ""), list), f"{name}: a list stream"


def test_code_cells_are_served_as_written(served_book):
    """Same code, same outputs (as text); only the collapsed metadata of gated solutions."""
    for name, nb in served_book.items():
        original = json.loads((ROOT / "book" / name).read_text(encoding="utf-8"))
        before = [c for c in original["cells"] if c["cell_type"] == "code"]
        after = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert [c["source"] for c in before] == [c["source"] for c in after], name
        for old, new in zip(before, after):
            meta = {k: v for k, v in new["metadata"].items() if k != "jupyter"}
            assert meta == old["metadata"], name
            ln.join_outputs(old)
            assert old["outputs"] == new["outputs"], name


def test_the_write_it_yourself_solutions_are_collapsed(served_book):
    """Every code cell tagged ``solution`` is collapsed, and the tagged exercise cells are not
    (read from the notebooks, whichever chapters have them)."""
    tagged = {"solution": 0, "write-it-yourself": 0}
    for nb in served_book.values():
        for cell in nb["cells"]:
            tags = cell["metadata"].get("tags", [])
            if "solution" in tags:
                assert cell["metadata"]["jupyter"] == ln.COLLAPSED
                tagged["solution"] += 1
            if "write-it-yourself" in tags:
                assert "jupyter" not in cell["metadata"]
                tagged["write-it-yourself"] += 1
    assert tagged["solution"] >= 1 and tagged["write-it-yourself"] >= 1, tagged
