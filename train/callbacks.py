"""Training callbacks: per-epoch history, the best epoch (early stopping, best checkpoint), resumable checkpoints."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import keras

from edge_runtime.files import atomic_write_text
from train.resume import LAST, STATE


def save_model_atomically(model: keras.Model, path: Path) -> None:
    """model.save to a temporary name beside `path` (Keras insists on .keras), then a rename."""
    _save_atomically(model.save, path, ".keras")


def save_weights_atomically(model: keras.Model, path: Path) -> None:
    """model.save_weights to a temporary name beside `path` (Keras insists on .weights.h5), then a rename."""
    _save_atomically(model.save_weights, path, ".weights.h5")


def _save_atomically(save, path: Path, suffix: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}{suffix}")
    try:
        save(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class Recorder(keras.callbacks.Callback):
    """Appends every epoch's metrics and wall time (training plus validation) to `history`.

    Unlike keras' History it survives several fit() calls (stages) and starts from a resumed
    run's history.
    """

    def __init__(self, history: dict[str, list[float]] | None = None) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {k: list(v) for k, v in (history or {}).items()}
        self._start = 0.0

    @property
    def epochs_done(self) -> int:
        return len(self.history.get("epoch_seconds", []))

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            if key != "learning_rate":
                self.history.setdefault(key, []).append(float(value))
        self.history.setdefault("epoch_seconds", []).append(round(time.monotonic() - self._start, 3))


class KeepBest(keras.callbacks.Callback):
    """Tracks the best epoch by `monitor`, saves that model, and stops after `patience` epochs without one.

    Attributes:
      best_value, best_epoch: The best monitored value so far and its 1-based epoch (None before).
      wait: Epochs since the best one.
      stopped_early: True when patience ran out (as opposed to any other stop).
    """

    def __init__(
        self,
        model: keras.Model,
        monitor: str,
        patience: int | None,
        path: Path | None,
        best_value: float | None = None,
        best_epoch: int | None = None,
        wait: int = 0,
    ) -> None:
        super().__init__()
        self.inner = model  # the deployable model, not the training wrapper fit() runs
        self.monitor = monitor
        self.patience = patience
        self.path = path
        self.best_value = best_value
        self.best_epoch = best_epoch
        self.wait = wait
        self.stopped_early = False
        self._weights: list | None = None

    def _better(self, value: float) -> bool:
        if self.best_value is None:
            return True
        return value < self.best_value if self.monitor.endswith("loss") else value > self.best_value

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            return
        if self._better(float(value)):
            self.best_value, self.best_epoch, self.wait = float(value), epoch + 1, 0
            self._weights = self.inner.get_weights()
            if self.path is not None:
                save_model_atomically(self.inner, self.path)
            return
        self.wait += 1
        if self.patience is not None and self.wait >= self.patience:
            self.stopped_early = True
            self.model.stop_training = True

    def restore(self) -> bool:
        """Puts the best epoch's weights back into the model (from memory, else the checkpoint file).

        Returns:
          False when there is no best epoch (no validation): the model keeps its last weights.
        """
        if self._weights is not None:
            self.inner.set_weights(self._weights)
        elif self.best_epoch is not None and self.path is not None and self.path.is_file():
            self.inner.load_weights(self.path)
        else:
            return False
        return True

    def state(self) -> dict:
        """What a resumed run needs to continue tracking."""
        return {"best_value": self.best_value, "best_epoch": self.best_epoch, "wait": self.wait}


class RunCheckpoint(keras.callbacks.Callback):
    """After every epoch: the training model with its optimizer (last.keras) and the run's state (state.json).

    `state` is called with the number of finished epochs and returns the JSON-ready state.
    """

    def __init__(self, folder: Path, state: Callable[[int], dict]) -> None:
        super().__init__()
        self.folder = folder
        self._state = state

    def on_epoch_end(self, epoch, logs=None):
        save_model_atomically(self.model, self.folder / LAST)
        atomic_write_text(self.folder / STATE, json.dumps(self._state(epoch + 1), indent=2) + "\n")
