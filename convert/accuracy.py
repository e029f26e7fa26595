"""Accuracy from class probabilities: top-k, accuracy on confident results, and accuracy vs share kept.

Pure numpy on (N,) labels and (N, C) probabilities, so the conversion gate, the model card and
`python -m convert.evaluate` report the same numbers (it imports no TensorFlow).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_runtime.ambiguity import AmbiguityRule, ambiguous_mask, top_scores_and_margins

TOP5_MIN_CLASSES = 5
CURVE_THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(21))  # 0.00, 0.05, ..., 1.00


def _check(labels: np.ndarray, probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(labels).reshape(-1)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.ndim != 2 or len(labels) != len(probabilities):
        raise ValueError(
            f"need (N,) labels and (N, classes) probabilities, got {labels.shape} and {probabilities.shape}"
        )
    if len(labels) and (labels.min() < 0 or labels.max() >= probabilities.shape[1]):
        raise ValueError(f"a label is outside the {probabilities.shape[1]} classes")
    return labels.astype(np.int64), probabilities


def reported_ks(num_classes: int) -> tuple[int, ...]:
    """The top-k accuracies to report: (1,) below 5 classes (top-5 would be 100%), else (1, 5)."""
    return (1, 5) if num_classes >= TOP5_MIN_CLASSES else (1,)


def top_k_hits(labels: np.ndarray, probabilities: np.ndarray, k: int) -> np.ndarray:
    """(N,) bool: the true class is among the `k` best scores.

    Classes are ranked as edge_runtime.classify ranks them: score descending, then class id
    ascending, so a tie counts the same as on the device.
    """
    labels, probabilities = _check(labels, probabilities)
    if k < 1:
        raise ValueError(f"k={k}: must be 1 or more")
    true_scores = probabilities[np.arange(len(labels)), labels][:, None]
    ids = np.arange(probabilities.shape[1])[None, :]
    ahead = (probabilities > true_scores) | ((probabilities == true_scores) & (ids < labels[:, None]))
    return ahead.sum(axis=1) < k


def top_k_accuracy(labels: np.ndarray, probabilities: np.ndarray, k: int = 1) -> float:
    """Share of results whose true class is among the `k` best (0.0 for no results)."""
    hits = top_k_hits(labels, probabilities, k)
    return float(hits.mean()) if hits.size else 0.0


def top_k_accuracies(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """{'top1': ..., 'top5': ...} for the ks `reported_ks` picks for this many classes."""
    classes = np.asarray(probabilities).shape[-1]
    return {f"top{k}": top_k_accuracy(labels, probabilities, k) for k in reported_ks(classes)}


@dataclass(frozen=True)
class ConfidentAccuracy:
    """Accuracy once ambiguous results are set aside.

    Attributes:
      rule: The ambiguity rule applied.
      results: All results.
      kept: Results not ambiguous.
      accuracy: Top-1 accuracy on the kept results; None when every result is ambiguous.
      accuracy_all: Top-1 accuracy on all results, for comparison.
    """

    rule: AmbiguityRule
    results: int
    kept: int
    accuracy: float | None
    accuracy_all: float

    @property
    def share_set_aside(self) -> float:
        """Share of results marked ambiguous."""
        return 1.0 - self.kept / self.results if self.results else 0.0

    def to_json(self) -> dict:
        """A JSON-ready dict, the rule included."""
        return {
            **self.rule.to_json(),
            "results": self.results,
            "kept": self.kept,
            "share_set_aside": self.share_set_aside,
            "accuracy_confident": self.accuracy,
            "accuracy_all": self.accuracy_all,
        }


def confident_accuracy(
    labels: np.ndarray, probabilities: np.ndarray, rule: AmbiguityRule = AmbiguityRule()
) -> ConfidentAccuracy:
    """Top-1 accuracy on the results the rule does not set aside, and how many it sets aside."""
    labels, probabilities = _check(labels, probabilities)
    correct = top_k_hits(labels, probabilities, 1)
    kept = ~ambiguous_mask(probabilities, rule) if len(labels) else np.zeros(0, bool)
    return ConfidentAccuracy(
        rule=rule,
        results=int(len(labels)),
        kept=int(kept.sum()),
        accuracy=float(correct[kept].mean()) if kept.any() else None,
        accuracy_all=float(correct.mean()) if len(labels) else 0.0,
    )


@dataclass(frozen=True)
class Curve:
    """Accuracy on the kept results as a threshold rises; one point per distinct threshold.

    Attributes:
      by: 'top_score' (results with top score >= threshold are kept) or 'margin'.
      thresholds: Descending thresholds, each the confidence of some result.
      kept_share: Share of results kept at each threshold (ascending).
      accuracy: Top-1 accuracy on those kept results.
    """

    by: str
    thresholds: np.ndarray
    kept_share: np.ndarray
    accuracy: np.ndarray

    def at(self, threshold: float) -> tuple[float, float | None]:
        """(kept share, accuracy on the kept) when results below `threshold` are set aside."""
        index = np.flatnonzero(self.thresholds >= threshold)
        if index.size == 0:
            return 0.0, None
        last = index[-1]
        return float(self.kept_share[last]), float(self.accuracy[last])

    def table(self, thresholds: tuple[float, ...] = CURVE_THRESHOLDS) -> list[dict]:
        """The curve at round thresholds, JSON-ready: what each --ambiguous-below/--min-margin would do."""
        rows = []
        for threshold in thresholds:
            kept, accuracy = self.at(threshold)
            rows.append({"threshold": threshold, "kept_share": kept, "accuracy": accuracy})
        return rows


def confidence_curve(labels: np.ndarray, probabilities: np.ndarray, by: str = "top_score") -> Curve:
    """Accuracy vs share of results kept, sweeping a threshold on the top score or the margin.

    Raises:
      ValueError: `by` is not 'top_score' or 'margin', or the shapes do not fit.
    """
    labels, probabilities = _check(labels, probabilities)
    if by not in ("top_score", "margin"):
        raise ValueError(f"by={by!r}: choose 'top_score' or 'margin'")
    if not len(labels):
        empty = np.zeros(0)
        return Curve(by, empty, empty, empty)
    top, margin = top_scores_and_margins(probabilities)
    confidence = top if by == "top_score" else margin
    correct = top_k_hits(labels, probabilities, 1)
    order = np.argsort(-confidence, kind="stable")
    confidence, correct = confidence[order], correct[order]
    cumulative = np.cumsum(correct)
    # Results of equal confidence are kept or set aside together: one point per distinct value.
    last_of_value = np.flatnonzero(np.append(confidence[1:] != confidence[:-1], True))
    kept = last_of_value + 1
    return Curve(by, confidence[last_of_value], kept / len(labels), cumulative[last_of_value] / kept)
