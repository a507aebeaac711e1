"""The Chinese edition (book/zh/) cannot drift from the English one.

* Code: every Chinese notebook has the English notebook's cells, ids and order, and its code
  cells (source, outputs, metadata) are byte-for-byte the English ones, so nbval on the English
  edition checks the Chinese edition's code and outputs too.
* Prose: every Markdown cell (and every Markdown page) records the SHA-256 of the English text
  it translates; when the English changes, the translation is stale and the test names it.
* Structure: a translation keeps what the build and the reader rely on: its labels, references
  ({doc}, {eq}, {ref}, {numref}, {cite}), directives and their options, the mathematics (words
  in \\text{} may be translated) and the links.
* Terms: the Chinese prose uses the glossary's term for each entry, never one of the renderings
  the glossary lists as "also seen".

scripts/zh_sync.py copies code across and lists what needs translating; these tests also show
that a change to one edition only is caught.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import sys
from collections import Counter
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
EN, ZH = ROOT / "book", ROOT / "book" / "zh"
_spec = importlib.util.spec_from_file_location("zh_sync", ROOT / "scripts" / "zh_sync.py")
zh_sync = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("zh_sync", zh_sync)  # dataclasses look their module up
_spec.loader.exec_module(zh_sync)

NOTEBOOKS = sorted(p.name for p in EN.glob("*.ipynb"))
PAGES = sorted(p.name for p in EN.glob("*.md"))


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


# -- code: identical -------------------------------------------------------------------------

def code_differences(en_cells: list[dict], zh_cells: list[dict]) -> list[str]:
    """Where the Chinese notebook's cells differ from the English ones in anything but the
    Markdown cells' text and translation stamp."""
    found = []
    if [(c["id"], c["cell_type"]) for c in en_cells] != [(c["id"], c["cell_type"])
                                                           for c in zh_cells]:
        found.append("the cells (ids, types, order) differ")
        return found
    for en, zh in zip(en_cells, zh_cells):
        if en["cell_type"] == "markdown":
            continue
        if json.dumps(en, sort_keys=True) != json.dumps(zh, sort_keys=True):
            first = "".join(en["source"]).splitlines()[:1]
            found.append(f"code cell {en['id']} ({first[0][:50] if first else ''!r})")
    return found


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_code_cells_are_the_english_ones(name):
    assert (ZH / name).is_file(), f"book/zh/{name} is missing: run scripts/zh_sync.py"
    assert code_differences(cells(EN / name), cells(ZH / name)) == []


def test_a_code_cell_changed_in_one_edition_is_caught():
    name = "ch1_computation_graph.ipynb"
    en, zh = cells(EN / name), copy.deepcopy(cells(ZH / name))
    code = next(c for c in zh if c["cell_type"] == "code")
    code["source"] = ["x = 1  # changed in the Chinese edition only\n"]
    assert code_differences(en, zh) == [f"code cell {code['id']} "
                                        f"({''.join(en[zh.index(code)]['source']).splitlines()[0][:50]!r})"]
    output = copy.deepcopy(cells(ZH / name))
    with_output = next(c for c in output if c["cell_type"] == "code" and c["outputs"])
    with_output["outputs"] = []
    assert len(code_differences(en, output)) == 1


# -- prose: translated, and current -----------------------------------------------------------

@pytest.mark.parametrize("name", NOTEBOOKS + PAGES)
def test_translation_is_current(name):
    en_path = EN / name
    state = (zh_sync.sync_notebook(en_path, write=False) if name.endswith(".ipynb")
             else zh_sync.sync_page(en_path, write=False))
    assert not state.missing, f"book/zh/{name} is missing"
    assert state.untranslated == [], f"{name}: not yet translated: {state.untranslated}"
    assert state.stale == [], (f"{name}: the English changed since these were translated: "
                               f"{state.stale} (translate them, then scripts/zh_sync.py stamp)")


def test_an_english_change_makes_its_translation_stale(tmp_path, monkeypatch):
    """Change one English Markdown cell: the sync names that cell as stale, and only it."""
    name = "ch2_chain_rule.ipynb"
    (tmp_path / "book" / "zh").mkdir(parents=True)
    for src, dst in ((EN / name, tmp_path / "book" / name),
                     (ZH / name, tmp_path / "book" / "zh" / name)):
        dst.write_bytes(src.read_bytes())
    monkeypatch.setattr(zh_sync, "ROOT", tmp_path)
    monkeypatch.setattr(zh_sync, "EN", tmp_path / "book")
    monkeypatch.setattr(zh_sync, "ZH", tmp_path / "book" / "zh")
    # the copy is in step with itself once every Markdown cell is stamped
    zh_sync.stamp_notebook(tmp_path / "book" / "zh" / name, [])
    assert zh_sync.sync_notebook(tmp_path / "book" / name, write=False).in_step()

    nb = nbformat.read(tmp_path / "book" / name, as_version=4)
    changed = next(c for c in nb.cells if c.cell_type == "markdown")
    changed.source += "\n\nA sentence added to the English edition only."
    nbformat.write(nb, tmp_path / "book" / name)
    state = zh_sync.sync_notebook(tmp_path / "book" / name, write=False)
    assert state.stale == [changed.id]
    assert state.untranslated == [] and state.code_changed == []


def test_an_english_page_change_makes_its_translation_stale(tmp_path, monkeypatch):
    (tmp_path / "book" / "zh").mkdir(parents=True)
    (tmp_path / "book" / "notation.md").write_text("# Notation\n\nOne.\n", encoding="utf-8")
    (tmp_path / "book" / "zh" / "notation.md").write_text("# 记号\n\n一。\n", encoding="utf-8")
    monkeypatch.setattr(zh_sync, "ROOT", tmp_path)
    monkeypatch.setattr(zh_sync, "EN", tmp_path / "book")
    monkeypatch.setattr(zh_sync, "ZH", tmp_path / "book" / "zh")
    zh_sync.stamp_page(tmp_path / "book" / "zh" / "notation.md")
    assert zh_sync.sync_page(tmp_path / "book" / "notation.md", write=False).in_step()
    (tmp_path / "book" / "notation.md").write_text("# Notation\n\nTwo.\n", encoding="utf-8")
    assert zh_sync.sync_page(tmp_path / "book" / "notation.md", write=False).stale == [
        "notation.md"]


# -- structure: what the build and the reader rely on -----------------------------------------

ROLE = re.compile(r"\{(doc|eq|ref|numref|cite|cite:p|cite:t|prf:ref|download|term)\}`([^`]*)`")
LABEL = re.compile(r"^\(([^)\s]+)\)=\s*$", re.M)
DIRECTIVE = re.compile(r"^(`{3,}|:{3,})\{([\w:-]+)\}([^\n]*)$", re.M)
OPTION = re.compile(r"^:(label|class|nonumber|name|tags|figwidth|width|align):[^\n]*$", re.M)
# inline math may wrap onto the next line, never past a blank line
MATH = re.compile(r"\$\$(.+?)\$\$(?:\s*\(([^)\s]+)\))?|\$((?:[^$\n]|\n(?![ \t]*\n))+?)\$", re.S)
LINK = re.compile(r"href=\"([^\"]+)\"|\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"``?[^`\n]+``?")


def _target(role: str, target: str) -> str:
    # {doc}`text <target>`: the target is what must match
    m = re.search(r"<([^>]+)>\s*$", target)
    return f"{role}:{m.group(1) if m else target}"


def _math(tex: str) -> str:
    tex = re.sub(r"\\(?:text|mathrm|textrm|mbox)\{[^{}]*\}", r"\\text{}", tex)
    return re.sub(r"\s+", "", tex)


def structure(text: str) -> Counter:
    """The parts of a Markdown text a translation must keep."""
    fenced = re.sub(r"^```(?!\{).*?^```", "", text, flags=re.S | re.M)  # code examples
    parts = [_target(r, t) if r in ("doc", "ref", "numref", "download") else
             f"{r}:" + ",".join(k.strip() for k in t.split(",")) if r.startswith("cite") else
             f"{r}:{t}" for r, t in ROLE.findall(fenced)]
    parts += [f"label:{x}" for x in LABEL.findall(fenced)]
    parts += [f"directive:{name}" for _, name, _ in DIRECTIVE.findall(fenced)]
    parts += [f"option:{x}" for x in OPTION.findall(fenced)]
    parts += [f"option-line:{line.strip()}" for line in re.findall(r"^:label:[^\n]*$", fenced,
                                                                    re.M)]
    for display, eq_label, inline in MATH.findall(fenced):
        parts.append(f"math:{_math(display or inline)}")
        if eq_label:
            parts.append(f"eq-label:{eq_label}")
    parts += [f"link:{a or b}" for a, b in LINK.findall(fenced)]
    parts += [f"code:{c}" for c in CODE_SPAN.findall(ROLE.sub("", MATH.sub("", fenced)))]
    parts += [f"heading-level:{len(h)}" for h in re.findall(r"^(#+) ", fenced, re.M)]
    return Counter(parts)


def structure_differences(en_text: str, zh_text: str) -> list[str]:
    en, zh = structure(en_text), structure(zh_text)
    lost = sorted((en - zh).elements())
    added = sorted((zh - en).elements())
    return [f"missing {x}" for x in lost] + [f"extra {x}" for x in added]


def _translated(name: str) -> list[tuple[str, str, str]]:
    """(where, English text, Chinese text) for each translated Markdown text of a page."""
    if name.endswith(".md"):
        zh_text = zh_sync.STAMP.sub("", (ZH / name).read_text(encoding="utf-8"), count=1)
        return [(name, (EN / name).read_text(encoding="utf-8"), zh_text)]
    en = {c["id"]: "".join(c["source"]) for c in cells(EN / name)}
    return [(f"{name} cell {c['id']}", en[c["id"]], "".join(c["source"]))
            for c in cells(ZH / name)
            if c["cell_type"] == "markdown" and c["id"] in en
            and c.get("metadata", {}).get(zh_sync.KEY)]


@pytest.mark.parametrize("name", NOTEBOOKS + PAGES)
def test_translation_keeps_the_structure(name):
    problems = [f"{where}: {d}" for where, en, zh in _translated(name)
                for d in structure_differences(en, zh)]
    assert problems == [], "\n".join(problems)


def test_structure_check_catches_a_lost_reference():
    en = "See {doc}`ch2_chain_rule` and {eq}`ch1-rel`, $x^2$ (1.1).\n\n(sec-a)=\n## A\n"
    assert structure_differences(en, "见 {doc}`ch2_chain_rule` 和 $x^2$。\n\n(sec-a)=\n## 甲\n") \
        == ["missing eq:ch1-rel"]
    assert structure_differences(en, "见 {doc}`ch2_chain_rule`、{eq}`ch1-rel`，$x^3$。\n\n"
                                     "(sec-a)=\n## 甲\n") == ["missing math:x^2",
                                                              "extra math:x^3"]
    # words inside \text{} may be translated
    assert structure_differences(r"$a \text{ if } b$", r"$a \text{ 若 } b$") == []


# -- terms: the glossary's ---------------------------------------------------------------------

def glossary() -> list[tuple[str, str, list[str]]]:
    """(English, the book's Chinese term, other renderings to avoid) per glossary row."""
    rows = []
    for line in (EN / "glossary.md").read_text(encoding="utf-8").splitlines():
        c = [x.strip() for x in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(c) >= 4 and c[0] not in ("English", "---"):
            rows.append((c[0], c[1], [a.strip() for a in c[2].split("/") if a.strip()]))
    return rows


def prose(text: str) -> str:
    """Chinese running text: without code, math, links' targets and parentheses (where a
    term's English, or another name for it, may be given)."""
    text = re.sub(r"^```.*?^```", " ", text, flags=re.S | re.M)
    text = re.sub(r"^:{3,}.*$", " ", text, flags=re.M)
    text = ROLE.sub(" ", text)
    text = CODE_SPAN.sub(" ", text)
    text = MATH.sub(" ", text)
    text = re.sub(r"（[^（）]*）|\([^()]*\)", " ", text)
    return text


def avoided_terms(text: str) -> list[str]:
    """Other renderings the text uses. An occurrence inside one of the book's own terms is
    not one (残差, to avoid for the error term, inside 残差连接, the residual connection)."""
    found = []
    plain = prose(text)
    rows = glossary()
    for english, term, others in rows:
        for other in others:
            if other in term:
                continue
            hosts = [t for _, book_term, _ in rows for t in re.split(r"[、，]", book_term)
                     if other in t and t != other]
            spans = [range(m.start(), m.end()) for h in hosts
                     for m in re.finditer(re.escape(h), plain)]
            if any(not any(m.start() in s and m.end() - 1 in s for s in spans)
                   for m in re.finditer(re.escape(other), plain)):
                found.append(f"{other} (use {term}, for {english})")
    return found


@pytest.mark.parametrize("name", [n for n in NOTEBOOKS + PAGES if n != "glossary.md"])
def test_chinese_uses_the_glossary_terms(name):
    problems = [f"{where}: {t}" for where, _, zh in _translated(name)
                for t in avoided_terms(zh)]
    assert problems == [], "\n".join(problems)


def test_glossary_check_catches_another_rendering():
    assert avoided_terms("我们用批量归一化。") == [
        "批量归一化 (use 批归一化, for batch normalisation)"]
    assert avoided_terms("我们用批归一化（也称批量归一化，batch normalization）。") == []
    assert avoided_terms("残差连接让梯度绕过模块。") == []
    assert avoided_terms("残差连接之外，残差也出现了。") == [
        "残差 (use 误差项, for error term, delta)"]
    assert len(glossary()) > 90
