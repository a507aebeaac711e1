"""Re-execute the book's notebooks top to bottom and save them with their outputs.

Usage::

    python scripts/run_notebooks.py                 # every book/*.ipynb
    python scripts/run_notebooks.py book/ch1_*.ipynb
    python scripts/run_notebooks.py --check --jobs 2   # re-run, compare, write nothing

Each notebook runs in a fresh ``python3`` kernel with its own folder as the working
directory, as nbval and jupyter-book run it. The saved file is made stable: no timing
metadata, a fixed kernelspec, no Python patch version, execution counts 1, 2, 3, ...
so that re-running an unchanged notebook gives an unchanged file.

Exits non-zero, naming the notebook and the cell, when a cell raises, when a cell writes
anything to stderr (a warning or a log message), or when execution counts are not 1, 2, 3,
...; a notebook that fails is not written. Consecutive stream outputs are joined, so where the
kernel happened to flush does not change the file.

``--check`` writes nothing: it fails, naming the notebook and the first differing cell, when
the re-run notebook is not byte for byte the file on disk (``make notebooks-stable``: a stored
notebook must be exactly what one clean run saves). ``--jobs N`` runs N notebooks at a time
(each in its own kernel process; the longest first).
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

ROOT = Path(__file__).resolve().parent.parent
CELL_TIMEOUT = 1200  # seconds per cell; chapter 6 trains a small network

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
VOLATILE_CELL_METADATA = ("execution", "ExecuteTime", "collapsed", "scrolled")
VOLATILE_NB_METADATA = ("widgets", "vscode", "interpreter", "toc", "varInspector")


class NotebookFailure(Exception):
    """A notebook did not run cleanly; the message names the notebook and the cell."""


def _cell_label(path: Path, index: int, cell) -> str:
    first = next((line for line in cell.source.splitlines() if line.strip()), "")
    return f"{path} cell {index} ({first[:60]!r})"


def execute(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    current = {"index": None}

    def on_cell_start(cell, cell_index, **_):
        current["index"] = cell_index

    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        allow_errors=False,
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_start=on_cell_start,
    )
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError) as exc:
        index = current["index"]
        label = _cell_label(path, index, nb.cells[index]) if index is not None else str(path)
        raise NotebookFailure(f"{label} failed:\n{exc}") from None
    return nb


def merge_streams(outputs: list) -> list:
    """Join consecutive stdout (or stderr) outputs into one.

    Where the kernel flushes a cell's prints depends on timing, so the same cell can come back
    as one stream output or as two; nbval joins them before comparing, and so do we before
    saving, so that re-running a notebook reproduces the file byte for byte.
    """
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (output.get("output_type") == "stream" and previous is not None
                and previous.get("output_type") == "stream"
                and previous.get("name") == output.get("name")):
            previous["text"] = previous["text"] + output["text"]
        else:
            merged.append(output)
    return merged


def check_and_clean(path: Path, nb: nbformat.NotebookNode) -> None:
    expected = 1
    for index, cell in enumerate(nb.cells):
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type != "code":
            continue
        if not cell.source.strip():
            # nbclient skips empty cells; they get no count and no output
            cell.execution_count = None
            cell.outputs = []
            continue
        if cell.execution_count != expected:
            raise NotebookFailure(
                f"{_cell_label(path, index, cell)}: execution count {cell.execution_count}, "
                f"expected {expected}"
            )
        expected += 1
        cell.outputs = merge_streams(cell.outputs)
        for output in cell.outputs:
            if output.get("output_type") == "execute_result":
                output["execution_count"] = cell.execution_count
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                raise NotebookFailure(
                    f"{_cell_label(path, index, cell)} wrote to stderr (a warning or a log "
                    f"message would be stored in the book):\n{output['text']}"
                )

    md = nb.metadata
    for key in VOLATILE_NB_METADATA:
        md.pop(key, None)
    md["kernelspec"] = dict(KERNELSPEC)
    if "language_info" in md:
        md["language_info"].pop("version", None)


def first_difference(old: nbformat.NotebookNode, new: nbformat.NotebookNode) -> str:
    """Where two versions of a notebook first differ, in words."""
    if len(old.cells) != len(new.cells):
        return f"{len(old.cells)} cells stored, {len(new.cells)} after the run"
    for index, (a, b) in enumerate(zip(old.cells, new.cells)):
        if a != b:
            first = next((line for line in a.source.splitlines() if line.strip()), "")
            return f"cell {index} ({first[:60]!r}) differs"
    return "the notebook's metadata differs"


def run(path: Path, check: bool = False) -> None:
    start = time.perf_counter()
    nb = execute(path)
    check_and_clean(path, nb)
    nbformat.validate(nb)
    if check:
        stored = path.read_text(encoding="utf-8")
        fresh = nbformat.writes(nb)
        if (fresh if fresh.endswith("\n") else fresh + "\n") != stored:
            raise NotebookFailure(
                f"{path}: a clean run does not reproduce the stored notebook: "
                f"{first_difference(nbformat.reads(stored, as_version=4), nb)} "
                "(run `make notebooks` and commit the result)")
        print(f"same {path}  ({time.perf_counter() - start:.1f} s)", flush=True)
        return
    nbformat.write(nb, path)
    print(f"ok   {path}  ({time.perf_counter() - start:.1f} s)", flush=True)


def _run_one(path: Path, check: bool) -> str | None:
    try:
        run(path, check)
    except NotebookFailure as exc:
        print(f"FAIL {exc}", file=sys.stderr, flush=True)
        return str(exc)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: book/*.ipynb")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; fail if a run does not reproduce the file")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks run at a time")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "book").glob("*.ipynb"))
    if not paths:
        print("no notebooks found", file=sys.stderr)
        return 1
    # the biggest first, so that the last one to finish is a short one
    paths = sorted((p.resolve() for p in paths), key=lambda p: -p.stat().st_size)
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(_run_one, paths, [args.check] * len(paths)))
    failures = [r for r in results if r]
    if failures:
        print(f"\n{len(failures)} of {len(paths)} notebook(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
