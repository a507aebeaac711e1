"""What batch norm and dropout cost: time per training step, against the same network without.

One training step = forward, loss, backward and an SGD update on a minibatch of the digits
(float64, 2 BLAS threads by default). The rows are timed in interleaved rounds, so that a
change in the machine's load affects every row alike, and the table reports the median step
time and its ratio to the plain network of the same shape. Nothing here is a test.

    .venv/bin/python benchmarks/bench_layers.py [--steps 2000] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

import bpcore as bp
from bpcore.nn.data import load_digits_split


def step_timer(net, X, y, batch: int, steps: int, rng):
    opt = bp.SGD(0.05)
    starts = rng.integers(0, X.shape[1] - batch, size=steps)

    def run(k: int) -> float:
        s = starts[k]
        xb, yb = X[:, s:s + batch], y[s:s + batch]
        t0 = time.perf_counter()
        net.loss(xb, yb)
        opt.step(net.params, net.backward())
        return time.perf_counter() - t0

    return run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="timed steps per row")
    parser.add_argument("--threads", type=int, default=2, help="BLAS threads")
    parser.add_argument("--batch", type=int, default=32, help="minibatch size")
    args = parser.parse_args(argv)
    X, y, _, _ = load_digits_split(seed=0)
    configs = {
        "[64, 64, 10] relu": dict(sizes=[64, 64, 10]),
        "  + batch norm": dict(sizes=[64, 64, 10], batchnorm=True),
        "  + dropout p = 0.5": dict(sizes=[64, 64, 10], dropout=0.5),
        "11 layers sigmoid": dict(sizes=[64] + [32] * 10 + [10], activation="sigmoid",
                                  init="xavier"),
        "  + batch norm ": dict(sizes=[64] + [32] * 10 + [10], activation="sigmoid",
                                init="xavier", batchnorm=True),
        "  + dropout p = 0.8": dict(sizes=[64] + [32] * 10 + [10], activation="sigmoid",
                                    init="xavier", dropout=0.8),
    }
    rng = np.random.default_rng(0)
    print(f"load average before: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    with threadpool_limits(limits=args.threads):
        timers = {name: step_timer(bp.MLP(**kw), X, y, args.batch, args.steps, rng)
                  for name, kw in configs.items()}
        times = {name: [] for name in configs}
        for k in range(args.steps):  # interleaved: one step of every row per round
            for name, run in timers.items():
                times[name].append(run(k))
    print(f"\nTime per training step, batch {args.batch}, float64, {args.threads} thread(s), "
          f"median of {args.steps} steps\n")
    print("| network | µs per step | vs. without |")
    print("|---|---:|---:|")
    base = None
    for name in configs:
        med = statistics.median(times[name]) * 1e6
        if not name.startswith("  "):
            base = med
        print(f"| {name.strip()} | {med:.1f} | {med / base:.2f}x |")
    print(f"\nload average after: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
