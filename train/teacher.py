"""Teacher soft labels for distillation: trained models' averaged answers on a folder, cached as a soft-label file.

CLI: python -m train.teacher --models A/model.keras [B/model.keras ...] --data DIR --out soft.json [--mix 0.5]

Each image's target is `mix` times the teachers' mean softmax plus (1 - mix) times its folder
label, written in the format `python -m train --soft-labels` reads (train.soft_labels). The
teachers run once, here; a student then trains on the file as often as needed.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from edge_runtime.errors import UserError, cli_main
from edge_runtime.files import atomic_write_text


def blend(teacher: np.ndarray, labels: np.ndarray, mix: float) -> np.ndarray:
    """mix * teacher probabilities + (1 - mix) * one-hot labels, rows summing to 1."""
    one_hot = np.eye(teacher.shape[1], dtype=np.float64)[labels]
    return mix * teacher.astype(np.float64) + (1.0 - mix) * one_hot


def teacher_probabilities(
    models: Sequence[Path], data: Path, batch_size: int = 64
) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """(class names, image files, folder labels, mean softmax of the teachers) over DATA's images.

    Raises:
      UserError: A teacher without labels.txt, teachers that disagree on the classes or the input size.
    """
    from train.dataset import Dataset
    from train.ensemble import load_member

    loaded = [load_member(path) for path in models]
    classes = {tuple(names) for _, names in loaded}
    sizes = {tuple(model.input_shape[1:3]) for model, _ in loaded}
    if len(classes) != 1 or len(sizes) != 1:
        raise UserError(
            f"the teachers differ in classes {sorted(classes)} or input size {sorted(sizes)}; use alike models"
        )
    class_names = list(classes.pop())
    dataset = Dataset.from_folder(data, image_size=sizes.pop(), class_names=class_names)
    total = np.zeros((len(dataset), len(class_names)), np.float64)
    for model, _ in loaded:
        total += model.predict(dataset.images, batch_size=batch_size, verbose=0)
    return class_names, list(dataset.files), dataset.labels, total / len(loaded)


@cli_main
def main(argv: list[str] | None = None) -> int:
    """Writes OUT, the teachers' soft labels for every image of DATA."""
    from train.soft_labels import soft_labels_json

    parser = argparse.ArgumentParser(prog="python -m train.teacher", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models", type=Path, nargs="+", required=True, help="the teachers' model.keras files"
    )
    parser.add_argument("--data", type=Path, required=True, help="the student's training folder")
    parser.add_argument("--out", type=Path, required=True, help="the soft-label JSON file to write")
    parser.add_argument(
        "--mix", type=float, default=1.0, help="weight of the teachers against the folder labels (default 1)"
    )
    args = parser.parse_args(argv)
    if not 0.0 <= args.mix <= 1.0:
        raise UserError(f"--mix {args.mix}: must be in [0, 1] (1: the teachers alone, 0: the folder labels)")
    class_names, files, labels, teacher = teacher_probabilities(args.models, args.data)
    targets = blend(teacher, labels, args.mix)
    table = {
        name: dict(zip(class_names, map(float, row), strict=True))
        for name, row in zip(files, targets, strict=True)
    }
    atomic_write_text(args.out, soft_labels_json(table))
    agree = float(np.mean(np.argmax(teacher, axis=1) == labels))
    print(
        f"wrote {args.out}: {len(files)} images, teachers agree with the folder labels on {100 * agree:.2f}%"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
