"""Training curves (accuracy and loss, training vs validation) and confusion matrices, rendered to PNG bytes."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def plot_history(
    history: Mapping[str, Sequence[float]], best_epoch: int | None = None, training_label: str = "training"
) -> bytes:
    """Draws accuracy and loss per epoch, training vs validation, as a PNG.

    Uses a Figure with the Agg canvas directly (no pyplot), so nothing global is touched and no
    display is needed.

    Args:
      history: Keras History.history: 'accuracy', 'loss' and, with validation, 'val_accuracy'
        and 'val_loss'; other keys are ignored.
      best_epoch: 1-based epoch whose weights were kept, marked with a vertical line.
      training_label: Legend of the training curves; say there what makes them differ from
        validation's (e.g. a class-weighted loss).

    Returns:
      The PNG file's bytes.
    """
    figure = Figure(figsize=(10, 4), dpi=100)
    FigureCanvasAgg(figure)
    for index, (metric, title) in enumerate((("accuracy", "Accuracy"), ("loss", "Loss"))):
        axes = figure.add_subplot(1, 2, index + 1)
        for key, label in ((metric, training_label), (f"val_{metric}", "validation")):
            values = history.get(key)
            if values:
                axes.plot(range(1, len(values) + 1), values, marker="o", markersize=3, label=label)
        if best_epoch is not None:
            axes.axvline(best_epoch, color="gray", linestyle="--", linewidth=1, label="kept epoch")
        axes.set_title(title)
        axes.set_xlabel("epoch")
        axes.grid(True, alpha=0.3)
        axes.legend()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def plot_confusion(
    confusion: np.ndarray, class_names: Sequence[str], title: str = "Confusion matrix"
) -> bytes:
    """Draws a confusion matrix (rows true, columns predicted) as a PNG.

    Cells are coloured by the share of their row (each true class's recall spread), so a small
    class is as readable as a big one; each shows its count and that share.

    Args:
      confusion: (C, C) counts.
      class_names: Axis labels.
      title: Figure title.

    Returns:
      The PNG file's bytes.
    """
    counts = np.asarray(confusion, dtype=np.float64)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    side = 2.5 + 0.6 * len(class_names)
    figure = Figure(figsize=(side + 1.5, side), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    image = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="share of the true class")
    ticks = range(len(class_names))
    axes.set_xticks(ticks, labels=class_names, rotation=45, ha="right")
    axes.set_yticks(ticks, labels=class_names)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    axes.set_title(title)
    small = len(class_names) <= 12
    for row in ticks:
        for column in ticks:
            text = (
                f"{int(counts[row, column])}\n{100 * shares[row, column]:.0f}%"
                if small
                else f"{int(counts[row, column])}"
            )
            color = "white" if shares[row, column] > 0.5 else "black"
            axes.text(column, row, text, ha="center", va="center", color=color, fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
