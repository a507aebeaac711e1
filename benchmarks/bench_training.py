"""Training speed: bpcore's MLP against a plain numpy loop, scikit-learn and PyTorch.

Run from the repository root::

    .venv/bin/python benchmarks/bench_training.py            # 2 BLAS threads (default)
    .venv/bin/python benchmarks/bench_training.py --threads 1 --digits-epochs 10 --quick

Part 1, the digits: the network [64, 64, 10] (ReLU, softmax-with-loss), plain SGD, batch 32,
trained on scikit-learn's digits in four ways with the same data, epochs, batch size, dtype
(float64) and thread count: bpcore's MLP, a plain numpy loop with no classes (same
initial weights, same minibatch order), scikit-learn's MLPClassifier and, if installed,
PyTorch on the CPU. Prints the median time per epoch, the ratio to the plain loop, and the
test accuracy.

Part 2, a larger network: 784-256-256-10, batch 256, synthetic data, float32 and float64.
Prints the training-step rate in GFLOP/s of bpcore and of the plain loop, and numpy's rate on
the matrix products alone at the same sizes.

FLOPs counted per training step (m = batch size): every layer's forward product W a_prev costs
2 n_out n_in m; backward costs twice that (dW = dz a_prev^T and da_prev = W^T dz), except that
the first layer needs no da_prev (the input is data, not a parameter). So a step is
3 x sum over layers of 2 n_out n_in m, minus 2 n_1 n_0 m — the products training needs, and
the same count for every row, so rates compare times directly. Elementwise work (ReLU,
softmax, updates) is not counted.

Before numpy is imported, OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from this
process's environment if they are set (they pin OpenBLAS to an old kernel on some machines
here); the BLAS in use is printed via threadpoolctl.
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

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

from bpcore.nn.data import load_digits_split, minibatches  # noqa: E402
from bpcore.nn.network import MLP  # noqa: E402
from bpcore.nn.optim import SGD  # noqa: E402

try:
    import torch
except ImportError:  # the torch row is optional
    torch = None


# -- the plain loop: no classes, just arrays -------------------------------------------------

def plain_init(sizes: list[int], seed: int, dtype) -> list[list[np.ndarray]]:
    """He-normal weights drawn layer by layer from default_rng(seed), zero biases."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        W = rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_out, n_in)).astype(dtype)
        params.append([W, np.zeros((n_out, 1), dtype=dtype)])
    return params


def plain_step(params: list[list[np.ndarray]], a: np.ndarray, t: np.ndarray,
               lr: float) -> float:
    """One SGD step on a batch (columns of a, labels t) of a ReLU network with a
    softmax-with-loss output; returns the summed (not mean) loss of the batch."""
    L = len(params)
    m = a.shape[1]
    cols = np.arange(m)
    # forward: z = W a_prev + b; a = relu(z), softmax at the end
    acts, zs = [a], []
    for i, (W, b) in enumerate(params):
        z = W @ a + b
        zs.append(z)
        a = np.maximum(z, 0) if i < L - 1 else z
        acts.append(a)
    z = zs[-1]
    z = z - z.max(axis=0)
    e = np.exp(z)
    s = e.sum(axis=0)
    loss = float(np.log(s).sum() - z[t, cols].sum())  # sum of -log softmax at labels
    # backward: dL/dz = (y - t)/m for the mean loss
    dz = e / s
    dz[t, cols] -= 1
    dz /= m
    for i in range(L - 1, -1, -1):
        W, b = params[i]
        dW = dz @ acts[i].T
        db = dz.sum(axis=1, keepdims=True)
        if i > 0:
            dz = (W.T @ dz) * (zs[i - 1] > 0)
        W -= lr * dW
        b -= lr * db
    return loss


def plain_epoch(params: list[list[np.ndarray]], X: np.ndarray, y: np.ndarray,
                batch_size: int, lr: float, rng: np.random.Generator) -> float:
    """One epoch of minibatch SGD: shuffle the columns, then one plain_step per batch."""
    m_all = X.shape[1]
    order = rng.permutation(m_all)
    total = 0.0
    for start in range(0, m_all, batch_size):
        idx = order[start:start + batch_size]
        total += plain_step(params, X[:, idx], y[idx], lr)
    return total / m_all


def plain_accuracy(params, X, y) -> float:
    a = X
    for i, (W, b) in enumerate(params):
        z = W @ a + b
        a = np.maximum(z, 0) if i < len(params) - 1 else z
    return float((a.argmax(axis=0) == y).mean())


# -- the four implementations on the digits --------------------------------------------------

def bpcore_runner(sizes, data, batch_size, lr, seed, dtype=np.float64):
    """(run one epoch, test accuracy, model) for bpcore's MLP + SGD."""
    X, y, Xt, yt = data
    model = MLP(sizes, activation="relu", output="softmax", loss="softmax_ce", init="he",
                seed=seed, dtype=dtype)
    opt = SGD(lr)
    rng = np.random.default_rng(seed)
    X, y = model.check_data(X, y)  # once for the whole set, as fit does

    def epoch():
        for xb, yb in minibatches(X, y, batch_size, rng):
            model.loss(xb, yb, check=False)  # fit's path: the data was checked once
            opt.step(model.params, model.backward())

    return epoch, lambda: model.accuracy(Xt, yt), model


def plain_runner(sizes, data, batch_size, lr, seed, dtype=np.float64):
    """(run one epoch, test accuracy, params) for the plain loop."""
    X, y, Xt, yt = data
    params = plain_init(sizes, seed, dtype)
    rng = np.random.default_rng(seed)
    return (lambda: plain_epoch(params, X, y, batch_size, lr, rng),
            lambda: plain_accuracy(params, Xt, yt), params)


def paired_ratio(a: list[float], b: list[float]) -> float:
    """Median of a[k]/b[k] over runs k that ran back to back: robust to slow drifts in load."""
    return statistics.median(x / y for x, y in zip(a, b))


def time_interleaved(epochs: int, *runners) -> list[list[float]]:
    """Run the epochs of several trainers alternately, timing each epoch.

    Alternating epoch by epoch means a burst of load from elsewhere on the machine hits all
    rows alike, instead of whichever row happened to run during it.
    """
    times: list[list[float]] = [[] for _ in runners]
    for _ in range(epochs):
        for run, out in zip(runners, times):
            start = time.perf_counter()
            run()
            out.append(time.perf_counter() - start)
    return times


def bench_sklearn(sizes, data, epochs, batch_size, lr, seed, repeats):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    X, y, Xt, yt = data
    per_epoch, acc = [], 0.0
    for _ in range(repeats):
        clf = MLPClassifier(hidden_layer_sizes=tuple(sizes[1:-1]), activation="relu",
                            solver="sgd", alpha=0.0, batch_size=batch_size,
                            learning_rate="constant", learning_rate_init=lr, momentum=0.0,
                            nesterovs_momentum=False, max_iter=epochs, shuffle=True,
                            random_state=seed, tol=0.0, n_iter_no_change=epochs + 1,
                            early_stopping=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter reached: intended
            start = time.perf_counter()
            clf.fit(X.T, y)  # scikit-learn wants examples as rows
            per_epoch.append((time.perf_counter() - start) / epochs)
        acc = float(clf.score(Xt.T, yt))
    return per_epoch, acc


def torch_runner(sizes, data, batch_size, lr, seed, init_params):
    """(run one epoch, test accuracy) for PyTorch, same weights and batch order as the others."""
    X, y, Xt, yt = data
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(n_in, n_out, dtype=torch.float64))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers)
    linears = [layer for layer in net if isinstance(layer, torch.nn.Linear)]
    with torch.no_grad():  # torch's weight is (n_out, n_in) too
        for lin, (W, b) in zip(linears, init_params):
            lin.weight.copy_(torch.from_numpy(W))
            lin.bias.copy_(torch.from_numpy(b.ravel()))
    Xr = torch.from_numpy(np.ascontiguousarray(X.T))  # rows are examples in torch
    yr = torch.from_numpy(y)
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)

    def epoch():
        order = torch.from_numpy(rng.permutation(X.shape[1]))
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(Xr[idx]), yr[idx])
            loss.backward()
            opt.step()

    def accuracy():
        with torch.no_grad():
            pred = net(torch.from_numpy(np.ascontiguousarray(Xt.T))).argmax(dim=1).numpy()
        return float((pred == yt).mean())

    return epoch, accuracy


# -- part 2: larger network, GFLOP/s ---------------------------------------------------------

def step_flops(sizes: list[int], m: int) -> float:
    forward = sum(2.0 * n_out * n_in * m for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    return 3.0 * forward - 2.0 * sizes[1] * sizes[0] * m  # no da_prev for the input layer


LARGE_SIZES, LARGE_BATCH = [784, 256, 256, 10], 256


def large_step_runners(dtype) -> tuple:
    """Three step functions (xb, yb) -> None: the matmuls alone, the plain loop, bpcore."""
    sizes, m = LARGE_SIZES, LARGE_BATCH
    rng = np.random.default_rng(1)
    params = plain_init(sizes, 0, dtype)
    model = MLP(sizes, activation="relu", output="softmax", loss="softmax_ce", init="he",
                seed=0, dtype=dtype)
    opt = SGD(0.01)
    Ws = [W.copy() for W, _ in params]
    acts = [rng.normal(size=(n, m)).astype(dtype) for n in sizes]

    def matmuls(xb, yb):
        for i, W in enumerate(Ws):
            W @ acts[i]  # forward
        for i in range(len(Ws) - 1, -1, -1):
            acts[i + 1] @ acts[i].T  # dW
            if i > 0:
                Ws[i].T @ acts[i + 1]  # da_prev (not needed for the input layer)

    def plain(xb, yb):
        plain_step(params, xb, yb, 0.01)

    def bpcore(xb, yb):
        model.loss(xb, yb, check=False)  # fit's path; the batches are checked in bench_large
        opt.step(model.params, model.backward())

    return (matmuls, plain, bpcore), model


def bench_large(steps: int, warmup: int = 3) -> list[tuple]:
    """Per-step times of the matmuls alone, the plain loop and bpcore, interleaved step by step.

    The batches are cut beforehand (the same ones for every row), so only the training step
    is timed: forward, backward and SGD update. Alternating the three rows step by step
    spreads bursts of load from other processes over all of them.
    """
    sizes, m = LARGE_SIZES, LARGE_BATCH
    flops = step_flops(sizes, m)
    rows = []
    for dtype in (np.float32, np.float64):
        rng = np.random.default_rng(0)
        batches = [(rng.random((sizes[0], m)).astype(dtype), rng.integers(0, sizes[-1], size=m))
                   for _ in range(8)]
        runners, model = large_step_runners(dtype)
        for xb, yb in batches:  # checked once, as fit checks its data; the steps trust them
            model.check_data(xb, yb)
        times: list[list[float]] = [[] for _ in runners]
        for k in range(warmup + steps):
            xb, yb = batches[k % len(batches)]
            for run, out in zip(runners, times):
                start = time.perf_counter()
                run(xb, yb)
                out.append(time.perf_counter() - start)
        times = [t[warmup:] for t in times]
        dtypes = ",".join(sorted({str(w.dtype) for w in model.params.values()}))
        rows.append((np.dtype(dtype).name, flops, [statistics.median(t) for t in times],
                     [min(t) for t in times], dtypes,
                     paired_ratio(times[1], times[2]), paired_ratio(times[0], times[2])))
    return rows


# -- reporting -------------------------------------------------------------------------------

def blas_description() -> str:
    lines = []
    for info in threadpool_info():
        lines.append(f"{info.get('internal_api')} {info.get('version')} "
                     f"({info.get('user_api')}, {info.get('num_threads')} threads, "
                     f"arch {info.get('architecture', '?')}) {info.get('filepath')}")
    return "\n  ".join(lines) or "none found"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="BLAS/torch threads (default 2)")
    parser.add_argument("--digits-epochs", type=int, default=30,
                        help="epochs per digits run (default 30)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats per row (default 3)")
    parser.add_argument("--lr", type=float, default=0.1, help="SGD learning rate (default 0.1)")
    parser.add_argument("--quick", action="store_true", help="smaller part 2 (for smoke runs)")
    parser.add_argument("--skip-large", action="store_true", help="skip part 2")
    args = parser.parse_args(argv)

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; Python "
          f"{platform.python_version()}; numpy {np.__version__}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average before the run (1, 5, 15 min): {load} -- other processes share the "
          "cores; numbers taken under load are noisy")
    removed = ", ".join(f"{k}={v}" for k, v in _REMOVED_ENV.items()) or "none were set"
    print(f"removed from the environment before loading numpy: {removed}")
    if torch is not None:
        torch.set_num_threads(args.threads)

    with threadpool_limits(limits=args.threads):
        print(f"BLAS (threadpoolctl):\n  {blas_description()}")
        if torch is not None:
            print(f"torch: {torch.__version__}, {torch.get_num_threads()} thread(s)")
        else:
            print("torch: not installed (its rows are skipped)")
        run_digits(args)
        if not args.skip_large:
            run_large(args)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nload average after the run (1, 5, 15 min): {load}")
    return 0


def run_digits(args) -> None:
    sizes, batch, seed, lr, E = [64, 64, 10], 32, 0, args.lr, args.digits_epochs
    data = load_digits_split(seed=seed)
    print(f"\n## Digits: network {sizes}, SGD lr {lr}, batch {batch}, {E} epochs, float64, "
          f"{args.threads} thread(s); {data[0].shape[1]} train / {data[2].shape[1]} test; "
          f"median time per epoch over {args.repeats} runs x {E} epochs")
    names = ["plain numpy loop", "bpcore MLP + SGD"]
    times: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(args.repeats):
        run_plain, acc_plain, plain_params = plain_runner(sizes, data, batch, lr, seed)
        run_bp, acc_bp, model = bpcore_runner(sizes, data, batch, lr, seed)
        t_plain, t_bp = time_interleaved(E, run_plain, run_bp)
        times[names[0]] += t_plain
        times[names[1]] += t_bp
    results = {names[0]: (statistics.median(times[names[0]]), acc_plain()),
               names[1]: (statistics.median(times[names[1]]), acc_bp())}
    # same network, same init, same batches: the weights must agree to rounding
    diff = max(float(np.abs(model.params[f"W{i + 1}"] - W).max())
               for i, (W, _) in enumerate(plain_params))
    t, acc = bench_sklearn(sizes, data, E, batch, lr, seed, args.repeats)
    results["scikit-learn MLPClassifier"] = (statistics.median(t), acc)
    # PyTorch runs on its own, not interleaved: its OpenMP threads keep spinning for a while
    # after each operation and would slow down whichever row ran next.
    if torch is not None:
        init = plain_init(sizes, seed, np.float64)
        thread_counts = [args.threads] if args.threads == 1 else [args.threads, 1]
        for n in thread_counts:
            torch.set_num_threads(n)
            with threadpool_limits(limits=n):
                t = []
                for _ in range(args.repeats):
                    run_torch, acc_torch = torch_runner(sizes, data, batch, lr, seed, init)
                    t += time_interleaved(E, run_torch)[0]
            label = "" if n == args.threads else "; for reference"
            results[f"PyTorch {torch.__version__} (CPU, {n} thread(s){label})"] = (
                statistics.median(t), acc_torch())
        torch.set_num_threads(args.threads)
    else:
        results["PyTorch (CPU)"] = (None, None)

    base = results["plain numpy loop"][0]
    print("\n| implementation | time/epoch (ms) | ratio to plain loop | test accuracy |")
    print("|---|---:|---:|---:|")
    for name, (sec, acc) in results.items():
        if sec is None:
            print(f"| {name} | not installed: row skipped | – | – |")
            continue
        print(f"| {name} | {1e3 * sec:.2f} | {sec / base:.2f}x | {acc:.2%} |")
    ratio = paired_ratio(times[names[1]], times[names[0]])
    print(f"\nbpcore and the plain loop end with weights equal to within {diff:.1e} "
          "(same init, same batches)")
    print(f"goal: bpcore within 1.2x of the plain loop on the digits -> {ratio:.2f}x "
          f"(median of the per-epoch ratios of back-to-back epochs): "
          f"{'MET' if ratio <= 1.2 else 'NOT MET'}")
    print("(scikit-learn initialises with Glorot-uniform and shuffles its own way, so its "
          "accuracy differs; PyTorch starts from the same weights and batch order as bpcore.)")


def run_large(args) -> None:
    steps = 20 if args.quick else 200
    rows = bench_large(steps)
    print(f"\n## Larger network: 784-256-256-10, batch 256, synthetic data, SGD, "
          f"{args.threads} thread(s); {steps} steps per row, interleaved")
    print("\nGFLOP/s from the median step time (best step in brackets); the ratios are "
          "medians of the per-step ratios of back-to-back steps:\n")
    print("| dtype | GFLOP/step | numpy matmuls only | plain loop | bpcore | "
          "bpcore / plain | bpcore / matmuls |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    verdicts = []
    for name, flops, med, best, dtypes, share, share_mm in rows:
        g = flops / 1e9
        rates = " | ".join(f"{g / t_med:.1f} ({g / t_best:.1f})" for t_med, t_best in zip(med,
                                                                                          best))
        print(f"| {name} | {g:.3f} | {rates} | {share:.0%} | {share_mm:.0%} |")
        if dtypes != name:
            print(f"  note: bpcore's parameters ended as {dtypes}, not {name}")
        verdicts.append(f"{name}: {share:.0%} {'MET' if share >= 0.95 else 'NOT MET'}")
    print(f"\ngoal: bpcore >= 95% of the plain loop's rate -> {'; '.join(verdicts)}")


if __name__ == "__main__":
    sys.exit(main())
