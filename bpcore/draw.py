"""Draw a recorded computation graph the way textbook figures do.

Operations are circles; values travel along the edges, with the forward value written above
each edge and the gradient flowing back along it written below (in red). Where a value fans
out, each outgoing edge shows the part of the gradient that comes back along that path; the
value's total gradient is their sum.
"""

from __future__ import annotations

from collections import defaultdict

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch

from .value import Value, topological_order

GRAD_COLOUR = "#c0392b"
_GAP = 1.3  # vertical distance between edges in a column, in axis units


def _fmt(x, fmt: str) -> str:
    if isinstance(x, float):
        return fmt.format(x)
    arr = np.asarray(x)
    return fmt.format(float(arr)) if arr.ndim == 0 else f"array{arr.shape}"


def _is_constant(v: Value) -> bool:
    return v.node is None and not v.label


def _layout(order: list[Value]) -> tuple[dict[int, float], dict[int, float]]:
    """Columns by longest path from the inputs, rows by the mean row of each node's inputs.

    Unlabelled constants (the 1 in 1 + e^-x) are drawn just before the node that uses them
    rather than with the inputs, so their edges stay short.
    """
    col: dict[int, float] = {}
    for v in order:
        col[id(v)] = 0 if v.node is None else 1 + max(col[id(p)] for p in v.parents)
    inputs = [v for v in order if v.node is None and not _is_constant(v)]
    row: dict[int, float] = {}
    for i, v in enumerate(inputs):
        row[id(v)] = -(i - (len(inputs) - 1) / 2) * _GAP
    columns: dict[float, list[Value]] = defaultdict(list)
    for v in order:
        if v.node is not None:
            columns[col[id(v)]].append(v)

    def anchor(v: Value) -> float:
        known = [row[id(p)] for p in v.parents if id(p) in row]
        return float(np.mean(known)) if known else 0.0

    for c in sorted(columns):
        items = sorted(columns[c], key=anchor, reverse=True)
        want = [anchor(v) for v in items]
        ys: list[float] = []
        for w in want:
            ys.append(min(w, ys[-1] - _GAP) if ys else w)
        shift = float(np.mean(want) - np.mean(ys))
        for v, y in zip(items, ys):
            row[id(v)] = y + shift
            for k, p in enumerate(q for q in v.parents if _is_constant(q)):
                col[id(p)] = c - 0.55
                row[id(p)] = y - 0.75 * (k + 1)
    return col, row


def draw_graph(root: Value, title: str | None = None, show_grad: bool = True,
               fmt: str = "{:.4g}", ax=None, output_label: str | None = None):
    """Draw the graph that produced ``root``; returns the matplotlib Figure.

    Call ``root.backward()`` first to see gradients (``show_grad=False`` draws values only).
    Readable up to about 20 operation nodes.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_graph needs the Value at the end of a recorded graph, got "
                        f"{type(root).__name__}")
    order = topological_order(root)
    if sum(v.node is not None for v in order) > 40:
        raise ValueError("graph too large to draw readably (more than 40 operation nodes)")
    col, row = _layout(order)
    n_cols = int(max(col.values())) + 2
    n_rows = (max(row.values()) - min(row.values())) / _GAP + 1
    if ax is None:
        fig, ax = plt.subplots(figsize=(2.3 * n_cols + 1.0, 0.9 * n_rows * _GAP + 1.0))
    else:
        fig = ax.figure
    x_of = {k: c * 2.6 for k, c in col.items()}
    radius = 0.42
    circles = {}
    for v in order:
        x, y = x_of[id(v)], row[id(v)]
        if v.node is None:
            ax.text(x - 0.1, y, v.label or _fmt(v.data, fmt), ha="right", va="center",
                    fontsize=11, style="italic" if v.label else "normal")
            continue
        circles[id(v)] = plt.Circle((x, y), radius, fc="#eaf2fb", ec="#2c3e50", lw=1.5, zorder=3)
        ax.add_patch(circles[id(v)])
        ax.text(x, y, v.node.symbol, ha="center", va="center", fontsize=12, zorder=4)

    def edge(p0, p1, value, grad, patch_a, patch_b, rad=0.0) -> None:
        ax.add_patch(FancyArrowPatch(p0, p1, connectionstyle=f"arc3,rad={rad}",
                                     arrowstyle="-|>", mutation_scale=12, lw=1.2, color="black",
                                     patchA=patch_a, patchB=patch_b, shrinkA=2, shrinkB=0))
        (x0, y0), (x1, y1) = p0, p1
        # the label sits on the drawn curve (a quadratic Bezier for arc3) at t = 0.4
        cx = (x0 + x1) / 2 + rad * (y1 - y0)
        cy = (y0 + y1) / 2 - rad * (x1 - x0)
        t = 0.4
        mx = (1 - t) ** 2 * x0 + 2 * (1 - t) * t * cx + t**2 * x1
        my = (1 - t) ** 2 * y0 + 2 * (1 - t) * t * cy + t**2 * y1
        if value:
            ax.text(mx, my + 0.1, value, ha="center", va="bottom", fontsize=10)
        if show_grad and grad is not None:
            ax.text(mx, my - 0.1, grad, ha="center", va="top", fontsize=10, color=GRAD_COLOUR)

    for v in order:
        if v.node is None:
            continue
        contributions = v.node.backward(v.grad) if show_grad else [None] * len(v.parents)
        seen: dict[int, int] = defaultdict(int)
        for p, g in zip(v.parents, contributions):
            k = seen[id(p)]
            seen[id(p)] += 1
            rad = [0.0, 0.45, -0.45][k % 3]
            if not rad and col[id(v)] - col[id(p)] > 1.5:
                rad = -0.25  # an edge that skips a column bends around the nodes between
            if _is_constant(p):
                value = ""
            else:
                value = (f"{p.label} = " if p.label and p.node is not None else "")
                value += _fmt(p.data, fmt)
            edge((x_of[id(p)], row[id(p)]), (x_of[id(v)], row[id(v)]), value,
                 None if g is None else _fmt(g, fmt), circles.get(id(p)), circles[id(v)], rad)
    x, y = x_of[id(root)], row[id(root)]
    out_name = output_label if output_label is not None else root.label
    edge((x, y), (x + 2.2, y), _fmt(root.data, fmt),
         _fmt(root.grad, fmt) if show_grad else None, circles.get(id(root)), None)
    if out_name:
        ax.text(x + 2.3, y, out_name, ha="left", va="center", fontsize=11, style="italic")
    xs = [x_of[k] for k in x_of]
    ys = [row[k] for k in row]
    ax.set_xlim(min(xs) - 1.6, max(xs) + 3.4)
    ax.set_ylim(min(ys) - 0.9, max(ys) + 0.9)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return fig
