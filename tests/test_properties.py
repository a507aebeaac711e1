r"""Property-based tests (hypothesis): every node's backward against central differences.

For every node class in the package (discovered the way ``bpcore verify`` discovers them), the cases
come from the node's own ``examples(rng)`` with a seed hypothesis draws: a new node is covered with
nothing to edit here. For most nodes, :data:`WIDER` adds hand-written strategies that go beyond the
examples: random shapes (up to 3-D, with broadcasting), random input values in the node's domain.
For each case and a random upstream gradient ``dout`` we compare ``node.backward(dout)`` with
the central-difference gradient of ``sum(dout * node.forward(...))``. No SymPy here (that is the
verification suite's job), so hundreds of random cases stay fast.

Tolerance 1e-7 relative (norm-wise, as :func:`bpcore.rel_error`): central differences in
float64 with h = 1e-5 are accurate to ~1e-9..1e-10 on these smooth functions, so 1e-7 is far
above the noise and far below any real mistake (a wrong factor or term gives errors of order
1). Random inputs also produce gradients that are zero or tiny next to the scalar being
differentiated, where finite differences have only absolute accuracy; :func:`noise_scale`
explains the floor used there.

Domains: log and non-integer powers get positive inputs, 1/x inputs at least 0.1 from zero,
cross-entropy probabilities in [0.05, 1]. ReLU inputs are drawn at least 1e-3 away from its
kink at 0 (100 times the finite-difference step; differences straddling the kink would see
slope 1/2, while the derivative there is only a convention) -- and that convention (derivative
0 at exactly 0) has its own test. Large magnitudes (|x| up to 1e3 for sigmoid, tanh and softmax
logits) are checked against independent stable formulas, with numpy warnings turned into
errors. Finally, random straight-line programs over a few scalar Values (every step may reuse
any earlier value, so fan-out and shared subexpressions are everywhere) check the graph's
topological order and gradient sums against finite differences of the same program on floats.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import bpcore as bp
from bpcore.witnesses.gradcheck import numerical_gradient
from bpcore.witnesses.suite import discover_nodes

TOL = 1e-7
SETTINGS = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# -- strategies ---------------------------------------------------------------------------------
def floats(lo: float, hi: float):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def away_from_zero(lo: float, hi: float):
    """Values with lo <= |x| <= hi, either sign."""
    return st.one_of(floats(lo, hi), floats(-hi, -lo))


SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
SIDE = st.integers(1, 4)


def array(shape, elements=None):
    return hnp.arrays(np.float64, shape, elements=elements if elements is not None
                      else floats(-3, 3))


def as_input(a: np.ndarray):
    """Scalars travel as Python floats (the graph's fast path), arrays as float64 arrays."""
    return float(a) if a.ndim == 0 else a


def elementwise(cls, elements=None):
    @st.composite
    def case(draw):
        return cls(), (as_input(draw(array(draw(SHAPES), elements))),)
    return case()


@st.composite
def binary_broadcast(draw, cls):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4))
    x1, x2 = (as_input(draw(array(s))) for s in shapes.input_shapes)
    return cls(), (x1, x2)


@st.composite
def pow_node(draw):
    c = draw(st.sampled_from([2, 3, -1, 0.5, 1.5, -0.5]))
    positive = not float(c).is_integer()
    elements = floats(0.1, 3) if positive else away_from_zero(0.1, 3)
    return bp.PowNode(c), (as_input(draw(array(draw(SHAPES), elements))),)


@st.composite
def matmul(draw):
    n, k, m = draw(SIDE), draw(SIDE), draw(SIDE)
    return bp.MatMulNode(), (draw(array((n, k))), draw(array((k, m))))


@st.composite
def affine_inputs(draw, nonzero: bool = False):
    # Entries are 0 or at least 0.1 in size. With + b, the checked scalar J does not shrink with
    # W: for W = 1.6e-12, b = 1 (found by hypothesis) the gradient W^T dout is far below the
    # finite-difference noise floor eps*|J|/h ~ 1e-11, and the comparison measures noise.
    el = away_from_zero(0.1, 2) if nonzero else st.one_of(st.just(0.0), away_from_zero(0.1, 2))
    n_out, n_in, m = draw(SIDE), draw(SIDE), draw(SIDE)
    return (draw(array((n_in, m), el)), draw(array((n_out, n_in), el)),
            draw(array((n_out, 1), el)))


@st.composite
def affine(draw):
    return bp.Affine(), draw(affine_inputs())


@st.composite
def layer_block(draw):
    activation = draw(st.sampled_from(["relu", "sigmoid", "tanh", "identity"]))
    a_prev, W, b = draw(affine_inputs(nonzero=True))
    if activation == "relu":
        assume(np.min(np.abs(W @ a_prev + b)) > 1e-3)  # away from the kink (see module doc)
    return bp.LayerBlock(activation), (a_prev, W, b)


def logits_shape():
    return st.one_of(st.tuples(st.integers(2, 5)), st.tuples(st.integers(2, 5), SIDE))


@st.composite
def labels_for(draw, shape):
    K = shape[0]
    if len(shape) == 1:
        label = draw(st.integers(0, K - 1))
        return label if draw(st.booleans()) else bp.one_hot(np.array(label), K)
    labels = draw(hnp.arrays(np.int64, (shape[1],), elements=st.integers(0, K - 1)))
    return labels if draw(st.booleans()) else bp.one_hot(labels, K)


@st.composite
def softmax(draw):
    return bp.Softmax(), (draw(array(draw(logits_shape()), floats(-5, 5))),)


@st.composite
def softmax_with_loss(draw):
    shape = draw(logits_shape())
    return bp.SoftmaxWithLoss(), (draw(array(shape, floats(-5, 5))), draw(labels_for(shape)))


@st.composite
def cross_entropy(draw):
    shape = draw(logits_shape())
    return bp.CrossEntropy(), (draw(array(shape, floats(0.05, 1.0))), draw(labels_for(shape)))


@st.composite
def mse(draw):
    shape = draw(st.one_of(st.tuples(SIDE), st.tuples(SIDE, SIDE)))
    return bp.MSE(), (draw(array(shape)), draw(array(shape)))


@st.composite
def batch_norm(draw):
    n, m = draw(st.integers(1, 4)), draw(st.integers(3, 6))  # m = 2 makes dx exactly 0
    x = draw(array((n, m)))
    assume(np.all(x.std(axis=1) > 0.3))  # a spread batch: x̂ is well conditioned
    gamma, beta = draw(array((n, 1), floats(0.2, 3))), draw(array((n, 1)))
    node = bp.BatchNorm(n, training=draw(st.booleans()))
    if not node.training:
        node.running_mean = draw(array((n, 1)))
        node.running_var = draw(array((n, 1), floats(0.2, 4)))
    return node, (x, gamma, beta)


@st.composite
def dropout(draw):
    node = bp.Dropout(draw(floats(0.2, 1.0)), seed=draw(st.integers(0, 2**16)),
                      training=draw(st.booleans()))
    return node, (draw(array(draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=5)))),)


def from_examples(cls):
    """Cases drawn from the node's own ``examples(rng)``: a seed, then one of its examples."""
    return st.integers(0, 2**32 - 1).flatmap(
        lambda seed: st.sampled_from(cls.examples(np.random.default_rng(seed))))


#: Wider cases than the examples, by node name (optional: every node is covered by its examples).
WIDER = {
    "BatchNorm": batch_norm(),
    "Dropout": dropout(),
    "AddNode": binary_broadcast(bp.AddNode),
    "MulNode": binary_broadcast(bp.MulNode),
    "NegNode": elementwise(bp.NegNode),
    "PowNode": pow_node(),
    "ReciprocalNode": elementwise(bp.ReciprocalNode, away_from_zero(0.1, 5)),
    "ExpNode": elementwise(bp.ExpNode, floats(-5, 5)),
    "LogNode": elementwise(bp.LogNode, floats(0.1, 5)),
    "MatMulNode": matmul(),
    "SumNode": elementwise(bp.SumNode),
    "Sigmoid": elementwise(bp.Sigmoid, floats(-10, 10)),
    "Tanh": elementwise(bp.Tanh, floats(-5, 5)),
    "ReLU": elementwise(bp.ReLU, away_from_zero(1e-3, 5)),
    "Identity": elementwise(bp.Identity),
    "Affine": affine(),
    "LayerBlock": layer_block(),
    "Softmax": softmax(),
    "SoftmaxWithLoss": softmax_with_loss(),
    "CrossEntropy": cross_entropy(),
    "MSE": mse(),
}
NODES = {c.__name__: c for c in discover_nodes()}
NODE_NAMES = sorted(NODES)


# -- the check -----------------------------------------------------------------------------------
def backprop_vs_fd(node, inputs, dout_seed: int) -> list[float]:
    """Relative errors of backward against central differences, one per differentiable input.

    Every evaluation starts from a copy of the node as it was given, so a node with state (batch
    norm's running statistics, dropout's generator) is differentiated at one fixed state: the
    same mask in every finite difference as in backward.
    """
    k = node.n_grad
    pristine = copy.deepcopy(node)
    out = node.forward(*inputs)
    rng = np.random.default_rng(dout_seed)
    dout = rng.normal(size=np.shape(out)) if np.ndim(out) else 1.0
    grads = node.backward(dout)
    backprop = [np.asarray(g, dtype=np.float64) for g in grads[:k]]
    assert len(backprop) == k, f"backward returned {len(grads)} gradients, expected {k}"
    weight = np.asarray(dout)

    def scalar(*xs):
        fresh = copy.deepcopy(pristine)
        return float(np.sum(np.asarray(fresh.forward(*xs, *inputs[k:])) * weight))

    numeric = numerical_gradient(scalar, *inputs[:k])
    for g, x in zip(backprop, inputs[:k]):
        assert g.shape == np.shape(x), f"gradient shape {g.shape} != input shape {np.shape(x)}"
        assert np.all(np.isfinite(g))
    floor = NOISE_FLOOR * noise_scale(weight, out, inputs[:k])
    return [float(np.linalg.norm((b - n).ravel()))
            / max(float(np.linalg.norm(b.ravel())), float(np.linalg.norm(np.ravel(n))), floor)
            for b, n in zip(backprop, numeric)]


#: Gradients smaller than this fraction of the checked scalar's scale are compared absolutely.
NOISE_FLOOR = 1e-2


def noise_scale(weight, out, xs) -> float:
    """The size of the numbers the finite differences subtract: sum|dout| * max(1, |out|, |x|).

    Central differences carry an absolute rounding error of about eps * scale / h ~ 2e-11 *
    scale. A gradient that is zero or tiny compared with the scale (MSE at a = t; the affine
    node with W ~ 1e-12 beside b = 1, both found by hypothesis) cannot be resolved relatively,
    so the relative error's denominator is floored at 1% of the scale: the pass threshold is
    then at least 1e-9 * scale, 50 times the noise, and a real mistake in any gradient larger
    than ~1e-8 * scale still fails.
    """
    biggest = max([1.0, float(np.max(np.abs(out)))] + [float(np.max(np.abs(x))) for x in xs
                                                          if np.size(x)])
    return float(np.sum(np.abs(weight))) * biggest


def test_wider_strategies_name_real_nodes():
    stale = sorted(set(WIDER) - set(NODES))
    assert not stale, f"WIDER names nodes the package does not have: {stale}"


@pytest.mark.parametrize("name", NODE_NAMES)
def test_backprop_matches_central_differences(name):
    cases = from_examples(NODES[name])
    if name in WIDER:
        cases = st.one_of(cases, WIDER[name])

    @SETTINGS
    @given(case=cases, dout_seed=st.integers(0, 2**16))
    def check(case, dout_seed):
        node, inputs = case
        errors = backprop_vs_fd(node, inputs, dout_seed)
        assert max(errors) < TOL, f"{node!r} on shapes {[np.shape(x) for x in inputs]}: {errors}"

    check()


# -- the ReLU kink: the convention, tested on its own ---------------------------------------------
def test_relu_derivative_at_exactly_zero_is_zero_by_convention():
    # max(0, x) has no derivative at 0; any value in [0, 1] is a subgradient. bpcore takes 0.
    node = bp.ReLU()
    assert node.forward(0.0) == 0.0
    assert node.backward(1.0) == (0.0,)
    node = bp.ReLU()
    x = np.array([-1.0, 0.0, -0.0, 2.0])
    np.testing.assert_array_equal(node.forward(x), [0.0, 0.0, 0.0, 2.0])
    np.testing.assert_array_equal(node.backward(np.ones(4))[0], [0.0, 0.0, 0.0, 1.0])
    v = bp.Value(0.0)
    bp.relu(v).backward()
    assert v.grad == 0.0
    # Why the property test keeps away from 0: central differences there see slope 1/2.
    (fd,) = numerical_gradient(lambda t: bp.ReLU().forward(t), 0.0)
    assert fd == pytest.approx(0.5, rel=1e-12)


@SETTINGS
@given(x=away_from_zero(1e-3, 1e3))
def test_relu_derivative_is_the_indicator_away_from_the_kink(x):
    node = bp.ReLU()
    node.forward(x)
    assert node.backward(1.0) == ((1.0 if x > 0 else 0.0),)


# -- large magnitudes ----------------------------------------------------------------------------
def sigmoid_prime_reference(x: np.ndarray) -> np.ndarray:
    """sigma'(x) = e^{-|x|} / (1 + e^{-|x|})^2, written so that it never overflows."""
    e = np.exp(-np.abs(x))
    return e / (1 + e) ** 2


def tanh_prime_reference(x: np.ndarray) -> np.ndarray:
    """tanh'(x) = 1/cosh^2 x = 4 e^{-2|x|} / (1 + e^{-2|x|})^2, never overflowing."""
    e = np.exp(-2 * np.abs(x))
    return 4 * e / (1 + e) ** 2


BIG = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=5),
                 elements=floats(-1e3, 1e3))


@pytest.mark.filterwarnings("error")  # overflow / invalid-value warnings fail the test
@SETTINGS
@given(x=BIG)
def test_sigmoid_and_tanh_at_large_magnitudes(x):
    # Absolute tolerance 1e-12 on derivatives of size <= 1/4 (resp. 1): in the far tails the
    # true derivative is below 1e-300 or underflows, and y(1 - y) rounds to 0 -- fine.
    s = bp.Sigmoid()
    y = s.forward(x)
    assert np.all(np.isfinite(y)) and np.all((y >= 0) & (y <= 1))
    (dx,) = s.backward(np.ones_like(x))
    np.testing.assert_allclose(dx, sigmoid_prime_reference(x), rtol=1e-9, atol=1e-12)
    t = bp.Tanh()
    y = t.forward(x)
    assert np.all(np.isfinite(y)) and np.all(np.abs(y) <= 1)
    (dx,) = t.backward(np.ones_like(x))
    np.testing.assert_allclose(dx, tanh_prime_reference(x), rtol=1e-9, atol=1e-12)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("x, y, dy", [(1e3, 1.0, 0.0), (-1e3, 0.0, 0.0), (0.0, 0.5, 0.25)])
def test_sigmoid_exact_values(x, y, dy):
    s = bp.Sigmoid()
    assert s.forward(x) == y
    assert s.backward(1.0)[0] == dy


def softmax_reference(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=0))
    return e / e.sum(axis=0)


@pytest.mark.filterwarnings("error")
@SETTINGS
@given(shape=st.tuples(st.integers(2, 5), SIDE), offset=floats(-1e3, 1e3), data=st.data())
def test_softmax_with_loss_at_large_logits(shape, offset, data):
    # Logits of magnitude up to ~1e3: either spread over [-1e3, 1e3] or all near one offset
    # (where naive exp overflows yet the gradient is O(1)). The gradient must equal the
    # textbook (y - t)/m with y from an independent stable softmax, and be shift-invariant.
    spread = data.draw(st.booleans())
    z = data.draw(array(shape, floats(-1e3, 1e3) if spread else floats(-3, 3)))
    if not spread:
        z = z + offset
    labels = data.draw(hnp.arrays(np.int64, (shape[1],), elements=st.integers(0, shape[0] - 1)))
    node = bp.SoftmaxWithLoss()
    loss = node.forward(z, labels)
    assert math.isfinite(loss) and loss >= 0
    (dz,) = node.backward(1.0)
    y = softmax_reference(z)
    t = np.zeros(shape)
    t[labels, np.arange(shape[1])] = 1
    np.testing.assert_allclose(dz, (y - t) / shape[1], rtol=1e-9, atol=1e-15)
    sm = bp.Softmax()
    out = sm.forward(z)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out.sum(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(out, y, rtol=1e-9, atol=1e-300)
    shifted = bp.SoftmaxWithLoss()
    shifted.forward(z - z.max(axis=0), labels)
    np.testing.assert_allclose(shifted.backward(1.0)[0], dz, rtol=1e-9, atol=1e-15)


# -- random graphs: the Value machinery (topological order, fan-out sums) ------------------------
OPS = ("add", "sub", "mul_tanh", "neg", "sigmoid", "half")


def run_program(program, inputs, ops):
    """Evaluate a straight-line program; every step may reuse any earlier value (fan-out).

    ``ops`` supplies tanh and sigmoid: bpcore's dispatchers for Values, math for floats.
    Products go through tanh so that values stay bounded however the program is drawn.
    """
    vals = list(inputs)
    for op, i, j in program:
        a, b = vals[i % len(vals)], vals[j % len(vals)]
        if op == "add":
            vals.append(a + b)
        elif op == "sub":
            vals.append(a - b)
        elif op == "mul_tanh":
            vals.append(ops.tanh(a * b))
        elif op == "neg":
            vals.append(-a)
        elif op == "sigmoid":
            vals.append(ops.sigmoid(a))
        else:
            vals.append(a * 0.5)
    # the output uses the last three values, so most of the program feeds it
    return vals[-1] + vals[-2] * vals[-3] if len(vals) >= 3 else vals[-1]


class FloatOps:
    @staticmethod
    def tanh(x):
        return math.tanh(x)

    @staticmethod
    def sigmoid(x):
        return 1.0 / (1.0 + math.exp(-x))


PROGRAMS = st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 50), st.integers(0, 50)),
                    min_size=1, max_size=25)


@SETTINGS
@given(program=PROGRAMS, xs=st.lists(floats(-2, 2), min_size=1, max_size=4))
def test_random_graphs_backprop_matches_central_differences(program, xs):
    leaves = [bp.Value(x) for x in xs]
    out = run_program(program, leaves, bp)
    out.backward()
    backprop = np.array([v.grad for v in leaves])
    numeric = np.array(numerical_gradient(lambda *a: run_program(program, a, FloatOps), *xs))
    # Where the true gradient vanishes a relative error means nothing, and FD's own error is
    # the truncation term h^2 f'''/6 (f = 12x^3 at x = 0 gives 12h^2 = 1.2e-9 instead of 0)
    # plus rounding, eps times the largest value the graph computes. Below that scale the
    # check becomes absolute (|diff| < 1e-7 * scale): a wrong gradient is off by O(1).
    scale = max(1.0, max(abs(v.data) for v in bp.topological_order(out)))
    err = np.linalg.norm(backprop - numeric) / max(np.linalg.norm(backprop),
                                                   np.linalg.norm(numeric), scale)
    assert err < TOL, (program, xs, backprop, numeric)
    # a second backward adds the same gradients again (leaves accumulate). With fan-out the
    # contributions are summed in a different grouping, so allow rounding relative to the
    # largest gradient instead of demanding exact equality.
    out.backward()
    atol = 1e-12 * max(1.0, float(np.max(np.abs(backprop))))
    np.testing.assert_allclose([v.grad for v in leaves], 2 * backprop, rtol=1e-12, atol=atol)
