"""Chapter 8, "A whole network by hand": the shape its stored outputs must keep.

nbval re-runs the notebook and compares every output; these tests read the stored notebook and
check what the chapter promises: every backward step's check passes once it is fixed, the wrong
versions fail with a named diagnosis, the trained weights agree with bpcore's, and the chapter
has a write-it-yourself exercise in the form of chapters 1-7 (tests/test_exercises.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PATH = ROOT / "book" / "ch8_network_by_hand.ipynb"


def text(cell) -> str:
    out = []
    for o in cell.get("outputs", []):
        data = o.get("data", {})
        out.append("".join(data.get("text/plain", "")) if data else "".join(o.get("text", "")))
    return "\n".join(out)


@pytest.fixture(scope="module")
def cells():
    return json.loads(PATH.read_text(encoding="utf-8"))["cells"]


def test_listed_after_chapter_7():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    assert "book/ch7_deep_networks\n      - file: book/ch8_network_by_hand\n" in toc


def test_every_check_passes_or_names_its_mistake(cells):
    checks = [c for c in cells if c["cell_type"] == "code" and "bp.check(" in "".join(c["source"])]
    assert len(checks) >= 15  # twelve steps, three wrong versions, two groups, the exercise
    failing = []
    for cell in checks:
        out = text(cell)
        if "the witnesses agree" in out:
            assert "FAIL" not in out
            continue
        assert "FAIL" in out and re.search(r"^  \S.*: \S", out, re.M), out
        failing.append(out)
    diagnoses = ["per-example gradients", "half the true gradient", "transposed",
                 "m = 5 times too small"]
    assert len(failing) == len(diagnoses)
    for out, diagnosis in zip(failing, diagnoses):
        assert diagnosis in out


def test_verdicts_are_true_and_accuracies_rounded(cells):
    outputs = "\n".join(text(c) for c in cells if c["cell_type"] == "code")
    verdicts = [line for line in outputs.splitlines() if "below 1e-1" in line or "agree to" in line]
    assert len(verdicts) >= 5 and all(line.endswith(": True") for line in verdicts), verdicts
    assert "largest relative difference below 1e-12: True" in outputs
    for name in ("validation accuracy", "test accuracy"):
        match = re.search(rf"{name}[^:]*: (\d+\.\d)%$", outputs, re.M)
        assert match and float(match.group(1)) > 95, name


def test_write_it_yourself_as_in_the_other_chapters(cells):
    tags = [c.get("metadata", {}).get("tags", []) for c in cells]
    starts = [i for i, t in enumerate(tags) if "write-it-yourself" in t]
    assert len(starts) == 1
    i = starts[0]
    assert "bp.check(" in "".join(cells[i]["source"]) and "FAIL" in text(cells[i])
    rest = cells[i + 1:]
    md = ["".join(c["source"]) for c in rest if c["cell_type"] == "markdown"]
    assert md[0].startswith("```{exercise-end}")
    assert md[1].startswith("```{solution-start}") and ":class: dropdown" in md[1]
    sol = next(c for c in rest if "solution" in c.get("metadata", {}).get("tags", []))
    assert "the witnesses agree" in text(sol) and "FAIL" not in text(sol)


def test_summary_and_exercises(cells):
    headings = [line for c in cells if c["cell_type"] == "markdown"
                for line in "".join(c["source"]).splitlines() if line.startswith("## ")]
    assert "## Exercises" in headings and "## Summary" in headings
