"""Sphinx extension: pages without console errors and with unique ids.

Three things the theme and extensions get wrong, each invisible until a
browser's console shows it:

* sphinx-thebe's inline script ``const THEBE_JS_URL = ...`` is added to every
  page twice (once by sphinx-thebe, once through sphinx-book-theme), and the
  second ``const`` is a SyntaxError. Pages keep the first copy.
* sphinx-exercise gives every exercise's and solution's body the same
  ``id="exercise-content"`` / ``id="solution-content"``; an id must be
  unique in a page, so the second and later ones are numbered
  (``solution-content-2``, ...).
* Browsers ask for ``/favicon.ico`` when a page names no icon: the book sets
  ``html_favicon`` (``_static/favicon.svg``) in ``_config.yml``.
"""

from __future__ import annotations

import re
from pathlib import Path

_CONTENT_ID = re.compile(r'id="(exercise|solution)-content"')


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        body = getattr(script, "attributes", {}).get("body", "")
        key = body if body else None
        if key is not None and key in seen:
            continue
        if key is not None:
            seen.add(key)
        kept.append(script)
    context["script_files"] = kept


def unique_solution_ids(html: str) -> str:
    """``html`` with the second and later exercise and solution body ids
    numbered."""
    seen = {"exercise": 0, "solution": 0}

    def replace(match) -> str:
        kind = match.group(1)
        seen[kind] += 1
        n = seen[kind]
        return match.group(0) if n == 1 else f'id="{kind}-content-{n}"'

    return _CONTENT_ID.sub(replace, html)


def _fix_ids(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        where = page.as_posix()
        if "/lite/" in where or "/_static/" in where:
            continue
        text = page.read_text(encoding="utf-8")
        fixed = unique_solution_ids(text)
        if fixed != text:
            page.write_text(fixed, encoding="utf-8")


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    app.connect("build-finished", _fix_ids)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
