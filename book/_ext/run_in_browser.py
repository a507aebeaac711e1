"""Sphinx extension: every notebook page runs in the reader's browser.

Hooks ``scripts/lite_assets.py`` (which lays out and checks Pyodide, its
packages and bpcore for JupyterLite) into the HTML build, and puts a "Run this
notebook in your browser" link under the title of every page made from a
notebook. ``_config.yml`` loads it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

_TOOL = Path(__file__).resolve().parents[2] / "scripts" / "lite_assets.py"
_spec = importlib.util.spec_from_file_location("lite_assets", _TOOL)
lite_assets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lite_assets)


def _config_inited(app, config) -> None:
    # _build/jupyterlite, beside _build/html
    lite_dir = Path(app.outdir).parent / "jupyterlite"
    config.jupyterlite_dir = str(lite_dir)
    config.jupyterlite_config = str(lite_dir / "jupyter_lite_config.json")


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


RUN_LINK = (
    '<p class="run-in-browser">'
    '<a class="btn btn-sm btn-outline-primary" href="{href}" '
    'target="_blank" rel="noopener"><i class="fa-solid fa-play"></i> '
    "Run this notebook in your browser</a> "
    "<span>Python runs in the page (JupyterLite): nothing to install, no "
    "network once loaded. Serve the book over HTTP: it does not run from a "
    "file.</span></p>")


def _add_run_link(app, doctree, docname: str) -> None:
    """Under a notebook page's title: a link that opens it in JupyterLite."""
    from docutils import nodes

    source = Path(app.env.doc2path(docname))
    if app.builder.format != "html" or source.suffix != ".ipynb":
        return
    title = next(iter(doctree.findall(nodes.title)), None)
    if title is None:
        return
    href = ("../" * docname.count("/")
            + f"{lite_assets.LITE_NOTEBOOK_APP}?path={source.name}")
    link = nodes.raw("", RUN_LINK.format(href=href), format="html")
    title.parent.insert(title.parent.index(title) + 1, link)


def setup(app):
    app.setup_extension("jupyterlite_sphinx")
    # jupyterlite-sphinx puts a Google Fonts stylesheet on every page, for
    # directives the book does not use: a page must load nothing from outside
    app.registry.css_files = [(name, attrs)
                              for name, attrs in app.registry.css_files
                              if "fonts.googleapis.com" not in name]
    app.connect("config-inited", _config_inited)
    app.connect("builder-inited", _builder_inited)
    app.connect("doctree-resolved", _add_run_link)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


