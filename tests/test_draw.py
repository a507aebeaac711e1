"""draw_graph: one circle per operation node, forward values above edges, gradients below.

The expected labels are the hand-computed values of the apple example (chapter 1), so a figure
that shows the wrong numbers fails. Every test closes its figures (checked by a fixture).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.patches import Circle  # noqa: E402

from bpcore import Value  # noqa: E402
from bpcore.draw import GRAD_COLOUR, draw_graph  # noqa: E402


@pytest.fixture(autouse=True)
def no_figure_leaks():
    before = set(plt.get_fignums())
    yield
    leaked = set(plt.get_fignums()) - before
    plt.close("all")
    assert not leaked, f"figures left open: {leaked}"


def circles(fig) -> list[Circle]:
    return [p for ax in fig.axes for p in ax.patches if isinstance(p, Circle)]


def texts(fig, gradients: bool) -> list[str]:
    """Texts drawn in the gradient colour (gradients) or not (values, labels, symbols)."""
    out = []
    for ax in fig.axes:
        for t in ax.texts:
            is_grad = to_hex(t.get_color()) == to_hex(GRAD_COLOUR)
            if is_grad == gradients:
                out.append(t.get_text())
    return out


def apple_graph():
    apple, n, tax = Value(100.0, "apple"), Value(2.0, "n"), Value(1.1, "tax")
    price = apple * n * tax
    price.backward()
    return price


def test_apple_figure_has_one_circle_per_operation_and_the_right_numbers():
    fig = draw_graph(apple_graph())
    assert len(circles(fig)) == 2
    values = texts(fig, gradients=False)
    grads = texts(fig, gradients=True)
    # forward values along the edges: 100, 2, the product 200, 1.1 and the output 220
    for v in ["100", "2", "200", "1.1", "220"]:
        assert v in values, (v, values)
    # gradients: d/dapple = 2.2, d/dn = 110, d/d(200) = 1.1, d/dtax = 200, output 1
    assert sorted(grads) == sorted(["2.2", "110", "1.1", "200", "1"])
    assert values.count("×") == 2  # the symbol inside each circle
    plt.close(fig)


def test_values_only_when_show_grad_is_false():
    fig = draw_graph(apple_graph(), show_grad=False)
    assert texts(fig, gradients=True) == []
    assert "220" in texts(fig, gradients=False)
    plt.close(fig)


def test_fan_out_draws_one_edge_per_use_with_its_share_of_the_gradient():
    x = Value(3.0, "x")
    y = x * x
    y.backward()
    fig = draw_graph(y)
    assert len(circles(fig)) == 1
    # two edges from x into the same node, each carrying x = 3 back (total 6 = 2x)
    assert sorted(texts(fig, gradients=True)) == ["1", "3", "3"]
    assert x.grad == 6.0
    plt.close(fig)


def test_twenty_operation_nodes_draw_and_forty_one_are_refused():
    x = Value(0.5, "x")
    v = x
    for _ in range(10):
        v = (v * 1.5) + 0.25  # two operation nodes per round
    v.backward()
    fig = draw_graph(v)
    assert len(circles(fig)) == 20
    assert fig.get_size_inches()[0] > 0
    plt.close(fig)
    for _ in range(11):
        v = (v * 1.5) + 0.25
    with pytest.raises(ValueError, match="graph too large to draw"):
        draw_graph(v)


def test_array_values_are_shown_by_shape():
    a = Value(np.ones((2, 3)), "a")
    s = (a * 2.0).sum()
    s.backward()
    fig = draw_graph(s)
    assert len(circles(fig)) == 2
    assert "array(2, 3)" in texts(fig, gradients=False)
    assert "12" in texts(fig, gradients=False)  # sum of 2 * ones((2, 3))
    assert "6" in texts(fig, gradients=True)  # d/d(the constant 2) = sum of a = 6
    plt.close(fig)


def test_draw_into_given_axes_returns_that_figure():
    fig, ax = plt.subplots()
    assert draw_graph(apple_graph(), ax=ax) is fig
    assert len(circles(fig)) == 2
    plt.close(fig)
