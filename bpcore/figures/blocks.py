"""Chapter 5's figure: layer blocks chained forward (top) and backward (bottom)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

from .legibility import (
    _MARGIN,
    _PAD,
    CACHE_COLOUR,
    FORWARD_COLOUR,
    GRAD_COLOUR,
    SCRIPT_SCALE,
    TITLE_PT,
    _frame,
    _new_figure,
    _refuse_if_illegible,
    _text_size,
)

# -- chapter 5: layer blocks chained forward and backward -----------------------------------------
#: Every text of the blocks figure: its layer superscripts, at SCRIPT_SCALE of it, are 12 px.
BLOCK_PT = 12.5


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
        [f"cache\n$a^{{[{k - 1}]}}, W^{{[{k}]}}$\n$z^{{[{k}]}}, a^{{[{k}]}}$" for k in ks],
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
        _refuse_if_illegible(geo.x[1] - geo.x[0], BLOCK_PT * SCRIPT_SCALE,
                             f"draw_blocks({n_layers})",
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
