"""Accuracy of the float Keras model and its .tflite conversions on a held-out class folder.

The .tflite files run through edge_runtime, the code that runs on the device, on pixels from
the same decoder and resize; so a difference is the model's, not the pipeline's.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from convert.calibration import to_channels
from edge_runtime.errors import UserError
from edge_runtime.folders import read_class_folder
from edge_runtime.image import load_resized


@dataclass(frozen=True)
class ModelScores:
    """Predictions of one model on the evaluation images."""

    name: str
    predictions: np.ndarray  # (N,) predicted class ids
    probabilities: np.ndarray  # (N, C) scores

    def accuracy(self, labels: np.ndarray) -> float:
        return float(np.mean(self.predictions == labels)) if len(labels) else 0.0

    def per_class_accuracy(self, labels: np.ndarray, class_names: list[str]) -> dict[str, float]:
        result = {}
        for index, name in enumerate(class_names):
            mask = labels == index
            result[name] = float(np.mean(self.predictions[mask] == index)) if mask.any() else float("nan")
        return result


@dataclass(frozen=True)
class EvaluationSet:
    """Model-ready images with their labels."""

    images: np.ndarray  # (N, H, W, 3) uint8
    labels: np.ndarray  # (N,) int
    class_names: list[str]
    skipped: list[str] = field(default_factory=list)


def load_files(
    files: Sequence[tuple[Path, int]], class_names: list[str], width: int, height: int, channels: int = 3
) -> EvaluationSet:
    """Reads labelled image files at the model's size and depth, as the runtime does; skips unreadable files.

    Raises:
      UserError: None of the files can be read.
    """
    images, labels, skipped = [], [], []
    for path, label in files:
        try:
            images.append(load_resized(path, width, height))
            labels.append(label)
        except UserError as err:
            skipped.append(str(err))
    if not images:
        folders = sorted({str(Path(p).parent.parent) for p, _ in files}) or ["(no files)"]
        raise UserError(f"{folders[0]}: no readable images to evaluate on")
    if skipped:
        print(f"evaluate: skipped {len(skipped)} unreadable image(s)", file=sys.stderr)
    return EvaluationSet(
        to_channels(np.stack(images), channels), np.asarray(labels), list(class_names), skipped
    )


def load_evaluation_set(
    folder: str | os.PathLike, class_names: list[str], width: int, height: int, channels: int = 3
) -> EvaluationSet:
    """Reads ROOT/<class>/* for the given classes, resized as the runtime does; skips unreadable files."""
    dataset = read_class_folder(folder, class_names)
    return load_files(dataset.files, class_names, width, height, channels)


def keras_scores(model, images: np.ndarray, name: str = "keras_float32", batch_size: int = 32) -> ModelScores:
    """Runs a Keras model on raw 0..255 pixels."""
    probabilities = model.predict(images.astype(np.float32), batch_size=batch_size, verbose=0)
    return ModelScores(name, np.argmax(probabilities, axis=1), np.asarray(probabilities, dtype=np.float32))


def tflite_scores(
    model_path: str | os.PathLike | bytes,
    images: np.ndarray,
    name: str | None = None,
    num_threads: int | None = None,
) -> ModelScores:
    """Runs a .tflite model (path or bytes) through edge_runtime, one image at a time (batch 1, as on the device).

    `images` are (N, H, W, channels) uint8 at the model's input size and depth; give `name` for bytes.
    """
    from edge_runtime.common import get_scores, set_input
    from edge_runtime.interpreter import make_interpreter

    interpreter = make_interpreter(model_path, num_threads=num_threads)
    rows = []
    for image in images:
        set_input(interpreter, image)
        interpreter.invoke()
        rows.append(np.array(get_scores(interpreter), dtype=np.float32))
    probabilities = np.stack(rows)
    if name is None:
        name = "model" if isinstance(model_path, bytes) else Path(model_path).stem
    return ModelScores(name, np.argmax(probabilities, axis=1), probabilities)


def report(evaluation: EvaluationSet, results: list[ModelScores], reference: str | None = None) -> dict:
    """A JSON-ready summary: accuracy and per-class accuracy per model, top-1 agreement with `reference`."""
    labels = evaluation.labels
    summary: dict = {
        "num_images": int(len(labels)),
        "skipped_images": len(evaluation.skipped),
        "class_names": evaluation.class_names,
        "class_counts": {n: int(np.sum(labels == i)) for i, n in enumerate(evaluation.class_names)},
        "models": {},
    }
    by_name = {r.name: r for r in results}
    ref = by_name.get(reference) if reference else None
    for result in results:
        entry = {
            "accuracy": result.accuracy(labels),
            "per_class_accuracy": result.per_class_accuracy(labels, evaluation.class_names),
        }
        if ref is not None and result is not ref:
            entry[f"top1_agreement_with_{ref.name}"] = float(np.mean(result.predictions == ref.predictions))
            entry[f"accuracy_drop_vs_{ref.name}_points"] = 100.0 * (
                ref.accuracy(labels) - result.accuracy(labels)
            )
        summary["models"][result.name] = entry
    return summary


def format_report(summary: dict) -> str:
    """A plain-text table of the summary."""
    names = summary["class_names"]
    header = f"{'model':<22} {'accuracy':>9} " + " ".join(f"{n[:12]:>12}" for n in names)
    lines = [
        f"{summary['num_images']} test images ({', '.join(f'{k}: {v}' for k, v in summary['class_counts'].items())})",
        header,
        "-" * len(header),
    ]
    for name, entry in summary["models"].items():
        per_class = " ".join(f"{100 * entry['per_class_accuracy'][n]:>11.2f}%" for n in names)
        lines.append(f"{name:<22} {100 * entry['accuracy']:>8.2f}% {per_class}")
    for name, entry in summary["models"].items():
        for key, value in entry.items():
            if key.startswith("top1_agreement"):
                lines.append(f"{name}: {key.replace('_', ' ')} = {100 * value:.2f}%")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """`python -m convert.evaluate`: float Keras vs .tflite accuracy on a class folder, printed and saved."""
    import argparse
    import json

    from convert.converter import image_input_shape, load_keras_model
    from edge_runtime.errors import cli_main
    from edge_runtime.files import atomic_write_text
    from labels import read_labels

    parser = argparse.ArgumentParser(prog="python -m convert.evaluate", description=main.__doc__)
    parser.add_argument("--keras", required=True, type=Path, help="the float Keras model")
    parser.add_argument("--tflite", nargs="+", required=True, type=Path, help=".tflite models to compare")
    parser.add_argument("--data", required=True, type=Path, help="test folder: DATA/<class>/*")
    parser.add_argument(
        "--labels", type=Path, help="labels file (default: labels.txt beside the Keras model)"
    )
    parser.add_argument("--out", type=Path, help="write the summary as JSON here")

    @cli_main
    def run() -> int:
        args = parser.parse_args(argv)
        for path in args.tflite:
            if not path.is_file():
                raise FileNotFoundError(f"{path}: no such .tflite model (run make convert first)")
        class_names = read_labels(args.labels or args.keras.parent / "labels.txt")
        model = load_keras_model(args.keras)
        width, height, channels = image_input_shape(model)
        evaluation = load_evaluation_set(args.data, class_names, width, height, channels)
        print(
            f"evaluate: {len(evaluation.labels)} images from {args.data} at {width}x{height}", file=sys.stderr
        )
        results = [keras_scores(model, evaluation.images)]
        results += [tflite_scores(path, evaluation.images) for path in args.tflite]
        summary = report(evaluation, results, reference=results[0].name)
        summary["data"] = str(args.data)
        summary["files"] = {"keras_float32": str(args.keras), **{p.stem: str(p) for p in args.tflite}}
        print(format_report(summary))
        if args.out:
            atomic_write_text(args.out, json.dumps(summary, indent=2) + "\n")
            print(f"wrote {args.out}")
        return 0

    return run()


if __name__ == "__main__":
    sys.exit(main())
