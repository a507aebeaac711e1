"""Sphinx extension: every page links to the same page in the other edition.

The English book is built into ``_build/html/`` (its pages are
``book/<name>.html``), the Chinese one into ``_build/html/zh/`` (its pages
are ``<name>.html``). ``edition_switch`` in each edition's config says where
the other edition's root is, relative to this one's, and how a page's name
maps to the other's::

    edition_switch:
      label: 中文          # the link's text
      title: 本页的中文版    # its tooltip
      root: zh/            # the other edition's root, from this one's
      strip: book/         # remove from this page's name ...
      add: ""              # ... and put this in front of it

The link is set above each page's title, so it is the first thing on every
page.
"""

from __future__ import annotations

LINK = ('<p class="edition-switch"><a href="{href}" title="{title}" '
        'hreflang="{lang}" lang="{lang}">{label}</a></p>')


def other_page(docname: str, switch: dict) -> str:
    """The other edition's name for ``docname`` (without ``.html``)."""
    strip, add = switch.get("strip", ""), switch.get("add", "")
    if strip and docname.startswith(strip):
        docname = docname[len(strip):]
    return add + docname


def href(docname: str, switch: dict) -> str:
    """The link from ``docname``'s page to the same page of the other
    edition."""
    up = "../" * docname.count("/")
    return f"{up}{switch['root']}{other_page(docname, switch)}.html"


def _add_switch(app, doctree, docname: str) -> None:
    from docutils import nodes

    switch = app.config.edition_switch
    if not switch or app.builder.format != "html":
        return
    title = next(iter(doctree.findall(nodes.title)), None)
    if title is None:
        return
    link = LINK.format(href=href(docname, switch),
                       title=switch.get("title", ""), label=switch["label"],
                       lang=switch.get("lang", ""))
    section = title.parent
    section.insert(section.index(title), nodes.raw("", link, format="html"))


def setup(app):
    app.add_config_value("edition_switch", {}, "html")
    app.connect("doctree-resolved", _add_switch)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
