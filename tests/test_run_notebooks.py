"""scripts/run_notebooks.py: a saved notebook is reproduced byte for byte, and --check says
when it is not."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "run_notebooks.py"
spec = importlib.util.spec_from_file_location("run_notebooks", SCRIPT)
run_notebooks = importlib.util.module_from_spec(spec)
sys.modules["run_notebooks"] = run_notebooks
spec.loader.exec_module(run_notebooks)


def test_check_passes_on_a_saved_run_and_names_the_cell_that_changed(tmp_path):
    path = tmp_path / "tiny.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A tiny notebook"),
                nbformat.v4.new_code_cell("print(6 * 7)")]
    nbformat.write(nb, path)
    run_notebooks.run(path)                  # executes and saves
    saved = path.read_text(encoding="utf-8")
    assert '"42\\n"' in saved
    run_notebooks.run(path, check=True)      # a second run reproduces it: no error
    assert path.read_text(encoding="utf-8") == saved, "--check must not write"

    stale = nbformat.read(path, as_version=4)
    stale.cells[1].outputs[0]["text"] = "41\n"  # an output that no longer matches the code
    nbformat.write(stale, path)
    with pytest.raises(run_notebooks.NotebookFailure, match=r"cell 1 \('print\(6 \* 7\)'\)"):
        run_notebooks.run(path, check=True)
