"""Every chapter 1-7 has an exercise the reader completes: a starting cell (tag
``write-it-yourself``) whose stored output is the checker's diagnosis of the starting code, and a
solution cell (tag ``solution``) inside a gated dropdown solution, whose stored output passes.
nbval re-runs both, so these stored outputs are what the code prints."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted(ROOT.glob("book/ch[1-7]_*.ipynb"))


def text(cell) -> str:
    out = []
    for o in cell.get("outputs", []):
        data = o.get("data", {})
        out.append("".join(data.get("text/plain", "")) if data else "".join(o.get("text", "")))
    return "\n".join(out)


def test_there_are_seven_chapters():
    assert [p.name[:3] for p in CHAPTERS] == [f"ch{k}" for k in range(1, 8)]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_each_chapter_has_an_exercise_the_reader_completes(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    tags = [c.get("metadata", {}).get("tags", []) for c in cells]
    starts = [i for i, t in enumerate(tags) if "write-it-yourself" in t]
    assert starts, f"{path.name}: no cell tagged write-it-yourself"
    for i in starts:
        src = "".join(cells[i]["source"])
        assert "bp.check(" in src
        out = text(cells[i])
        assert "FAIL" in out, f"{path.name}: the starting code should fail the check"
        assert re.search(r"^  \S.*: \S", out, re.M), "a diagnosis line under the verdict"
        # the exercise box closes, then a dropdown solution with a passing code cell
        rest = cells[i + 1:]
        md = ["".join(c["source"]) for c in rest if c["cell_type"] == "markdown"]
        assert md[0].startswith("```{exercise-end}")
        assert md[1].startswith("```{solution-start}") and ":class: dropdown" in md[1]
        sol = next(c for c in rest if "solution" in c.get("metadata", {}).get("tags", []))
        assert "the witnesses agree" in text(sol) and "FAIL" not in text(sol)
