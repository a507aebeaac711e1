"""The training loop: minibatches, forward, backward, optimiser step, repeated for epochs.

Works with any model that has the Network interface: ``params`` (dict of arrays updated in place),
``loss(x, t) -> float`` (mean loss over the batch, caching what backward needs),
``backward() -> dict`` of gradients with the same keys, and ``accuracy(x, labels) -> float``.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from .. import checks
from ..checks import positive_int
from .data import row_batches
from .optim import Optimizer


class Trainable(Protocol):
    params: dict[str, np.ndarray]

    def loss(self, x: np.ndarray, t: np.ndarray) -> float: ...

    def backward(self) -> dict[str, np.ndarray]: ...

    def accuracy(self, x: np.ndarray, labels: np.ndarray) -> float: ...


@dataclass
class History:
    """What happened in each epoch.

    ``loss[e]`` is the mean training loss over the examples of epoch ``e`` (each batch's mean
    loss weighted by its size, measured as the batch was trained on); ``train_acc[e]`` and
    ``val_acc[e]`` are accuracies after epoch ``e`` on the training data and on the validation
    data (``val_acc`` is empty without validation data).
    """

    loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.loss)

    def __repr__(self) -> str:
        if not self.loss:
            return "History(0 epochs)"
        text = (f"History({self.epochs} epochs: loss {self.loss[0]:.4f} -> {self.loss[-1]:.4f}, "
                f"train accuracy {self.train_acc[-1]:.4f}")
        if self.val_acc:
            text += f", validation accuracy {self.val_acc[-1]:.4f}"
        return text + ")"


def fit(model: Trainable, X: np.ndarray, y: np.ndarray, epochs: int, batch_size: int,
        optimizer: Optimizer, seed: int = 0, X_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None, progress: bool = False) -> History:
    """Train ``model`` on columns of ``X`` with labels ``y`` by minibatch gradient descent.

    Each epoch shuffles the examples (``np.random.default_rng(seed)``, so a fixed seed fixes
    the batch order), and for each minibatch computes the loss, backpropagates, and lets
    ``optimizer`` update ``model.params`` in place. ``progress=True`` shows a tqdm bar on
    stderr. Raises ``FloatingPointError`` if the loss becomes non-finite (learning rate too
    large), naming the epoch.

    A model that needs several examples per batch in train mode (``model.min_batch``: 2 with batch
    norm, whose statistics over one example are meaningless) never gets a smaller batch: when the
    examples do not divide into batches and the last one would be too small, that last batch is
    skipped for this epoch, as ``drop_last`` does in other libraries (the shuffle puts those
    examples in other batches in other epochs).
    """
    epochs = positive_int(epochs, "epochs")
    batch_size = positive_int(batch_size, "batch_size")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a bpcore.nn.optim.Optimizer, got "
                        f"{type(optimizer).__name__}")
    if (X_val is None) != (y_val is None):
        raise ValueError("give both X_val and y_val, or neither")
    X, y = np.asarray(X), np.asarray(y)  # nested lists work too; minibatches slice arrays
    checks.examples_as_columns(X, y, "X", "y")
    if X_val is not None:
        X_val, y_val = np.asarray(X_val), np.asarray(y_val)
        checks.examples_as_columns(X_val, y_val, "X_val", "y_val")
    # A Network checks the whole data set once, then trains on the unchecked path (the same
    # numbers); any other model checks each batch itself.
    trusted = hasattr(model, "check_data")
    if trusted:
        X, y = model.check_data(X, y)
    min_batch = getattr(model, "min_batch", 1)
    if batch_size < min_batch:
        raise ValueError(f"batch_size = {batch_size}, but the model needs at least {min_batch} "
                         "examples per batch in train mode (batch norm needs 2)")
    rng = np.random.default_rng(seed)
    X_rows = np.ascontiguousarray(X.T)  # once: each batch then gathers whole rows (row_batches)
    history = History()
    if hasattr(model, "train"):
        model.train()  # batch statistics and dropout masks while training
    bar = _progress_bar(epochs, progress)
    try:
        for epoch in range(1, epochs + 1):
            total, count = 0.0, 0
            for xb, yb in row_batches(X_rows, y, batch_size, rng, min_size=min_batch):
                batch_loss = model.loss(xb, yb, check=False) if trusted else model.loss(xb, yb)
                optimizer.step(model.params, model.backward())
                m = xb.shape[1]
                total += batch_loss * m
                count += m
            epoch_loss = total / count
            if not math.isfinite(epoch_loss):
                raise FloatingPointError(
                    f"training loss became {epoch_loss} in epoch {epoch}: the learning rate "
                    f"({optimizer.lr:g}) is probably too large"
                )
            history.loss.append(epoch_loss)
            history.train_acc.append(float(model.accuracy(X, y)))
            if X_val is not None:
                history.val_acc.append(float(model.accuracy(X_val, y_val)))
            if bar is not None:
                bar.update(1)
                stats = {"loss": f"{epoch_loss:.4f}", "train": f"{history.train_acc[-1]:.3f}"}
                if history.val_acc:
                    stats["val"] = f"{history.val_acc[-1]:.3f}"
                bar.set_postfix(stats)
    finally:
        if bar is not None:
            bar.close()
    return history


def _progress_bar(total: int, enabled: bool):
    """A tqdm bar on stderr, or None when disabled or tqdm is missing."""
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # progress is a nicety; training works without it
        return None
    return tqdm(total=total, desc="training", unit="epoch", file=sys.stderr, leave=True)
