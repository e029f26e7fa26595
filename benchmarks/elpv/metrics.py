"""The ELPV benchmark's figures from a finished run: the int8 model's own predictions, the kept epoch's validation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def kept_validation_accuracy(model_dir: Path) -> float | None:
    """val_accuracy at the epoch a `python -m train` run kept (None: trained without validation)."""
    config = json.loads((model_dir / "train_config.json").read_text())
    history = json.loads((model_dir / "history.json").read_text())
    values = history.get("val_accuracy")
    return values[config["best_epoch"] - 1] if values else None


def int8_metrics(tflite: Path, keras_path: Path, data: Path) -> dict:
    """Accuracy, balanced accuracy, per-class precision/recall/F1 and confusion of the .tflite on `data`,
    and its accuracy on the cells of each expert probability (from data/soft_labels.json)."""
    from convert.converter import image_input_shape, load_keras_model
    from convert.scores import load_files, tflite_scores
    from edge_runtime.folders import read_class_folder
    from labels import read_labels
    from train.class_report import classification_report
    from train.soft_labels import FILE_NAME, read_soft_labels

    class_names = read_labels(keras_path.parent / "labels.txt")
    width, height, channels = image_input_shape(load_keras_model(keras_path))
    files = read_class_folder(data, class_names).files
    evaluation = load_files(files, class_names, width, height, channels)
    if evaluation.skipped:
        raise SystemExit(f"error: {data}: unreadable test images {evaluation.skipped[:3]}")
    scores = tflite_scores(tflite, evaluation.images)
    report = classification_report(evaluation.labels, scores.predictions, class_names).to_json()
    soft = read_soft_labels(data / FILE_NAME, class_names)
    defective = class_names.index("defective")
    probability = np.round([soft[path.relative_to(data).as_posix()][defective] for path, _ in files], 3)
    right = scores.predictions == evaluation.labels
    report["accuracy_by_expert_probability"] = {
        f"{p:.3f}": {
            "images": int(np.sum(probability == p)),
            "accuracy": float(np.mean(right[probability == p])),
        }
        for p in np.unique(probability)
    }
    return report
