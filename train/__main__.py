"""CLI: python -m train --data DIR --out DIR [--model cnn] [...] trains and writes the model artifacts."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from edge_runtime.errors import cli_main
from train.dataset import Dataset
from train.hyperparameters import Hyperparameters
from train.model_options import ModelOptions
from train.model_spec import MODEL_SPECS, get_spec


def _parser() -> argparse.ArgumentParser:
    hp, mo = Hyperparameters(), ModelOptions()
    models = "; ".join(
        f"{s.name}: {s.description} (default size {s.default_size})" for s in MODEL_SPECS.values()
    )
    parser = argparse.ArgumentParser(prog="python -m train", description=__doc__)
    parser.add_argument("--data", required=True, type=Path, help="training folder, one subfolder per class")
    parser.add_argument(
        "--out", required=True, type=Path, help="folder for model.keras and the other artifacts"
    )
    parser.add_argument("--model", default=mo.model, help=f"model name ({models}); default %(default)s")
    parser.add_argument(
        "--image-size", type=int, default=None, help="square input side (default: the model's)"
    )
    parser.add_argument("--alpha", type=float, default=mo.alpha, help="width multiplier (mobilenet_v2)")
    parser.add_argument("--dropout", type=float, default=None, help="dropout rate (default: the model's)")
    parser.add_argument("--epochs", type=int, default=hp.epochs, help="default %(default)s")
    parser.add_argument("--batch-size", type=int, default=hp.batch_size, help="default %(default)s")
    parser.add_argument("--learning-rate", type=float, default=hp.learning_rate, help="default %(default)s")
    parser.add_argument("--seed", type=int, default=hp.seed, help="default %(default)s")
    parser.add_argument(
        "--validation-split", type=float, default=hp.validation_split, help="default %(default)s"
    )
    parser.add_argument("--patience", type=int, default=None, help="stop after N epochs without improvement")
    parser.add_argument(
        "--no-class-weights", action="store_true", help="do not weight the loss by inverse class frequency"
    )
    parser.add_argument("--no-augment", action="store_true", help="do not flip training images at random")
    return parser


def _on(flag: bool) -> str:
    return "on" if flag else "off"


@cli_main
def main(argv: list[str] | None = None) -> int:
    """Checks the options, loads the images, trains and reports where the artifacts went."""
    args = _parser().parse_args(argv)
    spec = get_spec(args.model)
    options = spec.resolve(
        ModelOptions(model=args.model, image_size=args.image_size, alpha=args.alpha, dropout=args.dropout)
    )
    hparams = Hyperparameters(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
        validation_split=args.validation_split,
        augment=not args.no_augment,
        class_weights=not args.no_class_weights,
        early_stopping_patience=args.patience,
    )
    size = options.image_size
    print(f"loading {args.data} at {size}x{size}", flush=True)
    dataset = Dataset.from_folder(args.data, image_size=(size, size))
    counts = ", ".join(f"{name} {n}" for name, n in dataset.class_counts().items())
    print(f"{len(dataset)} images in {len(dataset.class_names)} classes ({counts})", flush=True)

    # TensorFlow is imported only now, so mistakes above are reported without waiting for it.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from train.trainer import ARTIFACTS, train

    print(
        f"training {spec.name} ({size}x{size}, dropout {options.dropout}) for {hparams.epochs} epochs: "
        f"batch {hparams.batch_size}, learning rate {hparams.learning_rate}, "
        f"validation split {hparams.validation_split}, class weights {_on(hparams.class_weights)}, "
        f"flips {_on(hparams.augment)}, seed {hparams.seed}",
        flush=True,
    )
    result = train(dataset, spec, options, hparams, args.out)
    scores = ", ".join(
        f"{key} {value:.4f}"
        for key in ("accuracy", "val_accuracy", "val_loss")
        if (value := result.best(key)) is not None
    )
    print(f"kept epoch {result.best_epoch} of {len(result.history['loss'])}: {scores}")
    print(f"trained in {result.elapsed_seconds:.0f} s; wrote {', '.join(ARTIFACTS)} to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
