"""pytest configuration for the whole repository (tests/ and the nbval run over book/).

nbval 0.11 runs every cell with ``store_history=False``. IPython decides whether a trailing
``;`` silences a cell's result by looking at the last cell *in the history*, so under nbval
``ax.plot(...);`` still produces an ``Out[...]`` (``[<matplotlib.lines.Line2D ...>]``) that
the stored notebook, run by nbclient and jupyter-book with history, does not have, and nbval
reports "dissimilar number of outputs". Run cells with history, as a notebook does.
"""

from __future__ import annotations

try:
    from nbval.kernel import RunningKernel
except ImportError:  # nbval not installed: nothing to adjust
    RunningKernel = None


if RunningKernel is not None:

    def _execute_cell_input(self, cell_input, allow_stdin=None):
        return self.kc.execute(
            cell_input,
            store_history=True,
            allow_stdin=allow_stdin,
            stop_on_error=False,
        )

    RunningKernel.execute_cell_input = _execute_cell_input
