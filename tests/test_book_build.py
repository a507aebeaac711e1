"""Build the whole book with warnings as errors, then read it in a browser with no network.

The build prints the outputs stored in the notebooks (nbval checks that a run reproduces
them); it runs once per session (fixture ``built_book`` in tests/conftest.py) into a temporary
directory, so it neither needs nor touches the ``_build/`` of ``make book``.

The browser checks use headless Chromium (Debian package ``chromium``). Without it the
checks are skipped locally, and fail when ``CI=true``.
"""

from __future__ import annotations

import json
import re
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from browser import Browser, TrapProxy

from bpcore.figures.legibility import MIN_TEXT_PX

ROOT = Path(__file__).resolve().parent.parent

# Pages that must exist in the built book and are opened in the browser.
REQUIRED_PAGES = ["book/intro", "book/notation", "book/ch1_computation_graph",
                  "zh/intro", "zh/notation", "zh/ch1_computation_graph"]
# Pages whose text contains math, so MathJax must have rendered something there.
MATH_PAGES = REQUIRED_PAGES

# Added to the headless flags (conftest.py): no network at all. Every host name fails to
# resolve, every proxied request is refused.
OFFLINE = [
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
    "--virtual-time-budget=15000",
]

# Log lines that contain "WARNING" but are not about the book. ipykernel >= 7 logs this on
# every kernel start (the kernel talks to its client over TCP on localhost); it is printed by
# the notebook kernels the build starts, not by Sphinx.
KNOWN_NOISE = [
    re.compile(r"^\[IPKernelApp\] WARNING \| Kernel is running over TCP without encryption\."),
]

RAW_MATH = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def toc_pages(toc: Path = ROOT / "_toc.yml", prefix: str = "") -> list[str]:
    """Documents listed (not commented out) in a table of contents, in order, as paths of
    the built site without .html (``prefix`` in front: the edition's folder)."""
    pages = []
    for line in toc.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\s*(?:-\s*)?(?:root|file):\s*(\S+)", line.split("#", 1)[0])
        if m:
            pages.append(prefix + re.sub(r"\.(md|ipynb)$", "", m.group(1)))
    return pages


def zh_pages() -> list[str]:
    """The Chinese edition's pages, in _build/html/zh/."""
    return toc_pages(ROOT / "book" / "zh" / "_toc.yml", "zh/")


# --------------------------------------------------------------------------- build

# The build (fixture built_book) and the browser (fixture chromium) are in tests/conftest.py,
# shared with tests/test_browser_lite.py.


def test_book_builds_without_warnings(built_book):
    returncode, log, html = built_book
    warnings = [
        line
        for line in log.splitlines()
        if ("WARNING" in line or "ERROR" in line)
        and not any(noise.search(line) for noise in KNOWN_NOISE)
    ]
    assert not warnings, "build printed warnings:\n" + "\n".join(warnings)
    assert returncode == 0, "jupyter-book build failed:\n" + log[-4000:]
    assert (html / "index.html").is_file()


@pytest.mark.parametrize("page", REQUIRED_PAGES)
def test_required_page_is_built(built_book, page):
    assert page in toc_pages() + zh_pages(), f"{page} is not listed in a _toc.yml"
    assert (built_book[2] / f"{page}.html").is_file()


# --------------------------------------------------------------------------- static HTML


class PageParser(HTMLParser):
    """Collects resource references and the visible text of an HTML page."""

    HIDDEN = {
        "script",
        "style",
        "pre",
        "code",
        "textarea",
        "noscript",
        "template",
        "mjx-container",
        "title",
        "svg",
    }
    VOID = {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.scripts: list[str] = []
        self.stylesheets: list[str] = []
        self.images: list[str] = []
        self.other_refs: list[str] = []
        self.tags: dict[str, int] = {}
        self.math_elements = 0
        self.text: list[str] = []
        self._stack: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag == "script" and a.get("src"):
            self.scripts.append(a["src"])
        elif tag == "link" and a.get("href"):
            rel = (a.get("rel") or "").lower()
            if "stylesheet" in rel:
                self.stylesheets.append(a["href"])
            elif rel in {"preload", "modulepreload", "icon", "prefetch"}:
                self.other_refs.append(a["href"])
        elif tag == "img" and a.get("src") is not None:
            self.images.append(a["src"])
        elif tag in {"iframe", "embed", "source", "video", "audio"} and a.get("src"):
            self.other_refs.append(a["src"])
        if "math" in (a.get("class") or "").split():
            self.math_elements += 1
        if tag in self.VOID:
            return
        self._stack.append(tag)
        if tag in self.HIDDEN:
            self._hidden_depth += 1

    def handle_endtag(self, tag):
        if tag in self.VOID or tag not in self._stack:
            return
        while self._stack:
            top = self._stack.pop()
            if top in self.HIDDEN:
                self._hidden_depth -= 1
            if top == tag:
                break

    def handle_data(self, data):
        if self._hidden_depth == 0:
            self.text.append(data)


def parse(html_text: str) -> PageParser:
    parser = PageParser()
    parser.feed(html_text)
    parser.close()
    return parser


def is_remote(url: str) -> bool:
    return url.startswith("//") or urlsplit(url).scheme in {"http", "https", "ftp", "ws", "wss"}


def local_file(page_file: Path, url: str) -> Path:
    return (page_file.parent / unquote(urlsplit(url).path)).resolve()


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("page", REQUIRED_PAGES)
def test_page_needs_no_network(built_book, page):
    html = built_book[2]
    page_file = html / f"{page}.html"
    p = parse(page_file.read_text(encoding="utf-8"))
    remote = [u for u in p.scripts + p.stylesheets + p.images + p.other_refs if is_remote(u)]
    assert not remote, f"{page} loads from the network: {remote}"
    for url in p.scripts + p.stylesheets:
        assert local_file(page_file, url).is_file(), f"{page}: {url} missing from the build"
    mathjax = [u for u in p.scripts if "mathjax" in u.lower()]
    assert mathjax, f"{page} has no MathJax script"
    for url in mathjax:
        assert local_file(page_file, url).is_file(), f"{page}: MathJax {url} is not served locally"


@pytest.mark.parametrize("page", REQUIRED_PAGES)
def test_images_are_local_pngs(built_book, page):
    html = built_book[2]
    page_file = html / f"{page}.html"
    p = parse(page_file.read_text(encoding="utf-8"))
    for url in p.images:
        assert not is_remote(url), f"{page}: remote image {url}"
        if url.startswith("data:"):
            continue
        path = local_file(page_file, url)
        assert path.is_file(), f"{page}: image {url} missing"
        if path.suffix.lower() == ".png":
            width, height = png_size(path)
            assert width > 0 and height > 0, f"{page}: empty image {url}"


# --------------------------------------------------------------------------- browser


def run_chromium(chromium: list[str], profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*chromium, *OFFLINE, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=180,
    )


def chromium_said(proc: subprocess.CompletedProcess) -> str:
    """What Chromium reported, without the lines every run prints on a machine with no
    D-Bus, and how much of the page it dumped."""
    lines = [line for line in proc.stderr.splitlines() if "dbus" not in line]
    return (f"{len(proc.stdout)} characters of DOM, "
            f"{proc.stdout.count('<mjx-container')} typeset formulas; stderr:\n"
            + "\n".join(lines[-15:]))


@pytest.fixture(scope="module")
def rendered(built_book, chromium, tmp_path_factory):
    """DOM of each required page after its scripts (MathJax) ran, with no network."""
    html = built_book[2]
    profile = tmp_path_factory.mktemp("chromium-profile")
    doms = {}
    for page in REQUIRED_PAGES:
        page_file = html / f"{page}.html"
        if not page_file.is_file():
            continue
        proc = run_chromium(chromium, profile, "--dump-dom", page_file.as_uri())
        assert proc.returncode == 0, f"chromium failed on {page}:\n{proc.stderr[-3000:]}"
        doms[page] = proc.stdout
    return doms


@pytest.mark.parametrize("page", MATH_PAGES)
def test_math_is_rendered_offline(rendered, page):
    assert page in rendered, f"{page} was not built"
    p = parse(rendered[page])
    rendered_math = p.tags.get("mjx-container", 0)
    assert rendered_math > 0, f"{page}: MathJax rendered nothing (no mjx-container)"
    assert rendered_math >= p.math_elements, (
        f"{page}: {p.math_elements} math elements but only {rendered_math} rendered"
    )
    assert p.tags.get("mjx-merror", 0) == 0, f"{page}: MathJax reported a TeX error"
    text = "".join(p.text)
    raw = sorted({m.group(0) for m in RAW_MATH.finditer(text)})
    assert not raw, f"{page}: raw TeX left in the visible text: {raw}"


@pytest.mark.parametrize("page", REQUIRED_PAGES)
def test_rendered_images_exist(rendered, built_book, page):
    assert page in rendered, f"{page} was not built"
    page_file = built_book[2] / f"{page}.html"
    for url in parse(rendered[page]).images:
        assert not is_remote(url), f"{page}: remote image {url}"
        if not url.startswith("data:"):
            assert local_file(page_file, url).is_file(), f"{page}: image {url} missing"


def test_screenshot(built_book, chromium, tmp_path_factory):
    """A picture of the first chapter as a reader sees it (kept next to the build log)."""
    html = built_book[2]
    page_file = html / "book" / "ch1_computation_graph.html"
    assert page_file.is_file(), "chapter 1 was not built"
    shot = html.parent.parent / "ch1_computation_graph.png"
    proc = run_chromium(
        chromium,
        tmp_path_factory.mktemp("chromium-shot"),
        f"--screenshot={shot}",
        "--window-size=1280,1600",
        page_file.as_uri(),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert png_size(shot) == (1280, 1600)


# --------------------------------------------------------------------------- layout at 1280 px

PROBE_JS = Path(__file__).with_name("layout_probe.js")
WINDOW = "--window-size=1280,1600"
#: Seconds a page gets to typeset its math and run the probe (real time; about 3 s when idle).
PROBE_TIMEOUT = 120


@pytest.fixture(scope="module")
def probe_browser(chromium, tmp_path_factory):
    """One headless Chromium at 1280 px for every layout probe, driven over DevTools, with no
    network (host names do not resolve; anything proxied is refused)."""
    trap = TrapProxy()
    browser = Browser([*chromium, WINDOW, "--host-resolver-rules=MAP * ~NOTFOUND"],
                      tmp_path_factory.mktemp("chromium-layout"), trap.port)
    yield browser
    browser.close()
    trap.close()


def run_probe(browser: Browser, page_file: Path, probe_name: str, html: str | None = None) -> dict:
    """Open a copy of ``page_file`` (or ``html``) with the layout probe, beside it (so its
    relative links hold), and return what the probe measured once MathJax had typeset the
    page. Waiting in real time for the probe's own result, rather than for a fixed budget of
    the browser's virtual time, is what makes this hold on a busy machine."""
    probe = page_file.with_name(probe_name)
    text = page_file.read_text(encoding="utf-8") if html is None else html
    script = f"<script>{PROBE_JS.read_text(encoding='utf-8')}</script></body>"
    probe.write_text(text.replace("</body>", script), encoding="utf-8")
    url = probe.as_uri()
    try:
        browser.call("Page.navigate", url=url)
        found = browser.wait_for(
            f"location.href === {json.dumps(url)} && "
            "document.getElementById('layout-probe') && "
            "document.getElementById('layout-probe').textContent",
            PROBE_TIMEOUT, f"the layout probe on {page_file.name}")
    finally:
        probe.unlink()
    return json.loads(found)


@pytest.mark.parametrize("page", toc_pages() + zh_pages())
def test_nothing_is_wider_than_the_column(built_book, probe_browser, page):
    """At a 1280 px window, no code block, output, table, display equation or image in the
    article is wider than the article (nothing cut off, no sideways scrolling)."""
    page_file = built_book[2] / f"{page}.html"
    assert page_file.is_file(), f"{page} was not built"
    report = run_probe(probe_browser, page_file, page_file.stem + ".layout-probe.html")
    assert report["articleWidth"] > 600, f"{page}: article only {report['articleWidth']} px wide"
    wide = [f"<{w['tag']}> {w['scrollWidth']} px of content in {w['clientWidth']} px, right "
            f"edge {w['right']} (article {w['articleRight']}): {w['text']!r}"
            for w in report["wide"]]
    assert not wide, f"{page}: wider than the column at 1280 px:\n" + "\n".join(wide)
    small = shrunk_text(report["images"])
    assert not small, f"{page}: figure text shown under {MIN_TEXT_PX} px:\n" + "\n".join(small)


#: The smallest text a figure of the book has at its own size: 10 pt at the notebooks' 100 dpi
#: (bpcore.figures refuses smaller labels, and test_no_plot_sets_text_below_10_pt checks the
#: notebooks' plotting code). A figure the page shrinks shows it proportionally smaller.
NATIVE_MIN_PX = 10 * 100 / 72


def shrunk_text(images: list[dict]) -> list[str]:
    """Figures whose smallest text, as the browser shows them, is under MIN_TEXT_PX."""
    out = []
    for im in images:
        shown = NATIVE_MIN_PX * im["shown"] / im["natural"]
        if shown < MIN_TEXT_PX:
            out.append(f"{im['src']}: {im['natural']} px wide shown at {im['shown']:.0f} px, so "
                       f"10 pt text shows at {shown:.1f} px")
    return out


def test_no_plot_sets_text_below_10_pt():
    """The notebooks' plotting code asks for no font below 10 pt (fontsize=, or a named size
    such as "small", which is 8.3 pt at matplotlib's default 10)."""
    found = []
    for nb in sorted((ROOT / "book").rglob("*.ipynb")):
        for cell in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
            code = "".join(cell["source"]) if cell["cell_type"] == "code" else ""
            for m in re.finditer(r"fontsize\s*=\s*([0-9.]+|\"[a-z-]+\")", code):
                size = m.group(1)
                if size.startswith('"') or float(size) < 10:
                    found.append(f"{nb.name}: {m.group(0)}")
    assert not found, found


def test_the_layout_probe_finds_a_shrunk_figure(built_book, probe_browser):
    """The legibility check can fail: a 1000 px figure in the 676 px column is reported."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    page_file = built_book[2] / "book" / "notation.html"
    fig = plt.figure(figsize=(10, 1), dpi=100)
    fig.text(0.5, 0.5, "a label in 10 pt", fontsize=10, ha="center")
    png = page_file.with_name("wide-figure-probe.png")
    fig.savefig(png, dpi=100)
    plt.close(fig)
    text = page_file.read_text(encoding="utf-8")
    text = text.replace("</article>", f'<img src="{png.name}" alt="wide"></article>', 1)
    try:
        report = run_probe(probe_browser, page_file, "notation.figure-probe.html", text)
    finally:
        png.unlink()
    small = shrunk_text(report["images"])
    assert any(s.startswith("wide-figure-probe.png: 1000 px wide") for s in small), report


def test_the_layout_probe_finds_a_wide_block(built_book, probe_browser):
    """The check above can fail: a page with one over-long code line is reported."""
    page_file = built_book[2] / "book" / "notation.html"
    long_line = "x" * 400
    text = page_file.read_text(encoding="utf-8")
    text = text.replace("</article>", f"<pre>{long_line}</pre></article>", 1)
    report = run_probe(probe_browser, page_file, "notation.wide-probe.html", text)
    assert any(w["text"].startswith("xxxx") for w in report["wide"]), report
