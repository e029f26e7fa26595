"""Classification metrics from labels and predictions: accuracy, balanced accuracy, per-class P/R/F1, confusion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge_runtime.errors import UserError


@dataclass(frozen=True)
class ClassMetrics:
    """One class's scores; precision (or F1) is 0.0 when the class is never predicted (or absent)."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class ClassificationReport:
    """How a classifier did on labelled images.

    Attributes:
      class_names: Class names, index i being class i.
      confusion: (C, C) counts; row = true class, column = predicted class.
      accuracy: Share of images classified right.
      balanced_accuracy: Mean recall over the classes present (insensitive to class imbalance).
      per_class: Precision, recall, F1 and support of every class, by name.
    """

    class_names: tuple[str, ...]
    confusion: np.ndarray
    accuracy: float
    balanced_accuracy: float
    per_class: dict[str, ClassMetrics]

    def to_json(self) -> dict:
        """A JSON-ready dict (the confusion matrix as nested lists with its axes named)."""
        return {
            "num_images": int(self.confusion.sum()),
            "accuracy": self.accuracy,
            "balanced_accuracy": self.balanced_accuracy,
            "per_class": {name: vars(m) for name, m in self.per_class.items()},
            "confusion_matrix": self.confusion_json(),
        }

    def confusion_json(self) -> dict:
        """{'class_names', 'rows': 'true', 'columns': 'predicted', 'counts'}."""
        return {
            "class_names": list(self.class_names),
            "rows": "true class",
            "columns": "predicted class",
            "counts": self.confusion.astype(int).tolist(),
        }


def classification_report(
    labels: np.ndarray, predictions: np.ndarray, class_names: Sequence[str]
) -> ClassificationReport:
    """Scores `predictions` against `labels` (both (N,) class indices).

    Args:
      labels: True class indices.
      predictions: Predicted class indices (argmax of the scores).
      class_names: Names of the classes, index i being class i.

    Raises:
      UserError: Empty input, different lengths, or an index outside the classes.
    """
    labels, predictions = np.asarray(labels).reshape(-1), np.asarray(predictions).reshape(-1)
    count = len(class_names)
    if not len(labels) or len(labels) != len(predictions):
        raise UserError(
            f"need as many predictions as labels (got {len(predictions)} and {len(labels)}), at least 1"
        )
    for name, values in (("label", labels), ("prediction", predictions)):
        if values.min() < 0 or values.max() >= count:
            raise UserError(f"{name} {int(values.max())} is outside the {count} classes")
    confusion = np.zeros((count, count), dtype=np.int64)
    np.add.at(confusion, (labels, predictions), 1)
    per_class = {}
    recalls = []
    for index, name in enumerate(class_names):
        hits, support, predicted = confusion[index, index], confusion[index].sum(), confusion[:, index].sum()
        precision = float(hits / predicted) if predicted else 0.0
        recall = float(hits / support) if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[name] = ClassMetrics(precision, recall, float(f1), int(support))
        if support:
            recalls.append(recall)
    return ClassificationReport(
        class_names=tuple(class_names),
        confusion=confusion,
        accuracy=float(np.trace(confusion) / confusion.sum()),
        balanced_accuracy=float(np.mean(recalls)),
        per_class=per_class,
    )
