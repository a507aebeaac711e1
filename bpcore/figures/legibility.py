"""Figures legible in the book: measured text, and a check of any figure as the reader sees it.

The book shows a figure at most :data:`COLUMN_PX` CSS px wide; a wider PNG is shrunk to fit, and
its text with it. So no figure here is drawn at a size chosen by hand: layouts are computed from
the measured extent of every label (``_text_size``), and a figure whose text would show
smaller than :data:`MIN_TEXT_PX` is refused with a ``ValueError`` rather than drawn illegibly.
:func:`legibility` measures any figure the same way the book shows it (smallest text,
overlapping labels, labels crossed by a line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from math import ceil

import matplotlib.pyplot as plt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch
from matplotlib.path import Path
from matplotlib.text import Text

#: Width a figure gets in the book's text column, CSS px (measured in Chromium: jupyter-book
#: with sphinx-book-theme at a 1280 px window shows images at most 676 px wide).
COLUMN_PX = 676
DPI = 100  # the notebook inline backend's dpi: one figure pixel is one CSS px
#: No text smaller than this, in CSS px, as the reader sees it.
MIN_TEXT_PX = 10.0
SAVE_PAD_IN = 0.1  # bbox_inches="tight" adds savefig.pad_inches around the drawing

GRAD_COLOUR = "#c0392b"  # gradients are red, in every figure of the book
FORWARD_COLOUR = "#1f4e79"
CACHE_COLOUR = "#7f7f7f"
FADED_COLOUR = "#b8b8b8"  # the rest of a graph, behind a highlighted path

LABEL_PT = 10.0  # edge values and gradients, constants: the smallest text of a graph figure
NAME_PT = 11.0  # names of inputs and of the output
SYMBOL_PT = 11.0  # the operation inside a circle
TITLE_PT = 12.0

# Distances in inches (one inch is DPI px): the layout works in the figure's own units.
_PAD = 0.03  # between a label and the line it labels
_MARGIN = 0.04  # around the whole drawing

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


#: mathtext sets sub- and superscripts at this fraction of the font size (its SHRINK_FACTOR).
SCRIPT_SCALE = 0.7
_SCRIPT = re.compile(r"\$[^$]*[_^][^$]*\$")


def _effective_pt(text: Text) -> float:
    """A text's smallest glyphs, in points: its size, or a script's if it has one."""
    size = text.get_fontsize()
    return size * SCRIPT_SCALE if _SCRIPT.search(text.get_text()) else size


def legibility(fig, column_px: float = COLUMN_PX, dpi: float = DPI) -> Legibility:
    """Measure ``fig`` as the book shows it: saved at ``dpi`` with a tight bounding box, then
    shrunk to ``column_px`` if wider.

    The displayed height of a text is ``fontsize_pt * dpi / 72 * min(1, column_px / width_px)``,
    for the sub- and superscripts of mathtext ``SCRIPT_SCALE`` of that.
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
    smallest = min(texts, key=_effective_pt)
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
                      float(_effective_pt(smallest) * dpi / 72 * scale), smallest.get_text(),
                      overlaps, on_lines)


def assert_legible(fig, column_px: float = COLUMN_PX, dpi: float = DPI) -> Legibility:
    """Raise AssertionError naming every text of ``fig`` that is too small, overlaps another, or
    sits on a line, as the book shows the figure; return the :class:`Legibility` otherwise."""
    found = legibility(fig, column_px, dpi)
    if not found.ok:
        raise AssertionError("figure not legible in the book: " + "; ".join(found.problems()))
    return found


# -- a figure of a given size in inches

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
