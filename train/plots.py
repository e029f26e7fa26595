"""Training-curve figure (accuracy and loss, training vs validation) rendered to PNG bytes."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def plot_history(history: Mapping[str, Sequence[float]], best_epoch: int | None = None) -> bytes:
    """Draws accuracy and loss per epoch, training vs validation, as a PNG.

    Uses a Figure with the Agg canvas directly (no pyplot), so nothing global is touched and no
    display is needed.

    Args:
      history: Keras History.history: 'accuracy', 'loss' and, with validation, 'val_accuracy'
        and 'val_loss'; other keys are ignored.
      best_epoch: 1-based epoch whose weights were kept, marked with a vertical line.

    Returns:
      The PNG file's bytes.
    """
    figure = Figure(figsize=(10, 4), dpi=100)
    FigureCanvasAgg(figure)
    for index, (metric, title) in enumerate((("accuracy", "Accuracy"), ("loss", "Loss"))):
        axes = figure.add_subplot(1, 2, index + 1)
        for key, label in ((metric, "training"), (f"val_{metric}", "validation")):
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
