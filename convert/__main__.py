"""`python -m convert`: a saved Keras model to .tflite (any mode) plus a float32 comparison model, gated, with a card."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from convert.modes import IO_TYPES, QUANTIZATIONS, RECOMMENDED_CALIBRATION_IMAGES
from convert.modes_table import modes_help
from edge_runtime.errors import UserError, cli_main
from edge_runtime.file_set import check_output_folder

EXIT_GATE_FAILED = 1

FILES_AND_GATE = """
files: model_<quantize>.tflite (model_int8_int8io.tflite for int8 I/O), model_float32.tflite, labels.txt,
model_card.json and MODEL_CARD.md in --out.

accuracy gate: the Keras model and each .tflite (through edge_runtime) classify the test images; when a
model loses more than --max-accuracy-drop points, nothing is written (unless --keep-failed) and the exit
status is 1. Bad input exits 2.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m convert",
        description="Convert a saved Keras image classifier to .tflite with TFLite Metadata and labels: by default "
        "full-integer int8 with uint8 input and output, batch 1, plus a float32 comparison model; check "
        "both against the Keras model on held-out images; write a model card beside them.",
        epilog=modes_help() + FILES_AND_GATE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", required=True, type=Path, help="the saved Keras model (model.keras)")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--labels", type=Path, help="labels file (default: labels.txt beside the model)")
    parser.add_argument(
        "--calibration-data",
        type=Path,
        help="folder of training images, searched recursively (default: the training data in train_config.json)",
    )
    parser.add_argument(
        "--quantize", choices=QUANTIZATIONS, default="int8", help="quantization mode (default: %(default)s)"
    )
    parser.add_argument(
        "--io",
        dest="io_type",
        choices=IO_TYPES,
        help="input/output type: uint8 (default) or int8 for --quantize int8; float32 for the other modes",
    )
    parser.add_argument(
        "--calibration-images",
        type=int,
        default=RECOMMENDED_CALIBRATION_IMAGES,
        help="images that calibrate the int8 ranges (default: %(default)s, or all if fewer; seeded)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seeds the calibration sample and the held-out split"
    )
    parser.add_argument(
        "--test-data",
        type=Path,
        help="held-out class folders for the accuracy gate (default: the 'test' folder beside the calibration "
        "folder, else a seeded 20%% of the calibration folder, not used for calibration)",
    )
    parser.add_argument(
        "--max-accuracy-drop",
        type=float,
        default=1.0,
        help="most accuracy points a converted model may lose against the Keras model (default: %(default)s)",
    )
    parser.add_argument(
        "--keep-failed",
        action="store_true",
        help="write the models even when they fail the gate (exit stays 1)",
    )
    parser.add_argument(
        "--latency-runs",
        type=int,
        default=20,
        help="timed invokes per thread count for the card (default: %(default)s)",
    )
    parser.add_argument("--name", help="model name in the metadata (default: from the Keras model)")
    parser.add_argument("--description", help="model description in the metadata")
    parser.add_argument("--author", default="edge image classifier pipeline", help="metadata author")
    parser.add_argument("--license", default="Apache-2.0", help="metadata license")
    parser.add_argument("--model-version", default="1", help="metadata version string")
    parser.add_argument("--force", action="store_true", help="replace existing output files")
    return parser


def _training_record(model_path: Path) -> dict:
    """train_config.json beside the model ({} when absent), refused when it was written for another model.

    `python -m train` records the sha256 of the model it wrote; a config (and the labels.txt
    beside it) from an earlier run into the same folder must not label or calibrate this model.
    """
    from edge_runtime.files import sha256_file

    config = model_path.parent / "train_config.json"
    if not config.is_file():
        return {}
    try:
        record = json.loads(config.read_text(encoding="utf-8"))
        recorded = record.get("model_sha256")
    except (json.JSONDecodeError, AttributeError, UnicodeDecodeError):
        raise UserError(f"{config}: not valid JSON; pass --labels and --calibration-data") from None
    if recorded and model_path.is_file() and recorded != sha256_file(model_path):
        raise UserError(
            f"{config}: written by the training run of another model than {model_path} (its model_sha256 "
            "differs), so the labels.txt and training data beside it may be stale; convert the model that run "
            "wrote, or pass --labels and --calibration-data"
        )
    return record


def _expected_bytes(model_path: Path) -> int:
    """About what the artifacts take: a float32 model near the Keras file's size, the int8 one a quarter."""
    return 2 * model_path.stat().st_size if model_path.is_file() else 0


@cli_main(flags={"io_type": "--io", "calibration_folder": "--calibration-data"})
def main(argv: list[str] | None = None) -> int:
    from convert.converter import ConvertOptions
    from convert.export import ExportOptions, export_all
    from convert.gate import GateOptions, format_gate

    args = _parser().parse_args(argv)
    # Options first: a wrong flag is reported before TensorFlow's multi-second import.
    conversion = ConvertOptions(args.quantize, args.io_type, args.calibration_images, args.seed)
    gate = GateOptions(args.max_accuracy_drop, args.test_data, seed=args.seed, keep_failed=args.keep_failed)
    check_output_folder(args.out, _expected_bytes(args.model))
    if args.model.suffix == ".tflite":
        raise UserError(f"{args.model}: already a .tflite model; pass the saved Keras model (model.keras)")
    if args.model.is_dir():
        raise UserError(f"{args.model}: is a folder; pass the saved Keras model file inside it (model.keras)")
    if not args.model.exists():
        raise FileNotFoundError(f"{args.model}: no such Keras model (train one first: make train)")
    record = {} if args.labels and args.calibration_data else _training_record(args.model)
    labels = args.labels or args.model.parent / "labels.txt"
    dataset = record.get("dataset")
    calibration = args.calibration_data or (Path(dataset) if dataset else None)
    if calibration is None and (conversion.needs_calibration or args.test_data is None):
        raise UserError(
            f"{args.model}: no train_config.json beside it naming the training data; pass --calibration-data DIR"
        )
    options = ExportOptions(
        conversion=conversion,
        gate=gate,
        latency_runs=args.latency_runs,
        name=args.name,
        description=args.description,
        author=args.author,
        license=args.license,
        version=args.model_version,
        force=args.force,
    )
    result = export_all(args.model, labels, calibration, args.out, options)
    print(format_gate(result.gate))
    for path in result.written:
        print(f"wrote {path} ({path.stat().st_size / 1024:.1f} KiB)")
    if not result.passed:
        kept = "written anyway (--keep-failed)" if result.written else f"nothing written to {args.out}"
        print(
            f"error: accuracy gate failed: {result.gate.failures()} (max {args.max_accuracy_drop:.2f}); {kept}; "
            "calibrate on more images, try --quantize float16 or dynamic, or raise --max-accuracy-drop",
            file=sys.stderr,
        )
        return EXIT_GATE_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())
