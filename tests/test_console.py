"""Every page of the built book opens in Chromium with a silent console: no script error, no
console.error, no resource that fails to load (a 404 favicon, an asset asked for from the
network), and with the book's own downloads in place.

The book (fixture ``built_book``) is served on 127.0.0.1 as a reader's web server would serve
it; anything else goes to a trap proxy that refuses it, so a page that reaches for the network
logs a failed load and fails here.
"""

from __future__ import annotations

import re
import zipfile

import pytest
from browser import Browser, TrapProxy, serve
from test_book_build import toc_pages, zh_pages

PAGES = toc_pages() + zh_pages()
#: The page waits until MathJax has typeset it, then listens this long for late errors.
SETTLE_SECONDS = 1.0
PAGE_TIMEOUT = 90  # s: chapter 4, the heaviest page, on a busy machine

READY = """(async () => {
  if (document.readyState !== 'complete') return false;
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  return true;
})()"""


def console_errors(html, chromium, profile, pages: list[str]) -> dict[str, list[str]]:
    """What each page (a path under ``html`` without .html) logs as an error."""
    trap = TrapProxy()
    browser = None
    found = {}
    try:
        with serve(html, []) as url:
            browser = Browser(chromium, profile, trap.port)
            for page in pages:
                browser.errors.clear()
                browser.call("Page.navigate", url=f"{url}/{page}.html")
                browser.wait_for(READY, PAGE_TIMEOUT, f"{page} to load and typeset")
                browser.settle(SETTLE_SECONDS)
                found[page] = list(browser.errors)
    finally:
        if browser is not None:
            browser.close()
        trap.close()
    return found


@pytest.fixture(scope="module")
def errors_by_page(built_book, chromium, tmp_path_factory):
    html = built_book[2]
    missing = [p for p in PAGES if not (html / f"{p}.html").is_file()]
    assert not missing, f"pages not built: {missing}"
    return console_errors(html, chromium, tmp_path_factory.mktemp("chromium-console"), PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_page_console_is_silent(errors_by_page, page):
    assert errors_by_page[page] == [], f"{page}:\n" + "\n".join(errors_by_page[page])


def test_console_check_catches_planted_errors(built_book, chromium, tmp_path_factory):
    """A page with the faults this check exists for: a script declared twice (the old
    THEBE_JS_URL SyntaxError), an icon that is not there, a console.error."""
    html = built_book[2]
    planted = html / "book" / "console-probe.html"
    planted.write_text(
        "<!DOCTYPE html><html><head><link rel='icon' href='no-such-icon.ico'>"
        "<script>const THEBE_JS_URL = 1;</script><script>const THEBE_JS_URL = 1;</script>"
        "</head><body><script>console.error('planted')</script></body></html>",
        encoding="utf-8")
    try:
        errors = console_errors(html, chromium, tmp_path_factory.mktemp("chromium-probe"),
                                ["book/console-probe"])["book/console-probe"]
    finally:
        planted.unlink()
    text = "\n".join(errors)
    assert "SyntaxError" in text, text
    assert "no-such-icon.ico" in text or "404" in text, text
    assert "planted" in text, text


def test_solution_ids_are_unique(built_book):
    html = built_book[2]
    for page in PAGES:
        ids = re.findall(r'\sid="([^"]+)"', (html / f"{page}.html").read_text(encoding="utf-8"))
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        assert not repeated, f"{page}: ids used more than once: {repeated}"


def test_intro_downloads_resolve(built_book):
    """The intro's download links point at files the build wrote: a zip with every chapter
    and a README, and the bpcore wheel with its packed data."""
    html = built_book[2]
    intro = (html / "book" / "intro.html").read_text(encoding="utf-8")
    zh_intro = (html / "zh" / "intro.html").read_text(encoding="utf-8")
    assert re.findall(r'href="(\.\./downloads/[^"]+)"', zh_intro) == re.findall(
        r'href="(\.\./downloads/[^"]+)"', intro), "the Chinese intro offers other files"
    links = re.findall(r'href="(\.\./downloads/[^"]+)"', intro)
    assert len(links) == 2, links
    for link in links:
        target = (html / "book" / link).resolve()
        assert target.is_file(), f"{link} is not in the build"
        with zipfile.ZipFile(target) as z:
            names = z.namelist()
        if target.suffix == ".zip":
            chapters = {p.split("/")[-1] + ".ipynb" for p in toc_pages() if "/ch" in p}
            assert chapters <= {n.split("/")[-1] for n in names}
            assert "backprop-verified/README.txt" in names
        else:
            assert "bpcore/__init__.py" in names
            assert "bpcore/nn/mnist_subset.npz" in names
