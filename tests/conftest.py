"""Fixtures shared by the book's build and browser checks.

The book is built once per test session (``built_book``) into a temporary directory, so the
checks neither need nor touch the ``_build/`` of ``make book``. The browser checks use headless
Chromium (Debian package ``chromium``): without it they are skipped locally, and fail when
``CI=true``.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from doubles import Square
from filelock import FileLock

ROOT = Path(__file__).resolve().parent.parent
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")


BUILD_TIMEOUT = 1800  # s
#: The test files that open the built book: when a session will run one of them under
#: pytest-xdist, the controller starts the build at once (pytest_sessionstart), so the workers
#: run other tests meanwhile instead of one of them building while the other waits.
BOOK_TESTS = {"test_book_build.py", "test_console.py", "test_zh_build.py",
              "test_browser_lite.py"}


def _book_folder(basetemp: Path) -> Path:
    return basetemp / "book"


def _build_command(out: Path) -> list[str]:
    return [sys.executable, str(ROOT / "scripts" / "build_book.py"), "--stored-outputs",
            "--path-output", str(out)]


def pytest_sessionstart(session):
    config = session.config
    if (os.environ.get("BACKPROP_BUILT_BOOK") or os.environ.get("PYTEST_XDIST_WORKER")
            or not getattr(config.option, "numprocesses", None)):
        return
    selected = [Path(str(a).split("::")[0]).resolve() for a in config.args]
    if not any(p in (ROOT, ROOT / "tests") or p.name in BOOK_TESTS for p in selected):
        return
    out = _book_folder(config._tmp_path_factory.getbasetemp())
    out.mkdir(parents=True, exist_ok=True)
    (out / "started").write_text("", encoding="utf-8")
    # the log and the exit status land in the files the fixture reads
    script = (f'"$@" > {shlex.quote(str(out / "build.log"))} 2>&1; '
              f'echo $? > {shlex.quote(str(out / "returncode.tmp"))}; '
              f'mv {shlex.quote(str(out / "returncode.tmp"))} '
              f'{shlex.quote(str(out / "returncode"))}')
    config._backprop_book = subprocess.Popen(["sh", "-c", script, "build", *_build_command(out)],
                                             cwd=ROOT)


def pytest_sessionfinish(session):
    proc = getattr(session.config, "_backprop_book", None)
    if proc is not None and proc.poll() is None:
        proc.terminate()


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """Build both editions once: ``scripts/build_book.py --stored-outputs`` (``jupyter-book
    build . --all -W -n --keep-going`` from the outputs stored in the notebooks, which nbval
    checks; then the same for book/zh into ``_build/html/zh``).

    Returns ``(returncode, log, html_dir)``; the log is also kept as ``build.log`` beside
    ``_build``. Under pytest-xdist the workers share one build, started by the controller
    when the session begins (or else by the first worker to get here, holding a lock); the
    others wait for it. With ``BACKPROP_BUILT_BOOK`` set to a ``--path-output`` folder of an
    earlier build (for working on the browser checks), that build is used and nothing is
    rebuilt."""
    reuse = os.environ.get("BACKPROP_BUILT_BOOK")
    if reuse:
        out = Path(reuse)
        return 0, (out / "build.log").read_text(encoding="utf-8"), out / "_build" / "html"
    assert JUPYTER_BOOK.exists(), f"{JUPYTER_BOOK} not found: install requirements.txt"
    # the session's folder, shared by the xdist workers (each has its own basetemp below it)
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    out = _book_folder(shared)
    done = out / "returncode"
    with FileLock(str(shared / "book.lock")):
        if (out / "started").exists():  # the controller's build: wait for it
            deadline = time.monotonic() + BUILD_TIMEOUT
            while not done.exists():
                assert time.monotonic() < deadline, f"the book build did not end: {out}"
                time.sleep(1)
        elif not done.exists():
            out.mkdir(exist_ok=True)
            proc = subprocess.run(_build_command(out), cwd=ROOT, capture_output=True,
                                  text=True, timeout=BUILD_TIMEOUT)
            (out / "build.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
            done.write_text(str(proc.returncode), encoding="utf-8")
    log = (out / "build.log").read_text(encoding="utf-8")
    return int(done.read_text(encoding="utf-8").strip()), log, out / "_build" / "html"


#: Headless Chromium as the browser checks start it: no window, no calls home of its own.
HEADLESS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
]


@pytest.fixture
def warnings_are_errors():
    """Any warning inside the test is an error (a stray RuntimeWarning is a silent NaN's
    first sign)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.fixture(scope="session")
def chromium() -> list[str]:
    """The command that starts headless Chromium: the executable and :data:`HEADLESS` (each
    test adds its own network rules and arguments)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        exe = shutil.which(name)
        if exe:
            return [exe, *HEADLESS]
    message = "headless Chromium not found: apt-get install -y chromium"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true: not skipping)")
    pytest.skip(message)


@pytest.fixture
def square_activation() -> type:
    """The shared test double y = x² (tests/doubles.py), an elementwise node with the right
    backward."""
    return Square
