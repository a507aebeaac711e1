"""Figures of computation graphs and of chained layer blocks, legible at the book's column width.

A graph is drawn the way textbook figures do: operations are circles, values travel along the
edges with the forward value written above each edge and the gradient flowing back along it
written below (in red). Where a value fans out, each outgoing edge shows the part of the gradient
that comes back along that path; the value's total gradient is their sum.

**Legible in the book.** The book shows a figure at most :data:`COLUMN_PX` CSS px wide; a wider
PNG is shrunk to fit, and its text with it. So nothing here is drawn at a size chosen by hand: the
layout is computed from the measured extent of every label, and the figure's size follows from
the layout. A figure whose text would show smaller than :data:`MIN_TEXT_PX` is refused with a
``ValueError`` rather than drawn illegibly. :func:`legibility` measures any figure the same way the
book shows it (smallest text, overlapping labels, labels crossed by a line).

**Layout.** A layered ("Sugiyama") layout, in pure Python so that it also runs in the browser
(Pyodide has no Graphviz):

1. *Layers*: an operation sits one layer after its latest input (longest path from the inputs).
   Edge labels get layers of their own between the node layers (as Graphviz does), so a label
   is a box that the layout keeps clear of everything else; an edge that skips layers bends
   through one virtual point per layer it crosses.
2. *Order* within each layer: barycentre sweeps (each item moves to the mean position of its
   neighbours), from the reading order and a few seeded shuffles of it, keeping the order
   with the fewest edge crossings (ties: the one closest to the reading order).
3. *Heights*: every item is pulled towards its neighbours so that edges run straight, under the
   constraint that items in a layer keep their order and their measured distance (an exact
   isotonic regression, solved by pool-adjacent-violators); then each long edge is run at one
   height where the layers leave room.
4. *Widths*: each layer is as wide as its widest item; edges run horizontally through a layer
   and bend only in the narrow gaps between layers, where no text is drawn.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from math import ceil, sqrt

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path
from matplotlib.text import Text

from .value import Value

COLUMN_PX = 690  # width of the book's text column, CSS px (jupyter-book, 1280 px window)
DPI = 100  # the notebook inline backend's dpi: one figure pixel is one CSS px
MIN_TEXT_PX = 10.0  # no text smaller than this as the reader sees it
SAVE_PAD_IN = 0.1  # bbox_inches="tight" adds savefig.pad_inches around the drawing

GRAD_COLOUR = "#c0392b"  # gradients are red, in every figure of the book
FORWARD_COLOUR = "#1f4e79"
CACHE_COLOUR = "#7f7f7f"

LABEL_PT = 10.0  # edge values and gradients, constants: the smallest text of a graph figure
NAME_PT = 11.0  # names of inputs and of the output
SYMBOL_PT = 11.0  # the operation inside a circle
TITLE_PT = 12.0

# Distances in inches (one inch is DPI px): the layout works in the figure's own units.
_PAD = 0.03  # between a label and the line it labels
_GAP = 0.07  # between two items of one layer
_CLEAR = 0.03  # room kept free above and below a bare line
_LABEL_SIDE = 0.06  # the line runs this far past either side of its label
_TEXT_GAP = 0.06  # between a name and the line that leaves or enters it
_ENTRY = 0.11  # straight run before a circle, so the arrowhead lies on it
_MARGIN = 0.04  # around the whole drawing
_MIN_RADIUS = 0.16
_BEND = (0.12, 0.45)  # narrowest and widest gap between layers, where edges bend
_STRAIGHT = 0.02  # gap between layers where no edge bends
_LEVEL = 0.01  # two heights closer than this (1 px) are one: the edge runs straight
_WEAK = 0.2  # a constant's pull on the layout, relative to a real input's


# -- measuring -------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _measuring_canvas() -> FigureCanvasAgg:
    """An off-screen canvas (not pyplot's, so it is never shown and never leaks)."""
    return FigureCanvasAgg(Figure(dpi=DPI))


@lru_cache(maxsize=4096)
def _text_size(text: str, size: float, style: str = "normal") -> tuple[float, float]:
    """Width and height in inches of ``text`` as matplotlib renders it (mathtext included)."""
    canvas = _measuring_canvas()
    t = canvas.figure.text(0, 0, text, fontsize=size, style=style)
    box = t.get_window_extent(canvas.get_renderer())
    t.remove()
    return box.width / DPI, box.height / DPI


def _display_scale(width_px: float, column_px: float = COLUMN_PX) -> float:
    """How much the book shrinks a PNG ``width_px`` wide to fit its column (1: not at all)."""
    return min(1.0, column_px / width_px)


def _refuse_if_illegible(width_in: float, smallest_pt: float, what: str, advice: str) -> None:
    """Raise ValueError if a figure ``width_in`` wide would show text under MIN_TEXT_PX."""
    width_px = (width_in + 2 * SAVE_PAD_IN) * DPI
    shown = smallest_pt * DPI / 72 * _display_scale(width_px)
    if shown < MIN_TEXT_PX:
        raise ValueError(
            f"{what} is too wide to draw legibly: it needs {width_px:.0f} px, the book column is "
            f"{COLUMN_PX} px, so its {smallest_pt:g} pt text would show at {shown:.1f} px "
            f"(< {MIN_TEXT_PX:g} px). {advice}")


# -- legibility ------------------------------------------------------------------------------------
@dataclass
class Legibility:
    """How a figure reads in the book: see :func:`legibility`."""

    width_px: float  # width of the PNG the notebook stores (bbox_inches="tight")
    scale: float  # how much the book shrinks it to fit the column
    min_text_px: float  # the smallest text as the reader sees it, CSS px
    smallest: str  # that text
    overlaps: list[tuple[str, str]] = field(default_factory=list)  # texts on top of each other
    on_lines: list[str] = field(default_factory=list)  # texts crossed by an edge or arrow

    @property
    def ok(self) -> bool:
        return self.min_text_px >= MIN_TEXT_PX and not self.overlaps and not self.on_lines

    def problems(self) -> list[str]:
        out = []
        if self.min_text_px < MIN_TEXT_PX:
            out.append(f"text {self.smallest!r} shows at {self.min_text_px:.1f} px "
                       f"(< {MIN_TEXT_PX:g} px; figure {self.width_px:.0f} px wide, shown at "
                       f"{self.scale:.2f} of its size)")
        out += [f"texts {a!r} and {b!r} overlap" for a, b in self.overlaps]
        out += [f"text {a!r} sits on a line" for a in self.on_lines]
        return out


def _figure_texts(fig) -> list[Text]:
    """The texts a reader sees: figure and axes texts, titles, and tick labels if drawn."""
    found = list(fig.texts)
    for ax in fig.axes:
        found += [*ax.texts, ax.title]
        if ax.axison:
            found += [*ax.get_xticklabels(), *ax.get_yticklabels(),
                      ax.xaxis.label, ax.yaxis.label]
        if ax.get_legend() is not None:
            found += ax.get_legend().get_texts()
    return [t for t in found if t.get_visible() and t.get_text().strip()]


def _lines(fig) -> list[Path]:
    """Every edge and arrow of the figure as polylines in display coordinates."""
    paths = []
    for ax in fig.axes:
        for artist in [*ax.patches, *ax.lines]:
            if isinstance(artist, (FancyArrowPatch, Line2D)):
                path = artist.get_transform().transform_path(artist.get_path())
                paths += [Path(p) for p in path.to_polygons(closed_only=False) if len(p) > 1]
    return paths


def legibility(fig, column_px: float = COLUMN_PX, dpi: float = DPI) -> Legibility:
    """Measure ``fig`` as the book shows it: saved at ``dpi`` with a tight bounding box, then
    shrunk to ``column_px`` if wider.

    The displayed height of a text is ``fontsize_pt * dpi / 72 * min(1, column_px / width_px)``.
    Two texts overlap if their rendered boxes intersect by more than half a pixel each way; a
    text sits on a line if an edge or arrow (FancyArrowPatch or Line2D) crosses its box.
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    tight = fig.get_tightbbox(renderer)
    width_px = (tight.width + 2 * SAVE_PAD_IN) * dpi
    scale = _display_scale(width_px, column_px)
    texts = _figure_texts(fig)
    if not texts:
        return Legibility(float(width_px), float(scale), float("inf"), "")
    smallest = min(texts, key=lambda t: t.get_fontsize())
    boxes = [t.get_window_extent(renderer) for t in texts]
    overlaps = []
    for i, (a, box_a) in enumerate(zip(texts, boxes)):
        for b, box_b in zip(texts[i + 1:], boxes[i + 1:]):
            dx = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
            dy = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
            if dx > 0.5 and dy > 0.5:
                overlaps.append((a.get_text(), b.get_text()))
    lines = _lines(fig)
    on_lines = [t.get_text() for t, box in zip(texts, boxes)
                if any(p.intersects_bbox(box.padded(-0.5), filled=False) for p in lines)]
    return Legibility(float(width_px), float(scale),
                      float(smallest.get_fontsize() * dpi / 72 * scale), smallest.get_text(),
                      overlaps, on_lines)


def assert_legible(fig, column_px: float = COLUMN_PX, dpi: float = DPI) -> Legibility:
    """Raise AssertionError naming every text of ``fig`` that is too small, overlaps another, or
    sits on a line, as the book shows the figure; return the :class:`Legibility` otherwise."""
    found = legibility(fig, column_px, dpi)
    if not found.ok:
        raise AssertionError("figure not legible in the book: " + "; ".join(found.problems()))
    return found


# -- the graph as layers of slots ------------------------------------------------------------------
@dataclass(eq=False)
class _Slot:
    """One item of one layer (``rank``): an operation, an input, a constant, an edge label, a
    bend of a long edge, or the output's name.

    ``above``/``below`` are the room it needs over and under its line, ``width`` its room along
    the layer; ``port`` is how far above the centre of the circle its edge enters (edge slots).
    """

    kind: str  # "op", "leaf", "const", "label", "bend" or "out"
    rank: int
    text: str = ""  # the symbol, the input's name or number, or the output's name
    value: str = ""  # label slots: forward value, written above the line
    grad: str | None = None  # label slots: gradient, written below the line
    width: float = 0.0
    above: float = _CLEAR
    below: float = _CLEAR
    italic: bool = False  # names of inputs and outputs
    weight: float = 1.0  # how hard it pulls its neighbours into line (constants: gently)
    port: float = 0.0
    preds: list[_Slot] = field(default_factory=list)
    succs: list[_Slot] = field(default_factory=list)
    pos: float = 0.0  # place within the layer, 0..1 (ordering)
    y: float = 0.0


@dataclass
class _GraphLayout:
    ranks: list[list[_Slot]]
    chains: list[list[_Slot]]  # each edge: source, bends and label, target
    radius: float
    x0: list[float] = field(default_factory=list)  # left and right end of every layer
    x1: list[float] = field(default_factory=list)
    top: float = 0.0
    bottom: float = 0.0


def _fmt(x, fmt: str) -> str:
    if isinstance(x, float):
        return fmt.format(x)
    arr = np.asarray(x)
    return fmt.format(float(arr)) if arr.ndim == 0 else f"array{arr.shape}"


def _is_constant(v: Value) -> bool:
    return v.node is None and not v.label


def _reading_order(root: Value) -> list[Value]:
    """Inputs before outputs, first input first: the order a reader meets them in the formula.

    (Post-order depth-first search, iterative so that depth is unlimited.) It fixes the initial
    top-to-bottom order of every layer, so ``apple * count`` puts apple above count.
    """
    seen, out, stack = {id(root)}, [], [(root, 0)]
    while stack:
        v, i = stack.pop()
        if i < len(v.parents):
            stack.append((v, i + 1))
            p = v.parents[i]
            if id(p) not in seen:
                seen.add(id(p))
                stack.append((p, 0))
        else:
            out.append(v)
    return out


def _radius(values: list[Value]) -> float:
    """One circle size for the whole graph, large enough for its widest symbol."""
    widths = [_text_size(v.node.symbol, SYMBOL_PT)[0] for v in values if v.node is not None]
    return max([_MIN_RADIUS] + [w / 2 + 0.05 for w in widths])


class _Builder:
    """Turns a recorded graph into slots: node layers at even ranks, label layers between.

    An operation sits in layer 1 + (the latest layer of its inputs); named inputs in layer 0;
    an unnamed constant (the 1 in 1 + e^-x) in the layer just before its use, one copy per use.
    """

    def __init__(self, root: Value, show_grad: bool, fmt: str):
        self.show_grad, self.fmt = show_grad, fmt
        self.ranks: dict[int, list[_Slot]] = defaultdict(list)
        self.chains: list[list[_Slot]] = []
        self.slot: dict[int, _Slot] = {}  # by id of the Value
        order = _reading_order(root)
        self.radius = _radius(order)
        for v in order:
            if v.node is not None:
                self.operation(v)
            elif not _is_constant(v) or v is root:
                self.slot[id(v)] = self.name(0, v.label or self.number(v.data), bool(v.label),
                                             "leaf")

    def number(self, x) -> str:
        return _fmt(x, self.fmt)

    def add(self, slot: _Slot) -> _Slot:
        self.ranks[slot.rank].append(slot)
        return slot

    def name(self, rank: int, text: str, italic: bool, kind: str) -> _Slot:
        w, h = _text_size(text, NAME_PT if italic else LABEL_PT, "italic" if italic else "normal")
        return self.add(_Slot(kind, rank, text=text, width=w + _TEXT_GAP, above=h / 2,
                              below=h / 2, italic=italic,
                              weight=_WEAK if kind == "const" else 1.0))

    def label(self, rank: int, value: str, grad: str | None, weight: float) -> _Slot:
        wv, hv = _text_size(value, LABEL_PT) if value else (0.0, 0.0)
        wg, hg = _text_size(grad, LABEL_PT) if grad else (0.0, 0.0)
        return self.add(_Slot("label", rank, value=value, grad=grad,
                              width=max(wv, wg) + 2 * _LABEL_SIDE,
                              above=_PAD + hv if value else _CLEAR,
                              below=_PAD + hg if grad else _CLEAR, weight=weight))

    def operation(self, v: Value) -> None:
        """A circle for ``v``'s node and an edge from each input, labelled with the input's
        value and the share of the gradient that flows back along that edge."""
        rank = 2 + max(self.slot[id(p)].rank if id(p) in self.slot else 0 for p in v.parents)
        op = self.add(_Slot("op", rank, text=v.node.symbol, width=2 * self.radius + _ENTRY,
                            above=self.radius, below=self.radius))
        self.slot[id(v)] = op
        shares = v.node.backward(v.grad) if self.show_grad else [None] * len(v.parents)
        for p, g in zip(v.parents, shares):
            if _is_constant(p):  # its number is the value: the edge shows the gradient only
                src, value = self.name(rank - 2, self.number(p.data), False, "const"), ""
            else:
                src = self.slot[id(p)]
                value = (f"{p.label} = " if p.label and p.node is not None else "")
                value += self.number(p.data)
            self.edge(src, op, value, None if g is None else self.number(g))

    def output(self, root: Value, output_label: str) -> None:
        """The edge out of the last node, to the output's name."""
        src = self.slot[id(root)]
        out = self.name(src.rank + 2, output_label, True, "out")
        if not output_label:
            out.width = out.above = out.below = _CLEAR
        self.edge(src, out, self.number(root.data),
                  self.number(root.grad) if self.show_grad else None)

    def edge(self, src: _Slot, dst: _Slot, value: str, grad: str | None) -> None:
        """Link ``src`` to ``dst`` through one slot per layer between them; the last one, just
        before ``dst``, carries the labels (near the node that uses the value)."""
        chain = [src]
        for rank in range(src.rank + 1, dst.rank):
            if rank == dst.rank - 1:
                chain.append(self.label(rank, value, grad, src.weight))
            else:
                chain.append(self.add(_Slot("bend", rank, weight=src.weight)))
        chain.append(dst)
        for a, b in zip(chain, chain[1:]):
            a.succs.append(b)
            b.preds.append(a)
        self.chains.append(chain)


# -- order within layers: barycentre sweeps -------------------------------------------------------
def _number(rank: list[_Slot]) -> None:
    for i, s in enumerate(rank):
        s.pos = (i + 0.5) / len(rank)


def _crossings(ranks: list[list[_Slot]]) -> int:
    """Pairs of edges that cross between neighbouring layers."""
    count = 0
    for rank in ranks:
        edges = [(s.pos, t.pos) for s in rank for t in s.succs]
        count += sum((a0 - b0) * (a1 - b1) < 0
                     for i, (a0, a1) in enumerate(edges) for b0, b1 in edges[i + 1:])
    return count


def _sweeps(ranks: list[list[_Slot]], sweeps: int = 12) -> tuple[int, list[list[_Slot]]]:
    """Reorder each layer by the mean position of its neighbours, sweeping left to right and
    back (ties keep their order); return the fewest crossings seen and that order."""
    for rank in ranks:
        _number(rank)
    best, fewest = [list(r) for r in ranks], _crossings(ranks)
    for sweep in range(sweeps):
        forward = sweep % 2 == 0
        for k in range(1, len(ranks)) if forward else range(len(ranks) - 2, -1, -1):

            def barycentre(s: _Slot, forward=forward) -> float:
                near = (s.preds or s.succs) if forward else (s.succs or s.preds)
                return float(np.mean([n.pos for n in near])) if near else s.pos

            ranks[k].sort(key=barycentre)
            _number(ranks[k])
        found = _crossings(ranks)
        if found < fewest:
            best, fewest = [list(r) for r in ranks], found
    return fewest, best


def _disorder(ranks: list[list[_Slot]], reading: list[list[_Slot]]) -> int:
    """Pairs of items that a layer shows in the opposite order to the reading order."""
    count = 0
    for rank, first in zip(ranks, reading):
        at = {id(s): i for i, s in enumerate(rank)}
        ids = [at[id(s)] for s in first]
        count += sum(a > b for i, a in enumerate(ids) for b in ids[i + 1:])
    return count


def _order(ranks: list[list[_Slot]], restarts: int = 24) -> list[list[_Slot]]:
    """The order of every layer: fewest crossings, then closest to the reading order.

    Barycentre sweeps settle ties by the order they start from, and can stall there (two
    edges leaving x together, one of which must pass y). So they start from the reading order
    and from a few shuffles of it (seeded: the same graph always gets the same figure).
    """
    reading = [list(r) for r in ranks]
    rng = np.random.default_rng(0)
    best_key, best = None, reading
    for attempt in range(restarts):
        start = [list(r) for r in reading]
        if attempt:
            for rank in start:
                rng.shuffle(rank)
        crossings, found = _sweeps(start)
        key = (crossings, _disorder(found, reading))
        if best_key is None or key < best_key:
            best_key, best = key, found
        if key == (0, 0):
            break
    for rank in best:
        _number(rank)
    return best


def _assign_ports(ranks: list[list[_Slot]], radius: float) -> None:
    """Where each edge enters its circle: spread over the circle's height in the order the edges
    arrive, so they do not cross there. An edge from a constant steps aside and leaves the
    centre to the one real input, which then runs straight through."""
    for rank in ranks:
        for op in (s for s in rank if s.kind == "op"):
            ins = sorted(op.preds, key=lambda s: s.pos)
            strong = [s for s in ins if s.weight != _WEAK]  # not from a constant
            if len(ins) == 1:
                offsets = [0.0]
            elif len(strong) == 1:
                i = ins.index(strong[0])
                offsets = [0.55 * radius * np.sign(i - j) for j in range(len(ins))]
            else:
                offsets = list(np.linspace(0.5, -0.5, len(ins)) * radius)
            for s, o in zip(ins, offsets):
                s.port = float(o)


# -- heights: pull neighbours into line, keep order and distance ---------------------------------
def _pool_adjacent_violators(target: list[float], weight: list[float]) -> list[float]:
    """The non-increasing sequence closest to ``target`` (weighted least squares)."""
    blocks: list[list[float]] = []  # [value, weight, count]
    for t, w in zip(target, weight):
        blocks.append([t, w, 1])
        while len(blocks) > 1 and blocks[-2][0] < blocks[-1][0]:
            v2, w2, n2 = blocks.pop()
            v1, w1, n1 = blocks.pop()
            blocks.append([(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
    return [v for v, _, n in blocks for _ in range(int(n))]


def _place(rank: list[_Slot], wanted: list[float], weight: list[float]) -> None:
    """Heights for one layer, top to bottom, as close to ``wanted`` as the layer allows.

    Items must keep their order and stay apart: y[i] - y[i+1] >= below[i] + above[i+1] + gap.
    With c[i] the sum of those distances down to i, z = y + c must be non-increasing: an
    isotonic regression.
    """
    c = [0.0]
    for a, b in zip(rank, rank[1:]):
        c.append(c[-1] + a.below + b.above + _GAP)
    z = _pool_adjacent_violators([w + ci for w, ci in zip(wanted, c)], weight)
    for s, zi, ci in zip(rank, z, c):
        s.y = zi - ci


def _link_weight(a: _Slot, b: _Slot) -> float:
    """How much a straight link from ``a`` to ``b`` is worth: links between the points of one
    long edge most (a long edge should run straight), links from constants least."""
    on_edge = (a.kind in ("label", "bend")) + (b.kind in ("label", "bend"))
    return min(a.weight, b.weight) * (1.0, 2.0, 8.0)[on_edge]


def _pull(s: _Slot) -> tuple[float, float]:
    """Where the neighbours of ``s`` want it (weighted mean), and how hard they pull.

    A constant's edge follows the node it feeds but does not pull that node off its line, nor
    (by a tiny weight) push its neighbours in the layer.
    """
    wants, weights = [], []
    for n in s.preds:
        if n.weight >= s.weight:
            wants.append(n.y - (n.port if s.kind == "op" else 0.0))
            weights.append(_link_weight(n, s))
    for n in s.succs:
        if n.weight >= s.weight:
            wants.append(n.y + (s.port if n.kind == "op" else 0.0))
            weights.append(_link_weight(s, n))
    if not wants:
        return s.y, 1.0
    yields = 1e-3 if s.weight == _WEAK else 1.0
    return float(np.average(wants, weights=weights)), yields * float(sum(weights))


def _heights(ranks: list[list[_Slot]], sweeps: int = 60) -> None:
    for rank in ranks:
        _place(rank, [0.0] * len(rank), [1.0] * len(rank))
    for sweep in range(sweeps):
        for k in range(len(ranks)) if sweep % 2 == 0 else range(len(ranks) - 1, -1, -1):
            pulls = [_pull(s) for s in ranks[k]]
            _place(ranks[k], [p for p, _ in pulls], [w for _, w in pulls])


def _straighten(ranks: list[list[_Slot]], chains: list[list[_Slot]]) -> None:
    """Run the inner points of each edge at one height where their layers leave room.

    The pulls above balance every item between its neighbours, which can leave an edge with
    several small steps; one clear bend reads better. Each edge tries the heights of its own
    points (nearest first) and takes the first one every inner point has room for.
    """
    where = {id(s): (rank, i) for rank in ranks for i, s in enumerate(rank)}

    def room(s: _Slot, y: float) -> bool:
        rank, i = where[id(s)]
        over = rank[i - 1] if i > 0 else None
        under = rank[i + 1] if i + 1 < len(rank) else None
        return ((over is None or y + s.above + _GAP <= over.y - over.below + 1e-9)
                and (under is None or y - s.below - _GAP >= under.y + under.above - 1e-9))

    for chain in chains:
        inner = chain[1:-1]
        end = chain[-1].y + (chain[-2].port if chain[-1].kind == "op" else 0.0)
        now = [s.y for s in inner]
        for y in sorted({chain[0].y, end, *now}, key=lambda y: sum(abs(y - t) for t in now)):
            if all(room(s, y) for s in inner):
                for s in inner:
                    s.y = y
                break


# -- widths: layers side by side -------------------------------------------------------------------
def _columns(layout: _GraphLayout) -> None:
    """Left and right end of every layer.

    Bends need little room, but read more easily when they climb gently: the gaps between
    layers start at the narrowest, then share what the book's column has left, each wanting
    about its largest climb, so a graph that fits the column is not made wider than it.
    """
    ranks = layout.ranks
    widths = [max(s.width for s in rank) for rank in ranks]
    climbs = [max([abs(t.y + (s.port if t.kind == "op" else 0.0) - s.y)
                   for s in left for t in s.succs] + [0.0]) for left in ranks[:-1]]
    narrow, wide = _BEND
    least = [narrow if c > _LEVEL else _STRAIGHT for c in climbs]
    wants = [min(max(c, narrow), wide) - n for c, n in zip(climbs, least)]
    column = COLUMN_PX / DPI - 2 * (SAVE_PAD_IN + _MARGIN)
    spare = column - sum(widths) - sum(least)
    share = min(1.0, max(0.0, spare) / sum(wants)) if sum(wants) else 0.0
    x = 0.0
    for k, width in enumerate(widths):
        if k:
            x += least[k - 1] + share * wants[k - 1]
        layout.x0.append(x)
        x += width
        layout.x1.append(x)


def _graph_layout(root: Value, show_grad: bool, fmt: str, output_label: str) -> _GraphLayout:
    build = _Builder(root, show_grad, fmt)
    build.output(root, output_label)
    ranks = _order([build.ranks[k] for k in range(max(build.ranks) + 1)])
    _assign_ports(ranks, build.radius)
    _heights(ranks)
    _straighten(ranks, build.chains)
    layout = _GraphLayout(ranks, build.chains, build.radius)
    _columns(layout)
    slots = [s for rank in ranks for s in rank]
    layout.top = max(s.y + s.above for s in slots)
    layout.bottom = min(s.y - s.below for s in slots)
    return layout


# -- drawing ---------------------------------------------------------------------------------------
def _edge_path(layout: _GraphLayout, chain: list[_Slot]) -> Path:
    """Straight through every layer, an S-bend in each gap (a cubic curve that leaves and
    arrives horizontally), into a circle at its port."""
    x0, x1, r = layout.x0, layout.x1, layout.radius
    src, dst = chain[0], chain[-1]
    runs = [(x1[src.rank], x1[src.rank], src.y)]  # (from x, to x, height) in each layer
    runs += [(x0[s.rank], x1[s.rank], s.y) for s in chain[1:-1]]
    if dst.kind == "op":
        y = dst.y + chain[-2].port
        runs.append((x0[dst.rank], x1[dst.rank] - r - sqrt(r * r - (y - dst.y) ** 2), y))
    else:
        runs.append((x0[dst.rank], x0[dst.rank], dst.y))
    points, codes = [(runs[0][1], runs[0][2])], [Path.MOVETO]
    for (_, a, ya), (b, c, yb) in zip(runs, runs[1:]):
        if abs(ya - yb) < _LEVEL:
            points.append((b, yb))
            codes.append(Path.LINETO)
        else:
            mid = (a + b) / 2
            points += [(mid, ya), (mid, yb), (b, yb)]
            codes += [Path.CURVE4] * 3
        if c != b:
            points.append((c, yb))
            codes.append(Path.LINETO)
    return Path(points, codes)


def _draw_slot(ax, layout: _GraphLayout, s: _Slot, k: float) -> None:
    """Draw one slot; ``k`` scales fonts and lines when the caller's axes are too small."""
    x0, x1, r = layout.x0[s.rank], layout.x1[s.rank], layout.radius
    if s.kind == "op":
        ax.add_patch(Circle((x1 - r, s.y), r, fc="#eaf2fb", ec="#2c3e50", lw=1.5 * k, zorder=3))
        ax.text(x1 - r, s.y, s.text, ha="center", va="center", fontsize=SYMBOL_PT * k, zorder=4)
    elif s.kind in ("leaf", "const"):
        ax.text(x1 - _TEXT_GAP, s.y, s.text, ha="right", va="center",
                fontsize=(NAME_PT if s.italic else LABEL_PT) * k,
                style="italic" if s.italic else "normal")
    elif s.kind == "out" and s.text:
        ax.text(x0 + _TEXT_GAP, s.y, s.text, ha="left", va="center", fontsize=NAME_PT * k,
                style="italic")
    elif s.kind == "label":
        mid = (x0 + x1) / 2
        if s.value:
            ax.text(mid, s.y + _PAD, s.value, ha="center", va="bottom", fontsize=LABEL_PT * k)
        if s.grad:
            ax.text(mid, s.y - _PAD, s.grad, ha="center", va="top", fontsize=LABEL_PT * k,
                    color=GRAD_COLOUR)


def _draw_layout(ax, layout: _GraphLayout, k: float) -> None:
    for rank in layout.ranks:
        for s in rank:
            _draw_slot(ax, layout, s, k)
    for chain in layout.chains:
        ax.add_patch(FancyArrowPatch(path=_edge_path(layout, chain), arrowstyle="-|>",
                                     mutation_scale=12 * k, lw=1.2 * k, color="black",
                                     shrinkA=0, shrinkB=0, zorder=2))


def _frame(ax, x: tuple[float, float], y: tuple[float, float]) -> float:
    """Show the box ``x`` × ``y`` (inches) in ``ax`` at one data unit per inch if it fits, else
    shrunk to fit; return the shrink factor (fonts and lines must shrink by it too)."""
    fig = ax.figure
    box = ax.get_position()
    ax_w, ax_h = box.width * fig.get_figwidth(), box.height * fig.get_figheight()
    k = min(1.0, ax_w / (x[1] - x[0]), ax_h / (y[1] - y[0]))
    cx, cy = (x[0] + x[1]) / 2, (y[0] + y[1]) / 2
    ax.set_xlim(cx - ax_w / k / 2, cx + ax_w / k / 2)
    ax.set_ylim(cy - ax_h / k / 2, cy + ax_h / k / 2)
    ax.set_aspect("equal", adjustable="datalim")
    ax.axis("off")
    return k


def _new_figure(x: tuple[float, float], y: tuple[float, float]):
    """A pyplot figure the size of the drawing, one data unit per inch.

    The size is rounded up to whole pixels, so that the notebook's stored text output
    (``<Figure size 690x90 with 1 Axes>``) is the same on every machine.
    """
    w, h = (ceil(round((b - a) * DPI, 6)) / DPI for a, b in (x, y))
    cx, cy = (x[0] + x[1]) / 2, (y[0] + y[1]) / 2
    fig = plt.figure(figsize=(w, h), dpi=DPI)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(cx - w / 2, cx + w / 2)
    ax.set_ylim(cy - h / 2, cy + h / 2)
    ax.axis("off")
    return fig, ax


def draw_graph(root: Value, title: str | None = None, show_grad: bool = True,
               fmt: str = "{:.4g}", ax=None, output_label: str | None = None):
    """Draw the graph that produced ``root``; returns the matplotlib Figure.

    Call ``root.backward()`` first to see gradients (``show_grad=False`` draws values only).
    The figure is as large as its layout needs for 10 pt labels; a graph too wide to show them
    at 10 px in the book's column raises ValueError (draw it in parts). With ``ax=`` the
    caller's axes set the size: the drawing is shrunk, fonts included, if it does not fit.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_graph needs the Value at the end of a recorded graph, got "
                        f"{type(root).__name__}")
    name = output_label if output_label is not None else root.label
    layout = _graph_layout(root, show_grad, fmt, name or "")
    top = layout.top
    if title:
        tw, th = _text_size(title, TITLE_PT)
        top += th + 2 * _PAD
        left = min(layout.x0[0], (layout.x0[0] + layout.x1[-1] - tw) / 2)
        right = max(layout.x1[-1], (layout.x0[0] + layout.x1[-1] + tw) / 2)
    else:
        left, right = layout.x0[0], layout.x1[-1]
    x = (left - _MARGIN, right + _MARGIN)
    y = (layout.bottom - _MARGIN, top + _MARGIN)
    if ax is None:
        _refuse_if_illegible(
            x[1] - x[0], LABEL_PT, f"this graph ({sum(len(r) for r in layout.ranks[::2])} "
            f"items in {(len(layout.ranks) + 1) // 2} layers)",
            "Draw it in parts: end one figure at an intermediate Value and start the next "
            "from a fresh leaf Value(v.data, 'name') holding it (as chapter 4 does), or pass "
            "ax= to choose the size yourself.")
        fig, ax = _new_figure(x, y)
        k = 1.0
    else:
        fig = ax.figure
        k = _frame(ax, x, y)
    _draw_layout(ax, layout, k)
    if title:
        ax.text((layout.x0[0] + layout.x1[-1]) / 2, top, title, ha="center", va="top",
                fontsize=TITLE_PT * k)
    return fig


# -- chapter 5: layer blocks chained forward and backward -----------------------------------------
BLOCK_PT = 10.0  # every text of the blocks figure


def _box(ax, x: float, y: float, w: float, h: float, text: str, colour: str, face: str) -> None:
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h,
                                boxstyle="round,pad=0,rounding_size=0.08",
                                linewidth=1.6, edgecolor=colour, facecolor=face))
    ax.text(x, y, text, ha="center", va="center", fontsize=BLOCK_PT, color="black")


def _arrow(ax, points, colour: str, dashed: bool = False) -> None:
    ax.add_patch(FancyArrowPatch(path=Path(points), arrowstyle="-|>", mutation_scale=14,
                                 linewidth=1.5, color=colour, shrinkA=0, shrinkB=0,
                                 linestyle=(0, (4, 3)) if dashed else "-"))


@dataclass
class _BlockTexts:
    """Everything the blocks figure writes, and the measured room it needs (inches)."""

    n: int
    forward: list[str]
    backward: list[str]
    cache: list[str]
    grads: list[str]
    loss: str

    @staticmethod
    def size(texts: Sequence[str]) -> tuple[float, float]:
        sizes = [_text_size(t, BLOCK_PT) for t in texts]
        return max(w for w, _ in sizes), max(h for _, h in sizes)


def _block_texts(n: int, activations: Sequence[str], loss: str) -> _BlockTexts:
    ks = range(1, n + 1)
    return _BlockTexts(
        n,
        [f"layer {k}\n$z^{{[{k}]}} = W^{{[{k}]}}a^{{[{k - 1}]}} + b^{{[{k}]}}$"
         f"\n$a^{{[{k}]}} = {g}(z^{{[{k}]}})$" for k, g in zip(ks, activations)],
        [f"layer {k} backward\n$dz^{{[{k}]}} = da^{{[{k}]}} \\odot {g}'$"
         for k, g in zip(ks, activations)],
        [f"cache\n$a^{{[{k - 1}]}}, z^{{[{k}]}}$\n$W^{{[{k}]}}$" for k in ks],
        [f"$dW^{{[{k}]}}, db^{{[{k}]}}$" for k in ks],
        f"loss\n{loss}")


def draw_blocks(n_layers: int = 3, activations: Sequence[str] | None = None,
                loss: str = r"$L$", title: str | None = None, ax=None):
    r"""Draw ``n_layers`` layer blocks chained forward (top) and backward (bottom); returns the
    Figure.

    The forward row runs left to right: :math:`a^{[l-1]}` enters block l, which computes
    :math:`z^{[l]} = W^{[l]} a^{[l-1]} + b^{[l]}` and :math:`a^{[l]} = g^{[l]}(z^{[l]})`. Each
    block drops a cache (:math:`a^{[l-1]}, z^{[l]}` and its :math:`W^{[l]}`) straight down to its
    backward twin. The backward row runs right to left: :math:`da^{[l]}` enters,
    :math:`da^{[l-1]}` leaves towards the previous block, and :math:`dW^{[l]}, db^{[l]}` drop out
    to the optimiser. ``activations`` names g for each layer (default ``g^{[l]}``); ``loss``
    labels the box at the right, where the forward pass ends and the backward pass begins.

    Sizes come from the measured texts; more layers than fit legibly in the book's column raise
    ValueError (unless ``ax=`` is given: then the caller chooses the size).
    """
    if isinstance(n_layers, bool) or not isinstance(n_layers, int) or not 1 <= n_layers <= 6:
        raise ValueError(f"n_layers must be an integer from 1 to 6, got {n_layers!r}")
    if activations is None:
        activations = [rf"g^{{[{k}]}}" for k in range(1, n_layers + 1)]
    if len(activations) != n_layers:
        raise ValueError(f"activations has {len(activations)} entries, expected {n_layers}")
    texts = _block_texts(n_layers, activations, loss)
    geo = _BlockGeometry(texts, title)
    if ax is None:
        _refuse_if_illegible(geo.x[1] - geo.x[0], BLOCK_PT, f"draw_blocks({n_layers})",
                             "Draw fewer layers: the pattern repeats from block to block.")
        fig, ax = _new_figure(geo.x, geo.y)
    else:
        fig = ax.figure
        _frame(ax, geo.x, geo.y)
    geo.draw(ax)
    return fig


class _BlockGeometry:
    """Where everything of the blocks figure goes (inches, y up), from the measured texts.

    Columns, left to right: the input (a^[0] = x enters, da^[0] leaves unused), n blocks with
    arrow gaps between them, then the loss box. Rows: a caption, forward blocks, the caches
    between the rows, backward blocks, and dW, db dropping out below beside the other caption.
    """

    pad, side, drop = 0.08, 0.08, 0.3  # inside boxes; around arrow labels; the dW, db arrow
    clear = 0.06  # from an arrow to its label: more than half an arrowhead's width

    def __init__(self, t: _BlockTexts, title: str | None):
        self.t, self.title = t, title
        pad, side = self.pad, self.side
        fw, fh = _BlockTexts.size(t.forward)
        bw, bh = _BlockTexts.size(t.backward)
        self.box_w, self.fwd_h, self.bwd_h = max(fw, bw) + 2 * pad, fh + 2 * pad, bh + 2 * pad
        self.arrow_labels = [f"$a^{{[{k}]}}$" for k in range(1, t.n + 1)]
        self.grad_labels = [f"$da^{{[{k}]}}$" for k in range(t.n + 1)]
        lw, self.lab_h = _BlockTexts.size(self.arrow_labels + self.grad_labels)
        self.gap = lw + 2 * side
        self.left = _BlockTexts.size([self.INPUT, self.UNUSED])[0] + 2 * side
        self.loss_w, self.loss_h = (v + 2 * pad for v in _text_size(t.loss, BLOCK_PT))
        self.xs = [self.left + self.box_w / 2 + k * (self.box_w + self.gap) for k in range(t.n)]
        self.x_loss = self.xs[-1] + self.box_w / 2 + self.gap
        cache_h = _BlockTexts.size(t.cache)[1]
        self.y_bwd = 0.0
        self.y_fwd = self.bwd_h / 2 + max(cache_h, self.loss_h + 0.3) + 2 * pad + self.fwd_h / 2
        grads_w, grads_h = _BlockTexts.size(t.grads)
        caption_w, caption_h = _BlockTexts.size([self.FORWARD, self.BACKWARD])
        self.y_caption = self.y_fwd + self.fwd_h / 2 + _PAD  # bottom of "forward"
        self.y_grads = self.y_bwd - self.bwd_h / 2 - self.drop - _PAD  # top of dW, db
        self.y_unused = self.y_bwd - self.clear - self.lab_h - _PAD  # top of "(unused)"
        self.y_backward = min(self.y_grads, self.y_unused - self.lab_h - _PAD)
        bottom = min(self.y_grads - grads_h, self.y_backward - caption_h)
        top = self.y_caption + caption_h
        if title:
            top += _text_size(title, TITLE_PT)[1] + 2 * _PAD
        right = max(self.x_loss + self.loss_w / 2, self.xs[-1] + grads_w / 2)
        self.x = (-_MARGIN, right + _MARGIN)
        self.y = (bottom - _MARGIN, top + _MARGIN)

    INPUT, UNUSED = "$a^{[0]} = x$", "(unused)"
    FORWARD, BACKWARD = "forward →", "← backward"

    def draw(self, ax) -> None:
        for k in range(self.t.n):
            self._block(ax, k)
        self._loss(ax)
        self._text(ax, self.left / 2, self.y_unused, self.UNUSED, CACHE_COLOUR, "top")
        self._text(ax, 0.0, self.y_caption, self.FORWARD, FORWARD_COLOUR, "bottom", "left")
        self._text(ax, 0.0, self.y_backward, self.BACKWARD, GRAD_COLOUR, "top", "left")
        if self.title:
            ax.text((self.x[0] + self.x[1]) / 2, self.y[1] - _MARGIN, self.title, ha="center",
                    va="top", fontsize=TITLE_PT)

    @staticmethod
    def _text(ax, x, y, text, colour, va, ha="center") -> None:
        ax.text(x, y, text, ha=ha, va=va, fontsize=BLOCK_PT, color=colour)

    def _block(self, ax, k: int) -> None:
        """Block k's forward and backward boxes, the arrows into them from the left, its cache
        and its dW, db."""
        t, x, h = self.t, self.xs[k], self.box_w / 2
        yf, yb = self.y_fwd, self.y_bwd
        _box(ax, x, yf, self.box_w, self.fwd_h, t.forward[k], FORWARD_COLOUR, "#eaf1f8")
        _box(ax, x, yb, self.box_w, self.bwd_h, t.backward[k], GRAD_COLOUR, "#fbeceb")
        start = x - h - (self.gap if k else self.left)  # right end of what is on the left
        mid = (start + x - h) / 2
        _arrow(ax, [(start, yf), (x - h, yf)], FORWARD_COLOUR)
        self._text(ax, mid, yf + self.clear, self.arrow_labels[k - 1] if k else self.INPUT,
                   FORWARD_COLOUR, "bottom")
        _arrow(ax, [(x - h, yb), (start, yb)], GRAD_COLOUR)
        self._text(ax, mid, yb - self.clear, self.grad_labels[k], GRAD_COLOUR, "top")
        # the cache the forward block leaves for its backward twin
        upper, lower = yf - self.fwd_h / 2, yb + self.bwd_h / 2
        _arrow(ax, [(x, upper), (x, lower)], CACHE_COLOUR, dashed=True)
        self._text(ax, x + 0.08, (upper + lower) / 2, t.cache[k], CACHE_COLOUR, "center", "left")
        low = yb - self.bwd_h / 2
        _arrow(ax, [(x, low), (x, low - self.drop)], GRAD_COLOUR)
        self._text(ax, x, self.y_grads, t.grads[k], GRAD_COLOUR, "top")

    def _loss(self, ax) -> None:
        """The loss box: the forward pass turns down into it, the backward pass leaves below."""
        xl, yf, yb = self.x_loss, self.y_fwd, self.y_bwd
        right = self.xs[-1] + self.box_w / 2
        ym = (yf + yb) / 2
        _box(ax, xl, ym, self.loss_w, self.loss_h, self.t.loss, "black", "#f4f4f4")
        _arrow(ax, [(right, yf), (xl, yf), (xl, ym + self.loss_h / 2)], FORWARD_COLOUR)
        _arrow(ax, [(xl, ym - self.loss_h / 2), (xl, yb), (right, yb)], GRAD_COLOUR)
        mid = (right + xl) / 2
        self._text(ax, mid, yf + self.clear, self.arrow_labels[-1], FORWARD_COLOUR, "bottom")
        self._text(ax, mid, yb - self.clear, self.grad_labels[-1], GRAD_COLOUR, "top")
