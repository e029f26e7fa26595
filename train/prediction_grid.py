"""The Fashion-MNIST post's prediction grid: each image with its prediction beside a bar chart of its scores."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

RIGHT, WRONG, OTHER = "tab:blue", "tab:red", "#999999"


def pick_examples(count: int, total: int, seed: int = 0) -> np.ndarray:
    """`count` distinct indices out of `total`, a seeded sample in ascending order (all when fewer)."""
    if total <= count:
        return np.arange(total)
    return np.sort(np.random.default_rng(seed).choice(total, size=count, replace=False))


def plot_predictions(
    images: np.ndarray,
    probabilities: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    columns: int = 3,
) -> bytes:
    """Draws each image with 'predicted probability% (true)' under it, blue when right and red when
    wrong, beside a bar chart of its class probabilities (predicted bar red, true bar blue).

    Args:
      images: (N, H, W, 3) uint8 pixels, as the model saw them.
      probabilities: (N, C) scores.
      labels: (N,) true class indices.
      class_names: Names of the C classes.
      columns: Image-and-chart pairs per row.

    Returns:
      The PNG file's bytes.
    """
    count = len(images)
    rows = max(1, -(-count // columns))
    many = len(class_names) > 12
    figure = Figure(figsize=(4.4 * columns, 2.4 * rows + 0.4), dpi=100)
    FigureCanvasAgg(figure)
    for index in range(count):
        predicted = int(np.argmax(probabilities[index]))
        truth = int(labels[index])
        color = RIGHT if predicted == truth else WRONG
        picture = figure.add_subplot(rows, 2 * columns, 2 * index + 1)
        pixels = images[index]
        gray = pixels.ndim == 3 and np.array_equal(pixels[..., 0], pixels[..., 1])
        picture.imshow(pixels[..., 0] if gray else pixels, cmap="gray" if gray else None, vmin=0, vmax=255)
        picture.set_xticks([])
        picture.set_yticks([])
        picture.set_xlabel(
            f"{class_names[predicted]} {100 * probabilities[index, predicted]:.0f}% ({class_names[truth]})",
            color=color,
            fontsize=8,
        )
        chart = figure.add_subplot(rows, 2 * columns, 2 * index + 2)
        bars = chart.bar(range(len(class_names)), probabilities[index], color=OTHER)
        bars[predicted].set_color(WRONG)
        bars[truth].set_color(RIGHT)
        chart.set_ylim(0.0, 1.0)
        chart.set_yticks([])
        chart.set_xticks(range(len(class_names)), labels=[] if many else range(len(class_names)), fontsize=7)
    figure.suptitle(
        "Predictions: label probability% (true label); bars: blue = true class, red = a wrong prediction\n"
        + ", ".join(f"{i} {name}" for i, name in enumerate(class_names[:12])),
        fontsize=8,
    )
    figure.tight_layout(rect=(0, 0, 1, 0.93))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
