"""Sphinx extension: the "run in your browser" link of an edition whose
notebooks another build serves.

The Chinese edition (``_build/html/zh/``) has no JupyterLite of its own: the
English build serves the Chinese notebooks from its site, in the folder
``zh/`` (``run_in_browser_editions``). This extension only puts the link
under each notebook page's title, to ``run_in_browser_link_up`` (the site's
root, from this edition's root) + the JupyterLite app, with
``run_in_browser_link_folder`` in front of the notebook's name.
"""

from __future__ import annotations

from run_in_browser import run_link


def _add_run_link(app, doctree, docname: str) -> None:
    from docutils import nodes

    if app.builder.format != "html":
        return
    html = run_link(app, docname, app.config.run_in_browser_link_folder,
                    app.config.run_in_browser_link_up)
    title = next(iter(doctree.findall(nodes.title)), None)
    if html is None or title is None:
        return
    title.parent.insert(title.parent.index(title) + 1,
                        nodes.raw("", html, format="html"))


def setup(app):
    app.add_config_value("run_in_browser_link_up", "../", "html")
    app.add_config_value("run_in_browser_link_folder", "zh/", "html")
    app.connect("doctree-resolved", _add_run_link)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
