"""When a classification result is too spread over the labels to be trusted: the ambiguity rule.

A result is ambiguous when its top probability is below `ambiguous_below`, or when the top
probability beats the second one by less than `min_margin`. The defaults, 0.5 and 0.1:

- 0.5: below it the top class is less likely than all the other classes together, i.e. the model
  itself says "probably not this one". The TFLite guide's example, 0.31 / 0.35 / 0.34 over three
  labels, tops at 0.35: ambiguous.
- 0.1: two near-equal classes (0.52 vs 0.46) pass the 0.5 floor but are a coin toss between two
  labels; a 10-point margin catches them (the guide's example has a margin of 0.01). 0.1 is about
  25 steps of a uint8 softmax output (1/256 each), so quantization noise alone cannot flip it.
  With two classes it means a top score below 0.55.

Set both to 0 to never mark a result ambiguous.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

import numpy as np

from edge_runtime.errors import UserError

DEFAULT_AMBIGUOUS_BELOW = 0.5
DEFAULT_MIN_MARGIN = 0.1
# Float32 scores carry rounding: 0.5 - 0.4 is 0.0999999; that is not "below 0.1". Far finer than
# a uint8 output's 1/256 step.
_TOLERANCE = 1e-6


@dataclass(frozen=True)
class AmbiguityRule:
    """When a result is ambiguous.

    Attributes:
      ambiguous_below: A top-1 probability below this is ambiguous (0: never).
      min_margin: A top-1 probability less than this above the second one is ambiguous (0: never).
    """

    ambiguous_below: float = DEFAULT_AMBIGUOUS_BELOW
    min_margin: float = DEFAULT_MIN_MARGIN

    def __post_init__(self) -> None:
        for option, value in (("--ambiguous-below", self.ambiguous_below), ("--min-margin", self.min_margin)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise UserError(
                    f"{option} {value!r}: must be a probability from 0 to 1 (0 turns the check off)"
                )

    def describe(self) -> str:
        """'top score below 0.50 or margin below 0.10', for logs and reports."""
        return f"top score below {self.ambiguous_below:.2f} or margin over the second below {self.min_margin:.2f}"

    def to_json(self) -> dict:
        """{'ambiguous_below': ..., 'min_margin': ...}."""
        return {"ambiguous_below": self.ambiguous_below, "min_margin": self.min_margin}


@dataclass(frozen=True)
class Confidence:
    """How much one result can be trusted.

    Attributes:
      top_score: The highest probability.
      margin: top_score minus the second highest (top_score itself for a single-class output).
      ambiguous: Whether the rule sets the result aside.
      reason: Why it is ambiguous, e.g. 'top score 0.35 < 0.50, margin 0.01 < 0.10'; None when not.
    """

    top_score: float
    margin: float
    ambiguous: bool
    reason: str | None = None


def top_two(scores: np.ndarray) -> tuple[float, float]:
    """The highest and second highest score of a score vector (second is 0.0 for one class).

    Raises:
      ValueError: The vector is empty or holds NaN.
    """
    values = np.asarray(scores, dtype=np.float64).reshape(-1)
    if values.size == 0 or np.isnan(values).any():
        raise ValueError(f"need a non-empty score vector without NaN, got {values.size} scores")
    if values.size == 1:
        return float(values[0]), 0.0
    second, top = np.partition(values, values.size - 2)[-2:]
    return float(top), float(second)


def judge(scores: np.ndarray, rule: AmbiguityRule = AmbiguityRule()) -> Confidence:
    """Applies the rule to one result's scores (all classes, not just the top-k shown).

    Args:
      scores: One probability per class.
      rule: The thresholds.

    Returns:
      The top score, the margin over the second and whether that is ambiguous.
    """
    top, second = top_two(scores)
    margin = top - second
    reasons = []
    if top < rule.ambiguous_below - _TOLERANCE:
        reasons.append(f"top score {top:.2f} < {rule.ambiguous_below:.2f}")
    if margin < rule.min_margin - _TOLERANCE:
        reasons.append(f"margin {margin:.2f} < {rule.min_margin:.2f}")
    return Confidence(top, margin, bool(reasons), ", ".join(reasons) or None)


def ambiguous_mask(probabilities: np.ndarray, rule: AmbiguityRule = AmbiguityRule()) -> np.ndarray:
    """`judge` over many results at once: (N, C) probabilities -> (N,) bool, True = ambiguous."""
    values = np.asarray(probabilities, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] == 0:
        raise ValueError(f"probabilities must be (N, classes), got shape {values.shape}")
    top, margin = top_scores_and_margins(values)
    return (top < rule.ambiguous_below - _TOLERANCE) | (margin < rule.min_margin - _TOLERANCE)


def top_scores_and_margins(probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N,) top probabilities and (N,) margins over the second, of (N, C) probabilities."""
    values = np.asarray(probabilities, dtype=np.float64)
    if values.shape[1] == 1:
        return values[:, 0], values[:, 0]
    ordered = np.partition(values, values.shape[1] - 2, axis=1)
    return ordered[:, -1], ordered[:, -1] - ordered[:, -2]


def _probability(text: str) -> float:
    """argparse type: a number from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise argparse.ArgumentTypeError(f"{value} must be from 0 to 1 (0 turns the check off)")
    return value


def add_ambiguity_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds --ambiguous-below and --min-margin, the same in every command that classifies."""
    parser.add_argument(
        "--ambiguous-below",
        type=_probability,
        default=DEFAULT_AMBIGUOUS_BELOW,
        metavar="P",
        help=f"mark a result ambiguous when its top score is below P ({DEFAULT_AMBIGUOUS_BELOW}; 0: never)",
    )
    parser.add_argument(
        "--min-margin",
        type=_probability,
        default=DEFAULT_MIN_MARGIN,
        metavar="M",
        help=f"...or when it beats the second score by less than M ({DEFAULT_MIN_MARGIN}; 0: never)",
    )


def rule_from_args(args: argparse.Namespace) -> AmbiguityRule:
    """The rule the parsed --ambiguous-below and --min-margin ask for."""
    return AmbiguityRule(args.ambiguous_below, args.min_margin)
