"""Bibliography labels that match the author-year citations in the text.

sphinxcontrib-bibtex's ``author_year`` reference style writes "Rumelhart et
al. (1986)" in the text, but the list at the end is labelled by the formatting
style's label style, "alpha" by default ([RHW86]). This extension registers a
pybtex formatting style, ``authoryear``, whose labels are the same "Rumelhart
et al. 1986", sorted by author and year.
"""

from __future__ import annotations

from pybtex.plugin import register_plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle


def _surname(person) -> str:
    return (
        " ".join(person.prelast_names + person.last_names)
        .replace("{", "")
        .replace("}", "")
    )


def author_year(entry) -> str:
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_surname(p) for p in people]
    if not names:
        who = entry.fields.get("title", entry.key).split(":")[0]
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    return f"{who} {entry.fields.get('year', 'n.d.')}"


class AuthorYearLabels(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            yield author_year(entry)


class AuthorYearStyle(PlainStyle):
    default_label_style = AuthorYearLabels
    default_sorting_style = "author_year_title"


def setup(app):
    register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
