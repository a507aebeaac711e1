r"""The figure of chapter 5: layer blocks chained forward and backward, with their caches.

The forward row runs left to right: :math:`a^{[l-1]}` enters block l, which computes
:math:`z^{[l]} = W^{[l]} a^{[l-1]} + b^{[l]}` and :math:`a^{[l]} = g^{[l]}(z^{[l]})`. Each block
drops a cache (:math:`a^{[l-1]}, z^{[l]}`, and its :math:`W^{[l]}`) straight down to its backward
twin. The backward row runs right to left: :math:`da^{[l]}` enters, :math:`da^{[l-1]}` leaves
towards the previous block, and :math:`dW^{[l]}, db^{[l]}` drop out to the optimiser.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

GRAD_COLOUR = "#c0392b"  # gradients are red, as in bpcore.draw
FORWARD_COLOUR = "#1f4e79"
CACHE_COLOUR = "#7f7f7f"

_W, _H = 2.1, 0.95  # block width and height, axis units
_STEP = 3.1  # distance between block centres
_Y_FWD, _Y_BWD = 2.6, 0.0


def _box(ax, x: float, y: float, text: str, colour: str, face: str, w: float = _W) -> None:
    ax.add_patch(FancyBboxPatch((x - w / 2, y - _H / 2), w, _H,
                                boxstyle="round,pad=0.04,rounding_size=0.12",
                                linewidth=1.6, edgecolor=colour, facecolor=face))
    ax.text(x, y, text, ha="center", va="center", fontsize=9.5, color="black")


def _arrow(ax, start, end, colour: str, style: str = "-|>", dashed: bool = False) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=14,
                                 linewidth=1.5, color=colour,
                                 linestyle=(0, (4, 3)) if dashed else "-"))


def draw_blocks(n_layers: int = 3, activations: Sequence[str] | None = None,
                loss: str = r"$\mathcal{L}$", title: str | None = None, ax=None):
    """Draw ``n_layers`` blocks chained forward (top) and backward (bottom); returns the Figure.

    ``activations`` names g for each layer (default ``g^{[l]}``); ``loss`` labels the box at the
    right, where the forward pass ends and the backward pass begins.
    """
    if isinstance(n_layers, bool) or not isinstance(n_layers, int) or not 1 <= n_layers <= 6:
        raise ValueError(f"n_layers must be an integer from 1 to 6, got {n_layers!r}")
    if activations is None:
        activations = [rf"g^{{[{k}]}}" for k in range(1, n_layers + 1)]
    if len(activations) != n_layers:
        raise ValueError(f"activations has {len(activations)} entries, expected {n_layers}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(2.0 + 3.3 * n_layers, 5.0))
    else:
        fig = ax.figure

    xs = [_STEP * k for k in range(1, n_layers + 1)]
    x_loss = xs[-1] + _STEP
    half = _W / 2
    for k, (x, g) in enumerate(zip(xs, activations), start=1):
        # forward block and the activation flowing into it
        _box(ax, x, _Y_FWD, f"layer {k}\n$z^{{[{k}]}} = W^{{[{k}]}}a^{{[{k - 1}]}} + b^{{[{k}]}}$"
             f"\n$a^{{[{k}]}} = {g}(z^{{[{k}]}})$",
             FORWARD_COLOUR, "#eaf1f8")
        _arrow(ax, (x - _STEP + half + (0.0 if k > 1 else -0.9), _Y_FWD), (x - half, _Y_FWD),
               FORWARD_COLOUR)
        ax.text(x - _STEP / 2 - (0.45 if k == 1 else 0.0), _Y_FWD + 0.18,
                "$a^{[0]} = x$" if k == 1 else f"$a^{{[{k - 1}]}}$", ha="center", va="bottom",
                fontsize=11, color=FORWARD_COLOUR)
        # the cache that the forward block leaves for its backward twin
        _arrow(ax, (x, _Y_FWD - _H / 2 - 0.05), (x, _Y_BWD + _H / 2 + 0.05), CACHE_COLOUR,
               dashed=True)
        ax.text(x + 0.1, (_Y_FWD + _Y_BWD) / 2, f"cache\n$a^{{[{k - 1}]}}, z^{{[{k}]}}$"
                f"\n$W^{{[{k}]}}$", ha="left", va="center", fontsize=9, color=CACHE_COLOUR)
        # backward block: da^[k] in from the right, da^[k-1] out to the left, dW, db down
        _box(ax, x, _Y_BWD, f"layer {k} backward\n$dz^{{[{k}]}} = da^{{[{k}]}} \\odot {g}'$",
             GRAD_COLOUR, "#fbeceb")
        _arrow(ax, (x - half, _Y_BWD), (x - _STEP + half + (0.0 if k > 1 else -0.9), _Y_BWD),
               GRAD_COLOUR)
        ax.text(x - _STEP / 2, _Y_BWD - 0.2, f"$da^{{[{k - 1}]}}$", ha="center", va="top",
                fontsize=11, color=GRAD_COLOUR)
        _arrow(ax, (x, _Y_BWD - _H / 2 - 0.05), (x, _Y_BWD - _H / 2 - 0.75), GRAD_COLOUR)
        ax.text(x, _Y_BWD - _H / 2 - 0.85, f"$dW^{{[{k}]}}, db^{{[{k}]}}$", ha="center",
                va="top", fontsize=10, color=GRAD_COLOUR)
    ax.text(xs[0] - _STEP - 0.35, _Y_BWD, "(unused)", ha="right", va="center", fontsize=9,
            color=CACHE_COLOUR)

    # the loss: forward ends, backward starts
    L = n_layers
    _box(ax, x_loss, (_Y_FWD + _Y_BWD) / 2, f"loss\n{loss}", "black", "#f4f4f4", w=1.2)
    _arrow(ax, (xs[-1] + half, _Y_FWD), (x_loss - 0.3, (_Y_FWD + _Y_BWD) / 2 + _H / 2 + 0.02),
           FORWARD_COLOUR)
    ax.text((xs[-1] + x_loss) / 2, _Y_FWD + 0.18, f"$a^{{[{L}]}}$", ha="center", va="bottom",
            fontsize=11, color=FORWARD_COLOUR)
    _arrow(ax, (x_loss - 0.3, (_Y_FWD + _Y_BWD) / 2 - _H / 2 - 0.02), (xs[-1] + half, _Y_BWD),
           GRAD_COLOUR)
    ax.text((xs[-1] + x_loss) / 2, _Y_BWD - 0.2, f"$da^{{[{L}]}}$", ha="center", va="top",
            fontsize=11, color=GRAD_COLOUR)

    ax.text(xs[0] - _STEP - 0.9, _Y_FWD + 0.85, "forward →", fontsize=10, color=FORWARD_COLOUR)
    ax.text(xs[0] - _STEP - 0.9, _Y_BWD - 1.9, "← backward", fontsize=10, color=GRAD_COLOUR)
    ax.set_xlim(xs[0] - _STEP - 1.3, x_loss + 0.8)
    ax.set_ylim(_Y_BWD - 2.1, _Y_FWD + 1.1)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
