"""Sphinx extension: the book offers its notebooks and bpcore as downloads.

After an HTML build, ``_build/html/downloads/`` holds

* ``backprop-verified-notebooks.zip``: every chapter's notebook as
  JupyterLite serves it (``_build/lite_notebooks``, written by
  run_in_browser), or else as in ``book/``, with a README.txt that says how
  to run them;
* ``bpcore-<version>-py3-none-any.whl``: the wheel the in-browser kernel
  installs (the digits are packed in, so the chapters run offline), or else
  one built from the checkout.

The introduction links to both, so a reader who has only the built book
(offline, say) can run every chapter on their own computer.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ZIP_NAME = "backprop-verified-notebooks.zip"

README = """\
Backprop, verified: the notebooks
=================================

Every chapter of the book as a Jupyter notebook, with its outputs. To run
them you need Python 3.10 or newer and the bpcore wheel from the same page
of the book:

    python3 -m venv .venv
    .venv/bin/pip install bpcore-{version}-py3-none-any.whl jupyterlab
    .venv/bin/jupyter lab        # then open a chapter's .ipynb

(On Windows: .venv\\Scripts\\pip and .venv\\Scripts\\jupyter.) pip installs
NumPy, SymPy and Matplotlib with bpcore. Chapter 6's MNIST section downloads
MNIST once (about 11 MB) the first time it runs; everything else works
offline.
"""


def _version(root: Path) -> str:
    pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    for line in pyproject.splitlines():
        if line.startswith("version = "):
            return line.split('"')[1]
    raise RuntimeError("downloads: no version in pyproject.toml")


def _wheel(outdir: Path, root: Path, version: str, work: Path) -> Path:
    """The wheel the browser kernel installs, if the build has one; else a
    wheel built from the checkout."""
    name = f"bpcore-{version}-py3-none-any.whl"
    served = [p for p in outdir.rglob(name) if "downloads" not in p.parts]
    if served:
        return served[0]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet",
                    "--no-deps", "--wheel-dir", str(work), str(root)],
                   check=True)
    return work / name


def _notebooks(outdir: Path, srcdir: Path) -> list[Path]:
    served = outdir.parent / "lite_notebooks"
    found = sorted(served.glob("*.ipynb")) if served.is_dir() else []
    return found or sorted((srcdir / "book").glob("*.ipynb"))


def write_downloads(outdir: Path, srcdir: Path) -> tuple[Path, Path]:
    """Write the zip and the wheel into ``outdir/downloads``."""
    version = _version(srcdir)
    target = outdir / "downloads"
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        built = _wheel(outdir, srcdir, version, Path(work))
        wheel = Path(shutil.copy2(built, target))
    archive = target / ZIP_NAME
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("backprop-verified/README.txt",
                   README.format(version=version))
        for notebook in _notebooks(outdir, srcdir):
            z.write(notebook, f"backprop-verified/{notebook.name}")
    return archive, wheel


def _build_finished(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    write_downloads(Path(app.outdir), Path(app.srcdir))


def setup(app):
    # after jupyterlite-sphinx (priority 500) has laid out the browser site
    app.connect("build-finished", _build_finished, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
