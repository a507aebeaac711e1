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

from .checks import ShapeError, positive_int
from .data import minibatches
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
    """
    epochs = positive_int(epochs, "epochs")
    batch_size = positive_int(batch_size, "batch_size")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a bpcore.optim.Optimizer, got "
                        f"{type(optimizer).__name__}")
    if (X_val is None) != (y_val is None):
        raise ValueError("give both X_val and y_val, or neither")
    X, y = np.asarray(X), np.asarray(y)  # nested lists work too; minibatches slice arrays
    _check_examples(X, y, "X", "y")
    if X_val is not None:
        X_val, y_val = np.asarray(X_val), np.asarray(y_val)
        _check_examples(X_val, y_val, "X_val", "y_val")
    rng = np.random.default_rng(seed)
    history = History()
    if hasattr(model, "train"):
        model.train()  # batch statistics and dropout masks while training
    bar = _progress_bar(epochs, progress)
    try:
        for epoch in range(1, epochs + 1):
            total, count = 0.0, 0
            for xb, yb in minibatches(X, y, batch_size, rng):
                batch_loss = model.loss(xb, yb)
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


def _check_examples(X: object, y: object, x_name: str, y_name: str) -> None:
    """Examples as columns: X of shape (n, m) with m >= 1, y with m labels (or (K, m))."""
    shape, y_shape = np.shape(X), np.shape(y)
    if len(shape) != 2:
        raise ShapeError(f"{x_name} has shape {shape}, expected (n_features, m): one column per "
                         "example")
    if shape[1] == 0:
        raise ValueError(f"{x_name} has no examples (shape {shape}): nothing to train or "
                         "evaluate on")
    if len(y_shape) not in (1, 2) or y_shape[-1] != shape[1]:
        raise ShapeError(f"{y_name} has shape {y_shape} but {x_name} has {shape[1]} examples "
                         f"(columns); expected ({shape[1]},) or (K, {shape[1]})")


def _progress_bar(total: int, enabled: bool):
    """A tqdm bar on stderr, or None when disabled or tqdm is missing."""
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # progress is a nicety; training works without it
        return None
    return tqdm(total=total, desc="training", unit="epoch", file=sys.stderr, leave=True)
