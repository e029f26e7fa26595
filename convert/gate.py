"""The accuracy gate: the Keras model vs each converted model on held-out images, through edge_runtime."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from convert.accuracy import ConfidentAccuracy, confident_accuracy, reported_ks, top_k_accuracy
from convert.scores import EvaluationSet, keras_scores, tflite_scores
from edge_runtime.ambiguity import AmbiguityRule
from edge_runtime.errors import ParameterError, UserError
from edge_runtime.folders import read_class_folder

KERAS_NAME = "keras (float)"


@dataclass(frozen=True)
class GateOptions:
    """How the converted models are checked.

    Attributes:
      max_accuracy_drop: The most accuracy, in percentage points, a converted model may lose
        against the Keras model on the test images.
      test_data: Class folders of held-out images; None: the `test` folder beside the
        calibration folder if there is one, else a seeded part of the calibration folder.
      holdout_fraction: Share of each class held out when no test folder exists.
      seed: Seeds the held-out choice.
      keep_failed: Write the models even when they fail (the exit is still non-zero).
    """

    max_accuracy_drop: float = 1.0
    test_data: Path | None = None
    holdout_fraction: float = 0.2
    seed: int = 0
    keep_failed: bool = False

    def __post_init__(self) -> None:
        if not math.isfinite(self.max_accuracy_drop):
            raise ParameterError(
                "max_accuracy_drop", self.max_accuracy_drop, "give a number of points, e.g. 1.0"
            )
        if not 0.0 < self.holdout_fraction < 1.0:
            raise ParameterError("holdout_fraction", self.holdout_fraction, "must be between 0 and 1")


@dataclass(frozen=True)
class GateImages:
    """The labelled images the gate uses and where they came from.

    Attributes:
      files: (path, class id) pairs.
      source: 'given' (--test-data), 'sibling' (the test folder beside the calibration data) or
        'held_out' (a seeded part of the calibration folder).
      folder: The folder the files are in.
      held_out: The files taken out of the calibration folder (empty unless `source` is 'held_out');
        calibration skips every file in `files` either way.
    """

    files: tuple[tuple[Path, int], ...]
    source: str
    folder: Path
    held_out: frozenset[Path] = frozenset()

    def describe(self) -> str:
        """How many images, from where, for the output and the model card."""
        count = f"{len(self.files)} images"
        if self.source == "given":
            return f"{count} from {self.folder} (--test-data)"
        if self.source == "sibling":
            return f"{count} from {self.folder} (the test folder beside the calibration data)"
        return (
            f"{count} held out of {self.folder} (seeded, not used for calibration; no test folder beside "
            "it, pass --test-data to choose one)"
        )


def resolve_test_data(options: GateOptions, calibration: Path | None, class_names: list[str]) -> GateImages:
    """Finds the gate's images: `options.test_data`, else <calibration>/../test, else a held-out part.

    Raises:
      FileNotFoundError: `options.test_data` does not exist.
      ParameterError: No test folder and no calibration folder to look beside.
      UserError: The folder lacks a class, or nothing to hold out from.
    """
    if options.test_data is not None:
        found = read_class_folder(options.test_data, class_names)
        return GateImages(found.files, "given", Path(options.test_data))
    if calibration is None:
        raise ParameterError(
            "test_data", None, "the accuracy gate needs test images; give a folder of class folders"
        )
    calibration = Path(calibration)
    sibling = calibration.parent / "test"
    if sibling.is_dir() and sibling.resolve() != calibration.resolve():
        return GateImages(read_class_folder(sibling, class_names).files, "sibling", sibling)
    try:
        found = read_class_folder(calibration, class_names)
    except UserError as err:
        raise UserError(
            f"{err}; the accuracy gate holds out labelled images from it, or pass --test-data DIR"
        ) from None
    rng = np.random.default_rng(options.seed)
    held: list[tuple[Path, int]] = []
    for label in range(len(class_names)):
        paths = [p for p, lab in found.files if lab == label]
        count = max(1, round(len(paths) * options.holdout_fraction))
        held.extend((paths[i], label) for i in sorted(rng.choice(len(paths), count, replace=False)))
    return GateImages(tuple(held), "held_out", calibration, frozenset(p for p, _ in held))


@dataclass(frozen=True)
class ModelResult:
    """One converted model on the test images (top5 is None below 5 classes)."""

    name: str
    accuracy: float
    per_class: dict[str, float]
    drop_points: float
    top1_agreement: float
    passed: bool
    top5: float | None = None
    confident: ConfidentAccuracy | None = None


@dataclass(frozen=True)
class GateResult:
    """The Keras model and every converted model on the same test images."""

    test_data: GateImages
    class_names: list[str]
    class_counts: dict[str, int]
    keras_accuracy: float
    keras_per_class: dict[str, float]
    models: tuple[ModelResult, ...]
    max_accuracy_drop: float
    keras_top5: float | None = None
    keras_confident: ConfidentAccuracy | None = None

    @property
    def passed(self) -> bool:
        """Whether every converted model is within the allowed drop."""
        return all(m.passed for m in self.models)

    @property
    def num_images(self) -> int:
        """How many test images were classified."""
        return sum(self.class_counts.values())

    def failures(self) -> str:
        """One line naming each failing model and its drop; empty when all pass."""
        failed = [m for m in self.models if not m.passed]
        return "; ".join(f"{m.name} lost {m.drop_points:.2f} points" for m in failed)


def _top5(labels: np.ndarray, probabilities: np.ndarray) -> float | None:
    """Top-5 accuracy from 5 classes on, else None."""
    return top_k_accuracy(labels, probabilities, 5) if 5 in reported_ks(probabilities.shape[1]) else None


def run_gate(
    keras_model,
    models: dict[str, bytes],
    evaluation: EvaluationSet,
    test_data: GateImages,
    max_drop: float,
    rule: AmbiguityRule = AmbiguityRule(),
) -> GateResult:
    """Evaluates the Keras model and each .tflite (by file name -> bytes) on `evaluation`.

    The verdict is on top-1 accuracy; top-5 and the accuracy on confident results (under `rule`)
    are reported beside it.
    """
    labels, names = evaluation.labels, evaluation.class_names
    reference = keras_scores(keras_model, evaluation.images, name=KERAS_NAME)
    keras_accuracy = reference.accuracy(labels)
    results = []
    for name, data in models.items():
        scores = tflite_scores(data, evaluation.images, name=name)
        drop = 100.0 * (keras_accuracy - scores.accuracy(labels))
        results.append(
            ModelResult(
                name=name,
                accuracy=scores.accuracy(labels),
                per_class=scores.per_class_accuracy(labels, names),
                drop_points=drop,
                top1_agreement=float(np.mean(scores.predictions == reference.predictions)),
                # A hair of tolerance: 1 of 100 images is 1.0000000000000009 points in floats.
                passed=drop <= max_drop + 1e-9,
                top5=_top5(labels, scores.probabilities),
                confident=confident_accuracy(labels, scores.probabilities, rule),
            )
        )
    return GateResult(
        test_data=test_data,
        class_names=list(names),
        class_counts={n: int(np.sum(labels == i)) for i, n in enumerate(names)},
        keras_accuracy=keras_accuracy,
        keras_per_class=reference.per_class_accuracy(labels, names),
        models=tuple(results),
        max_accuracy_drop=max_drop,
        keras_top5=_top5(labels, reference.probabilities),
        keras_confident=confident_accuracy(labels, reference.probabilities, rule),
    )


def _percent(value: float) -> str:
    return "     n/a" if math.isnan(value) else f"{100 * value:7.2f}%"


def format_gate(result: GateResult) -> str:
    """The gate as a table: accuracy (top-1; top-5 too from 5 classes) and per class, Keras first, then drops."""
    counts = ", ".join(f"{k}: {v}" for k, v in result.class_counts.items())
    width = max(len(KERAS_NAME), *(len(m.name) for m in result.models))
    top5 = result.keras_top5 is not None
    header = (
        f"{'model':<{width}}  {'accuracy':>8}  "
        + (f"{'top-5':>8}  " if top5 else "")
        + "  ".join(f"{n[:12]:>12}" for n in result.class_names)
    )
    lines = [
        f"accuracy gate on {result.test_data.describe()}; per class: {counts}",
        f"{header}  {'drop (points)':>13}",
        "-" * (len(header) + 15),
    ]

    def row(name: str, accuracy: float, top5_accuracy: float | None, per_class: dict[str, float]) -> str:
        cells = "  ".join(f"{_percent(per_class[n]):>12}" for n in result.class_names)
        top = f"{_percent(top5_accuracy if top5_accuracy is not None else math.nan):>8}  " if top5 else ""
        return f"{name:<{width}}  {_percent(accuracy):>8}  {top}{cells}"

    lines.append(row(KERAS_NAME, result.keras_accuracy, result.keras_top5, result.keras_per_class))
    for m in result.models:
        verdict = "pass" if m.passed else "FAIL"
        lines.append(f"{row(m.name, m.accuracy, m.top5, m.per_class)}  {m.drop_points:>13.2f}  {verdict}")
    lines.append(
        f"max drop {result.max_accuracy_drop:.2f} points: "
        + ("passed" if result.passed else f"FAILED ({result.failures()})")
    )
    return "\n".join(lines)
