"""Figures for the book, legible at its column width: computation graphs with values and
gradients on their edges, chapter 5's chained layer blocks, and a check of any figure as the
reader sees it. Imported on its own (``from bpcore.figures import draw_graph``): it needs
matplotlib, which the rest of bpcore does not import.
"""

from .blocks import draw_blocks
from .graph import draw_graph
from .legibility import COLUMN_PX, MIN_TEXT_PX, Legibility, assert_legible, legibility

__all__ = ["COLUMN_PX", "MIN_TEXT_PX", "Legibility", "assert_legible", "draw_blocks",
           "draw_graph", "legibility"]
