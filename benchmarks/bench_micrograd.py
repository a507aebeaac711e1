"""bpcore's scalar engine against micrograd (Karpathy, 2020): build + backward, in one run.

micrograd is the reference for a readable scalar autograd engine; bpcore's Value graph should be
at least as readable and not slower. This script times, for graphs of about 10^3, 10^4 and
10^5 operation nodes, building the graph (leaves included) and running ``backward()``, in both
engines, and prints the medians and their ratio.

The graphs are *wide and shallow*: ``sum_i x_i * y_i`` with the sum built as a balanced binary
tree of additions, so the depth is only about log2(n). micrograd's ``backward`` sorts the graph
with a *recursive* depth-first search and fails with ``RecursionError`` on deep graphs; the
second table shows that on a chain 10^5 deep, which bpcore differentiates (its topological
order is iterative).

micrograd is not a dependency of the book. Install it for this benchmark only::

    .venv/bin/pip install micrograd==0.1.0

Run::

    .venv/bin/python benchmarks/bench_micrograd.py [--repeats 7] [--sizes 1000 100000]

Measured here (2026-11-24, 2 shared cores, Python 3.11, micrograd 0.1.0), micrograd / bpcore
total CPU time: 1.5-2.2x at 10^3 nodes, 3.9-4.8x at 10^4, 2.1-2.5x at 10^5 over several runs
(goal: >= 2x at 10^5). Before the scalar fast path in ``bpcore/value.py`` (generic ``apply``
for every operator, ``as_float_array`` for every float leaf, a topological sort over all
values including leaves) the same script read 0.25x, 0.49x and 0.63x (bpcore 1.73 s at 10^5,
now 0.45-0.6 s; the deep chain 1.9 s, now about 0.45 s). At 10^5 nodes most
of the remaining build time of both engines is Python's cyclic garbage collector (full
collections over the growing graph: about 0.2 s of bpcore's 0.36 s build, 0.7 s of
micrograd's 1.0 s); bpcore allocates three tracked objects per operation (the Value, its node,
the parents tuple), micrograd about six (Value, set, closure and its cells). On the chain
10^5 deep micrograd raises RecursionError.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial

import numpy as np

from bpcore import Value


def tree_sum(values: list):
    """Sum a list of graph values pairwise, so the addition tree has depth ~log2(len)."""
    while len(values) > 1:
        nxt = [values[i] + values[i + 1] for i in range(0, len(values) - 1, 2)]
        if len(values) % 2:
            nxt.append(values[-1])
        values = nxt
    return values[0]


def wide_graph(value_cls: type, xs: list[float], ys: list[float]):
    """Leaves x_i, y_i; n products and n-1 additions: 2n-1 operation nodes."""
    px = [value_cls(x) for x in xs]
    py = [value_cls(y) for y in ys]
    out = tree_sum([a * b for a, b in zip(px, py)])
    return out, px, py


def wide_root(value_cls: type, xs: list[float], ys: list[float]):
    return wide_graph(value_cls, xs, ys)[0]


def chain(value_cls: type, depth: int):
    """x, then ``depth`` multiplications by a constant: a path graph ``depth`` deep."""
    x = value_cls(1.0)
    v = x
    for _ in range(depth):
        v = v * 1.0000001
    return v, x


def time_once(build: Callable[[], object]) -> tuple[float, float]:
    """CPU seconds of building one graph and of its ``backward()``, timed separately.

    CPU time (``process_time``) rather than wall time: the machine is shared, and the ratio
    between the engines is what matters. Garbage is collected before the run so that neither
    engine pays for the other's leftovers (micrograd's closures form reference cycles).
    """
    gc.collect()
    t0 = time.process_time()
    out = build()
    t1 = time.process_time()
    out.backward()
    t2 = time.process_time()
    return t1 - t0, t2 - t1


def time_build_backward(build: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median build and backward times over ``repeats`` runs."""
    runs = [time_once(build) for _ in range(repeats)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def compare(build_b: Callable[[], object], build_m: Callable[[], object], repeats: int):
    """Run the two engines alternately, so that a burst of load hits both alike.

    Returns the median (build, backward) of each and the median of the per-pair ratios
    micrograd total / bpcore total.
    """
    runs_b, runs_m, ratios = [], [], []
    for _ in range(repeats):
        rb, rm = time_once(build_b), time_once(build_m)
        runs_b.append(rb)
        runs_m.append(rm)
        ratios.append(sum(rm) / sum(rb))

    def med(runs):
        return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)

    return med(runs_b), med(runs_m), statistics.median(ratios)


def check_same_gradients(mg_value: type, xs: list[float], ys: list[float]) -> None:
    """Both engines must agree before their speed means anything: d(sum x*y)/dx = y."""
    out_b, bx, _ = wide_graph(Value, xs, ys)
    out_b.backward()
    out_m, mx, _ = wide_graph(mg_value, xs, ys)
    out_m.backward()
    gb = np.array([v.grad for v in bx])
    gm = np.array([v.grad for v in mx])
    if not (np.allclose(gb, ys, rtol=1e-12, atol=0) and np.allclose(gm, ys, rtol=1e-12, atol=0)):
        raise SystemExit("gradients disagree: the benchmark would compare different work")
    if abs(out_b.data - out_m.data) > 1e-9 * max(1.0, abs(out_b.data)):
        raise SystemExit("forward values disagree")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per cell (median)")
    parser.add_argument("--sizes", type=int, nargs="*", default=[10**3, 10**4, 10**5],
                        help="approximate numbers of operation nodes")
    args = parser.parse_args(argv)
    try:
        from micrograd.engine import Value as MGValue
    except ImportError:
        print("micrograd is not installed; this benchmark needs it (not a book dependency):\n"
              "    .venv/bin/pip install micrograd==0.1.0")
        return 0

    print(f"load average before: {os.getloadavg()[0]:.2f}")
    rng = np.random.default_rng(0)
    ratios = {}
    print(f"Build + backward of sum_i x_i*y_i (pairwise addition tree); median CPU seconds "
          f"of {args.repeats} runs per engine, run alternately; the ratio is the median of the "
          f"per-pair ratios")
    head = (f"{'op nodes':>9} | {'bpcore build':>12} {'backward':>9} {'total':>8} | "
            f"{'micrograd build':>15} {'backward':>9} {'total':>8} | {'micrograd/bpcore':>16}")
    print(head)
    print("-" * len(head))
    for size in args.sizes:
        n = (size + 1) // 2
        xs = [float(v) for v in rng.normal(size=n)]
        ys = [float(v) for v in rng.normal(size=n)]
        check_same_gradients(MGValue, xs, ys)
        (b_build, b_back), (m_build, m_back), ratio = compare(
            partial(wide_root, Value, xs, ys), partial(wide_root, MGValue, xs, ys), args.repeats)
        ratios[2 * n - 1] = ratio
        print(f"{2 * n - 1:>9} | {b_build:>12.4f} {b_back:>9.4f} {b_build + b_back:>8.4f} | "
              f"{m_build:>15.4f} {m_back:>9.4f} {m_build + m_back:>8.4f} | {ratio:>15.2f}x")

    if ratios:
        size = max(ratios)
        verdict = "MET" if ratios[size] >= 2.0 else "NOT MET"
        print(f"goal: bpcore at least 2x faster than micrograd at {size} nodes -> "
              f"{ratios[size]:.2f}x: {verdict}")

    depth = 10**5
    print(f"\nA chain {depth} deep (x * c * c * ... * c): build + backward")
    limit = sys.getrecursionlimit()

    def deep_b():
        out, x = chain(Value, depth)
        out.backward()
        expected = 1.0000001**depth
        if abs(x.grad - expected) > 1e-9 * expected:
            raise SystemExit(f"bpcore chain gradient {x.grad} != {expected}")
        return out

    build, back = time_build_backward(lambda: chain(Value, depth)[0], args.repeats)
    deep_b()
    print(f"  bpcore:    build {build:.4f} s + backward {back:.4f} s (CPU), gradient correct")
    out_m, _ = chain(MGValue, depth)
    try:
        out_m.backward()
        print("  micrograd: finished (unexpected)")
    except RecursionError:
        print(f"  micrograd: RecursionError (recursive topological sort; recursion limit {limit})")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
