"""CLI: python -m train (--data DIR | --dataset NAME) --out DIR [...] trains and writes the model artifacts."""

from __future__ import annotations

from edge_runtime.errors import UserError, cli_main
from edge_runtime.file_set import check_output_folder
from edge_runtime.folders import order_hint
from edge_runtime.native_logs import quiet_tensorflow
from train.cli import options_from, parser
from train.dataset import Dataset
from train.distribute import read_tf_config
from train.model_options import check_weights_file
from train.model_spec import get_spec
from train.resume import check_resumable
from train.transfer import check_fine_tuning

# What a run may write to --out: the model and its checkpoints (best, last with the optimizer) and
# plots; a MobileNetV2-1.0 run takes about 60 MB, the built-in CNNs a few MB.
OUTPUT_BYTES = 64 * 2**20


def check_class_names(class_names: tuple[str, ...] | list[str], source: str) -> None:
    """Raises UserError, before training, for a class name that labels.txt cannot hold."""
    from labels import format_labels

    try:
        format_labels(list(class_names))
    except ValueError as err:
        raise UserError(f"{source}: {err}; rename that class folder (or pass --labels)") from None


def _load(args, size: int, seed: int) -> tuple[Dataset, Dataset | None, Dataset | None]:
    """(training, validation or None, test or None) images at size x size."""
    from labels import read_labels

    class_names = read_labels(args.labels) if args.labels else None
    shape = (size, size)
    if args.dataset is not None:
        from train.keras_datasets import load_keras_dataset

        if args.labels:
            raise UserError("--labels is for --data folders; a keras dataset has its own (labels/<name>.txt)")
        if args.soft_labels:
            raise UserError("--soft-labels is for --data folders; a keras dataset has only its class labels")
        limit = args.limit_per_class
        train_data = load_keras_dataset(args.dataset, "train", shape, limit_per_class=limit, seed=seed)
        test = load_keras_dataset(args.dataset, "test", shape, limit_per_class=limit, seed=seed)
    else:
        if args.limit_per_class is not None:
            raise UserError("--limit-per-class is for --dataset; for --data, put fewer images in the folders")
        train_data = Dataset.from_folder(args.data, image_size=shape, class_names=class_names)
        if args.soft_labels is not None:
            train_data = train_data.with_soft_labels(args.soft_labels)
        test = None
    names = list(train_data.class_names)
    validation = (
        Dataset.from_folder(args.validation_data, image_size=shape, class_names=names)
        if args.validation_data
        else None
    )
    if args.test_data is not None:
        test = Dataset.from_folder(args.test_data, image_size=shape, class_names=names)
    return train_data, validation, test


@cli_main(flags={"early_stopping_patience": "--patience"})
def main(argv: list[str] | None = None) -> int:
    """Checks the options, loads the images, trains, evaluates on the test images and reports."""
    args = parser().parse_args(argv)
    options, hparams = options_from(args)
    spec = get_spec(args.model)
    size = spec.resolve(options).image_size
    # Mistakes that need no data and no TensorFlow are reported first.
    check_fine_tuning(spec, options, hparams)
    check_weights_file(options.weights)
    if args.resume:
        check_resumable(args.out)
    check_output_folder(args.out, needed_bytes=OUTPUT_BYTES)
    if args.soft_labels is not None and not args.soft_labels.is_file():
        raise UserError(
            f"{args.soft_labels}: no such soft-label file; pass the JSON file of per-image class probabilities"
        )
    if args.distribute == "multi-worker":
        read_tf_config()
    source = args.data if args.data is not None else f"keras.datasets {args.dataset}"
    print(f"loading {source} at {size}x{size}", flush=True)
    train_data, validation, test = _load(args, size, hparams.seed)
    counts = ", ".join(f"{name} {n}" for name, n in train_data.class_counts().items())
    print(f"{len(train_data)} images in {len(train_data.class_names)} classes ({counts})", flush=True)
    check_class_names(train_data.class_names, source)
    hint = None if args.labels or args.dataset else order_hint(train_data.class_names)
    if hint:
        print(hint, flush=True)

    # TensorFlow is imported only now, so mistakes above are reported without waiting for it.
    quiet_tensorflow()
    from train.evaluate_keras import EVALUATION_FILES, evaluate, format_report
    from train.trainer import ARTIFACTS, train

    gray = train_data.grayscale if options.grayscale is None else options.grayscale
    print(
        f"training {spec.name} ({size}x{size}, {'gray' if gray else 'RGB'} inside, weights {options.weights or 'random'}) "
        f"for {hparams.epochs} epochs{f' + {hparams.fine_tune_epochs} fine-tuning' if hparams.fine_tune_epochs else ''}: "
        f"batch {hparams.batch_size}, learning rate {hparams.learning_rate} ({hparams.lr_schedule}), "
        f"validation {'folder' if validation else hparams.validation_split}, "
        f"class weights {'on' if hparams.class_weights else 'off'}{', oversampled' if hparams.oversample else ''}, augmentation {hparams.augmentation.describe()}, "
        f"targets {hparams.targets(train_data.targets is not None)}"
        f"{f' from {args.soft_labels}' if args.soft_labels else ''}, optimizer {hparams.optimizer}, "
        f"seed {hparams.seed}, distribute {args.distribute}{', resuming' if args.resume else ''}",
        flush=True,
    )
    if hparams.augmentation.flip != "none":
        print(
            f"note: --flip {hparams.augmentation.flip} trains on mirror images too; pass --flip none if a "
            "mirrored image is another class (digits, letters, left/right parts)",
            flush=True,
        )
    result = train(
        train_data,
        spec,
        options,
        hparams,
        args.out,
        validation=validation,
        distribute=args.distribute,
        resume=args.resume,
    )
    if result.cluster is not None and not result.cluster.chief:
        print(f"worker {result.cluster.task} done; the chief writes the artifacts")
        return 0
    scores = ", ".join(
        f"{key} {value:.4f}"
        for key in ("accuracy", "val_accuracy", "val_loss")
        if (value := result.best(key)) is not None
    )
    print(f"kept epoch {result.best_epoch} of {len(result.history['loss'])}: {scores}")
    print(f"trained in {result.elapsed_seconds:.0f} s; wrote {', '.join(ARTIFACTS)} to {args.out}")
    if not result.completed:
        print(
            f"stopped before the last epoch; continue with --resume (checkpoints in {args.out}/checkpoints)"
        )
    if test is not None:
        report = evaluate(result.model, test, args.out, seed=hparams.seed)
        print(f"test ({len(test)} images): {format_report(report)}")
        print(f"wrote {', '.join(EVALUATION_FILES)} to {args.out}")
    if args.dataset is not None:
        print(
            f"to convert: python -m train.keras_datasets {args.dataset} --out DIR exports it to class folders; "
            "then python -m convert ... --calibration-data DIR/train"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
