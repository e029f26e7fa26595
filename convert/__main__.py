"""`python -m convert`: a saved Keras model to int8 and float32 .tflite files with metadata and labels."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from convert.converter import IO_TYPES, RECOMMENDED_CALIBRATION_IMAGES
from edge_runtime.errors import UserError, cli_main

CLIENTS_HELP = """\
which clients accept which model:
  int8, --io uint8 (default)  TFLite Task Library, MediaPipe Tasks, Coral Edge TPU (after edgetpu_compiler), CPU
  int8, --io int8             CPU interpreters only (the Task Library and MediaPipe accept uint8/float32 I/O only)
  float32                     TFLite Task Library, MediaPipe Tasks, CPU; not the Edge TPU
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m convert",
        description="Convert a saved Keras image classifier to a full-integer int8 .tflite (uint8 input and "
        "output, batch 1) and a float32 .tflite, both with TFLite Metadata and their labels.",
        epilog=CLIENTS_HELP,
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
        "--calibration-images",
        type=int,
        default=RECOMMENDED_CALIBRATION_IMAGES,
        help="images that calibrate the int8 ranges (default: %(default)s, or all if fewer)",
    )
    parser.add_argument(
        "--io",
        dest="io_type",
        choices=[t for t in IO_TYPES if t != "float32"],
        default="uint8",
        help="int8 model input/output type (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seeds the choice of calibration images")
    parser.add_argument("--name", help="model name in the metadata (default: from the Keras model)")
    parser.add_argument("--description", help="model description in the metadata")
    parser.add_argument("--author", default="edge image classifier pipeline", help="metadata author")
    parser.add_argument("--license", default="Apache-2.0", help="metadata license")
    parser.add_argument("--model-version", default="1", help="metadata version string")
    parser.add_argument("--force", action="store_true", help="replace existing output files")
    return parser


def _training_data(model_path: Path) -> Path | None:
    """The training folder recorded by `python -m train` beside the model, if any."""
    config = model_path.parent / "train_config.json"
    if not config.is_file():
        return None
    try:
        data = json.loads(config.read_text(encoding="utf-8")).get("data")
    except (json.JSONDecodeError, AttributeError):
        raise UserError(f"{config}: not valid JSON; pass --calibration-data") from None
    return Path(data) if data else None


@cli_main
def main(argv: list[str] | None = None) -> int:
    from convert.export import ExportOptions, export_all

    args = _parser().parse_args(argv)
    labels = args.labels or args.model.parent / "labels.txt"
    calibration = args.calibration_data or _training_data(args.model)
    if calibration is None:
        raise UserError(
            f"{args.model}: no train_config.json beside it naming the training data; "
            "pass --calibration-data DIR"
        )
    options = ExportOptions(
        io_type=args.io_type,
        calibration_images=args.calibration_images,
        seed=args.seed,
        name=args.name,
        description=args.description,
        author=args.author,
        license=args.license,
        version=args.model_version,
        force=args.force,
    )
    written = export_all(args.model, labels, calibration, args.out, options)
    for path in written:
        print(f"wrote {path} ({path.stat().st_size / 1024:.1f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
