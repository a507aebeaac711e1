"""The assets the book serves to JupyterLite (scripts/lite_assets.py): checked, or refused.

Fast checks of the refusals on made-up inputs; the real layout is exercised by every book build
(tests/test_book_build.py) and run in a browser by tests/test_browser_lite.py.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from packaging.requirements import Requirement

from bpcore.nn import data

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("lite_assets", ROOT / "scripts" / "lite_assets.py")
rib = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rib)


def packages_wheel(tmp_path: Path, files: dict[str, bytes]) -> zipfile.ZipFile:
    path = tmp_path / "packages.whl"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(rib.PACKAGES_DIR + name, data)
    return zipfile.ZipFile(path)


def entry(file_name: str, data: bytes) -> dict:
    return {"file_name": file_name, "sha256": hashlib.sha256(data).hexdigest()}


def test_a_file_with_the_official_sha256_is_served(tmp_path):
    data = b"numpy built by Pyodide"
    with packages_wheel(tmp_path, {"numpy.whl": data}) as z:
        assert rib.pyodide_build(z, "numpy", entry("numpy.whl", data)) == data


def test_a_file_whose_sha256_differs_from_the_lock_is_refused(tmp_path):
    with packages_wheel(tmp_path, {"numpy.whl": b"something else"}) as z:
        with pytest.raises(rib.LiteAssetError, match="refusing to serve it"):
            rib.pyodide_build(z, "numpy", entry("numpy.whl", b"numpy built by Pyodide"))


def test_a_missing_file_is_refused(tmp_path):
    with packages_wheel(tmp_path, {}) as z:
        with pytest.raises(rib.LiteAssetError, match="is not in"):
            rib.pyodide_build(z, "numpy", entry("numpy.whl", b""))


def test_closure_follows_depends_whatever_their_spelling():
    packages = {"ipython": {"depends": ["prompt_toolkit", "traitlets"]},
                "prompt-toolkit": {"depends": []}, "traitlets": {"depends": []},
                "scipy": {"depends": []}}
    assert rib.closure(packages, ("ipython",)) == ["ipython", "prompt-toolkit", "traitlets"]
    with pytest.raises(rib.LiteAssetError, match="not in Pyodide's lock"):
        rib.closure(packages, ("scikit-learn",))


def test_bpcore_must_accept_the_numpy_the_browser_has():
    served = {"numpy": {"name": "numpy", "version": "2.0.2"}}
    rib.check_requirements(served, {"bpcore.whl": [Requirement("numpy>=1.24")]})
    with pytest.raises(rib.LiteAssetError, match="numpy>=2.4.*numpy 2.0.2"):
        rib.check_requirements(served, {"bpcore.whl": [Requirement("numpy>=2.4")]})
    with pytest.raises(rib.LiteAssetError, match="would have nothing"):
        rib.check_requirements(served, {"bpcore.whl": [Requirement("sympy")]})


def test_bpcore_requirements_accept_pyodide_numpy_and_matplotlib():
    """pyproject.toml's dependencies admit what Pyodide 0.27.7 has (numpy 2.0.2, matplotlib
    3.8.4), whatever requirements.txt pins for the book's own environment."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    deps = text.split("dependencies = [", 1)[1].split("]", 1)[0]
    reqs = [Requirement(d.strip().strip('"')) for d in deps.split(",") if d.strip()]
    served = {"numpy": {"name": "numpy", "version": "2.0.2"},
              "matplotlib": {"name": "matplotlib", "version": "3.8.4"},
              "sympy": {"name": "sympy", "version": "1.14.0"}}
    rib.check_requirements(served, {"bpcore.whl": reqs})


def test_packed_digits_give_the_same_split_without_scikit_learn(tmp_path, monkeypatch):
    """The browser has no scikit-learn: the wheel the book serves carries the digits and the
    chapters' split (pack_digits_split), and load_digits_split returns the very same arrays."""
    with_sklearn = data.load_digits_split(test_size=0.25, seed=0)
    packed = rib.pack_digits_split(tmp_path / "digits_split.npz", test_size=0.25, seed=0)
    assert packed.stat().st_size < 100_000
    monkeypatch.setattr(data, "PACKED_DIGITS", packed)
    for name in ("sklearn", "sklearn.datasets", "sklearn.model_selection"):
        monkeypatch.setitem(sys.modules, name, None)  # import sklearn... raises ImportError
    without = data.load_digits_split(test_size=0.25, seed=0)
    for a, b in zip(with_sklearn, without):
        assert a.dtype == b.dtype and a.flags.c_contiguous == b.flags.c_contiguous
        np.testing.assert_array_equal(a, b)
    # only the packed split is there: any other needs scikit-learn
    with pytest.raises(ImportError, match="needs scikit-learn"):
        data.load_digits_split(test_size=0.25, seed=1)
    monkeypatch.setattr(data, "PACKED_DIGITS", tmp_path / "absent.npz")
    with pytest.raises(ImportError, match="needs scikit-learn"):
        data.load_digits_split(test_size=0.25, seed=0)


def test_startup_wheel_is_the_same_at_every_build_and_serves_its_module(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = rib.build_startup_wheel(tmp_path / "a")
    second = rib.build_startup_wheel(tmp_path / "b")
    assert first.read_bytes() == second.read_bytes(), "its sha256 in the lock must not change"
    entry, requires = rib.wheel_entry(first, {"python_version": "3.12", "extra": ""})
    assert (entry["name"], entry["imports"], entry["depends"], requires) == (
        rib.STARTUP_PACKAGE, [rib.STARTUP_MODULE], [], [])
    with zipfile.ZipFile(first) as z:
        assert z.read(f"{rib.STARTUP_MODULE}.py").decode() == rib.STARTUP_CODE


def test_kernel_loads_the_startup_module_as_pythonstartup():
    kernel = rib.lite_json("3.12.7")["jupyter-config-data"]["litePluginSettings"][rib.KERNEL]
    assert kernel["disablePyPIFallback"] is True
    options = kernel["loadPyodideOptions"]
    assert options["packages"] == [rib.STARTUP_PACKAGE]
    assert options["env"]["PYTHONSTARTUP"] == (
        f"/lib/python3.12/site-packages/{rib.STARTUP_MODULE}.py")


def test_startup_drops_the_font_cache_notice_and_nothing_else():
    """Run as IPython runs PYTHONSTARTUP, in the reader's namespace: no name is left there, and
    matplotlib.font_manager's logger drops the one notice, not its other warnings."""
    import logging

    logger = logging.getLogger("matplotlib.font_manager")
    filters = list(logger.filters)
    namespace: dict = {}
    try:
        exec(compile(rib.STARTUP_CODE, rib.STARTUP_MODULE, "exec"), namespace)
        assert set(namespace) == {"__builtins__"}
        records = []
        handler = logging.Handler()
        handler.emit = records.append
        logger.addHandler(handler)
        try:
            # as matplotlib 3.8.4 in Pyodide logs it (font_manager.FontManager.__init__)
            logger.warning("Matplotlib is building the font cache; this may take a moment.")
            logger.warning("findfont: Font family 'Nope' not found.")
        finally:
            logger.removeHandler(handler)
        assert [r.getMessage() for r in records] == ["findfont: Font family 'Nope' not found."]
    finally:
        logger.filters[:] = filters
