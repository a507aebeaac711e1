"""Build both editions of the HTML book, warnings as errors.

Usage::

    python scripts/build_book.py [--path-output DIR]     # default: the repository root

1. the English edition: ``jupyter-book build . --all -W -n --keep-going`` into
   ``DIR/_build/html/`` (it executes every notebook, and serves JupyterLite with both
   editions' notebooks);
2. the Chinese edition: ``jupyter-book build book/zh`` with the same flags into
   ``DIR/_build/zh_edition/``, without executing (its code cells and outputs are the English
   ones, tests/test_zh_edition.py), then copied to ``DIR/_build/html/zh/``.

Exits with the first failing build's status; both logs go to stdout.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLAGS = ["--all", "-W", "-n", "--keep-going"]


def jupyter_book() -> str:
    found = Path(sys.executable).with_name("jupyter-book")
    return str(found) if found.exists() else "jupyter-book"


def build(out: Path) -> int:
    out = out.resolve()
    english = subprocess.run([jupyter_book(), "build", ".", *FLAGS, "--path-output", str(out)],
                             cwd=ROOT)
    if english.returncode != 0:
        return english.returncode
    zh_out = out / "_build" / "zh_edition"
    chinese = subprocess.run([jupyter_book(), "build", "book/zh", *FLAGS, "--path-output",
                              str(zh_out)], cwd=ROOT)
    if chinese.returncode != 0:
        return chinese.returncode
    target = out / "_build" / "html" / "zh"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(zh_out / "_build" / "html", target)
    print(f"Both editions built: {out / '_build' / 'html' / 'index.html'} and "
          f"{target / 'index.html'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--path-output", type=Path, default=ROOT,
                        help="folder that gets _build/ (default: the repository root)")
    return build(parser.parse_args(argv).path_output)


if __name__ == "__main__":
    sys.exit(main())
