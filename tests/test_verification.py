"""The verification suite (``bpcore verify``): it finds every node, and it can fail.

The full suite runs once (in a subprocess, as a user would run it); the failure paths run on
small test doubles so that they are fast and do not depend on the package's nodes.
"""

from __future__ import annotations

import importlib
import inspect
import json
import math
import pkgutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from doubles import SlightlyWrongSquare, Square

import bpcore
from bpcore import Node, cli
from bpcore.witnesses import suite as verification
from bpcore.witnesses.report import Comparison, Report, bucket
from bpcore.witnesses.suite import run_suite, verify_class

ROOT = Path(__file__).resolve().parent.parent


# -- test doubles (registered = False keeps them out of the package's node list) ----
class NoSymbolic(Square):
    registered = False

    def symbolic(self, x):
        raise NotImplementedError


class NoExamples(Square):
    registered = False

    @classmethod
    def examples(cls, rng):
        raise NotImplementedError


class EmptyExamples(Square):
    registered = False

    @classmethod
    def examples(cls, rng):
        return []


class NoFormula(Square):
    registered = False
    formula = ""


class Crashes(Square):
    registered = False

    def backward(self, dout):
        raise RuntimeError("boom")


class NaNGradient(Square):
    registered = False

    def backward(self, dout):
        return (dout * np.nan * self.x,)


# -- discovery ----
def node_classes_by_inspection() -> set[type]:
    """Node subclasses defined in bpcore modules, found without the registry."""
    found = set()
    for info in pkgutil.walk_packages(bpcore.__path__, "bpcore."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if (issubclass(obj, Node) and obj is not Node and obj.__module__ == info.name
                    and obj.__dict__.get("registered", True)):
                found.add(obj)
    return found


def test_discovery_finds_every_node_class_in_the_package():
    discovered = set(verification.discover_nodes())
    assert node_classes_by_inspection() <= discovered
    names = {c.__name__ for c in discovered}
    # the nodes the book's chapters rely on, by name: a rename must show up here
    assert {"AddNode", "MulNode", "ExpNode", "LogNode", "MatMulNode", "SumNode", "Sigmoid",
            "Tanh", "ReLU", "Softmax", "SoftmaxWithLoss", "MSE", "Affine", "LayerBlock"} <= names
    assert Square not in discovered and SlightlyWrongSquare not in discovered


def test_no_submodule_fails_to_import():
    assert verification.import_all_modules() == []


# -- pass and fail ----
def test_a_correct_node_passes_with_tiny_errors():
    r = verify_class(Square, seeds=2)
    assert r.ok and r.problem == ""
    assert r.checks == 4 and r.shapes == ["()", "(2, 3)"]
    assert r.sym_vs_bp < 1e-12 and r.bp_vs_fd < 1e-8


def test_a_wrong_backward_fails():
    r = verify_class(SlightlyWrongSquare, seeds=1)
    assert not r.ok
    assert r.bp_vs_fd == pytest.approx(1e-3, rel=1e-3)  # the 0.1 % error, measured
    assert r.sym_vs_fd < 1e-8  # SymPy and finite differences still agree with each other


@pytest.mark.parametrize("cls, problem", [
    (NoSymbolic, "no symbolic form"),
    (NoExamples, "no examples()"),
    (EmptyExamples, "examples() is empty"),
    (NoFormula, "no formula"),
    (Crashes, "RuntimeError: boom"),
])
def test_missing_parts_and_crashes_are_failures_not_skips(cls, problem):
    r = verify_class(cls, seeds=1)
    assert not r.ok
    assert problem in r.problem


def test_a_nan_gradient_fails():
    r = verify_class(NaNGradient, seeds=1)
    assert not r.ok and math.isnan(r.bp_vs_fd)


def test_suite_report_fails_if_any_row_fails_and_names_it():
    report = run_suite(seeds=1, classes=[Square, SlightlyWrongSquare, NoSymbolic])
    assert not report.ok
    assert [r.name for r in report.failures] == ["SlightlyWrongSquare", "NoSymbolic"]
    table = report.table()
    assert "FAIL: no symbolic form" in table and "2 failed" in table
    assert "**FAIL**" in report.markdown()
    assert not run_suite(seeds=1, classes=[]).ok  # an empty suite proves nothing


def test_main_exits_non_zero_on_a_disagreement(monkeypatch, capsys):
    monkeypatch.setattr(verification, "discover_nodes", lambda: [Square, SlightlyWrongSquare])
    monkeypatch.setattr(verification, "import_all_modules", lambda: [])
    passing = verification.Row(Report("net", [Comparison("W1", "backprop = FD", 0.0)]),
                               checks=1)
    monkeypatch.setattr(verification, "verify_network", lambda *a, **k: passing)
    assert cli.main(["verify", "--seeds", "1"]) == 1
    captured = capsys.readouterr()
    assert "SlightlyWrongSquare" in captured.out and "FAIL" in captured.out
    assert "verification FAILED: SlightlyWrongSquare" in captured.err
    assert cli.main(["verify", "--seeds", "1", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["passed"] is False
    assert [n["passed"] for n in data["nodes"]] == [True, False, True]


def test_bad_seeds_option_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["verify", "--seeds", "0"])
    assert exc.value.code == 2
    assert "must be at least 1, got 0" in capsys.readouterr().err


def test_markdown_shows_bounds_for_passes_and_digits_for_failures():
    a = run_suite(seeds=2, classes=[Square, SlightlyWrongSquare]).markdown()
    b = run_suite(seeds=2, classes=[Square, SlightlyWrongSquare]).markdown()
    assert a == b
    square, wrong = [row for row in a.splitlines() if row.startswith("| `")]
    assert "`Square`" in square and square.count("< 1e-") == 3 and "pass" in square
    # SlightlyWrongSquare's backward is off by O(1): its digits are shown, they are not noise
    assert "**FAIL**" in wrong and wrong.count("**0.") + wrong.count("**1") >= 2


@pytest.mark.parametrize("err, text", [
    (3.2e-11, "< 1e-10"), (1e-10, "< 1e-10"), (1.01e-10, "< 1e-09"), (0.5, "< 1e+00"),
    (0.0, "0"), (None, "—"), (float("nan"), "nan"),
])
def test_bucket(err, text):
    assert bucket(err) == text


# -- the real thing: every node of the package, as a user runs it ----
@pytest.fixture(scope="module")
def full_run():
    proc = subprocess.run([sys.executable, "-m", "bpcore", "verify", "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    return proc


def test_bpcore_verify_passes_for_every_node(full_run):
    assert full_run.returncode == 0, full_run.stdout[-3000:] + full_run.stderr[-3000:]
    data = json.loads(full_run.stdout)
    assert data["passed"] is True and data["tolerance"] == 1e-7 and data["seeds"] == 3
    rows = {n["name"]: n for n in data["nodes"]}
    for cls in node_classes_by_inspection():
        row = rows[cls.__name__]
        assert row["passed"] and row["checks"] >= 3, row
        assert 0 <= row["bp_vs_fd"] < 1e-7 and 0 <= row["sym_vs_bp"] < 1e-7
    for name in ("SoftmaxWithLoss", "Affine", "LayerBlock", "MSE"):  # issue 13's list
        assert rows[name]["proved_all_sizes"] is True, rows[name]["proof_note"]
    assert all(isinstance(r["proved_all_sizes"], bool) for r in rows.values())
    assert rows["Network (composite)"]["passed"]
    assert rows["Network (composite)"]["checks"] > 0


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "bpcore"
    proc = subprocess.run([str(script), "verify", "--help"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0
    assert "--json" in proc.stdout and "--seeds" in proc.stdout


class BackwardNotImplemented(Square):
    registered = False

    def backward(self, dout):
        raise NotImplementedError


def test_a_missing_backward_is_not_mistaken_for_a_missing_symbolic_form():
    r = verify_class(BackwardNotImplemented, seeds=1)
    assert not r.ok
    assert r.problem.startswith("NotImplementedError") and "(backward, line" in r.problem
