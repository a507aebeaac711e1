"""The book in the reader's browser: a chapter runs in JupyterLite, offline.

The built book (fixture ``built_book``, tests/conftest.py) is served on 127.0.0.1. Headless
Chromium opens chapter 1's notebook in JupyterLite the way a reader does, from the chapter
page's "Run this notebook in your browser" link, with every other address out of reach: host
names do not resolve, and anything not for 127.0.0.1 goes to a proxy of ours that records the
request and refuses it. The test clears the stored outputs, runs every cell in the Pyodide
kernel, reads the apple example's price and gradients from the page, then changes the price of
an apple, re-runs that cell and reads the new gradients, as the book invites the reader to.
Chromium is driven over the DevTools protocol (``websocket-client``).
"""

from __future__ import annotations

import importlib.util
import json
import re
import time
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser import Browser, TrapProxy, serve

import bpcore

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("lite_assets", ROOT / "scripts" / "lite_assets.py")
lite_assets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lite_assets)

NOTEBOOK = "ch1_computation_graph.ipynb"
CHAPTER_PAGE = "book/ch1_computation_graph.html"
KERNEL_TIMEOUT = 180  # s: Pyodide, numpy and IPython load from the local server
RUN_TIMEOUT = 300  # s: every cell of chapter 1 (sympy derivations, matplotlib figures)

# In the page: the notebook panel, its cells' text outputs, errors, and the kernel's state.
PANEL = "window.jupyterapp && window.jupyterapp.shell.currentWidget"
NOTEBOOK_STATE = """(() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = panel.content.widgets.filter(c => c.model.type === 'code');
  return {
    kernel: panel.sessionContext.session && panel.sessionContext.session.kernel
      ? panel.sessionContext.session.kernel.name + ':' + panel.sessionContext.kernelDisplayStatus
      : 'none',
    counts: cells.map(c => c.model.executionCount),
    outputs: cells.map(c => c.model.outputs.toJSON()),
  };
})()"""


def cell_text(cell_outputs: list[dict]) -> str:
    """The text of a code cell's outputs (streams, errors, text/plain), as one string."""
    parts = []
    for out in cell_outputs:
        if out["output_type"] == "stream":
            parts.append(out["text"])
        elif out["output_type"] == "error":
            parts.append(f"{out['ename']}: {out['evalue']}")
        else:
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "".join("".join(p) if isinstance(p, list) else p for p in parts)


def open_notebook(browser: Browser, url: str, notebook: str) -> float:
    """Open ``notebook`` in JupyterLite at ``url`` and wait for its kernel; return the seconds
    the kernel took to start."""
    browser.call("Page.navigate", url=url)
    browser.wait_for(f"!!({PANEL} && {PANEL}.context && {PANEL}.context.path === "
                     f"'{notebook}')", 120, f"JupyterLite to open {notebook}")
    started = time.monotonic()
    browser.wait_for(f"(() => {{ const k = {PANEL}.sessionContext; return !!(k.session "
                     "&& k.session.kernel && k.kernelDisplayStatus === 'idle'); })()",
                     KERNEL_TIMEOUT, "the Pyodide kernel to start")
    return time.monotonic() - started


def run_all_cells(browser: Browser, url: str, notebook: str) -> dict:
    """Open ``notebook`` in JupyterLite at ``url``, wait for the kernel, clear the stored
    outputs (so that every output read afterwards was computed in the browser), run every
    cell and return the notebook's state (see NOTEBOOK_STATE) with the seconds taken."""
    kernel_seconds = open_notebook(browser, url, notebook)
    browser.js("window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
    assert not any(browser.js(NOTEBOOK_STATE)["outputs"]), "stored outputs not cleared"
    started = time.monotonic()
    browser.js("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    # done when every cell has run, or one failed (run-all stops there)
    state = browser.wait_for(
        f"(() => {{ const s = {NOTEBOOK_STATE}; const k = {PANEL}.sessionContext;"
        " const failed = s.outputs.some(o => o.some(x => x.output_type === 'error'));"
        " return (failed || s.counts.every(n => n !== null))"
        " && k.kernelDisplayStatus === 'idle' ? s : null; })()",
        RUN_TIMEOUT, f"every cell of {notebook} to run")
    return {**state, "kernel_seconds": kernel_seconds,
            "run_seconds": time.monotonic() - started}


def run_chapter_in_lite(html: Path, chromium: list[str], profile: Path) -> dict:
    """Open chapter 1 in JupyterLite from its page's link, run it, edit and re-run a cell."""
    trap = TrapProxy()
    served: list[str] = []
    browser = None
    try:
        with serve(html, served) as url:
            browser = Browser(chromium, profile, trap.port)
            # the reader's way in: the link under the chapter's title
            browser.call("Page.navigate", url=f"{url}/{CHAPTER_PAGE}")
            href = browser.wait_for(
                "(document.querySelector('p.run-in-browser a') || {}).href", 60,
                "the 'Run this notebook in your browser' link on the chapter page")
            assert href.endswith(f"/lite/notebooks/index.html?path={NOTEBOOK}"), href
            state = run_all_cells(browser, href, NOTEBOOK)

            # the reader changes the price of an apple and re-runs the gradient cell
            index = browser.js(f"""(async () => {{
              const panel = {PANEL};
              const i = panel.content.widgets.findIndex(c => c.model.type === 'code' &&
                  c.model.sharedModel.getSource().includes('price.backward()'));
              const source = panel.content.widgets[i].model.sharedModel;
              source.setSource(source.getSource().replace('Value(100.0, "apple")',
                                                          'Value(150.0, "apple")'));
              panel.content.activeCellIndex = i;
              await window.jupyterapp.commands.execute('notebook:run-cell');
              return i;
            }})()""")
            # the cell's outputs, and the text the page shows for them
            edited = browser.wait_for(
                f"(() => {{ const cell = {PANEL}.content.widgets[{index}];"
                " const out = cell.model.outputs.toJSON();"
                " const text = cell.outputArea.node.innerText;"
                " return text.includes('apple count') && !text.includes('110.00')"
                " ? [out, text] : null; })()", 60, "the edited cell's new gradients")
            return {"state": state, "edited_outputs": edited[0], "edited_shown": edited[1],
                    "trapped": list(trap.requests), "served": served,
                    "console": list(browser.console)}
    finally:
        if browser is not None:
            browser.close()
        trap.close()


@pytest.fixture(scope="module")
def lite_run(built_book, chromium, tmp_path_factory):
    returncode, log, html = built_book
    assert (html / "lite" / "notebooks" / "index.html").is_file(), (
        "the build has no JupyterLite site in _build/html/lite:\n" + log[-3000:])
    started = time.monotonic()
    result = run_chapter_in_lite(html, chromium, tmp_path_factory.mktemp("chromium-lite"))
    result["seconds"] = time.monotonic() - started
    state = result["state"]
    print(f"\nJupyterLite: kernel ready in {state['kernel_seconds']:.0f} s, chapter 1 ran "
          f"in {state['run_seconds']:.0f} s, {result['seconds']:.0f} s in all")
    return result


def test_notebook_runs_in_browser_lite(lite_run):
    """Chapter 1 runs in JupyterLite with no errors and prints the apple example's numbers."""
    state = lite_run["state"]
    assert state["kernel"].startswith("python:"), state["kernel"]
    errors = [f"cell {i}: {cell_text(out)}" for i, out in enumerate(state["outputs"])
              if any(o["output_type"] == "error" for o in out)]
    assert not errors, "cells failed in the browser:\n" + "\n".join(errors)
    printed = "\n".join(cell_text(out) for out in state["outputs"])
    assert "total price: 220.0" in printed, printed[:3000]
    for line in ("d price / d apple        =     2.20",
                 "d price / d apple count  =   110.00",
                 "d price / d tax          =   200.00"):
        assert line in printed, f"{line!r} not in the outputs:\n{printed[:3000]}"
    # figures are drawn (matplotlib in the browser)
    assert any(o.get("data", {}).get("image/png") for out in state["outputs"] for o in out)


def test_edited_cell_reruns_in_browser_lite(lite_run):
    """An apple at 150 instead of 100: d price / d count becomes 150 * 1.1 = 165."""
    text = cell_text(lite_run["edited_outputs"])
    shown = lite_run["edited_shown"]  # what the page shows under the cell
    for line in ("d price / d apple        =     2.20",
                 "d price / d apple count  =   165.00",
                 "d price / d tax          =   300.00"):
        assert line in text, f"{line!r} not in the edited cell's output:\n{text}"
        assert line in shown, f"{line!r} not shown under the edited cell:\n{shown}"


# Chromium's own calls home, made with or without a page (checked on about:blank); every
# other request that reached the trap proxy came from the book.
CHROMIUM_OWN = {"accounts.google.com", "update.googleapis.com"}


def trapped_host(request_line: str) -> str:
    target = request_line.split()[1]  # CONNECT host:443 | GET http://host/path
    return urlsplit(target if "://" in target else f"//{target}").hostname


def test_lite_fetches_nothing_from_the_network(lite_run):
    """Every file came from the book's server; nothing the book asked for left 127.0.0.1."""
    outside = [r for r in lite_run["trapped"] if trapped_host(r) not in CHROMIUM_OWN]
    assert not outside, "the book asked for other hosts:\n" + "\n".join(outside)
    served = {p.split("?")[0] for p in lite_run["served"]}
    for needed in ("pyodide.asm.wasm", "numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl",
                   "sympy-1.14.0-py3-none-any.whl",
                   f"bpcore-{bpcore.__version__}-py3-none-any.whl"):
        assert f"/lite/static/pyodide/{needed}" in served, f"{needed} was not loaded"


def test_no_font_cache_notice_in_browser_lite(lite_run):
    """matplotlib's "building the font cache" notice is not shown (the kernel's start-up module,
    scripts/lite_assets.py), though chapter 1's first cell imports matplotlib in a kernel that
    has no font cache; nothing else went to stderr there."""
    outputs = lite_run["state"]["outputs"]
    assert not [o for o in outputs[0] if o.get("name") == "stderr"], outputs[0]
    printed = "\n".join(cell_text(out) for out in outputs)
    assert "font cache" not in printed


# --------------------------------------------------------------------------- served notebooks

#: MyST that must not reach a reader of the served notebooks' markdown.
MYST_NOISE = ("{doc}", "{eq}", "{cite", ":label:", ":class: dropdown", "```{", ":::{")


def served_notebooks(html: Path) -> dict[str, dict]:
    """The notebooks JupyterLite serves (its contents, ``lite/files``), by file name."""
    return {p.name: json.loads(p.read_text(encoding="utf-8"))
            for p in sorted((html / "lite" / "files").glob("*.ipynb"))}


def source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_served_notebooks_carry_no_myst_lite(built_book):
    """Every notebook page of the book is served, its markdown free of MyST's syntax and its
    stored stream outputs strings (a list of lines shows in JupyterLite with a comma per
    line)."""
    html = built_book[2]
    notebooks = served_notebooks(html)
    pages = [p.name for p in (ROOT / "book").glob("*.ipynb")
             if (html / "book" / p.name).with_suffix(".html").is_file()]
    assert sorted(notebooks) == sorted(pages)
    for name, nb in notebooks.items():
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown":
                text = source(cell)
                found = [noise for noise in MYST_NOISE if noise in text]
                assert not found, f"{name}: {found} in a markdown cell:\n{text}"
            for output in cell.get("outputs", []):
                assert not isinstance(output.get("text", ""), list), f"{name}: {output}"


def html_text(fragment: str) -> str:
    text = unescape(re.sub(r"<[^>]+>", "", fragment))
    return re.sub(r"\s+", " ", text).replace("\u2019", "'").strip()


def test_served_numbers_are_the_html_books_lite(built_book):
    """The served notebooks number exercises, solutions and equations as the HTML pages do,
    and cite as they do."""
    html_dir = built_book[2]
    for name, nb in served_notebooks(html_dir).items():
        page = (html_dir / "book" / name).with_suffix(".html").read_text(encoding="utf-8")
        titles = [html_text(t) for t in re.findall(
            r'<p class="admonition-title">(.*?)</p>', page, re.S)]
        markdown = "\n".join(source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
        exercises = [f"{a} ({b})" if b else a for a, b in re.findall(
            r"\*\*(Exercise[^*]*)\*\*(?: \(([^)\n]*)\))?", markdown)]
        assert exercises == [t for t in titles if t.startswith("Exercise")], name
        solutions = [t for t in re.findall(r"<summary><b>(.*?)</b></summary>", markdown)
                     if not t.endswith(", continued")]
        assert solutions == [t for t in titles if t.startswith("Solution")], name
        tags = re.findall(r"\\tag\{([^}]*)\}", markdown)
        assert tags == [n.strip("()") for n in re.findall(
            r'<span class="eqno">([^<]*)<', page)], name
        citations = [html_text(c) for c in re.findall(
            r'<span class="bibtex-citation"[^>]*>(.*?)</span>', page, re.S)]
        for citation in citations:
            assert citation in markdown.replace("*", ""), f"{name}: {citation!r} not served"
        for number in re.findall(r'href="[^"]*#equation-[^"]+">(\([^)<]*\))</a>', page):
            assert number in markdown, f"{name}: the reference {number} is not served"


# --------------------------------------------------------------------------- an exercise

#: In the page: whether an element is on screen (rendered, not inside a closed <details>).
VISIBLE = "(el => !!el && el.checkVisibility())"


def write_it_yourself(nb: dict) -> dict:
    """The gated exercise of a served notebook, found by its cells' tags: its heading, its
    code cell, the markdown that opens its solution, the solution's code cell."""
    cells = nb["cells"]
    (task,) = [i for i, c in enumerate(cells) if "write-it-yourself" in c["metadata"].get(
        "tags", [])]
    (solution,) = [i for i, c in enumerate(cells) if "solution" in c["metadata"].get(
        "tags", [])]
    opening = max(i for i in range(task + 1, solution) if cells[i]["cell_type"] == "markdown")
    heading = re.search(r"\*\*(Exercise [\d.]+)\*\* \(([^)\n]+)\)", source(cells[task - 1]))
    fix = [line.strip() for line in source(cells[solution]).splitlines()
           if line.strip() and line not in source(cells[task]).splitlines()]
    return {"task": task, "solution": solution, "opening": opening,
            "heading": f"{heading.group(1)} ({heading.group(2)})", "fix": fix,
            "code": source(cells[solution])}


def run_cell(browser: Browser, index: int, what: str, until: str = "true") -> str:
    """Run one cell and wait until it has run again and its shown output satisfies ``until``
    (a JS expression in ``text``); return that text."""
    count = f"{PANEL}.content.widgets[{index}].model.executionCount"
    before = browser.js(count)
    browser.js(f"""(() => {{
      const panel = {PANEL};
      panel.content.activeCellIndex = {index};
      window.jupyterapp.commands.execute('notebook:run-cell');  // not awaited: polled below
    }})()""")
    return browser.wait_for(
        f"(() => {{ const text = {PANEL}.content.widgets[{index}].outputArea.node.innerText;"
        f" const n = {count};"
        f" return n !== null && n !== {json.dumps(before)}"
        f" && {PANEL}.sessionContext.kernelDisplayStatus === 'idle' && ({until}) ? [text] : null;"
        " })()", RUN_TIMEOUT, what)[0]


def solve_exercise_in_lite(html: Path, chromium: list[str], profile: Path) -> dict:
    """Open chapter 1 in JupyterLite, look at its write-it-yourself exercise with the solution
    collapsed, run the starting code, put the solution's code in its place and run it."""
    served = served_notebooks(html)[NOTEBOOK]
    exercise = write_it_yourself(served)
    # a stored stream output of several lines (shown with a comma per line, were it a list)
    stream = next(i for i, c in enumerate(served["cells"]) for o in c.get("outputs", [])
                  if o["output_type"] == "stream" and o["text"].count("\n") >= 2)
    trap = TrapProxy()
    browser = None
    try:
        with serve(html, []) as url:
            browser = Browser(chromium, profile, trap.port)
            kernel_seconds = open_notebook(
                browser, f"{url}/{lite_assets.LITE_NOTEBOOK_APP}?path={NOTEBOOK}", NOTEBOOK)
            started = time.monotonic()
            browser.js(f"{PANEL}.content.scrollToItem({stream}, 'center')")
            stream_shown = browser.wait_for(
                f"(() => {{ const cell = {PANEL}.content.widgets[{stream}];"
                " return cell.node.isConnected && cell.outputArea.node.innerText; })()",
                60, "a stored stream output to be shown")
            t, s, o = exercise["task"], exercise["solution"], exercise["opening"]
            browser.js(f"{PANEL}.content.scrollToItem({s}, 'center')")
            # what the reader sees: cells rendered around the solution's collapsed cell
            seen = browser.wait_for(f"""(() => {{
              const cells = {PANEL}.content.widgets;
              const [task, opening, solution] = [cells[{t}], cells[{o}], cells[{s}]];
              if (![task, opening, solution].every(c => c.node.isConnected)
                  || !opening.node.querySelector('details')) return null;
              const input = solution.node.querySelector('.jp-InputArea');
              return {{
                solutionInputHidden: solution.inputHidden,
                solutionOutputHidden: solution.outputHidden,
                placeholderShown: {VISIBLE}(solution.node.querySelector('.jp-InputPlaceholder')),
                solutionEditorShown: {VISIBLE}(input && input.querySelector('.cm-content')),
                detailsOpen: [...opening.node.querySelectorAll('details')].map(d => d.open),
                detailsBodyShown: [...opening.node.querySelectorAll('details > :not(summary)')]
                  .some(el => el.checkVisibility()),
                summary: opening.node.querySelector('summary').innerText,
                heading: cells[{t - 1}].node.innerText,
                taskSource: task.model.sharedModel.getSource(),
                // the exercise's cells, from its heading to the cell after its solution
                page: cells.slice({t - 1}, {s + 2}).map(c => c.node.innerText).join('\\n'),
              }};
            }})()""", 60, "the exercise and its solution to be shown")
            # from here on, every output is computed in the browser
            browser.js("window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
            first_code = browser.js(
                f"{PANEL}.content.widgets.findIndex(c => c.model.type === 'code')")
            run_cell(browser, first_code, "the imports")
            starting = run_cell(browser, t, "the starting code's verdict",
                                "text.includes('MyMul:')")
            browser.js(f"{PANEL}.content.widgets[{t}].model.sharedModel.setSource("
                       f"{json.dumps(exercise['code'])})")
            solved = run_cell(browser, t, "the solved exercise's verdict",
                              "text.includes('MyMul:') && !text.includes('FAIL')")
            outputs = browser.js(f"{PANEL}.content.widgets[{t}].model.outputs.toJSON()")
            return {"exercise": exercise, "seen": seen, "starting": starting,
                    "stream_stored": cell_text(served["cells"][stream]["outputs"]),
                    "stream_shown": stream_shown,
                    "solved": solved, "solved_outputs": outputs,
                    "kernel_seconds": kernel_seconds,
                    "seconds": time.monotonic() - started, "trapped": list(trap.requests)}
    finally:
        if browser is not None:
            browser.close()
        trap.close()


@pytest.fixture(scope="module")
def lite_exercise(built_book, chromium, tmp_path_factory):
    html = built_book[2]
    started = time.monotonic()
    result = solve_exercise_in_lite(html, chromium, tmp_path_factory.mktemp("chromium-ex"))
    print(f"\nJupyterLite exercise: kernel ready in {result['kernel_seconds']:.0f} s, solved in "
          f"{result['seconds']:.0f} s, {time.monotonic() - started:.0f} s in all")
    return result


def test_exercise_solution_is_hidden_in_browser_lite(lite_exercise):
    """The write-it-yourself exercise shows its number and title as the book does; its
    solution is closed (the prose in a <details>, the code cell collapsed): no line of the fix
    is on screen."""
    exercise, seen = lite_exercise["exercise"], lite_exercise["seen"]
    assert exercise["heading"] in seen["heading"], seen["heading"]
    assert seen["summary"].startswith("Solution to " + exercise["heading"]), seen["summary"]
    assert seen["detailsOpen"] and not any(seen["detailsOpen"]), seen["detailsOpen"]
    assert seen["solutionInputHidden"] and seen["solutionOutputHidden"]
    assert seen["placeholderShown"] and not seen["solutionEditorShown"]
    assert exercise["fix"], "the solution's code is the exercise's code"
    shown = [line for line in exercise["fix"] if line in seen["page"]]
    assert not shown, f"the solution shows on the page: {shown}"
    assert not seen["detailsBodyShown"], "the solution's prose is on screen"
    assert "bp.check(MyMul" in seen["taskSource"]


def test_exercise_solved_passes_in_browser_lite(lite_exercise):
    """The starting code gets a diagnosis; the solution's code, run in its place, gets the
    passing verdict, computed in the browser with the network off."""
    assert "FAIL" in lite_exercise["starting"] and "swapped" in lite_exercise["starting"]
    solved = lite_exercise["solved"]
    assert "the witnesses agree" in solved, solved
    assert "the witnesses agree" in cell_text(lite_exercise["solved_outputs"])
    assert not [o for o in lite_exercise["solved_outputs"] if o["output_type"] == "error"]
    outside = [r for r in lite_exercise["trapped"] if trapped_host(r) not in CHROMIUM_OWN]
    assert not outside, "the book asked for other hosts:\n" + "\n".join(outside)


def test_stored_streams_show_as_printed_in_browser_lite(lite_exercise):
    """A stored stream output of several lines shows line by line, no comma in front."""
    shown = lite_exercise["stream_shown"].splitlines()
    for line in lite_exercise["stream_stored"].splitlines():
        assert line.strip() in [s.strip() for s in shown], (line, shown)
    assert not [line for line in shown if line.startswith(",")], shown
