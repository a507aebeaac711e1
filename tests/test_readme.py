"""What the README promises, run exactly as it is written: the example layer of "Extending
bpcore" works in a Network, in fit, predict and accuracy, in both modes, and passes the
gradient check; a layer built on any registered node works the same way."""

from __future__ import annotations

import contextlib
import copy
import io
import re
from pathlib import Path

import numpy as np
import pytest

import bpcore as bp
from bpcore.witnesses.suite import discover_nodes

ROOT = Path(__file__).resolve().parent.parent


def readme_blocks(section: str) -> list[str]:
    """The ```python blocks of one ``## section`` of the README, as written."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"## {section}")
    end = text.find("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start:end if end > 0 else None], re.S)


@pytest.fixture(scope="module")
def example():
    """Run the README's example layer block; return its namespace and what it printed."""
    (block,) = readme_blocks("Extending `bpcore`")
    namespace: dict = {"__name__": "readme_example"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, "README.md", "exec"), namespace)
    return namespace, out.getvalue()


def test_the_readme_example_prints_what_its_comment_says(example):
    _, printed = example
    assert printed == "True\n"


def test_the_readme_layer_is_checked_parameter_by_parameter(example):
    ns, _ = example
    report = bp.network_gradcheck(ns["net"], ns["x"], ns["t"])
    assert [c.name for c in report.comparisons] == ["W1", "b1", "s1", "W2", "b2"]
    assert report.ok, report


def test_a_wrong_backward_in_the_readme_layer_fails_the_check(example):
    ns, _ = example

    class ForgetsTheScale(ns["Scale"]):
        def backward(self, dout):
            super().backward(dout)
            return dout  # wrong: dL/dx is s * dout

    rng = np.random.default_rng(1)
    net = bp.Network([bp.Dense(rng.normal(size=(5, 4)), np.zeros((5, 1))), ForgetsTheScale(5),
                      bp.Dense(rng.normal(size=(3, 5)), np.zeros((3, 1)), "identity")],
                     bp.SoftmaxWithLoss())
    with np.nditer(net.params["s1"], op_flags=[["readwrite"]]) as it:
        for v in it:
            v[...] = 1.7  # s != 1, so forgetting it matters
    report = bp.network_gradcheck(net, ns["x"], ns["t"])
    assert not report.ok
    assert {c.name for c in report.failures} == {"W1", "b1"}  # below the scale: wrong


def test_the_readme_layer_trains_predicts_and_switches_mode(example):
    ns = example[0]
    Scale = ns["Scale"]
    X, y, X_test, y_test = bp.load_digits_split()
    rng = np.random.default_rng(0)
    net = bp.Network([bp.Dense(rng.normal(scale=0.1, size=(32, 64)), np.zeros((32, 1))),
                      Scale(32),
                      bp.Dense(rng.normal(scale=0.1, size=(10, 32)), np.zeros((10, 1)),
                               "identity")], bp.SoftmaxWithLoss())
    before = net.params["s1"].copy()
    history = bp.fit(net, X, y, epochs=3, batch_size=32, optimizer=bp.Momentum(0.05))
    assert history.loss[-1] < history.loss[0]
    assert not np.array_equal(net.params["s1"], before)  # the scale was trained
    assert net.accuracy(X_test, y_test) > 0.8
    assert net.predict(X_test[:, :5]).shape == (5,)
    net.eval()
    assert all(not layer.training for layer in net.layers.values())
    net.train()
    assert all(layer.training for layer in net.layers.values())


# -- a layer built on a registered node -----------------------------------------------------
def _node_layer_cases():
    """(id, node, x, params) from every registered node's examples whose first input and
    output are (n, m) arrays: a layer computing ``node.forward(x, *params)``."""
    cases = []
    for cls in discover_nodes():
        for node, inputs in cls.examples(np.random.default_rng(0)):
            x = inputs[0]
            if len(inputs) != node.n_grad or np.ndim(x) != 2:
                continue  # labels are not parameters; a network's x has examples as columns
            out = copy.deepcopy(node).forward(*inputs)
            if np.ndim(out) == 2:
                cases.append(pytest.param(node, inputs, id=f"{cls.__name__}-{np.shape(x)}"))
                break
    return cases


class NodeLayer(bp.Layer):
    """A layer defined only by its node and parameters (nothing else overridden)."""

    kind = "node"

    def __init__(self, node, params):
        super().__init__()
        self.node = node
        self.params = {f"p{i}": np.array(p, dtype=float) for i, p in enumerate(params)}


@pytest.mark.parametrize(("node", "inputs"), _node_layer_cases())
def test_a_layer_built_on_any_registered_node_works_in_a_network(node, inputs):
    x, params = inputs[0], inputs[1:]
    layer = NodeLayer(copy.deepcopy(node), params)
    out = copy.deepcopy(node).forward(*inputs)
    t = np.random.default_rng(1).normal(size=out.shape)
    # A node without parameters gets an identity map in front (W = I, b = 0, so the node sees
    # x itself): the check then runs through the node's backward to W.
    n = np.shape(x)[0]
    front = [] if params else [bp.Dense(np.eye(n), np.zeros((n, 1)), "identity")]
    net = bp.Network([*front, layer], bp.MSE())
    np.testing.assert_array_equal(net.forward(x), out)  # the node's numbers
    if hasattr(node, "rng"):  # dropout: a new mask at every forward, nothing to difference
        net.eval()
        np.testing.assert_array_equal(net.forward(x), x)
        return
    report = bp.network_gradcheck(net, x, t)
    assert report.ok, report


def test_the_cases_cover_the_kinds_of_node():
    names = {p.id.split("-")[0] for p in _node_layer_cases()}
    assert {"Affine", "LayerBlock", "BatchNorm", "Dropout", "Sigmoid", "MulNode"} <= names


def test_check_your_own_backward_runs_as_written(tmp_path):
    """The README's bp.check example prints False and names the mistake; the command line
    it describes says the same and exits 1."""
    import subprocess
    import sys

    (block,) = readme_blocks("Check your own backward")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, "README.md", "exec"), {"__name__": "readme_check"})
    printed = out.getvalue()
    assert printed.splitlines()[0] == "False"
    assert "x: swapped: this is the gradient of y, not of x" in printed
    assert "y: swapped: this is the gradient of x, not of y" in printed

    script = tmp_path / "my_mul.py"
    script.write_text(block, encoding="utf-8")
    bpcore = Path(sys.executable).with_name("bpcore")
    proc = subprocess.run([str(bpcore), "check", "my_mul.py:MyMul", "--against", "MulNode"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "x: swapped: this is the gradient of y, not of x" in proc.stdout
