"""Sphinx extension: every notebook page runs in the reader's browser.

Hooks ``scripts/lite_assets.py`` (which lays out and checks Pyodide, its
packages and bpcore for JupyterLite) into the HTML build, and puts a "Run this
notebook in your browser" link under the title of every page made from a
notebook. ``_config.yml`` loads it.

The notebooks JupyterLite serves are those ``run_in_browser_notebooks`` lists
(globs, relative to the book's root), as ``scripts/lite_notebooks.py``
rewrites them: their MyST (roles, numbered equations, exercises and solutions)
made to read as the HTML book reads. The copies go to
``_build/lite_notebooks/`` (other editions' in subfolders, ``zh/``) at the
start of the build; this extension makes that folder JupyterLite's content
folder.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

_SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name,
                                                  _SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


lite_assets = _load("lite_assets")
lite_notebooks = _load("lite_notebooks")


def _served_dir(app) -> Path:
    # _build/lite_notebooks, beside _build/html
    return Path(app.outdir).parent / "lite_notebooks"


def _config_inited(app, config) -> None:
    # _build/jupyterlite, beside _build/html
    lite_dir = Path(app.outdir).parent / "jupyterlite"
    config.jupyterlite_dir = str(lite_dir)
    config.jupyterlite_config = str(lite_dir / "jupyter_lite_config.json")
    # JupyterLite serves the rewritten copies, never the MyST sources: the
    # folder they are written to is the site's content folder, so its
    # subfolders (zh/) keep their names. (A folder in jupyterlite_contents
    # would be copied to <source>/_contents, which jupyterlite-sphinx 0.23
    # then does not pass to JupyterLite.) An absolute path: jupyterlite-sphinx
    # joins it to the source folder.
    config.jupyterlite_contents = []
    config.jupyterlite_content_dir = str(_served_dir(app))


def _serve_notebooks(app) -> tuple[int, list[Path]]:
    """Write the copies JupyterLite serves; other matched files as they
    are. Returns how many notebooks were written, and the notebooks left out:
    those the table of contents does not list (the book has no page for
    them)."""
    import pybtex.plugin

    src = Path(app.srcdir)
    found = sorted({path for pattern in app.config.run_in_browser_notebooks
                    for path in src.glob(pattern)})
    toc = getattr(app.config, "external_toc_path", None)
    # the bibliography's order, in which a citation lists several keys
    formatting = pybtex.plugin.find_plugin("pybtex.style.formatting",
                                           app.config.bibtex_default_style)
    book = lite_notebooks.load_book(
        src, src / toc if toc else None,
        [Path(app.confdir) / b for b in app.config.bibtex_bibfiles or []],
        multitoc=bool(getattr(app.config, "use_multitoc_numbering", False)),
        reference_style=app.config.bibtex_reference_style,
        eqref_format=app.config.math_eqref_format or "({number})",
        sorting_style=formatting.default_sorting_style)
    out = _served_dir(app)
    notebooks, drafts = book.in_book(p for p in found if p.suffix == ".ipynb")
    lite_notebooks.transform_files(notebooks, out, book)
    for path in found:
        if path.is_dir():
            shutil.copytree(path, out / path.name)
        elif path.suffix != ".ipynb":
            shutil.copy2(path, out / path.name)
    count = len(notebooks)
    # other editions' notebooks, each in a folder of its own (zh/...), as
    # their own table of contents and words make them; their pages link here
    for folder, edition in (app.config.run_in_browser_editions or {}).items():
        root = src / edition["root"]
        other = lite_notebooks.load_book(
            root, src / edition["toc"], [Path(app.confdir) / b for b in
                                         app.config.bibtex_bibfiles or []],
            multitoc=bool(getattr(app.config, "use_multitoc_numbering",
                                  False)),
            reference_style=app.config.bibtex_reference_style,
            eqref_format=app.config.math_eqref_format or "({number})",
            sorting_style=formatting.default_sorting_style,
            language=edition.get("language", "en"))
        pages, _ = other.in_book(sorted(root.glob("*.ipynb")))
        lite_notebooks.transform_files(pages, out / folder, other)
        count += len(pages)
    return count, drafts


def _builder_inited(app) -> None:
    if app.builder.format != "html":
        return
    from sphinx.errors import ExtensionError
    from sphinx.util import logging

    try:
        summary = lite_assets.layout(Path(app.config.jupyterlite_dir),
                                     Path(app.srcdir))
    except lite_assets.LiteAssetError as exc:
        raise ExtensionError(f"run_in_browser: {exc}\n(downloads are kept in "
                             "_build/lite-cache/: delete it to fetch them "
                             "again)") from exc
    logging.getLogger(__name__).info(
        f"run_in_browser: Pyodide {lite_assets.PYODIDE_VERSION}, "
        f"{len(summary['packages'])} packages, "
        f"{summary['bytes'] / 1e6:.1f} MB, checked against the official lock")
    try:
        count, drafts = _serve_notebooks(app)
    except lite_notebooks.LiteNotebookError as exc:
        raise ExtensionError(f"run_in_browser: {exc}") from exc
    logging.getLogger(__name__).info(
        f"run_in_browser: {count} notebooks rewritten for JupyterLite into "
        f"{_served_dir(app)}" + "".join(
            f"; not in the table of contents, not served: {p.name}"
            for p in drafts))


RUN_LINK = (
    '<p class="run-in-browser">'
    '<a class="btn btn-sm btn-outline-primary" href="{href}" '
    'target="_blank" rel="noopener"><i class="fa-solid fa-play"></i> '
    "Run this notebook in your browser</a> "
    "<span>Python runs in the page (JupyterLite): nothing to install, no "
    "network once loaded. Serve the book over HTTP: it does not run from a "
    "file.</span></p>")
RUN_LINK_ZH = (
    '<p class="run-in-browser">'
    '<a class="btn btn-sm btn-outline-primary" href="{href}" '
    'target="_blank" rel="noopener"><i class="fa-solid fa-play"></i> '
    "在浏览器中运行本章</a> "
    "<span>Python 在网页中运行（JupyterLite）：无须安装，加载完成后无须联网。"
    "请通过 HTTP 访问本书，直接打开文件无法运行。</span></p>")


def run_link(app, docname: str, folder: str = "", up: str = "") -> str | None:
    """The link for ``docname``'s page, if it is a notebook: JupyterLite at
    ``up`` + the app's address (relative to the edition's root), opening
    ``folder`` + the notebook's name."""
    source = Path(app.env.doc2path(docname))
    if source.suffix != ".ipynb":
        return None
    href = ("../" * docname.count("/") + up
            + f"{lite_assets.LITE_NOTEBOOK_APP}?path={folder}{source.name}")
    chinese = str(app.config.language or "").startswith("zh")
    return (RUN_LINK_ZH if chinese else RUN_LINK).format(href=href)


def _add_run_link(app, doctree, docname: str) -> None:
    """Under a notebook page's title: a link that opens it in JupyterLite."""
    from docutils import nodes

    if app.builder.format != "html":
        return
    html = run_link(app, docname)
    title = next(iter(doctree.findall(nodes.title)), None)
    if html is None or title is None:
        return
    title.parent.insert(title.parent.index(title) + 1,
                        nodes.raw("", html, format="html"))


def setup(app):
    app.setup_extension("jupyterlite_sphinx")
    # jupyterlite-sphinx puts a Google Fonts stylesheet on every page, for
    # directives the book does not use: a page must load nothing from outside
    app.registry.css_files = [(name, attrs)
                              for name, attrs in app.registry.css_files
                              if "fonts.googleapis.com" not in name]
    # globs of the notebooks (and files) to serve, relative to the root
    app.add_config_value("run_in_browser_notebooks", [], "html")
    # other editions served from this site: {folder: {root, toc, language}}
    app.add_config_value("run_in_browser_editions", {}, "html")
    # before jupyterlite-sphinx empties and creates its content folder
    app.connect("config-inited", _config_inited, priority=100)
    app.connect("builder-inited", _builder_inited)
    app.connect("doctree-resolved", _add_run_link)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


