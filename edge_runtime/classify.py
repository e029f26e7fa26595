"""Top-k classes from a classification model's scores, and one-call image classification."""

from __future__ import annotations

import contextlib
import math
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge_runtime import common
from edge_runtime.ambiguity import AmbiguityRule, Confidence, judge
from edge_runtime.image import _UINT8, Resizer, resize

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


def _ranks_integers(info: common.TensorInfo) -> bool:
    """Whether a many-class output is ranked by its integers (`_top_k_of_quantized`): 8- or 16-bit, dequantized
    with a positive, finite scale (which keeps the order and ties of the integers)."""
    kind, itemsize = info.dtype.kind, info.dtype.itemsize
    return info.size > _SMALL and kind in "iu" and itemsize <= 2 and 0 < info.scale < math.inf


def _top_k_of_quantized(
    raw: np.ndarray, info: common.TensorInfo, top_k: int, threshold: float, labels: Sequence[str] | None
) -> list[Class]:
    """`get_classes_from_scores` for a quantized output of many classes (`_ranks_integers`), checked already.

    The integers are ranked by a stable sort of their bitwise inverse (highest first, ids ascending
    on ties; numpy sorts 8- and 16-bit integers by radix) and only the kept ones are dequantized,
    as `common.score_list` does, so the classes and scores are get_classes_from_scores' to the bit.
    Right after an invoke() of a 1,000-class MobileNet V2 on Zen 4 it took 52 us against the float
    path's 93 (medians, interleaved).
    """
    flat = raw.reshape(-1)
    order = np.argsort(np.invert(flat), kind="stable")[:top_k]
    scores = common.score_list(flat[order], info)
    ids = order.tolist()
    if labels is None:
        return [Class(i, v) for i, v in zip(ids, scores, strict=True) if v >= threshold]
    return [Class(i, v, labels[i]) for i, v in zip(ids, scores, strict=True) if v >= threshold]


def get_classes(
    interpreter: Any,
    top_k: int = 1,
    threshold: float = 0.0,
    labels: Sequence[str] | None = None,
) -> list[Class]:
    """Top classes of the interpreter's last `invoke`; see `get_classes_from_scores`."""
    return _top_classes(interpreter, common.tensor_info(interpreter)[1], top_k, threshold, labels)


def _top_classes(
    interpreter: Any, info: common.TensorInfo, top_k: int, threshold: float, labels: Sequence[str] | None
) -> list[Class]:
    """`get_classes` with the output's `tensor_info` in hand, ranked the cheapest way its size and type
    allow: up to 64 scores in plain Python, a quantized output of more by its integers, else numpy."""
    if info.size <= _SMALL:
        if info.size == 1:  # a sigmoid: the two-class reading of get_scores
            scores = common.get_score_list(interpreter)
        else:
            scores = common.score_list(interpreter.get_tensor(info.index), info)
        _check_request(top_k, labels, len(scores))
        return _top_k_of_list(scores, top_k, threshold, labels)
    if _ranks_integers(info):
        _check_request(top_k, labels, info.size)
        return _top_k_of_quantized(interpreter.get_tensor(info.index), info, top_k, threshold, labels)
    return get_classes_from_scores(common.get_scores(interpreter), top_k, threshold, labels)


def get_confidence(interpreter: Any, rule: AmbiguityRule = AmbiguityRule()) -> Confidence:
    """Whether the interpreter's last result is ambiguous (see `edge_runtime.ambiguity`), from all its scores."""
    return judge(common.get_scores(interpreter), rule)


class _Route:
    """What classify_image needs of one interpreter, worked out once: its input and output tensors'
    `tensor_info` and a `Resizer` to the input size (which keeps its buffers and plan).

    The per-frame path then runs on these constants. It runs right after the previous invoke() has
    flushed the caches, where every lookup it skips counts: resolving the tensors through the
    interpreter's details and dictionaries each time cost 60-90 us more per frame on Zen 4 (idle,
    640x480 -> 160 px int8 model), about a third of edge_runtime's overhead over a bare invoke().
    """

    __slots__ = ("resizer", "input", "output")

    def __init__(self, interpreter: Any) -> None:
        self.input, self.output = common.tensor_info(interpreter)
        self.resizer = Resizer(*common.input_size(interpreter))


_ROUTES: dict[int, tuple[weakref.ref, _Route]] = {}


def _route(interpreter: Any) -> _Route:
    """The interpreter's `_Route`, made on first use and dropped with the interpreter (a plain dict by
    id: a WeakKeyDictionary lookup runs Python code of its own on every frame)."""
    key = id(interpreter)
    entry = _ROUTES.get(key)
    if entry is not None and entry[0]() is interpreter:
        return entry[1]
    route = _Route(interpreter)
    with contextlib.suppress(TypeError):  # an interpreter type that cannot be weakly referenced: no cache
        _ROUTES[key] = (weakref.ref(interpreter, lambda _, key=key: _ROUTES.pop(key, None)), route)
    return route


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
    route = _route(interpreter)
    resizer = route.resizer
    # The last resize step writes the input tensor itself when its bytes are the pixels.
    if not (
        isinstance(rgb, np.ndarray) and rgb.dtype == _UINT8 and rgb.ndim == 3 and rgb.shape[2] == 3
        and common.fill_input(interpreter, lambda pixels: resizer(rgb, pixels), route.input)
    ):  # fmt: skip
        common.set_input(interpreter, resize(rgb, resizer.width, resizer.height))
    interpreter.invoke()
    return _top_classes(interpreter, route.output, top_k, threshold, labels)
