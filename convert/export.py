"""Writes the int8 and float32 .tflite files, each with metadata and labels, and labels.txt beside them."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from convert.converter import ConvertOptions, calibration_set, convert, image_input_size, load_keras_model
from edge_runtime.errors import UserError
from edge_runtime.files import atomic_write_bytes
from labels import format_labels, read_labels

INT8_NAME = "model_int8.tflite"
FLOAT32_NAME = "model_float32.tflite"
LABELS_NAME = "labels.txt"


@dataclass(frozen=True)
class ExportOptions:
    """Conversion settings plus what the metadata says about the model.

    Attributes:
      io_type: Input/output type of the int8 model ('uint8' or 'int8').
      calibration_images: Calibration sample size.
      seed: Seeds the calibration sample.
      name, description, author, license, version: Model metadata; name and description
        default to the Keras model's name and a sentence listing the classes.
      force: Replace existing output files.
    """

    io_type: str = "uint8"
    calibration_images: int = 300
    seed: int = 0
    name: str | None = None
    description: str | None = None
    author: str = "edge image classifier pipeline"
    license: str = "Apache-2.0"
    version: str = "1"
    force: bool = False


def model_metadata(name: str, description: str, class_names: list[str], options: ExportOptions):
    """The TFLite Metadata of one of our classifiers: raw-pixel RGB input, probabilities out."""
    from edge_runtime.metadata import ImageInputMetadata, ModelMetadata, ProbabilityOutputMetadata

    return ModelMetadata(
        name=name,
        description=description,
        version=options.version,
        author=options.author,
        license=options.license,
        input=ImageInputMetadata(
            name="image",
            description="RGB image, raw 0..255 pixels, resized to the input size",
            mean=(0.0,),
            std=(1.0,),
        ),
        output=ProbabilityOutputMetadata(
            name="probability",
            description=f"Probabilities of the {len(class_names)} classes",
            labels_file=LABELS_NAME,
        ),
    )


def export_all(
    model_path: Path, labels_path: Path, calibration_folder: Path, out_dir: Path, options: ExportOptions
) -> list[Path]:
    """Converts `model_path` to int8 and float32 .tflite files in `out_dir`.

    Returns:
      The paths written: int8 model, float32 model, labels.txt.

    Raises:
      UserError: Existing outputs without `force`, labels that do not match the model's
        output, or a conversion that fails its checks (nothing is written then).
    """
    from convert.metadata_writer import populate

    outputs = [out_dir / INT8_NAME, out_dir / FLOAT32_NAME, out_dir / LABELS_NAME]
    existing = [str(p) for p in outputs if p.exists()]
    if existing and not options.force:
        raise UserError(f"{existing[0]}: already exists; pass --force to replace it")
    model = load_keras_model(model_path)
    class_names = read_labels(labels_path)
    width, height = image_input_size(model)
    units = model.outputs[0].shape[-1]
    if units != len(class_names):
        raise UserError(f"{labels_path}: {len(class_names)} labels but {model_path} has {units} outputs")
    name = options.name or model.name
    description = options.description or (
        f"Classifies a {width}x{height} RGB image into {len(class_names)} classes: {', '.join(class_names)}."
    )
    meta = model_metadata(name, description, class_names, options)
    files = {LABELS_NAME: format_labels(class_names).encode("utf-8")}

    calibration = calibration_set(calibration_folder, options.calibration_images, width, height, options.seed)
    print(
        f"convert: int8 ({options.io_type} I/O), calibrating on {len(calibration)} images from "
        f"{calibration_folder}",
        file=sys.stderr,
    )
    int8 = convert(
        model, ConvertOptions("int8", options.io_type, options.calibration_images, options.seed), calibration
    )
    print("convert: float32", file=sys.stderr)
    float32 = convert(model, ConvertOptions("float32", "float32"))
    # Every model is built and checked in memory before the first file is written.
    blobs = [populate(int8, meta, files), populate(float32, meta, files), files[LABELS_NAME]]
    for path, data in zip(outputs, blobs, strict=True):
        atomic_write_bytes(path, data)
    return outputs
