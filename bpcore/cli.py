"""Command line: ``bpcore train`` (or ``python -m bpcore train``).

Each subcommand is a pair of small functions: ``add_<name>_parser(subparsers)`` declares its
options, and ``run_<name>(args) -> int`` does the work and returns the exit code. To add a
subcommand, write such a pair and register it in :func:`build_parser`.
"""

from __future__ import annotations

import argparse
import math
import sys

from .checks import positive_int
from .nn.activations import ACTIVATIONS

#: Hidden-layer activations: every registered one but the identity (a linear network).
HIDDEN_ACTIVATIONS = sorted(name for name in ACTIVATIONS if name != "identity")

DEFAULT_HIDDEN = [64]
DEFAULT_EPOCHS = 30
DEFAULT_OPTIMIZER = "momentum"
#: Learning rate used when --lr is not given, per optimizer (each reaches >= 97% test
#: accuracy on the digits with the other defaults; chapter 6 compares them).
DEFAULT_LR = {"sgd": 0.1, "momentum": 0.05, "rmsprop": 1e-3, "adam": 1e-3}
DEFAULT_BATCH_SIZE = 32
DEFAULT_SEED = 0
#: The train/test split is fixed, whatever --seed says, so runs are comparable.
SPLIT_SEED = 0


# -- option types: argparse turns their ValueError/ArgumentTypeError into "argument --x: ..."

def positive_int_arg(text: str) -> int:
    """An integer >= 1 (epochs, batch size, hidden layer sizes, seeds)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return positive_int(value, "the value")


def keep_probability_arg(text: str) -> float:
    """A dropout keep probability in (0, 1] (the rule of :class:`bpcore.nn.dropout.Dropout`)."""
    from .nn.dropout import keep_probability

    try:
        return keep_probability(float(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive_float(text: str) -> float:
    """A finite number > 0 (learning rate)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


# -- train -------------------------------------------------------------------------------

def add_train_parser(subparsers: argparse._SubParsersAction) -> None:
    from .nn.optim import OPTIMIZERS

    p = subparsers.add_parser(
        "train",
        help="train an MLP on scikit-learn's handwritten digits and print the test accuracy",
        description="Train a [64, hidden..., 10] network (ReLU hidden layers, softmax-with-loss "
                    "output) on the 8x8 handwritten digits shipped with scikit-learn, then "
                    "print its accuracy on a fixed held-out test set.",
    )
    p.add_argument("--epochs", type=positive_int_arg, default=DEFAULT_EPOCHS,
                   help=f"passes over the training set (>= 1, default {DEFAULT_EPOCHS})")
    lr_defaults = ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR.items())
    p.add_argument("--lr", type=positive_float, default=None,
                   help=f"learning rate eta (> 0; default by optimizer: {lr_defaults})")
    p.add_argument("--optimizer", choices=list(OPTIMIZERS), default=DEFAULT_OPTIMIZER,
                   help=f"update rule (default {DEFAULT_OPTIMIZER})")
    p.add_argument("--hidden", type=positive_int_arg, nargs="+", default=DEFAULT_HIDDEN,
                   metavar="N", help="hidden layer sizes, e.g. --hidden 64 32 (default 64)")
    p.add_argument("--batch-size", type=positive_int_arg, default=DEFAULT_BATCH_SIZE,
                   help=f"examples per minibatch (>= 1, default {DEFAULT_BATCH_SIZE})")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED,
                   help=f"seed for the initial weights and the batch order (default "
                        f"{DEFAULT_SEED}); the train/test split is fixed")
    p.add_argument("--batchnorm", action="store_true",
                   help="batch normalisation before each hidden activation (chapter 7)")
    p.add_argument("--dropout", type=keep_probability_arg, default=None, metavar="P",
                   help="inverted dropout after each hidden activation, keeping each unit "
                        "with probability P in (0, 1] (chapter 7)")
    p.add_argument("--activation", choices=HIDDEN_ACTIVATIONS, default="relu",
                   help="hidden-layer activation (default relu)")
    p.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
    p.set_defaults(run=run_train)


def run_train(args: argparse.Namespace) -> int:
    from .nn.data import load_digits_split
    from .nn.network import MLP
    from .nn.optim import make_optimizer
    from .nn.train import fit

    X_train, y_train, X_test, y_test = load_digits_split(seed=SPLIT_SEED)
    sizes = [X_train.shape[0], *args.hidden, 10]
    init = "he" if args.activation == "relu" else "xavier"
    model = MLP(sizes, activation=args.activation, output="softmax", loss="softmax_ce",
                init=init, seed=args.seed, batchnorm=args.batchnorm, dropout=args.dropout)
    lr = DEFAULT_LR[args.optimizer] if args.lr is None else args.lr
    optimizer = make_optimizer(args.optimizer, lr)
    extras = "".join([", batch norm" if args.batchnorm else "",
                      f", dropout p = {args.dropout:g}" if args.dropout is not None else ""])
    print(f"network {sizes} ({args.activation}{extras}), {optimizer!r}, {args.epochs} epochs, "
          f"batch size "
          f"{args.batch_size}, seed {args.seed}; {X_train.shape[1]} training and "
          f"{X_test.shape[1]} test digits")
    history = fit(model, X_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                  optimizer=optimizer, seed=args.seed, progress=not args.no_progress)
    print(f"final training loss {history.loss[-1]:.4f}, "
          f"train accuracy {history.train_acc[-1]:.2%}")
    print(f"test accuracy: {model.eval().accuracy(X_test, y_test):.2%}")
    return 0


# -- verify (the suite itself lives in bpcore/verification.py) ----------------------------

def add_verify_parser(subparsers: argparse._SubParsersAction) -> None:
    from .witnesses.suite import DEFAULT_SEEDS

    p = subparsers.add_parser(
        "verify",
        help="check every node's backward against SymPy and finite differences",
        description="For every node in bpcore (and the network), compare the backprop gradient "
                    "with SymPy's derivative and central finite differences on several shapes "
                    "and seeds; print the table and exit 1 if any pair disagrees by more than "
                    "1e-7.",
    )
    p.add_argument("--json", action="store_true", help="print machine-readable results")
    p.add_argument("--seeds", type=positive_int_arg, default=DEFAULT_SEEDS,
                   help=f"random seeds per example (default {DEFAULT_SEEDS})")
    p.set_defaults(run=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    """Run the suite; exit code 0 if every row passed, 1 otherwise."""
    from .witnesses.suite import run_suite

    report = run_suite(seeds=args.seeds)
    print(report.to_json() if args.json else report.table())
    if not report.ok and not args.json:
        print("verification FAILED: " + ", ".join(r.name for r in report.failures),
              file=sys.stderr)
    return 0 if report.ok else 1


# -- the parser --------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    """The ``bpcore`` argument parser, one subcommand per ``add_<name>_parser``."""
    parser = argparse.ArgumentParser(
        prog="bpcore",
        description="bpcore: the small backprop library behind the book 'Backprop, verified'.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    add_train_parser(subparsers)
    add_verify_parser(subparsers)
    # more subcommands register here
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``bpcore`` and ``python -m bpcore``; returns the exit code.

    Bad options make argparse exit with code 2 and a message naming the option.
    """
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
