"""bp.check on a reader's code: every diagnosis has a planted bug that gets it, and the right
code gets none.

The planted bugs are the mistakes learners make (a forgotten or doubled 1/m, a missing
transpose, swapped inputs, per-example gradients, a sign, a stale cache, ...). Each test asserts
the verdict and the diagnosis text; the expected texts are written here, not computed by the
code under test.
"""

from __future__ import annotations

import numpy as np
import pytest

import bpcore as bp
from bpcore.witnesses.check import FD, REFERENCE, SECOND, SYMPY, diagnose


def notes(report) -> str:
    return "\n".join(c.note for c in report.failures)


def failing(report) -> set[str]:
    return {c.name for c in report.failures if c.kind == "gradient"}


# -- the reader's code, right ---------------------------------------------------------------------
class Mul(bp.Node):
    """The multiply node of chapter 1, written by a reader (no n_grad: both inputs count)."""

    registered = False

    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, dout):
        return dout * self.y, dout * self.x


def affine_forward(x, W, b):
    return W @ x + b, (x, W)


def affine_backward(dout, cache):
    x, W = cache
    return W.T @ dout, dout @ x.T, dout.sum(axis=1, keepdims=True)


AFFINE_SHAPES = [(4, 5), (3, 4), (3, 1)]  # x (n_in, m), W (n_out, n_in), b (n_out, 1); m = 5


def test_right_code_passes_with_no_diagnosis():
    for report in (bp.check(Mul, shapes=[(3, 4), (3, 4)]),
                   bp.check((affine_forward, affine_backward), shapes=AFFINE_SHAPES),
                   bp.check(bp.Tanh, against=bp.Tanh),
                   bp.check(bp.LayerBlock("sigmoid"), against=bp.LayerBlock("sigmoid"))):
        assert report.ok, report
        assert not notes(report)
        assert "FAIL" not in repr(report)


def test_the_report_names_inputs_from_the_signature_and_shows_each_witness():
    report = bp.check(Mul, shapes=[(2, 3), (2, 3)])
    assert [c.name for c in report.comparisons if c.kind == "gradient"] == ["x", "y"]
    report = bp.check(bp.LayerBlock("tanh"), against=bp.LayerBlock("tanh"))
    pairs = {c.witnesses for c in report.comparisons}
    assert {FD, REFERENCE, SYMPY, "forward = reference", SECOND} <= pairs


# -- gradients with a classic mistake -------------------------------------------------------------
class SwappedMul(Mul):
    registered = False

    def backward(self, dout):
        return dout * self.x, dout * self.y


def test_swapped_inputs():
    report = bp.check(SwappedMul, shapes=[(3, 4), (3, 4)])
    assert not report.ok and failing(report) == {"x", "y"}
    assert "swapped: this is the gradient of y, not of x" in notes(report)
    assert "swapped: this is the gradient of x, not of y" in notes(report)


def _affine_with(dW=None, db=None, dx=None):
    def backward(dout, cache):
        x, W = cache
        m = x.shape[1]
        right = (W.T @ dout, dout @ x.T, dout.sum(axis=1, keepdims=True))
        return tuple(f(dout, x, W, m) if f else r for f, r in zip((dx, dW, db), right))
    return affine_forward, backward


def test_a_forgotten_one_over_m_in_the_layer_is_named():
    # dW = dz x^T / m although the 1/m already came with dout: m = 5 times too small
    report = bp.check(_affine_with(dW=lambda d, x, W, m: d @ x.T / m), shapes=AFFINE_SHAPES)
    assert failing(report) == {"W"}
    assert "m = 5 times too small: divided by m once too often" in notes(report)


def test_a_missing_one_over_m_in_a_loss_is_named():
    class MeanSquare(bp.Node):  # L = (1/(2m)) sum (a - t)^2; backward forgets the 1/m
        registered = False
        n_grad = 1

        def forward(self, a, t):
            self.d, self.m = a - t, a.shape[1]
            return float(np.sum(self.d ** 2)) / (2 * self.m)

        def backward(self, dout=1.0):
            return (dout * self.d,)

    rng = np.random.default_rng(0)
    report = bp.check(MeanSquare, rng.normal(size=(3, 4)), rng.normal(size=(3, 4)))
    assert "m = 4 times too large: the 1/m of the mean is missing" in notes(report)


@pytest.mark.parametrize(("factor", "text"), [
    (2.0, "twice the true gradient (a factor 2)"),
    (0.5, "half the true gradient (a factor 1/2)"),
    (-1.0, "the sign is wrong (a factor -1)"),
    (3.0, "off by a constant factor of about 3"),
])
def test_constant_factors_are_named(factor, text):
    report = bp.check(_affine_with(dx=lambda d, x, W, m: factor * (W.T @ d)),
                      shapes=AFFINE_SHAPES)
    assert failing(report) == {"x"}
    assert text in notes(report)


def test_a_missing_transpose_gives_a_shape_diagnosis():
    report = bp.check(_affine_with(dW=lambda d, x, W, m: x @ d.T), shapes=AFFINE_SHAPES)
    assert failing(report) == {"W"}
    assert ("wrong shape: expected (3, 4), got (4, 3): transposed (the transpose has the right "
            "numbers)") in notes(report)


def test_a_transpose_of_a_square_gradient_is_named():
    report = bp.check(_affine_with(dW=lambda d, x, W, m: (d @ x.T).T),
                      shapes=[(3, 5), (3, 3), (3, 1)])
    assert "transposed: this is the transpose of the gradient of W" in notes(report)


def test_per_example_gradients_where_the_batch_sum_belongs():
    report = bp.check(_affine_with(db=lambda d, x, W, m: d), shapes=AFFINE_SHAPES)
    assert failing(report) == {"b"}
    assert ("wrong shape: expected (3, 1), got (3, 5): per-example gradients; sum them over the "
            "batch axis") in notes(report)


def test_right_numbers_in_the_wrong_shape():
    report = bp.check(_affine_with(db=lambda d, x, W, m: d.sum(axis=1)), shapes=AFFINE_SHAPES)
    assert "wrong shape: expected (3, 1), got (3,): the numbers are right" in notes(report)


def test_a_few_wrong_entries_are_located():
    def wrong_corner(d, x, W, m):
        dW = d @ x.T
        dW[2, 1] += 1.0
        return dW

    report = bp.check(_affine_with(dW=wrong_corner), shapes=AFFINE_SHAPES)
    assert "right except at 1 entry: (2, 1)" in notes(report)


def test_nan_and_infinity_are_reported_with_where():
    def nan_db(d, x, W, m):
        db = d.sum(axis=1, keepdims=True)
        db[1, 0] = np.nan
        return db

    report = bp.check(_affine_with(db=nan_db), shapes=AFFINE_SHAPES)
    assert "NaN or infinity in the gradient (first at index (1, 0))" in notes(report)


def test_an_all_zero_gradient():
    report = bp.check(_affine_with(dx=lambda d, x, W, m: np.zeros_like(x)), shapes=AFFINE_SHAPES)
    assert "all zero: no gradient reached this input" in notes(report)


def test_a_gradient_for_a_parameter_that_is_none():
    report = bp.check(_affine_with(db=lambda d, x, W, m: None), shapes=AFFINE_SHAPES)
    assert "backward returned None for b" in notes(report)


def test_an_unrecognised_mistake_still_fails_without_a_made_up_diagnosis():
    report = bp.check(_affine_with(dx=lambda d, x, W, m: np.sin(W.T @ d)), shapes=AFFINE_SHAPES)
    assert failing(report) == {"x"}
    assert [c.note for c in report.failures] == [""]
    assert "FAIL (" in repr(report)


def test_the_wrong_number_of_gradients_is_a_diagnosis_not_a_crash():
    class ForgetsY(Mul):
        registered = False

        def backward(self, dout):
            return (dout * self.y,)

    report = bp.check(ForgetsY, shapes=[(2, 2), (2, 2)])
    assert not report.ok
    assert "backward returned 1 gradient(s), expected 2 (one per input: x, y)" in notes(report)
    assert "backward returned None for y" in notes(report)


# -- the code's behaviour, from running it twice -------------------------------------------------
def test_backward_that_changes_its_input_in_place():
    class ScalesInPlace(bp.Node):
        registered = False

        def forward(self, x):
            self.x = x
            return 3 * x

        def backward(self, dout):
            self.x *= 0  # "free memory": the caller's array is gone
            dout *= 3
            return (dout,)

    report = bp.check(ScalesInPlace, shapes=[(2, 3)])
    assert "changed in place: x, dout" in notes(report)


def test_a_stale_cache_is_named():
    class CachesOnce(bp.Node):
        registered = False

        def forward(self, x):
            if not hasattr(self, "x"):  # only the first forward is cached
                self.x = x.copy()
            return x * x

        def backward(self, dout):
            return (2 * self.x * dout,)

    report = bp.check(CachesOnce, shapes=[(2, 3)])
    assert [c.witnesses for c in report.failures] == [SECOND]
    assert "stale cache: backward answered for the inputs of an earlier forward" in notes(report)


def test_a_different_answer_after_a_second_forward():
    class Counts(bp.Node):
        registered = False
        calls = 0

        def forward(self, x):
            self.calls += 1
            self.x = x
            return 2 * x

        def backward(self, dout):
            return (2 * dout * self.calls ** 0 + (self.calls - 1) * dout,)

    report = bp.check(Counts, shapes=[(2, 2)])
    assert "backward gives a different answer after a second forward" in notes(report)


def test_a_forward_that_disagrees_with_the_reference():
    class LeakySigmoid(bp.Node):  # the reader wrote tanh-like output; the gradient matches it
        registered = False

        def forward(self, x):
            self.y = np.tanh(x)
            return self.y

        def backward(self, dout):
            return (dout * (1 - self.y ** 2),)

    report = bp.check(LeakySigmoid, against=bp.Sigmoid)
    assert report.error(FD) is not None and {c.witnesses for c in report.failures} == {
        "forward = reference", REFERENCE}
    assert "your forward disagrees with the reference's" in notes(report)


def test_sympy_is_a_witness_when_the_reader_gives_a_symbolic_form():
    import sympy as sp

    class Cube(bp.Node):
        registered = False

        def forward(self, x):
            self.x = x
            return x ** 3

        def backward(self, dout):
            return (dout * 3 * self.x ** 2,)

    def cube(x):
        return np.vectorize(lambda v: v ** 3, otypes=[object])(x)

    report = bp.check(Cube, shapes=[(2, 2)], symbolic=cube)
    assert report.ok and SYMPY in {c.witnesses for c in report.comparisons}
    wrong = bp.check(Cube, shapes=[(2, 2)], symbolic=lambda x: np.vectorize(
        lambda v: sp.sin(v), otypes=[object])(x))
    assert not wrong.ok and {c.witnesses for c in wrong.failures} == {SYMPY}


# -- layers and networks --------------------------------------------------------------------------
class Scale(bp.Layer):
    kind = "scale"

    def __init__(self, n, per_example=False):
        super().__init__()
        self.params = {"s": np.linspace(0.5, 1.5, n).reshape(n, 1)}
        self.per_example = per_example

    def forward(self, x):
        self.x = x
        return self.params["s"] * x

    def backward(self, dout):
        ds = dout * self.x
        self.grads = {"s": ds if self.per_example else ds.sum(axis=1, keepdims=True)}
        return self.params["s"] * dout


def test_a_layer_is_checked_for_dx_and_each_parameter():
    report = bp.check(Scale(3), shapes=[(3, 4)])
    assert report.ok, report
    assert [c.name for c in report.comparisons if c.kind == "gradient"] == ["x", "s"]
    bad = bp.check(Scale(3, per_example=True), shapes=[(3, 4)])
    assert failing(bad) == {"s"}
    assert "per-example gradients" in notes(bad)


def test_a_network_is_checked_parameter_by_parameter():
    rng = np.random.default_rng(0)
    net = bp.MLP([4, 5, 3], seed=0)
    x, t = rng.normal(size=(4, 6)), rng.integers(0, 3, size=6)
    assert bp.check(net, x, t).ok

    class HalfDense(bp.Dense):
        def _backward(self, da, need_dx=True):
            da_prev = super()._backward(da, need_dx)
            self.grads = {"W": self.grads["W"] / 2, "b": self.grads["b"]}
            return da_prev

    W, b = rng.normal(size=(3, 4)), np.zeros((3, 1))
    bad = bp.Network([HalfDense(W, b, "identity")], bp.SoftmaxWithLoss())
    report = bp.check(bad, x, t)
    assert failing(report) == {"W1"}
    assert "half the true gradient" in notes(report)


# -- misuse is an error, not a report -------------------------------------------------------------
def test_misuse_is_a_clear_error():
    with pytest.raises(TypeError, match="needs forward and backward methods"):
        bp.check(object(), np.ones(2))
    with pytest.raises(ValueError, match="nothing to run the check on"):
        bp.check(Mul)
    with pytest.raises(TypeError, match=r"forward must return \(out, cache\)"):
        bp.check((lambda x: 2 * x, lambda d, c: d), np.ones(3))


def test_the_printed_report_holds_no_rounding_noise():
    # a passing error is shown as "ok", whatever its digits on this machine
    text = repr(bp.check(Mul, shapes=[(3, 4), (3, 4)]))
    assert "e-1" not in text and "ok" in text
    html = bp.check(Mul, shapes=[(3, 4), (3, 4)])._repr_html_()
    assert "<table>" in html and "e-1" not in html


def test_diagnose_directly():
    e = np.arange(1.0, 7.0).reshape(2, 3)
    assert diagnose(2 * e, e, "W") == "twice the true gradient (a factor 2)"
    assert diagnose(e, e, "W") == ""
    assert diagnose(e.T, e, "W").startswith("wrong shape: expected (2, 3), got (3, 2): transposed")


def test_a_random_forward_is_not_called_stale_and_a_missing_one_over_p_is_named():
    class MyDropout(bp.Node):
        registered = False

        def __init__(self, p=0.5):
            self.p, self.rng = p, np.random.default_rng(0)

        def forward(self, x):
            self.r = self.rng.random(np.shape(x)) < self.p
            return x * self.r / self.p

        def backward(self, dout):
            return (dout * self.r,)  # forgets the 1/p

    report = bp.check(MyDropout, shapes=[(4, 5)])
    assert SECOND not in {c.witnesses for c in report.comparisons}  # random: not compared
    assert "half the true gradient (a factor 1/2)" in notes(report)
    assert bp.check(bp.Dropout(0.5, seed=1), shapes=[(4, 5)], against=None).ok


def test_n_grad_makes_trailing_inputs_constants():
    def loss_forward(z, t):
        m = z.shape[1]
        return float(np.sum((z - t) ** 2)) / (2 * m), (z, t)

    def loss_backward(dout, cache):
        z, t = cache
        return (dout * (z - t) / z.shape[1],)

    rng = np.random.default_rng(0)
    z, t = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    report = bp.check((loss_forward, loss_backward), z, t, n_grad=1)
    assert report.ok and [c.name for c in report.comparisons if c.kind == "gradient"] == ["z"]
    # without n_grad, t is an input too, and one gradient is missing
    assert "backward returned 1 gradient(s), expected 2" in notes(
        bp.check((loss_forward, loss_backward), z, t))


def test_a_single_number_is_off_by_a_factor_only_when_the_factor_has_a_name():
    """Any two numbers are multiples of each other: a one-entry gradient that is wrong is
    not "off by a constant factor of about 0.6", but a factor 2 is still named."""
    from bpcore.witnesses.check import diagnose

    assert "factor" not in diagnose(np.array(0.3), np.array(0.5), "x")
    assert diagnose(np.array(1.0), np.array(0.5), "x") == "twice the true gradient (a factor 2)"
    assert "about 0.6" in diagnose(np.array([0.3, 0.6]), np.array([0.5, 1.0]), "x")
