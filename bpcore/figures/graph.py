"""Figures of computation graphs, legible at the book's column width.

A graph is drawn the way textbook figures do: operations are circles, values travel along the
edges with the forward value written above each edge and the gradient flowing back along it
written below (in red). Where a value fans out, each outgoing edge shows the part of the gradient
that comes back along that path; the value's total gradient is their sum.

**Legible in the book.** The book shows a figure at most
:data:`~bpcore.figures.legibility.COLUMN_PX` CSS px wide; a wider PNG is shrunk to fit, and its text
with it. So nothing here is drawn at a size chosen by hand: the layout is computed from the measured
extent of every label, and the figure's size follows from the layout. A figure whose text would show
smaller than :data:`~bpcore.figures.legibility.MIN_TEXT_PX` is refused with a ``ValueError`` rather
than drawn illegibly. :func:`~bpcore.figures.legibility.legibility` measures any figure the same way
the book shows it (smallest text, overlapping labels, labels crossed by a line).

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
from dataclasses import dataclass, field
from math import sqrt

import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch
from matplotlib.path import Path

from ..engine.value import Value
from .legibility import (
    _MARGIN,
    _PAD,
    COLUMN_PX,
    DPI,
    FADED_COLOUR,
    GRAD_COLOUR,
    LABEL_PT,
    NAME_PT,
    SAVE_PAD_IN,
    SYMBOL_PT,
    TITLE_PT,
    _frame,
    _new_figure,
    _refuse_if_illegible,
    _text_size,
)

# Distances in inches (one inch is DPI px): the layout works in the figure's own units.
_GAP = 0.07  # between two items of one layer
_CLEAR = 0.03  # room kept free above and below a bare line
_LABEL_SIDE = 0.06  # the line runs this far past either side of its label
_TEXT_GAP = 0.06  # between a name and the line that leaves or enters it
_ENTRY = 0.09  # straight run before a circle, so the arrowhead lies on it
_MIN_RADIUS = 0.16
_BEND = (0.09, 0.45)  # narrowest and widest gap between layers, where edges bend
_STRAIGHT = 0.02  # gap between layers where no edge bends
_LEVEL = 0.01  # two heights closer than this (1 px) are one: the edge runs straight
_WEAK = 0.2  # a constant's pull on the layout, relative to a real input's


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
    vid: int = 0  # id() of the Value an op or input slot stands for
    faded: bool = False  # drawn in grey: not on the path the figure highlights


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
                self.slot[id(v)].vid = id(v)

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
        op.vid = id(v)
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


def _sweeps(ranks: list[list[_Slot]], sweeps: int = 12,
            fixed_first: bool = False) -> tuple[int, list[list[_Slot]]]:
    """Reorder each layer by the mean position of its neighbours, sweeping left to right and
    back (ties keep their order); return the fewest crossings seen and that order."""
    for rank in ranks:
        _number(rank)
    best, fewest = [list(r) for r in ranks], _crossings(ranks)
    for sweep in range(sweeps):
        forward = sweep % 2 == 0
        for k in range(1, len(ranks)) if forward else range(len(ranks) - 2,
                                                             0 if fixed_first else -1, -1):

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


def _order(ranks: list[list[_Slot]], restarts: int = 24,
           inputs_in_order: bool = False) -> list[list[_Slot]]:
    """The order of every layer: fewest crossings, then closest to the reading order.

    Barycentre sweeps settle ties by the order they start from, and can stall there (two
    edges leaving x together, one of which must pass y). So they start from the reading order
    and from a few shuffles of it (seeded: the same graph always gets the same figure). With
    ``inputs_in_order`` the first layer (the inputs) keeps the reading order, crossings or not.
    """
    reading = [list(r) for r in ranks]
    rng = np.random.default_rng(0)
    best_key, best = None, reading
    for attempt in range(restarts):
        start = [list(r) for r in reading]
        if attempt:
            for rank in start[1 if inputs_in_order else 0:]:
                rng.shuffle(rank)
        crossings, found = _sweeps(start, fixed_first=inputs_in_order)
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


def _graph_layout(root: Value, show_grad: bool, fmt: str, output_label: str,
                  inputs=None) -> _GraphLayout:
    build = _Builder(root, show_grad, fmt)
    build.output(root, output_label)
    ranks = [build.ranks[k] for k in range(max(build.ranks) + 1)]
    if inputs is not None:  # the first layer in the caller's order, the rest after it
        place = {id(v): n for n, v in enumerate(inputs)}
        ranks[0].sort(key=lambda s: place.get(s.vid, len(place)))
    ranks = _order(ranks, inputs_in_order=inputs is not None)
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
    ink = FADED_COLOUR if s.faded else "black"
    if s.kind == "op":
        ax.add_patch(Circle((x1 - r, s.y), r, fc="#f4f4f4" if s.faded else "#eaf2fb",
                            ec=FADED_COLOUR if s.faded else "#2c3e50", lw=1.5 * k, zorder=3))
        ax.text(x1 - r, s.y, s.text, ha="center", va="center", fontsize=SYMBOL_PT * k, zorder=4,
                color=ink)
    elif s.kind in ("leaf", "const"):
        ax.text(x1 - _TEXT_GAP, s.y, s.text, ha="right", va="center",
                fontsize=(NAME_PT if s.italic else LABEL_PT) * k,
                style="italic" if s.italic else "normal", color=ink)
    elif s.kind == "out" and s.text:
        ax.text(x0 + _TEXT_GAP, s.y, s.text, ha="left", va="center", fontsize=NAME_PT * k,
                style="italic", color=ink)
    elif s.kind == "label":
        mid = (x0 + x1) / 2
        if s.value:
            ax.text(mid, s.y + _PAD, s.value, ha="center", va="bottom", fontsize=LABEL_PT * k,
                    color=ink)
        if s.grad:
            ax.text(mid, s.y - _PAD, s.grad, ha="center", va="top", fontsize=LABEL_PT * k,
                    color=FADED_COLOUR if s.faded else GRAD_COLOUR)


def _draw_layout(ax, layout: _GraphLayout, k: float) -> None:
    for rank in layout.ranks:
        for s in rank:
            _draw_slot(ax, layout, s, k)
    for chain in layout.chains:
        faded = any(s.faded for s in chain[1:-1]) or (len(chain) == 2 and chain[0].faded)
        ax.add_patch(FancyArrowPatch(path=_edge_path(layout, chain), arrowstyle="-|>",
                                     mutation_scale=12 * k, lw=(1.0 if faded else 1.6) * k,
                                     color=FADED_COLOUR if faded else "black",
                                     shrinkA=0, shrinkB=0, zorder=1 if faded else 2))


def _fade(layout: _GraphLayout, paths) -> None:
    """Grey out every node and edge that is not on one of ``paths`` (sequences of Values,
    each edge between consecutive ones; the last may be the root, whose edge to the output's
    name then stays too)."""
    edges = {(id(a), id(b)) for path in paths for a, b in zip(path, path[1:])}
    nodes = {id(v) for path in paths for v in path}
    for chain in layout.chains:
        src, dst = chain[0], chain[-1]
        on = (src.vid, dst.vid) in edges or (dst.kind == "out" and src.vid in nodes)
        for s in chain[1:-1]:
            s.faded = not on
        for end in (src, dst):
            if end.kind in ("op", "leaf") and end.vid not in nodes:
                end.faded = True


def draw_graph(root: Value, title: str | None = None, show_grad: bool = True,
               fmt: str = "{:.4g}", ax=None, output_label: str | None = None,
               highlight=None, inputs=None):
    """Draw the graph that produced ``root``; returns the matplotlib Figure.

    Call ``root.backward()`` first to see gradients (``show_grad=False`` draws values only).
    ``highlight``, a list of paths (each a sequence of Values, the edges between consecutive
    ones), draws those paths in full colour and everything else in light grey, at the same
    places as in the whole graph: one route of the gradient at a time. ``inputs`` (leaf Values)
    stacks those inputs top to bottom in that order (z1, z2, z3), even where another order
    would cross fewer edges.
    The figure is as large as its layout needs for 10 pt labels; a graph too wide to show them
    at 10 px in the book's column raises ValueError (draw it in parts). With ``ax=`` the
    caller's axes set the size: the drawing is shrunk, fonts included, if it does not fit.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_graph needs the Value at the end of a recorded graph, got "
                        f"{type(root).__name__}")
    name = output_label if output_label is not None else root.label
    layout = _graph_layout(root, show_grad, fmt, name or "", inputs)
    if highlight is not None:
        _fade(layout, highlight)
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
