"""One epoch of MNIST: bpcore's MLP against a plain numpy loop, scikit-learn and PyTorch.

Run from the repository root (MNIST must be in the cache: ``bpcore data mnist``)::

    .venv/bin/python benchmarks/bench_mnist.py                 # 1 thread, batch 32 and 128
    .venv/bin/python benchmarks/bench_mnist.py --threads 2 --repeats 5 --float32

The network of the seed post, [784, 64, 10] (ReLU hidden layer, softmax-with-loss), trained with
plain SGD (lr 0.1, no momentum) for one epoch over MNIST's 60,000 training images, then tested
on its 10,000 test images, at batch sizes 32 and 128, in float64, four ways:

* the plain numpy loop of ``bench_training.py`` (``plain_init``/``plain_step``: no classes);
* bpcore: ``MLP`` + ``SGD``, the data checked once by ``model.check_data``, then
  ``model.loss(xb, yb, check=False)`` and ``opt.step(model.params, model.backward())`` per batch
  of ``bpcore.nn.data.minibatches``, as ``bpcore.nn.train.fit`` does;
* scikit-learn's ``MLPClassifier`` (``solver="sgd"``, ``momentum=0``, ``max_iter=1``, same batch
  size; its own initialisation and shuffling, its ConvergenceWarning for stopping after one
  epoch silenced); it wants examples as rows, and gets a C-contiguous copy;
* PyTorch on the CPU (``torch.set_num_threads``), float64, from the same initial weights and in
  the same batch order as bpcore and the plain loop (``torch_runner`` of bench_training.py).

Each row's time is the median over ``--repeats`` fresh one-epoch trainings. The plain loop and
bpcore run alternately (which goes first alternates too), so a burst of load from elsewhere hits
both; scikit-learn and PyTorch run on their own, PyTorch last (its OpenMP threads keep spinning
after each operation and would slow down whichever row ran next). ``--float32`` adds float32
rows for the plain loop and bpcore.

The default is one BLAS thread: at these sizes (a 64 x 784 weight matrix times 32 or 128
columns) a second thread on a shared 2-core machine costs more than it brings.

Before numpy is imported, OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from this process's
environment if they are set, as in bench_training.py; the BLAS in use is printed.
"""

from __future__ import annotations

import os

_REMOVED_ENV = {k: os.environ.pop(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
                if k in os.environ}

import argparse  # noqa: E402  (after the environment is cleaned, before numpy loads)
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))  # the plain loop lives in bench_training.py
from bench_training import (  # noqa: E402
    blas_description,
    bpcore_runner,
    paired_ratio,
    plain_init,
    plain_runner,
    time_interleaved,
    torch,
    torch_runner,
)

from bpcore.nn.mnist import load_mnist, mnist_cache_dir, mnist_in_cache  # noqa: E402

SIZES = [784, 64, 10]


def bench_numpy_rows(data, batch, lr, seed, repeats, dtype):
    """Times of one epoch for the plain loop and bpcore, alternating, their accuracies, and the
    largest weight difference between them after the epoch."""
    times = {"plain": [], "bpcore": []}
    for r in range(repeats):
        run_plain, acc_plain, params = plain_runner(SIZES, data, batch, lr, seed, dtype)
        run_bp, acc_bp, model = bpcore_runner(SIZES, data, batch, lr, seed, dtype)
        if r % 2 == 0:
            t_plain, t_bp = time_interleaved(1, run_plain, run_bp)
        else:
            t_bp, t_plain = time_interleaved(1, run_bp, run_plain)
        times["plain"] += t_plain
        times["bpcore"] += t_bp
    diff = max(float(np.abs(model.params[f"W{i + 1}"] - W).max())
               for i, (W, _) in enumerate(params))
    return times, acc_plain(), acc_bp(), diff


def bench_sklearn_epoch(data, batch, lr, seed, repeats):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    X, y, Xt, yt = data
    rows, rows_test = np.ascontiguousarray(X.T), np.ascontiguousarray(Xt.T)
    times, acc = [], 0.0
    for _ in range(repeats):
        clf = MLPClassifier(hidden_layer_sizes=(SIZES[1],), activation="relu", solver="sgd",
                            alpha=0.0, batch_size=batch, learning_rate="constant",
                            learning_rate_init=lr, momentum=0.0, nesterovs_momentum=False,
                            max_iter=1, shuffle=True, random_state=seed, tol=0.0,
                            early_stopping=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # one epoch: intended
            start = time.perf_counter()
            clf.fit(rows, y)
            times.append(time.perf_counter() - start)
        acc = float(clf.score(rows_test, yt))
    return times, acc


def bench_torch_epoch(data, batch, lr, seed, repeats):
    init = plain_init(SIZES, seed, np.float64)
    times, acc = [], None
    for _ in range(repeats):
        run, accuracy = torch_runner(SIZES, data, batch, lr, seed, init)
        times += time_interleaved(1, run)[0]
        acc = accuracy()
    return times, acc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS and torch threads (default 1)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="one-epoch trainings per row (default 3)")
    parser.add_argument("--batch", type=int, nargs="+", default=[32, 128],
                        help="batch sizes (default 32 128)")
    parser.add_argument("--lr", type=float, default=0.1, help="SGD learning rate (default 0.1)")
    parser.add_argument("--float32", action="store_true",
                        help="also float32 rows for the plain loop and bpcore")
    args = parser.parse_args(argv)
    if not mnist_in_cache():
        print(f"MNIST is not in the cache ({mnist_cache_dir()}): run `bpcore data mnist` first",
              file=sys.stderr)
        return 1

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; Python "
          f"{platform.python_version()}; numpy {np.__version__}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average before the run (1, 5, 15 min): {load} -- other processes share the "
          "cores; numbers taken under load are noisy")
    removed = ", ".join(f"{k}={v}" for k, v in _REMOVED_ENV.items()) or "none were set"
    print(f"removed from the environment before loading numpy: {removed}")
    import sklearn

    print(f"scikit-learn {sklearn.__version__}")
    seed = 0
    dtypes = [np.float64, np.float32] if args.float32 else [np.float64]
    data = {}
    for dtype in dtypes:
        X, y, _, _, Xt, yt = load_mnist(validation=0, dtype=dtype)
        data[dtype] = (X, y, Xt, yt)
    rows = []  # (implementation, batch, dtype, seconds, accuracy)
    notes = []
    with threadpool_limits(limits=args.threads):
        print(f"BLAS (threadpoolctl):\n  {blas_description()}")
        if torch is not None:
            torch.set_num_threads(args.threads)
            print(f"torch: {torch.__version__}, {torch.get_num_threads()} thread(s)")
        else:
            print("torch: not installed (its rows are skipped)")
        for batch in args.batch:
            for dtype in dtypes:
                name = np.dtype(dtype).name
                times, acc_plain, acc_bp, diff = bench_numpy_rows(data[dtype], batch, args.lr,
                                                                  seed, args.repeats, dtype)
                rows.append(("plain numpy loop", batch, name, times["plain"], acc_plain))
                rows.append(("bpcore MLP + SGD", batch, name, times["bpcore"], acc_bp))
                ratio = paired_ratio(times["bpcore"], times["plain"])
                notes.append(f"batch {batch}, {name}: bpcore / plain loop = {ratio:.2f} (median "
                             f"of the ratios of back-to-back epochs); weights equal to within "
                             f"{diff:.1e} after the epoch")
            t, acc = bench_sklearn_epoch(data[np.float64], batch, args.lr, seed, args.repeats)
            rows.append(("scikit-learn MLPClassifier", batch, "float64", t, acc))
        if torch is not None:  # last: its threads would disturb the rows after it
            label = f"PyTorch {torch.__version__} (CPU, {args.threads} thread(s))"
            for batch in args.batch:
                t, acc = bench_torch_epoch(data[np.float64], batch, args.lr, seed, args.repeats)
                rows.append((label, batch, "float64", t, acc))

    m = data[np.float64][0].shape[1]
    print(f"\n## MNIST: network {SIZES}, SGD lr {args.lr:g}, one epoch over {m:,} training "
          f"images, tested on {data[np.float64][2].shape[1]:,}; {args.threads} thread(s); "
          f"median of {args.repeats} one-epoch runs\n")
    print("| implementation | batch | dtype | s/epoch | ratio to plain loop | test accuracy |")
    print("|---|---:|---|---:|---:|---:|")
    base = {(b, d): statistics.median(t) for name, b, d, t, _ in rows
            if name == "plain numpy loop"}
    for batch in args.batch:
        for name, b, d, t, acc in rows:
            if b != batch:
                continue
            sec = statistics.median(t)
            ref = base.get((b, d), base[(b, "float64")])
            print(f"| {name} | {b} | {d} | {sec:.2f} | {sec / ref:.2f}x | {acc:.2%} |")
    print()
    for note in notes:
        print(note)
    print("(ratios of float32 rows are to the float32 plain loop; scikit-learn initialises with "
          "Glorot-uniform and shuffles its own way, so its accuracy differs; PyTorch starts from "
          "the same weights and batch order as bpcore.)")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nload average after the run (1, 5, 15 min): {load}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
