"""Build both editions of the HTML book, warnings as errors.

Usage::

    python scripts/build_book.py [--path-output DIR]     # default: the repository root
    python scripts/build_book.py --stored-outputs ...    # print the outputs stored in the
                                                         # notebooks, execute nothing

1. the English edition: ``jupyter-book build . --all -W -n --keep-going`` into
   ``DIR/_build/html/`` (it executes every notebook, and serves JupyterLite with both
   editions' notebooks);
2. the Chinese edition: ``jupyter-book build book/zh`` with the same flags into
   ``DIR/_build/zh_edition/``, without executing (its code cells and outputs are the English
   ones, tests/test_zh_edition.py), then copied to ``DIR/_build/html/zh/``.

``--stored-outputs`` is what the tests build (tests/conftest.py): nbval has already re-run
every notebook and compared its outputs with the stored ones, so executing them a third time
would only cost minutes.

Exits with the first failing build's status; both logs go to stdout.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLAGS = ["--all", "-W", "-n", "--keep-going"]


def jupyter_book() -> str:
    found = Path(sys.executable).with_name("jupyter-book")
    return str(found) if found.exists() else "jupyter-book"


def stored_outputs_config() -> Path:
    """A copy of _config.yml that executes no notebook, beside it (its paths are relative to
    the root; a dot file, so no build reads it as a page)."""
    text = (ROOT / "_config.yml").read_text(encoding="utf-8")
    marker = "execute_notebooks: force"
    if marker not in text:
        raise SystemExit(f"_config.yml has no '{marker}' to turn off")
    path = ROOT / f".stored-outputs-{os.getpid()}.yml"
    path.write_text(text.replace(marker, 'execute_notebooks: "off"'), encoding="utf-8")
    return path


def build(out: Path, stored_outputs: bool = False) -> int:
    out = out.resolve()
    config = stored_outputs_config() if stored_outputs else None
    try:
        english = subprocess.run(
            [jupyter_book(), "build", ".", *FLAGS, "--path-output", str(out),
             *(["--config", str(config)] if config else [])], cwd=ROOT)
    finally:
        if config:
            config.unlink()
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
    parser.add_argument("--stored-outputs", action="store_true",
                        help="execute no notebook: build from the outputs stored in them")
    args = parser.parse_args(argv)
    return build(args.path_output, args.stored_outputs)


if __name__ == "__main__":
    sys.exit(main())
