"""The witnesses: ways of computing a gradient that are independent of backprop, and the checks
that set them side by side.

* :mod:`.report` — :class:`~.report.Report`, the one report type (per input: the error, the
  verdict, the worst entry), and the relative error;
* :mod:`.gradcheck` — central finite differences in float64;
* :mod:`.derivation` — SymPy derivations shown step by step, as the chapters show them;
* :mod:`.symbolic` — SymPy's exact gradient against backprop and finite differences;
* :mod:`.proofs` — each node's backward proved for symbolic sizes;
* :mod:`.suite` — every node through all of them (``bpcore verify``);
* :mod:`.check` — :func:`~bpcore.witnesses.check.check`, the same witnesses on a reader's own code,
  with a diagnosis.
"""

from .check import check, diagnose
from .derivation import Derivation, backward_derivation, derive, equal, latex, symbols_like
from .gradcheck import gradcheck, network_gradcheck, numerical_gradient
from .report import Comparison, Report, bucket, rel_error, verdict
from .symbolic import verify, verify_node

__all__ = [
    "Comparison", "Derivation", "Report", "backward_derivation", "bucket", "check", "derive",
    "diagnose", "equal",
    "gradcheck", "latex", "network_gradcheck", "numerical_gradient", "rel_error",
    "symbols_like", "verdict", "verify", "verify_node",
]
