"""Keep the Chinese edition (book/zh/) in step with the English one (book/).

Every English page has a Chinese page of the same name in ``book/zh/``.

* **Notebooks.** The Chinese notebook has the same cells, with the same ids, in the same order.
  Its code cells (source, outputs, metadata) are copies of the English ones, so the code that
  nbval checks in one edition is the other's too. Each Markdown cell is a translation, and its
  metadata records which English text it translates: ``bpv_translation.en_sha256``, the SHA-256
  of the English cell's source. When an English cell changes, its hash no longer matches, and the
  translation is *stale*; a Markdown cell with no hash has not been translated yet.
* **Markdown pages** (intro, notation, glossary, ...). The Chinese page's first line is a MyST
  comment naming the SHA-256 of the English page it translates:
  ``% translation-of: book/intro.md sha256=<hex>``.

Usage::

    python scripts/zh_sync.py           # bring book/zh/ up to date, list what needs translating
    python scripts/zh_sync.py --check   # change nothing; exit 1 if anything is out of step
    python scripts/zh_sync.py stamp book/zh/ch3_sigmoid.ipynb [CELL_ID ...]
        # record that these Markdown cells (default: all with no or a stale hash) now translate
        # the current English text; for a .md page, that the page does

``sync`` copies code cells and outputs across, adds a new English Markdown cell with its English
text and no hash (to translate), keeps every existing translation (stale ones are listed, with
the English text they must now say), and drops cells that the English notebook no longer has.
A new English page gets a Chinese copy in English, to translate. After translating, run
``stamp``.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
EN = ROOT / "book"
ZH = EN / "zh"
KEY = "bpv_translation"
STAMP = re.compile(r"^% translation-of: (\S+) sha256=([0-9a-f]{64})\n")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class PageState:
    """What is out of step in one Chinese page."""

    page: str
    untranslated: list[str] = field(default_factory=list)  # cell ids (or the page)
    stale: list[str] = field(default_factory=list)
    code_changed: list[str] = field(default_factory=list)  # code cells copied across
    added: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    missing: bool = False  # no Chinese page yet

    def in_step(self) -> bool:
        return not (self.untranslated or self.stale or self.code_changed or self.added
                    or self.dropped or self.missing)


def english_pages() -> list[Path]:
    return sorted(EN.glob("*.ipynb")) + sorted(EN.glob("*.md"))


def chinese(page: Path) -> Path:
    return ZH / page.name


# -- notebooks ---------------------------------------------------------------------------------

def translated_sha(cell) -> str | None:
    return cell.get("metadata", {}).get(KEY, {}).get("en_sha256")


def sync_notebook(en_path: Path, write: bool) -> PageState:
    state = PageState(str(chinese(en_path).relative_to(ROOT)))
    en = nbformat.read(en_path, as_version=4)
    zh_path = chinese(en_path)
    if zh_path.exists():
        zh = nbformat.read(zh_path, as_version=4)
    else:
        zh = copy.deepcopy(en)
        zh.cells = []
        state.missing = True
    old = {c.id: c for c in zh.cells}
    cells = []
    for en_cell in en.cells:
        mine = old.pop(en_cell.id, None)
        if en_cell.cell_type != "markdown":
            if mine is None or mine != en_cell:
                state.code_changed.append(en_cell.id)
            cells.append(copy.deepcopy(en_cell))
            continue
        if mine is None or mine.cell_type != "markdown":
            mine = copy.deepcopy(en_cell)
            mine.metadata.pop(KEY, None)
            state.added.append(en_cell.id)
        have = translated_sha(mine)
        if have is None:  # not translated yet: it holds the English text, kept current
            if mine.source != en_cell.source:
                mine.source = en_cell.source
                state.code_changed.append(en_cell.id)
            state.untranslated.append(en_cell.id)
        elif have != sha256(en_cell.source):
            state.stale.append(en_cell.id)
        cells.append(mine)
    state.dropped = list(old)
    zh.cells = cells
    zh.metadata = copy.deepcopy(en.metadata)
    if write and not state.in_step():
        zh_path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(zh, zh_path)
    return state


def stamp_notebook(zh_path: Path, cell_ids: list[str]) -> list[str]:
    en = {c.id: c for c in nbformat.read(EN / zh_path.name, as_version=4).cells}
    zh = nbformat.read(zh_path, as_version=4)
    stamped = []
    for cell in zh.cells:
        if cell.cell_type != "markdown" or cell.id not in en:
            continue
        want = sha256(en[cell.id].source)
        if cell_ids and cell.id not in cell_ids:
            continue
        if not cell_ids and translated_sha(cell) == want:
            continue
        cell.metadata[KEY] = {"en_sha256": want}
        stamped.append(cell.id)
    unknown = set(cell_ids) - {c.id for c in zh.cells}
    if unknown:
        raise SystemExit(f"{zh_path}: no cell with id {', '.join(sorted(unknown))}")
    nbformat.write(zh, zh_path)
    return stamped


# -- Markdown pages ----------------------------------------------------------------------------

def page_stamp(zh_path: Path) -> str | None:
    m = STAMP.match(zh_path.read_text(encoding="utf-8"))
    return m.group(2) if m else None


def sync_page(en_path: Path, write: bool) -> PageState:
    zh_path = chinese(en_path)
    state = PageState(str(zh_path.relative_to(ROOT)))
    if not zh_path.exists():
        state.missing = True
        state.untranslated.append(en_path.name)
        if write:
            zh_path.parent.mkdir(parents=True, exist_ok=True)
            zh_path.write_text(en_path.read_text(encoding="utf-8"), encoding="utf-8")
        return state
    have = page_stamp(zh_path)
    if have is None:
        state.untranslated.append(en_path.name)
    elif have != sha256(en_path.read_text(encoding="utf-8")):
        state.stale.append(en_path.name)
    return state


def stamp_page(zh_path: Path) -> None:
    en_path = EN / zh_path.name
    text = STAMP.sub("", zh_path.read_text(encoding="utf-8"), count=1)
    line = (f"% translation-of: {en_path.relative_to(ROOT).as_posix()} "
            f"sha256={sha256(en_path.read_text(encoding='utf-8'))}\n")
    zh_path.write_text(line + text, encoding="utf-8")


# -- the command -------------------------------------------------------------------------------

def sync(write: bool) -> list[PageState]:
    states = []
    for page in english_pages():
        if page.suffix == ".ipynb":
            states.append(sync_notebook(page, write))
        else:
            states.append(sync_page(page, write))
    english = {p.name for p in english_pages()}
    for orphan in sorted(ZH.glob("*.ipynb")) + sorted(ZH.glob("*.md")):
        if orphan.name not in english:
            states.append(PageState(str(orphan.relative_to(ROOT)), dropped=[orphan.name]))
    return states


def report(states: list[PageState], check: bool) -> int:
    out_of_step = [s for s in states if not s.in_step()]
    needs = 0
    for s in out_of_step:
        parts = []
        for what, ids in (("to translate", s.untranslated), ("stale", s.stale),
                          ("code cells differ" if check else "code cells copied",
                           s.code_changed),
                          ("new", s.added), ("no longer in English", s.dropped)):
            if ids:
                parts.append(f"{what}: {', '.join(ids)}")
        if s.missing:
            parts.insert(0, "no Chinese page" if check else "created")
        print(f"{s.page}: " + "; ".join(parts))
        needs += len(s.untranslated) + len(s.stale)
    if not out_of_step:
        print(f"book/zh/ is in step with book/ ({len(states)} pages)")
    elif needs:
        print(f"{needs} Markdown cells or pages to translate; after translating, run "
              "`python scripts/zh_sync.py stamp book/zh/<page>`")
    if check:
        return 1 if out_of_step else 0
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    stamp = sub.add_parser("stamp", help="record that a page's translation is up to date")
    stamp.add_argument("page", type=Path)
    stamp.add_argument("cells", nargs="*", help="cell ids (default: every unstamped cell)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if out "
                        "of step")
    args = parser.parse_args(argv)
    if args.command == "stamp":
        page = args.page if args.page.is_absolute() else Path.cwd() / args.page
        if page.suffix == ".ipynb":
            stamped = stamp_notebook(page, args.cells)
            print(f"{args.page}: stamped {len(stamped)} cells")
        else:
            stamp_page(page)
            print(f"{args.page}: stamped")
        return 0
    return report(sync(write=not args.check), check=args.check)


if __name__ == "__main__":
    sys.exit(main())
