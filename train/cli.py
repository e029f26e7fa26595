"""The `python -m train` command line: its options and their mapping onto the typed option dataclasses."""

from __future__ import annotations

import argparse
from pathlib import Path

from train.augmentation import AMOUNTS, FLIP_MODES, AugmentOptions
from train.distribute import STRATEGIES
from train.hyperparameters import LR_SCHEDULES, MONITORS, OPTIMIZERS, Hyperparameters
from train.keras_datasets import KERAS_DATASETS
from train.model_options import ModelOptions
from train.model_spec import MODEL_SPECS

COLORS = {"auto": None, "rgb": False, "grayscale": True}
EPILOG = """\
models:
{models}

examples:
  python -m train --data build/data/elpv/train --out build/model
  python -m train --dataset fashion_mnist --model ann --epochs 10 --out build/fashion
  python -m train --dataset cifar10 --model mobilenet_v2 --image-size 96 --weights imagenet \\
      --fine-tune-epochs 5 --flip horizontal --rotation 0.1 --zoom 0.1 --out build/cifar10
  python -m train --data build/data/elpv/train --out build/model --resume   # continue an interrupted run
"""


# --help of each augmentation amount (train.augmentation.AMOUNTS), in the order the layers run.
_AMOUNT_HELP = {
    "rotation": "max rotation, fraction of a turn",
    "translation": "max shift, fraction of the size",
    "zoom": "max zoom, fraction of the size",
    "brightness": "max brightness shift, fraction of 255",
    "contrast": "max contrast change, fraction",
    "gain": "max exposure change, a factor per image: 0.3 = 1/1.3x to 1.3x (against brightness confounds)",
    "blur": "Gaussian blur up to this sigma in model pixels, a random strength per image (1: soft focus)",
    "gamma": "max tone-curve change per image: 0.25 = gammas 0.8 to 1.25 (dark areas against bright ones)",
    "noise": "Gaussian pixel noise, standard deviation in levels of 0..255",
}


def parser() -> argparse.ArgumentParser:
    """The argument parser, with the dataclasses' defaults."""
    hp, mo, aug = Hyperparameters(), ModelOptions(), AugmentOptions()
    models = "\n".join(
        f"  {s.name:<32} {s.description} (default size {s.default_size})" for s in MODEL_SPECS.values()
    )
    p = argparse.ArgumentParser(
        prog="python -m train",
        description="Train an image classifier that takes raw RGB pixels; writes model.keras and its artifacts.",
        epilog=EPILOG.format(models=models),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    data = p.add_argument_group("data")
    source = data.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, help="training folder, one subfolder per class")
    source.add_argument(
        "--dataset", help=f"a keras.datasets dataset: {', '.join(KERAS_DATASETS)} (test split included)"
    )
    data.add_argument(
        "--out", required=True, type=Path, help="folder for model.keras and the other artifacts"
    )
    data.add_argument("--validation-data", type=Path, help="validation folder (default: --validation-split)")
    data.add_argument("--test-data", type=Path, help="test folder, evaluated after training")
    data.add_argument(
        "--labels", type=Path, help="labels file giving the class order (default: sorted folders)"
    )
    data.add_argument("--limit-per-class", type=int, help="use at most N images per class of --dataset")
    data.add_argument(
        "--soft-labels",
        type=Path,
        help="JSON file of per-image class probabilities to train on instead of the folder labels "
        "(train.elpv writes DIR/soft_labels.json); validation still scores the folder labels",
    )

    model = p.add_argument_group("model")
    model.add_argument("--model", default=mo.model, help="model name (listed below); default %(default)s")
    model.add_argument("--image-size", type=int, help="square input side (default: the model's)")
    model.add_argument("--alpha", type=float, default=mo.alpha, help="width multiplier (MobileNets, cnn_bn)")
    model.add_argument("--dropout", type=float, help="dropout before the classifier (default: the model's)")
    model.add_argument(
        "--weights",
        default="none",
        help="initial weights: none (random), imagenet, or a weights file; default none",
    )
    model.add_argument(
        "--views",
        type=int,
        default=mo.views,
        help="the saved model averages its answer over 1, 2 (and the transpose) or 4 (and the mirror "
        "images) views of the input, at as many times the inference time; default %(default)s",
    )
    model.add_argument(
        "--color",
        choices=COLORS,
        default="auto",
        help="grayscale converts RGB to gray inside the model; auto: "
        "grayscale when every training image is gray (default)",
    )

    fit = p.add_argument_group("training")
    fit.add_argument("--epochs", type=int, default=hp.epochs, help="default %(default)s")
    fit.add_argument("--batch-size", type=int, default=hp.batch_size, help="default %(default)s")
    fit.add_argument("--learning-rate", type=float, default=hp.learning_rate, help="default %(default)s")
    fit.add_argument(
        "--lr-schedule", choices=LR_SCHEDULES, default=hp.lr_schedule, help="default %(default)s"
    )
    fit.add_argument("--warmup-epochs", type=int, default=hp.warmup_epochs, help="cosine warm-up epochs")
    fit.add_argument(
        "--weight-decay", type=float, default=hp.weight_decay, help="AdamW weight decay (0: Adam)"
    )
    fit.add_argument("--optimizer", choices=OPTIMIZERS, default=hp.optimizer, help="default %(default)s")
    fit.add_argument(
        "--label-smoothing",
        type=float,
        default=hp.label_smoothing,
        help="target smoothing, default %(default)s (bounded logits quantize well; 0: none)",
    )
    fit.add_argument("--mixup", type=float, default=hp.mixup, help="mixup Beta parameter (0: none)")
    fit.add_argument(
        "--ema",
        type=float,
        default=hp.ema,
        help="keep, validate and save a moving average of the weights with this momentum per step "
        "(0: none; 0.99-0.999)",
    )
    fit.add_argument(
        "--precise-bn",
        type=int,
        default=hp.precise_bn,
        metavar="N",
        help="re-estimate batch-norm statistics on N training images for the weights validated and kept "
        "at each epoch's end (0: none)",
    )
    fit.add_argument("--seed", type=int, default=hp.seed, help="default %(default)s")
    fit.add_argument(
        "--validation-split", type=float, default=hp.validation_split, help="default %(default)s"
    )
    fit.add_argument(
        "--split-seed",
        type=int,
        help="seed of the validation split (default: --seed); same for ensemble members",
    )
    fit.add_argument("--patience", type=int, help="stop a stage after N epochs without improvement")
    fit.add_argument(
        "--monitor", choices=MONITORS, default=hp.monitor, help="picks the best epoch; default %(default)s"
    )
    fit.add_argument(
        "--no-class-weights", action="store_true", help="do not weight the loss by inverse class frequency"
    )
    fit.add_argument(
        "--oversample",
        action="store_true",
        help="balance the classes by showing the smaller ones' images again in each epoch, instead of class weights",
    )
    fit.add_argument(
        "--fine-tune-epochs", type=int, default=0, help="epochs of fine-tuning the base's top (pretrained)"
    )
    fit.add_argument("--fine-tune-layers", type=int, help="base layers to unfreeze (default: the top third)")
    fit.add_argument("--fine-tune-learning-rate", type=float, help="default: learning rate / 10")

    aug_group = p.add_argument_group("augmentation (training images only; Keras preprocessing layers)")
    aug_group.add_argument("--flip", choices=FLIP_MODES, default=aug.flip, help="default %(default)s")
    aug_group.add_argument("--quarter-turns", action="store_true", help="random 90-degree rotations")
    for name in AMOUNTS:
        aug_group.add_argument(f"--{name}", type=float, default=getattr(aug, name), help=_AMOUNT_HELP[name])
    aug_group.add_argument("--no-augment", action="store_true", help="no augmentation at all")

    run = p.add_argument_group("run")
    run.add_argument(
        "--distribute", choices=STRATEGIES, default="none", help="tf.distribute strategy (default none)"
    )
    run.add_argument("--resume", action="store_true", help="continue the run checkpointed in --out")
    return p


def options_from(args: argparse.Namespace) -> tuple[ModelOptions, Hyperparameters]:
    """The model options and hyperparameters the parsed arguments ask for (checked by the dataclasses)."""
    weights = (
        None
        if args.weights.lower() == "none"
        else ("imagenet" if args.weights.lower() == "imagenet" else args.weights)
    )
    options = ModelOptions(
        model=args.model,
        image_size=args.image_size,
        alpha=args.alpha,
        dropout=args.dropout,
        weights=weights,
        grayscale=COLORS[args.color],
        views=args.views,
    )
    augmentation = (
        AugmentOptions.none()
        if args.no_augment
        else AugmentOptions(
            flip=args.flip,
            quarter_turns=args.quarter_turns,
            **{name: getattr(args, name) for name in AMOUNTS},
        )
    )
    hparams = Hyperparameters(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
        validation_split=args.validation_split,
        split_seed=args.split_seed,
        augmentation=augmentation,
        class_weights=not (args.no_class_weights or args.oversample),
        oversample=args.oversample,
        early_stopping_patience=args.patience,
        monitor=args.monitor,
        lr_schedule=args.lr_schedule,
        warmup_epochs=args.warmup_epochs,
        weight_decay=args.weight_decay,
        optimizer=args.optimizer,
        label_smoothing=args.label_smoothing,
        mixup=args.mixup,
        ema=args.ema,
        precise_bn=args.precise_bn,
        fine_tune_epochs=args.fine_tune_epochs,
        fine_tune_layers=args.fine_tune_layers,
        fine_tune_learning_rate=args.fine_tune_learning_rate,
    )
    return options, hparams
