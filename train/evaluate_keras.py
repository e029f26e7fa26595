"""Evaluates a Keras model on labelled images: metrics JSON, confusion matrix (JSON, PNG), prediction grid PNG.

CLI: python -m train.evaluate_keras --model build/model/model.keras (--data DIR | --dataset NAME) --out DIR
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from edge_runtime.errors import ParameterError, UserError, cli_main
from edge_runtime.files import atomic_write_bytes, atomic_write_text
from train.class_report import ClassificationReport, classification_report
from train.dataset import Dataset

if TYPE_CHECKING:
    import keras

EVALUATION_FILES = ("evaluation.json", "confusion_matrix.json", "confusion_matrix.png", "predictions.png")


def evaluate(
    model: keras.Model,
    data: Dataset,
    out_dir: str | os.PathLike,
    *,
    title: str = "test",
    examples: int = 15,
    seed: int = 0,
    batch_size: int = 64,
) -> ClassificationReport:
    """Classifies `data` with `model` and writes EVALUATION_FILES to `out_dir`.

    Args:
      model: A model taking `data`'s images (raw 0..255 pixels) and giving class probabilities.
      data: Labelled images at the model's input size, classes in the model's output order.
      out_dir: Folder for the files (created if missing).
      title: What the images are ('test', 'validation'), for the figure titles and the JSON.
      examples: Images in the prediction grid (a seeded sample).
      seed: Seed of that sample.
      batch_size: Images per prediction batch.

    Returns:
      The metrics.
    """
    from train.plots import plot_confusion
    from train.prediction_grid import pick_examples, plot_predictions

    # Batch by batch rather than model.predict: under a multi-worker strategy predict would wait
    # on collectives with workers that have already finished.
    probabilities = np.concatenate(
        [np.asarray(model(images, training=False)) for images, _ in data.gen_tf_dataset(batch_size)]
    )
    report = classification_report(data.labels, probabilities.argmax(axis=1), data.class_names)
    out = Path(out_dir)
    summary = {"data": str(data.root), "split": title, **report.to_json()}
    atomic_write_text(out / "evaluation.json", json.dumps(summary, indent=2) + "\n")
    atomic_write_text(out / "confusion_matrix.json", json.dumps(report.confusion_json(), indent=2) + "\n")
    atomic_write_bytes(
        out / "confusion_matrix.png",
        plot_confusion(
            report.confusion, data.class_names, title=f"Confusion matrix ({title}, {len(data)} images)"
        ),
    )
    chosen = pick_examples(examples, len(data), seed)
    atomic_write_bytes(
        out / "predictions.png",
        plot_predictions(data.images[chosen], probabilities[chosen], data.labels[chosen], data.class_names),
    )
    return report


def format_report(report: ClassificationReport) -> str:
    """Accuracy, balanced accuracy and a per-class precision/recall/F1 table as text."""
    lines = [
        f"accuracy {100 * report.accuracy:.2f}%, balanced accuracy {100 * report.balanced_accuracy:.2f}%",
        f"{'class':<16} {'precision':>9} {'recall':>7} {'f1':>6} {'images':>7}",
    ]
    for name, m in report.per_class.items():
        lines.append(f"{name[:16]:<16} {m.precision:>9.3f} {m.recall:>7.3f} {m.f1:>6.3f} {m.support:>7}")
    return "\n".join(lines)


def _load_model(path: Path) -> keras.Model:
    """The saved Keras model at `path`; errors name the file."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such Keras model (train one first: python -m train)")
    from edge_runtime.native_logs import quiet_tensorflow

    quiet_tensorflow()
    import keras

    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as err:  # Keras raises many types for damaged zips and configs.
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        raise UserError(f"{path}: cannot load as a Keras model ({reason})") from None


@cli_main
def main(argv: list[str] | None = None) -> int:
    """Loads the model and the labelled images, evaluates, prints the metrics and writes the files."""
    parser = argparse.ArgumentParser(prog="python -m train.evaluate_keras", description=__doc__)
    parser.add_argument("--model", required=True, type=Path, help="the saved Keras model (model.keras)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, help="labelled images: DATA/<class>/*")
    source.add_argument("--dataset", help="a keras.datasets name (its test split): fashion_mnist, cifar10")
    parser.add_argument("--labels", type=Path, help="labels file (default: labels.txt beside the model)")
    parser.add_argument("--out", required=True, type=Path, help="folder for the evaluation files")
    parser.add_argument(
        "--examples", type=int, default=15, help="images in predictions.png (default %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the example sample")
    args = parser.parse_args(argv)
    from labels import read_labels

    class_names = read_labels(args.labels or args.model.parent / "labels.txt")
    if args.examples < 1:
        raise ParameterError("examples", args.examples, "must be at least 1")
    model = _load_model(args.model)
    height, width = (int(d) for d in model.inputs[0].shape[1:3])
    if args.data is not None:
        data = Dataset.from_folder(args.data, image_size=(height, width), class_names=class_names)
    else:
        from train.keras_datasets import load_keras_dataset

        data = load_keras_dataset(args.dataset, "test", (height, width))
        if list(data.class_names) != class_names:
            raise UserError(
                f"{args.dataset}'s classes {list(data.class_names)} are not the model's {class_names}"
            )
    report = evaluate(model, data, args.out, examples=args.examples, seed=args.seed)
    print(format_report(report))
    print(f"wrote {', '.join(EVALUATION_FILES)} to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
