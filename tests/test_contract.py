"""One gradient contract: every node, used inside a Value graph, gives the true gradient.

``backward(dout)`` takes dL/d(output) and returns dL/d(input). If a node returned anything
else (a per-example gradient, a gradient missing a 1/m, a flag-dependent convention), then
composing it with other nodes would give a wrong gradient with no error. So every registered
node is put in the middle of a small graph -- scaled inputs before it, a nonlinear use of its
output after it (fan-out included) -- and the gradients that arrive at the leaves are compared
with central differences of the whole graph.

Tolerance 1e-7 relative: float64 central differences with h = 1e-5 agree with a correct gradient to
1e-8..1e-11 on these graphs (see bpcore.witnesses.gradcheck), while any convention error is off by a
factor such as m (relative error >= 0.5).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import bpcore as bp
from bpcore import Value
from bpcore.engine.value import apply
from bpcore.witnesses.suite import discover_nodes

TOL = 1e-7
NODES = discover_nodes()


def _graph(node, consts, scales, weights):
    """J(x1, ..., xk) = sum(R * y) + 0.5 * sum(y * y), y = node(s1 x1, ..., sk xk, consts)."""

    def J(*leaves):
        inputs = [leaf * s for leaf, s in zip(leaves, scales)]
        y = apply(copy.deepcopy(node), *inputs, *consts)
        return (y * weights).sum() + (y * y).sum() * 0.5 if y.shape else y * weights + y * y * 0.5

    return J


@pytest.mark.parametrize("cls", NODES, ids=lambda c: c.__name__)
def test_every_node_inside_a_graph_gives_the_true_gradient(cls):
    rng = np.random.default_rng(11)
    for node, inputs in cls.examples(rng):
        k = node.n_grad
        xs, consts = list(inputs[:k]), list(inputs[k:])
        # Scale 1 keeps the node's examples where they were chosen (ReLU away from its kink,
        # log of positive numbers); the Mul node in front still makes it a composition.
        scales = [1.0] * k
        out = copy.deepcopy(node).forward(*xs, *consts)
        weights = float(rng.normal()) if np.ndim(out) == 0 else rng.normal(size=np.shape(out))
        J = _graph(node, consts, scales, weights)
        leaves = [Value(x) for x in xs]
        J(*leaves).backward()
        numeric = bp.numerical_gradient(lambda *a, J=J: J(*(Value(v) for v in a)).data, *xs)
        for i, (leaf, fd) in enumerate(zip(leaves, numeric)):
            err = bp.rel_error(leaf.grad, fd)
            assert err < TOL, f"{node!r} input {i + 1}: relative error {err:.2g}"


def test_the_graph_check_fails_for_a_per_example_convention():
    """The test above can fail: a block that returns dW/m (the old per-example convention
    for da) is caught."""

    class PerExample(bp.LayerBlock):
        registered = False

        def backward(self, da):
            da_prev, dW, db = super().backward(da)
            return da_prev, dW / da.shape[1], db / da.shape[1]

    rng = np.random.default_rng(0)
    a_prev, W, b = rng.normal(size=(3, 4)), rng.normal(size=(2, 3)), rng.normal(size=(2, 1))
    J = _graph(PerExample("tanh"), [], [1.0, 1.0, 1.0], rng.normal(size=(2, 4)))
    leaves = [Value(a_prev), Value(W), Value(b)]
    J(*leaves).backward()
    numeric = bp.numerical_gradient(lambda *a: J(*(Value(v) for v in a)).data, a_prev, W, b)
    assert bp.rel_error(leaves[1].grad, numeric[1]) > 0.5


def test_layer_block_in_a_graph_sums_over_the_batch():
    """The case from the issue: W = I, b = 0, a = ones((2, 2)), L = sum(a_out) -> dL/dW = 2."""
    W, b, a = Value(np.eye(2)), Value(np.zeros((2, 1))), Value(np.ones((2, 2)))
    apply(bp.LayerBlock("identity"), a, W, b).sum().backward()
    np.testing.assert_array_equal(W.grad, [[2.0, 2.0], [2.0, 2.0]])
    np.testing.assert_array_equal(b.grad, [[2.0], [2.0]])


def test_dense_layer_and_network_compute_what_the_nodes_compute():
    """A Dense layer's backward equals its LayerBlock node's; the network's gradients equal
    the nodes chained by hand (loss node backward, then each block)."""
    rng = np.random.default_rng(3)
    net = bp.MLP([3, 4, 2], activation="tanh", seed=3)
    x, labels = rng.normal(size=(3, 5)), np.array([0, 1, 1, 0, 1])
    net.loss(x, labels)
    grads = net.backward()
    p = {k: v.copy() for k, v in net.params.items()}
    b1, b2 = bp.LayerBlock("tanh"), bp.LayerBlock("identity")
    loss = bp.SoftmaxWithLoss()
    loss.forward(b2.forward(b1.forward(x, p["W1"], p["b1"]), p["W2"], p["b2"]), labels)
    (dz,) = loss.backward(1.0)
    da1, dW2, db2 = b2.backward(dz)
    _, dW1, db1 = b1.backward(da1)
    for key, ref in {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}.items():
        np.testing.assert_array_equal(grads[key], ref)


def test_verify_node_leaves_the_node_untouched():
    """Verification works on copies: a node's cache and attributes are as the caller left
    them (a node with state, like batch norm's running averages, must not drift)."""
    rng = np.random.default_rng(1)
    block = bp.LayerBlock("sigmoid")
    a_prev, W, b = rng.normal(size=(3, 2)), rng.normal(size=(2, 3)), rng.normal(size=(2, 1))
    block.forward(a_prev, W, b)
    before = {k: np.copy(v) for k, v in vars(block).items() if isinstance(v, np.ndarray)}
    other = (rng.normal(size=(3, 4)), rng.normal(size=(2, 3)), rng.normal(size=(2, 1)))
    assert bp.verify_node(block, other).ok
    after = {k: v for k, v in vars(block).items() if isinstance(v, np.ndarray)}
    assert before.keys() == after.keys()
    for k in before:
        np.testing.assert_array_equal(before[k], after[k])
