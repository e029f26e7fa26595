"""The accuracy-vs-share-kept chart (PNG) from which a user picks --ambiguous-below and --min-margin."""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from convert.accuracy import ConfidentAccuracy, Curve, confidence_curve, confident_accuracy
from edge_runtime.ambiguity import AmbiguityRule

_MARKED = (0.5, 0.7, 0.9)  # top-score thresholds labelled on the curves


@dataclass(frozen=True)
class ModelCurves:
    """One model's curves and where its current rule puts it.

    Attributes:
      top_score: Accuracy vs share kept, sweeping the top-score threshold.
      margin: The same, sweeping the margin threshold.
      confident: The current rule's point (kept share, accuracy on the kept).
    """

    top_score: Curve
    margin: Curve
    confident: ConfidentAccuracy


def model_curves(
    labels: np.ndarray, probabilities: np.ndarray, rule: AmbiguityRule = AmbiguityRule()
) -> ModelCurves:
    """A model's curves (by top score and by margin) and its point under `rule`, from (N, C) probabilities."""
    return ModelCurves(
        top_score=confidence_curve(labels, probabilities, "top_score"),
        margin=confidence_curve(labels, probabilities, "margin"),
        confident=confident_accuracy(labels, probabilities, rule),
    )


def plot_confidence_curves(curves: Mapping[str, ModelCurves], title: str) -> bytes:
    """Draws accuracy on the kept results against the share of results kept, per model, as a PNG.

    Solid lines sweep the top-score threshold, dashed lines the margin; a filled dot marks each
    model's current rule and small labels mark top-score thresholds 0.5, 0.7 and 0.9. Uses the Agg
    canvas directly (no pyplot), so no display is needed and nothing global changes.

    Args:
      curves: Model name -> its curves, in legend order.
      title: The chart title (say which images).

    Returns:
      The PNG file's bytes.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 5.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    colors = [f"C{i}" for i in range(10)]
    rule = None
    for index, (name, model) in enumerate(curves.items()):
        color = colors[index % len(colors)]
        for curve, style, kind in ((model.top_score, "-", "top score"), (model.margin, "--", "margin")):
            if curve.kept_share.size:
                # Each point is one threshold's operating point: lines join them, no steps in between.
                axes.plot(
                    curve.kept_share,
                    100 * curve.accuracy,
                    linestyle=style,
                    color=color,
                    label=f"{name}: by {kind}",
                )
        for threshold in _MARKED:
            kept, accuracy = model.top_score.at(threshold)
            if accuracy is not None:
                axes.annotate(
                    f"{threshold:g}", (kept, 100 * accuracy), textcoords="offset points", xytext=(3, 4),
                    fontsize=7, color=color,
                )  # fmt: skip
        point = model.confident
        rule = point.rule
        if point.accuracy is not None:
            axes.plot(1.0 - point.share_set_aside, 100 * point.accuracy, "o", color=color, markersize=7)
    axes.set_xlim(0.0, 1.02)
    axes.set_xlabel("share of results kept (the rest set aside as ambiguous)")
    axes.set_ylabel("top-1 accuracy on the kept results (%)")
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    if rule is not None:
        axes.plot([], [], "o", color="gray", label=f"current rule: {rule.describe()}")
    axes.legend(fontsize=7, loc="best")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
