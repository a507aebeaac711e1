"""Figures: the right numbers on the edges, and every figure of the book legible in its column.

The expected labels are the hand-computed values of the apple example (chapter 1), so a figure
that shows the wrong numbers fails. Every graph the book draws is rebuilt here as its notebook
builds it, and measured as the book shows it: at most COLUMN_PX wide, no text under 10 px, no
two labels on top of each other, no label on a line. Every test closes its figures (checked by
a fixture).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch  # noqa: E402

import bpcore as bp  # noqa: E402
from bpcore import ReciprocalNode, Value  # noqa: E402
from bpcore.engine.value import apply  # noqa: E402
from bpcore.figures import (  # noqa: E402
    COLUMN_PX,
    MIN_TEXT_PX,
    assert_legible,
    draw_blocks,
    draw_graph,
    legibility,
)
from bpcore.figures.legibility import GRAD_COLOUR  # noqa: E402


@pytest.fixture(autouse=True)
def no_figure_leaks():
    before = set(plt.get_fignums())
    yield
    leaked = set(plt.get_fignums()) - before
    plt.close("all")
    assert not leaked, f"figures left open: {leaked}"


def circles(fig) -> list[Circle]:
    return [p for ax in fig.axes for p in ax.patches if isinstance(p, Circle)]


def edges(fig) -> list[FancyArrowPatch]:
    return [p for ax in fig.axes for p in ax.patches if isinstance(p, FancyArrowPatch)]


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


# -- every graph figure of the book, built as its notebook builds it ------------------------------
def ch1_apple(show_grad):
    apple, count, tax = Value(100.0, "apple"), Value(2.0, "apple count"), Value(1.1, "tax")
    price = apple * count * tax
    if show_grad:
        price.backward()
    return draw_graph(price, show_grad=show_grad, output_label="price")


def ch1_apple_orange(show_grad):
    apple, apple_count = Value(100.0, "apple"), Value(2.0, "apple count")
    orange, orange_count = Value(150.0, "orange"), Value(3.0, "orange count")
    tax = Value(1.1, "tax")
    total = (apple * apple_count + orange * orange_count) * tax
    if show_grad:
        total.backward()
    return draw_graph(total, show_grad=show_grad, output_label="total")


def ch1_add_mul():
    a, b, c = Value(2.0, "a"), Value(3.0, "b"), Value(4.0, "c")
    f = (a + b) * c
    f.backward()
    return draw_graph(f, output_label="f")


def ch2_square_of_sum():
    x, y = Value(3.0, "x"), Value(1.0, "y")
    t = x + y
    t.label = "t"
    z = t**2
    z.backward()
    return draw_graph(z, output_label="z")


def ch2_two_paths():
    x, y = Value(3.0, "x"), Value(2.0, "y")
    t = x + y
    t.label = "t"
    f = t * x
    f.backward()
    return draw_graph(f, output_label="f")


def ch2_cube():
    x = Value(2.0, "x")
    f = (x * x) * x
    f.backward()
    return draw_graph(f, output_label="f")


def four_node_sigmoid():
    x = Value(0.5, "x")
    a = x * -1.0
    a.label = "a"
    b = a.exp()
    b.label = "b"
    c = b + 1.0
    c.label = "c"
    y = 1.0 / c
    y.label = "y"
    return y


def ch3_sigmoid(show_grad):
    y = four_node_sigmoid()
    if show_grad:
        y.backward()
    return draw_graph(y, show_grad=show_grad, output_label="y")


def ch3_fused():
    x = Value(0.5, "x")
    y_fused = bp.sigmoid(x)
    y_fused.backward()
    return draw_graph(y_fused, output_label="y")


def softmax_with_loss():
    """Chapter 4's graph: 18 nodes, drawn in two halves (returns the two roots)."""
    t = [0.0, 1.0, 0.0]
    zs = [Value(v, f"z{k + 1}") for k, v in enumerate([2.0, 1.0, 0.1])]
    es = [zk.exp() for zk in zs]
    S = es[0] + (es[1] + es[2])
    r = apply(ReciprocalNode(), S)
    ys = [ek * r for ek in es]
    logs = [yk.log() for yk in ys]
    terms = [t[k] * logs[k] for k in range(3)]
    L = (terms[0] + (terms[1] + terms[2])) * -1.0
    L.backward()
    y_in = [Value(v.data, f"y{k + 1}") for k, v in enumerate(ys)]
    ln_y = [v.log() for v in y_in]
    L_half = (t[0] * ln_y[0] + (t[1] * ln_y[1] + t[2] * ln_y[2])) * -1.0
    L_half.backward()
    return L_half, ys[1]


def ch4_loss_half():
    L_half, _ = softmax_with_loss()
    return draw_graph(L_half, fmt="{:z.3g}", output_label="L")


def ch4_softmax_half():
    _, y2 = softmax_with_loss()
    return draw_graph(y2, fmt="{:z.3g}", output_label="y2")


BOOK_FIGURES = {
    "ch1 apple, values": lambda: ch1_apple(False),
    "ch1 apple and orange, values": lambda: ch1_apple_orange(False),
    "ch1 apple": lambda: ch1_apple(True),
    "ch1 apple and orange": lambda: ch1_apple_orange(True),
    "ch1 (a + b) c": ch1_add_mul,
    "ch2 (x + y)^2": ch2_square_of_sum,
    "ch2 (x + y) x": ch2_two_paths,
    "ch2 (x x) x": ch2_cube,
    "ch3 sigmoid, values": lambda: ch3_sigmoid(False),
    "ch3 sigmoid": lambda: ch3_sigmoid(True),
    "ch3 fused sigmoid": ch3_fused,
    "ch4 loss half": ch4_loss_half,
    "ch4 softmax half": ch4_softmax_half,
    "ch5 blocks": lambda: draw_blocks(2),
}


@pytest.mark.parametrize("name", BOOK_FIGURES)
def test_every_book_figure_is_legible_at_the_column_width(name):
    fig = BOOK_FIGURES[name]()
    found = legibility(fig)
    plt.close(fig)
    assert found.overlaps == [], found.problems()
    assert found.on_lines == [], found.problems()
    assert found.min_text_px >= MIN_TEXT_PX, found.problems()


# -- legibility() can fail ------------------------------------------------------------------------
def test_legibility_reports_two_texts_on_top_of_each_other():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.axis("off")
    ax.text(0.5, 0.5, "0.0892", fontsize=12)
    ax.text(0.52, 0.5, "7.39", fontsize=12)
    ax.text(0.1, 0.1, "apart", fontsize=12)
    found = legibility(fig)
    assert found.overlaps == [("0.0892", "7.39")]
    with pytest.raises(AssertionError, match="'0.0892' and '7.39' overlap"):
        assert_legible(fig)
    plt.close(fig)


def wide_figure(width_in: float, labels: list[str], fontsize: float = 10):
    """Labels spread over a figure ``width_in`` wide, from its left edge to its right."""
    fig = plt.figure(figsize=(width_in, 1))
    for k, label in enumerate(labels):
        ha = "left" if k == 0 else "right" if k == len(labels) - 1 else "center"
        fig.text(k / (len(labels) - 1), 0.5, label, ha=ha, fontsize=fontsize)
    return fig


def test_legibility_reports_small_text_in_a_figure_too_wide_for_the_column():
    fig = wide_figure(14.8, ["edge label", "0.6065", "1.607"])  # 1500 px with the save padding
    found = legibility(fig)
    plt.close(fig)
    assert found.width_px == pytest.approx(1500, abs=2)
    assert found.scale == pytest.approx(COLUMN_PX / 1500, rel=0.01)
    assert found.min_text_px == pytest.approx(10 * 100 / 72 * COLUMN_PX / 1500, rel=0.01)
    assert found.min_text_px < MIN_TEXT_PX
    fig = wide_figure(14.8, ["edge label", "0.6065", "1.607"])
    with pytest.raises(AssertionError, match="'edge label' shows at 6.3 px"):
        assert_legible(fig)
    plt.close(fig)


def test_legibility_passes_the_same_text_in_a_narrow_figure():
    fig = wide_figure(6.0, ["edge label", "0.6065", "1.607"])
    found = assert_legible(fig)
    plt.close(fig)
    assert found.scale == 1.0 and found.min_text_px == pytest.approx(10 * 100 / 72)


def test_legibility_reports_a_label_on_a_line():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.set_xlim(0, 3)
    ax.set_ylim(0, 2)
    ax.axis("off")
    ax.add_patch(FancyArrowPatch((0.2, 1.0), (2.8, 1.0), arrowstyle="-|>"))
    ax.text(1.5, 1.0, "on", va="center")
    ax.text(1.5, 1.1, "above", va="bottom")
    assert legibility(fig).on_lines == ["on"]
    plt.close(fig)


def test_a_graph_too_wide_for_the_column_is_refused_with_advice():
    x = Value(0.5, "x")
    v = x
    for _ in range(10):
        v = (v * 1.5) + 0.25  # two operation nodes per round: 20 layers
    v.backward()
    with pytest.raises(ValueError, match=r"too wide to draw legibly.*Draw it in parts"):
        draw_graph(v)
    assert plt.get_fignums() == []


def test_a_shallow_graph_with_many_nodes_draws_legibly():
    xs = [Value(float(k), f"x{k}") for k in range(8)]
    products = [x * (0.5 + k) for k, x in enumerate(xs)]
    while len(products) > 1:  # a balanced sum: 4 layers deep, 15 operations
        products = [a + b for a, b in zip(products[::2], products[1::2])]
    products[0].backward()
    fig = draw_graph(products[0], output_label="s")
    assert len(circles(fig)) == 15
    assert_legible(fig)
    plt.close(fig)


def test_caller_axes_set_the_size_and_labels_still_do_not_overlap():
    """ch4's old call: a 10 x 3.2 in figure; the drawing shrinks into it, fonts included."""
    L_half, y2 = softmax_with_loss()
    for root in (L_half, y2):
        fig, ax = plt.subplots(figsize=(10, 3.2))
        assert draw_graph(root, ax=ax, fmt="{:z.3g}", output_label="L") is fig
        found = legibility(fig)
        assert found.overlaps == [] and found.on_lines == [], found.problems()
        plt.close(fig)


def test_the_blocks_figure_refuses_more_layers_than_fit():
    # its layer superscripts are 12.5 pt * 0.7: at two blocks the figure fits the column,
    # at three it would be shrunk until they show under 10 px
    fig = draw_blocks(2)
    assert_legible(fig)
    plt.close(fig)
    with pytest.raises(ValueError, match=r"draw_blocks\(3\) is too wide.*fewer layers"):
        draw_blocks(3)
    fig, ax = plt.subplots(figsize=(16, 5))
    assert draw_blocks(6, ax=ax) is fig  # the caller's size: their business
    plt.close(fig)


def test_blocks_figure_has_one_red_colour_for_gradients():
    fig = draw_blocks(2)
    grads = texts(fig, gradients=True)
    assert "$dW^{[2]}, db^{[2]}$" in grads and "$da^{[2]}$" in grads
    plt.close(fig)


# -- the right numbers on the edges ---------------------------------------------------------------
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
    assert len(edges(fig)) == 5  # apple, n, tax, the product, the output
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
    assert len(edges(fig)) == 3  # two from x into the same node, one out
    # two edges from x into the same node, each carrying x = 3 back (total 6 = 2x)
    assert sorted(texts(fig, gradients=True)) == ["1", "3", "3"]
    assert x.grad == 6.0
    plt.close(fig)


def test_sigmoid_constants_are_small_numbers_with_their_gradient():
    fig = ch3_sigmoid(True)
    values, grads = texts(fig, gradients=False), texts(fig, gradients=True)
    assert "-1" in values and "1" in values  # the constants, drawn where they are used
    for v in ["0.5", "a = -0.5", "b = 0.6065", "c = 1.607", "0.6225"]:
        assert v in values, (v, values)
    # x * -1: d/d(-1) = x * dL/da = 0.5 * -0.235; b + 1: d/d1 = dL/dc
    assert sorted(grads) == sorted(["0.235", "-0.1175", "-0.235", "-0.3875", "-0.3875",
                                    "-0.3875", "1"])
    plt.close(fig)


def test_softmax_half_shows_each_share_of_a_fanned_out_value():
    fig = ch4_softmax_half()
    values, grads = texts(fig, gradients=False), texts(fig, gradients=True)
    assert values.count("2.72") == 2  # e2 feeds the sum and the product y2 = e2 r
    assert "-0.368" in grads and "0.0892" in grads  # its two shares: via y2, via the sum
    assert "11.2" in values and "-11.2" in grads  # S, and dy2/dS... through 1/x
    plt.close(fig)


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


def test_a_title_is_drawn_and_kept_clear():
    fig = draw_graph(apple_graph(), title="price of two apples with tax")
    assert "price of two apples with tax" in texts(fig, gradients=False)
    assert_legible(fig)
    plt.close(fig)
