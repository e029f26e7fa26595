"""Ensembles: trained models of the same input and classes averaged into one deployable model.

CLI: python -m train.ensemble --members A/model.keras B/model.keras ... --out DIR [--data DIR --validation-split 0.2 --split-seed 0]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from edge_runtime.errors import UserError, cli_main

if TYPE_CHECKING:
    import keras


def average_models(members: Sequence[keras.Model], name: str = "ensemble") -> keras.Model:
    """One model whose softmax is the mean of `members`' (each runs once: the cost adds up).

    Raises:
      UserError: Fewer than two members, or members with different input or output shapes.
    """
    import keras

    if len(members) < 2:
        raise UserError(f"an ensemble needs at least 2 models, got {len(members)}")
    shapes = {(tuple(m.input_shape[1:]), tuple(m.output_shape[1:])) for m in members}
    if len(shapes) != 1:
        raise UserError(
            f"ensemble members differ in (input, output) shape: {sorted(shapes)}; train them alike"
        )
    inputs = keras.Input(members[0].input_shape[1:], name="image")
    outputs = []
    for index, member in enumerate(members):
        member.name = f"member{index}_{member.name}"  # unique names inside one model
        outputs.append(member(inputs))
    return keras.Model(inputs, keras.layers.Average(name="probabilities")(outputs), name=name)


def load_member(path: Path) -> tuple[keras.Model, list[str]]:
    """A trained model and the labels.txt beside it."""
    import keras

    from labels import read_labels

    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model; pass model.keras files written by python -m train")
    labels = path.parent / "labels.txt"
    if not labels.is_file():
        raise UserError(f"{path}: no labels.txt beside it; pass the model.keras of a python -m train run")
    return keras.saving.load_model(path, compile=False), read_labels(labels)


@cli_main
def main(argv: list[str] | None = None) -> int:
    """Averages the members into OUT/model.keras (+ labels.txt, ensemble.json); optionally scores it."""
    parser = argparse.ArgumentParser(prog="python -m train.ensemble", description=__doc__)
    parser.add_argument("--members", nargs="+", type=Path, required=True, help="model.keras files")
    parser.add_argument("--out", type=Path, required=True, help="folder for model.keras and labels.txt")
    parser.add_argument(
        "--data",
        type=Path,
        help="training folder: score members and ensemble on its validation split, as python -m train carves it",
    )
    parser.add_argument("--validation-split", type=float, default=0.2, help="default %(default)s")
    parser.add_argument(
        "--split-seed", type=int, default=0, help="the members' --split-seed; default %(default)s"
    )
    args = parser.parse_args(argv)
    from edge_runtime.native_logs import quiet_tensorflow

    quiet_tensorflow()
    from edge_runtime.files import atomic_write_text
    from labels import write_labels
    from train.callbacks import save_model_atomically

    loaded = [load_member(path) for path in args.members]
    class_names = loaded[0][1]
    for path, (_, names) in zip(args.members, loaded, strict=True):
        if names != class_names:
            raise UserError(f"{path}: classes {names} differ from {args.members[0]}'s {class_names}")
    members = [model for model, _ in loaded]
    scores = {}
    if args.data is not None:
        from train.dataset import Dataset

        size = members[0].input_shape[1:3]
        folder = Dataset.from_folder(args.data, image_size=tuple(size), class_names=class_names)
        _, data = folder.split(args.validation_split, seed=args.split_seed)
        scores = {
            str(path): _accuracy(model, data) for path, model in zip(args.members, members, strict=True)
        }
    ensemble = average_models(members)
    if args.data is not None:
        scores["ensemble"] = _accuracy(ensemble, data)
    args.out.mkdir(parents=True, exist_ok=True)
    save_model_atomically(ensemble, args.out / "model.keras")
    write_labels(args.out / "labels.txt", class_names)
    report = {"members": [str(p) for p in args.members], "accuracy": scores or None}
    atomic_write_text(args.out / "ensemble.json", json.dumps(report, indent=2) + "\n")
    for name, accuracy in scores.items():
        print(f"{name}: validation accuracy {100 * accuracy:.2f}% ({len(data)} images of {args.data})")
    print(f"wrote an ensemble of {len(members)} models to {args.out / 'model.keras'}")
    return 0


def _accuracy(model: keras.Model, data) -> float:
    import numpy as np

    probabilities = model.predict(data.images.astype(np.float32), batch_size=64, verbose=0)
    return float(np.mean(np.argmax(probabilities, axis=1) == data.labels))


if __name__ == "__main__":
    raise SystemExit(main())
