"""Re-execute the book's notebooks top to bottom and save them with their outputs.

Usage::

    python scripts/run_notebooks.py                 # every book/*.ipynb
    python scripts/run_notebooks.py book/ch1_*.ipynb

Each notebook runs in a fresh ``python3`` kernel with its own folder as the working
directory, as nbval and jupyter-book run it. The saved file is made stable: no timing
metadata, a fixed kernelspec, no Python patch version, execution counts 1, 2, 3, ...
so that re-running an unchanged notebook gives an unchanged file.

Exits non-zero, naming the notebook and the cell, when a cell raises, when a cell writes
anything to stderr (a warning or a log message), or when execution counts are not 1, 2, 3,
...; a notebook that fails is not written. Consecutive stream outputs are joined, so where the
kernel happened to flush does not change the file.
"""

from __future__ import annotations

import argparse
import sys
import time
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


def run(path: Path) -> None:
    start = time.perf_counter()
    nb = execute(path)
    check_and_clean(path, nb)
    nbformat.validate(nb)
    nbformat.write(nb, path)
    print(f"ok   {path}  ({time.perf_counter() - start:.1f} s)", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: book/*.ipynb")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "book").glob("*.ipynb"))
    if not paths:
        print("no notebooks found", file=sys.stderr)
        return 1
    failures = []
    for path in paths:
        path = path.resolve()
        try:
            run(path)
        except NotebookFailure as exc:
            failures.append(str(exc))
            print(f"FAIL {exc}", file=sys.stderr, flush=True)
    if failures:
        print(f"\n{len(failures)} of {len(paths)} notebook(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
