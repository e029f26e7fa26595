"""Top-k classes from a classification model's scores, and one-call image classification."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge_runtime import common
from edge_runtime.ambiguity import AmbiguityRule, Confidence, judge
from edge_runtime.image import Resizer, resize

_SMALL = 64  # up to this many classes, top-k runs in plain Python


@dataclass(frozen=True)
class Class:
    """One classification result.

    Attributes:
      id: The class index (position in the model's output).
      score: The dequantized score, 0..1 for a softmax model.
      label: The class name, or None when no labels were given.
    """

    id: int
    score: float
    label: str | None = None


def get_classes_from_scores(
    scores: np.ndarray,
    top_k: int = 1,
    threshold: float = 0.0,
    labels: Sequence[str] | None = None,
) -> list[Class]:
    """Picks the best classes from a score vector.

    Classes scoring at least `threshold` are kept, best first; equal scores are ordered by
    class id so results are the same on every run and platform.

    Args:
      scores: One score per class (any shape that flattens to 1-D).
      top_k: The most classes to return (>= 1).
      threshold: The lowest score kept.
      labels: Class names, one per score, or None.

    Returns:
      Up to `top_k` classes, score descending then id ascending.

    Raises:
      ValueError: top_k is below 1, or the labels do not match the number of scores.
    """
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    _check_request(top_k, labels, scores.size)
    if scores.size <= _SMALL:
        return _top_k_of_list(scores.tolist(), top_k, threshold, labels)
    # A stable sort of the negated scores: score descending, then id ascending on ties. NaN sorts
    # last and fails the threshold test.
    order = np.argsort(-scores, kind="stable")
    order = order[scores[order] >= threshold][:top_k].tolist()
    values = scores[order].tolist()
    if labels is None:
        return [Class(i, v) for i, v in zip(order, values, strict=True)]
    return [Class(i, v, labels[i]) for i, v in zip(order, values, strict=True)]


def _check_request(top_k: int, labels: Sequence[str] | None, count: int) -> None:
    """Raises ValueError for a top_k below 1 or labels that do not match `count` scores."""
    if isinstance(top_k, bool) or top_k < 1:
        raise ValueError(f"top_k={top_k!r}: must be 1 or more")
    if labels is not None and len(labels) != count:
        raise ValueError(f"{len(labels)} labels for {count} class scores; give one label per class")


def _top_k_of_list(
    scores: list[float], top_k: int, threshold: float, labels: Sequence[str] | None
) -> list[Class]:
    """`get_classes_from_scores` for a few classes, checked already: plain Python beats numpy's
    per-call overhead there (about 0.05 ms a frame right after invoke()). NaN fails `>=`; the
    stable sort keeps ids ascending on ties."""
    kept = [i for i, v in enumerate(scores) if v >= threshold]
    kept.sort(key=lambda i: -scores[i])
    if labels is None:
        return [Class(i, scores[i]) for i in kept[:top_k]]
    return [Class(i, scores[i], labels[i]) for i in kept[:top_k]]


def get_classes(
    interpreter: Any,
    top_k: int = 1,
    threshold: float = 0.0,
    labels: Sequence[str] | None = None,
) -> list[Class]:
    """Top classes of the interpreter's last `invoke`; see `get_classes_from_scores`."""
    if common.tensor_info(interpreter)[1].size <= _SMALL:
        scores = common.get_score_list(interpreter)
        _check_request(top_k, labels, len(scores))
        return _top_k_of_list(scores, top_k, threshold, labels)
    return get_classes_from_scores(common.get_scores(interpreter), top_k, threshold, labels)


def get_confidence(interpreter: Any, rule: AmbiguityRule = AmbiguityRule()) -> Confidence:
    """Whether the interpreter's last result is ambiguous (see `edge_runtime.ambiguity`), from all its scores."""
    return judge(common.get_scores(interpreter), rule)


_RESIZERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _resizer(interpreter: Any) -> Resizer:
    """A `Resizer` to the model's input size, made once per interpreter: get_input_details() builds
    dicts on each call (0.03-0.09 ms right after an invoke() on Zen 4 under load), and the resizer
    keeps its intermediate images from frame to frame."""
    try:
        return _RESIZERS[interpreter]
    except KeyError:
        resizer = _RESIZERS[interpreter] = Resizer(*common.input_size(interpreter))
        return resizer
    except TypeError:  # an interpreter type that cannot be weakly referenced
        return Resizer(*common.input_size(interpreter))


def classify_image(
    interpreter: Any,
    rgb: np.ndarray,
    top_k: int = 3,
    threshold: float = 0.0,
    labels: Sequence[str] | None = None,
) -> list[Class]:
    """Resizes an image to the model's input, runs the model and returns its top classes.

    Args:
      interpreter: The interpreter, tensors allocated.
      rgb: An HxWx3 uint8 RGB image of any size, raw pixels.
      top_k: The most classes to return.
      threshold: The lowest score kept.
      labels: Class names, one per model output, or None.

    Returns:
      Up to `top_k` classes, best first.

    Raises:
      ValueError: Bad top_k, labels or image.
    """
    resizer = _resizer(interpreter)
    # The last resize step writes into the input tensor itself when its bytes are the pixels.
    if not (
        isinstance(rgb, np.ndarray) and rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3
        and common.fill_input(interpreter, lambda pixels: resizer(rgb, pixels))
    ):  # fmt: skip
        common.set_input(interpreter, resize(rgb, resizer.width, resizer.height))
    interpreter.invoke()
    return get_classes(interpreter, top_k, threshold, labels)
