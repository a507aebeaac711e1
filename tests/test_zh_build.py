"""The Chinese edition as built (fixture ``built_book``: both editions, tests/conftest.py):
every page is there, in Chinese, linked to its English page and back; the theme speaks
Chinese; searching for a Chinese term finds the pages that use it; its notebooks are served to
JupyterLite. (The layout probe, offline math and the console check run on the Chinese pages
with the English ones: tests/test_book_build.py, tests/test_console.py.)"""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from browser import Browser, TrapProxy, serve
from test_book_build import toc_pages, zh_pages

EN_PAGES, ZH_PAGES = toc_pages(), zh_pages()


def page(html, name: str) -> str:
    return (html / f"{name}.html").read_text(encoding="utf-8")


def switch_link(text: str) -> str:
    m = re.search(r'<p class="edition-switch"><a href="([^"]+)"', text)
    assert m, "no link to the other edition"
    return m.group(1)


def test_both_editions_have_the_same_pages():
    assert [p.split("/", 1)[1] for p in ZH_PAGES] == [p.split("/", 1)[1] for p in EN_PAGES]


@pytest.mark.parametrize("name", ZH_PAGES)
def test_chinese_page_is_built_in_chinese(built_book, name):
    text = page(built_book[2], name)
    assert '<html lang="zh-CN"' in text or "<html lang='zh-CN'" in text
    body = re.sub(r"<[^>]+>", " ", text.split('<article', 1)[-1])
    chinese = len(re.findall(r"[\u3400-\u9fff]", body))
    assert chinese > 50, f"{name}: only {chinese} Chinese characters in the article"


@pytest.mark.parametrize("en, zh", list(zip(EN_PAGES, ZH_PAGES)))
def test_each_page_links_to_its_other_edition(built_book, en, zh):
    html = built_book[2]
    to_zh = (html / en).parent / switch_link(page(html, en))
    to_en = (html / zh).parent / switch_link(page(html, zh))
    assert to_zh.resolve() == (html / f"{zh}.html").resolve()
    assert to_en.resolve() == (html / f"{en}.html").resolve()


def test_theme_speaks_chinese(built_book):
    html = built_book[2]
    chapter = page(html, "zh/ch1_computation_graph")
    assert "搜索" in chapter  # the search box
    assert "练习" in chapter and "解答" in chapter  # sphinx-exercise's titles
    assert "Solution to" not in re.sub(r"<[^>]+>", "", chapter)
    # words the theme and extensions would leave in English: the search box, the hint on a
    # folded solution, the fold of a hidden cell output
    for name in ZH_PAGES:
        text = page(html, name)
        for english in ("Search this book", "Click to show", "Click to hide",
                        "Show code cell", "Hide code cell"):
            assert english not in text, f"{name}: {english!r}"
    assert "点击显示" in chapter and "搜索本书" in chapter
    assert "显示代码单元格内容" in page(html, "zh/ch4_softmax_loss")
    # the English pages stay English
    assert "搜索" not in page(html, "book/ch1_computation_graph")


def test_chinese_notebooks_are_served_to_jupyterlite(built_book):
    html = built_book[2]
    for name in ZH_PAGES:
        source = name.split("/", 1)[1]
        text = page(html, name)
        m = re.search(r'<p class="run-in-browser"><a [^>]*href="([^"]+)"', text)
        if m is None:
            continue  # a Markdown page: nothing to run
        url = urlsplit(unescape(m.group(1)))
        assert (html / name).parent.joinpath(url.path).resolve() == (
            html / "lite" / "notebooks" / "index.html").resolve()
        assert parse_qs(url.query)["path"] == [f"zh/{source}.ipynb"]
        served = next((html / "lite").rglob(f"zh/{source}.ipynb"), None)
        assert served is not None, f"zh/{source}.ipynb is not in the JupyterLite site"
        cells = json.loads(served.read_text(encoding="utf-8"))["cells"]
        prose = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        assert re.search(r"[\u3400-\u9fff]", prose), f"served zh/{source} is not Chinese"
        assert "{doc}" not in prose and "{eq}" not in prose


# -- search ----------------------------------------------------------------------------------

def search_index(html) -> dict:
    text = (html / "zh" / "searchindex.js").read_text(encoding="utf-8")
    return json.loads(text[text.index("(") + 1:text.rindex(")")])


@pytest.mark.parametrize("term", ["反向传播", "批归一化", "计算图", "链式法则"])
def test_search_index_has_the_term_whole(built_book, term):
    index = search_index(built_book[2])
    docs = index["terms"].get(term)
    assert docs is not None, f"{term} is not a term of the Chinese search index"
    docs = docs if isinstance(docs, list) else [docs]
    found = {index["docnames"][d] for d in docs}
    using = {name.split("/", 1)[1] for name in ZH_PAGES
             if term in re.sub(r"<[^>]+>", "", page(built_book[2], name))}
    assert found, term
    assert found <= using | {"genindex"}, (term, found - using)


def test_search_page_finds_a_chinese_term(built_book, chromium, tmp_path_factory):
    """A reader's search: zh/search.html?q=批归一化 lists chapter 7."""
    html = built_book[2]
    trap = TrapProxy()
    browser = None
    try:
        with serve(html, []) as url:
            browser = Browser(chromium, tmp_path_factory.mktemp("chromium-search"), trap.port)
            browser.call("Page.navigate", url=f"{url}/zh/search.html?q=批归一化")
            links = browser.wait_for(
                "(() => { const r = [...document.querySelectorAll('#search-results li a')]"
                ".map(a => a.getAttribute('href')); return r.length ? r : null; })()",
                60, "search results")
    finally:
        if browser is not None:
            browser.close()
        trap.close()
    assert any("ch7_deep_networks" in link for link in links), links


def test_chinese_notebook_runs_in_browser_lite(built_book, chromium, tmp_path_factory):
    """A reader of the Chinese chapter 1 follows the link under its title: JupyterLite opens
    the Chinese notebook from the same build, with no network, and its first cells run in the
    browser (stored outputs cleared first, so what is read was computed there). The English
    chapter 1 is run whole by tests/test_browser_lite.py; the code cells are the same."""
    from test_browser_lite import NOTEBOOK_STATE, PANEL, cell_text, open_notebook

    html = built_book[2]
    trap = TrapProxy()
    browser = None
    try:
        with serve(html, []) as url:
            browser = Browser(chromium, tmp_path_factory.mktemp("chromium-lite-zh"), trap.port)
            browser.call("Page.navigate", url=f"{url}/zh/ch1_computation_graph.html")
            href = browser.wait_for(
                "(document.querySelector('p.run-in-browser a') || {}).href", 60,
                "the run-in-browser link of the Chinese chapter 1")
            assert href.endswith("/lite/notebooks/index.html?path=zh/ch1_computation_graph.ipynb")
            open_notebook(browser, href, "zh/ch1_computation_graph.ipynb")
            title = browser.js(f"{PANEL}.content.widgets[0].model.sharedModel.getSource()")
            browser.js("window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
            # the imports and the apple example: the first two code cells
            browser.js(f"""(async () => {{
              const panel = {PANEL};
              const code = panel.content.widgets.map((c, i) => [c, i])
                                 .filter(([c]) => c.model.type === 'code');
              panel.content.activeCellIndex = code[1][1];
              await window.jupyterapp.commands.execute('notebook:run-all-above');
              await window.jupyterapp.commands.execute('notebook:run-cell');
            }})()""")
            state = browser.wait_for(
                f"(() => {{ const s = {NOTEBOOK_STATE}; const k = {PANEL}.sessionContext;"
                " return s.counts[1] !== null && k.kernelDisplayStatus === 'idle' ? s : null;"
                " })()", 300, "the first two cells of the Chinese chapter 1 to run")
    finally:
        if browser is not None:
            browser.close()
        trap.close()
    assert "计算图" in title, title
    first = state["outputs"][:2]
    errors = [cell_text(out) for out in first if any(o["output_type"] == "error" for o in out)]
    assert not errors, "cells failed in the browser:\n" + "\n".join(errors)
    assert "total price: 220.0" in cell_text(first[1]), first
