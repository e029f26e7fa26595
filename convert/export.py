"""Converts, gates and writes: the chosen mode and the float32 comparison model, labels.txt and the model card."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from convert.converter import ConvertOptions, calibration_set, convert, image_input_shape, load_keras_model
from convert.gate import GateOptions, GateResult, resolve_test_data, run_gate
from convert.modes import model_filename
from edge_runtime.errors import ParameterError, UserError
from edge_runtime.file_set import staged_files
from edge_runtime.files import atomic_write_bytes
from edge_runtime.folders import list_images
from labels import format_labels, read_labels

INT8_NAME = "model_int8.tflite"
FLOAT32_NAME = "model_float32.tflite"
LABELS_NAME = "labels.txt"
FLOAT32 = ConvertOptions("float32")


@dataclass(frozen=True)
class ExportOptions:
    """Conversion, gate and card settings plus what the metadata says about the model.

    Attributes:
      conversion: The mode to convert to; a float32 comparison model is always made too.
      gate: The accuracy gate.
      latency_runs: Timed invokes per thread count for the model card (after `latency_warmup`).
      latency_warmup: Untimed invokes first.
      name, description, author, license, version: Model metadata; name and description
        default to the Keras model's name and a sentence listing the classes.
      force: Replace existing output files.
    """

    conversion: ConvertOptions = field(default_factory=ConvertOptions)
    gate: GateOptions = field(default_factory=GateOptions)
    latency_runs: int = 20
    latency_warmup: int = 3
    name: str | None = None
    description: str | None = None
    author: str = "edge image classifier pipeline"
    license: str = "Apache-2.0"
    version: str = "1"
    force: bool = False

    def __post_init__(self) -> None:
        if self.latency_runs < 1:
            raise ParameterError("latency_runs", self.latency_runs, "must be at least 1")
        if self.latency_warmup < 0:
            raise ParameterError("latency_warmup", self.latency_warmup, "must be 0 or more")


@dataclass(frozen=True)
class ExportResult:
    """What a run did: the gate's verdict and the files written (none when the gate failed)."""

    gate: GateResult
    written: tuple[Path, ...]
    card: dict | None = None

    @property
    def passed(self) -> bool:
        """Whether every model passed the accuracy gate."""
        return self.gate.passed


def model_metadata(
    name: str, description: str, class_names: list[str], options: ExportOptions, channels: int = 3
):
    """The TFLite Metadata of one of our classifiers: raw-pixel image input, probabilities out."""
    from edge_runtime.metadata import ImageInputMetadata, ModelMetadata, ProbabilityOutputMetadata

    color = "RGB" if channels == 3 else "GRAYSCALE"
    return ModelMetadata(
        name=name,
        description=description,
        version=options.version,
        author=options.author,
        license=options.license,
        input=ImageInputMetadata(
            name="image",
            description=f"{color} image, raw 0..255 pixels, resized to the input size",
            mean=(0.0,),
            std=(1.0,),
            color_space=color,
        ),
        output=ProbabilityOutputMetadata(
            name="probability",
            description=f"Probabilities of the {len(class_names)} classes",
            labels_file=LABELS_NAME,
        ),
    )


def output_names(conversion: ConvertOptions) -> list[str]:
    """The files a run writes, in writing order: models, labels, model card."""
    from convert.model_card import CARD_JSON, CARD_MD

    models = [model_filename(conversion)] + ([FLOAT32_NAME] if conversion.quantize != "float32" else [])
    return [*models, LABELS_NAME, CARD_JSON, CARD_MD]


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _check_inputs(
    model, model_path: Path, class_names: list[str], labels_path: Path, calibration_folder, conversion
):
    """Raises UserError when the labels do not fit the model or int8 has no calibration images."""
    units = model.outputs[0].shape[-1]
    if units != len(class_names):
        raise UserError(f"{labels_path}: {len(class_names)} labels but {model_path} has {units} outputs")
    if not conversion.needs_calibration:
        return
    if calibration_folder is None:
        raise ParameterError(
            "calibration_folder",
            None,
            "int8 conversion needs calibration images; give a folder of training images",
        )
    if not list_images(calibration_folder, recursive=True):
        raise UserError(
            f"{calibration_folder}: no image files for calibration (put training images there, any sub-folders)"
        )


def _latency(data: bytes, image, options: ExportOptions) -> list[dict]:
    from convert.model_card import measure_latency
    from edge_runtime.interpreter import usable_cores

    threads = sorted({1, usable_cores()})
    return [measure_latency(data, image, t, options.latency_runs, options.latency_warmup) for t in threads]


def export_all(
    model_path: Path,
    labels_path: Path,
    calibration_folder: Path | None,
    out_dir: Path,
    options: ExportOptions,
) -> ExportResult:
    """Converts `model_path`, checks every model against it on test images, and writes what passed.

    Nothing is written when a model loses more accuracy than allowed, unless `gate.keep_failed`;
    check `ExportResult.passed`. The files are staged and swapped in as one set: on any failure
    (a full disk, Ctrl-C) the previous models, labels and card stay as they were.

    Raises:
      UserError: Existing outputs without `force`, labels that do not match the model's output,
        no calibration or test images, or a conversion that fails its checks (nothing is written).
    """
    conversion = options.conversion
    names = output_names(conversion)
    existing = [str(out_dir / n) for n in names if (out_dir / n).exists()]
    if existing and not options.force:
        raise UserError(f"{existing[0]}: already exists; pass --force to replace it")

    from edge_runtime.native_logs import quiet_tensorflow

    quiet_tensorflow()  # first: the modules below import it, with its native start-up noise
    from convert.metadata_writer import populate
    from convert.model_card import build_card, merge_previous, model_entry, sha256, write_card
    from convert.scores import load_files

    model = load_keras_model(model_path)
    class_names = read_labels(labels_path)
    width, height, channels = image_input_shape(model)
    _check_inputs(model, model_path, class_names, labels_path, calibration_folder, conversion)
    test = resolve_test_data(options.gate, calibration_folder, class_names)
    evaluation = load_files(test.files, class_names, width, height, channels)
    _log(f"gate: {test.describe()}")
    calibration, calibration_info = None, None
    if conversion.needs_calibration:
        tested = {path for path, _ in test.files}  # never calibrate on an image the gate tests with
        calibration = calibration_set(
            calibration_folder,
            conversion.calibration_images,
            width,
            height,
            conversion.seed,
            channels,
            tested,
        )
        calibration_info = {
            "folder": str(calibration_folder),
            "images": len(calibration),
            "seed": conversion.seed,
        }
        _log(
            f"convert: {conversion.label}, calibrating on {len(calibration)} images from {calibration_folder}"
        )

    description = options.description or (
        f"Classifies a {width}x{height} image into {len(class_names)} classes: {', '.join(class_names)}."
    )
    meta = model_metadata(options.name or model.name, description, class_names, options, channels)
    files = {LABELS_NAME: format_labels(class_names).encode("utf-8")}
    modes = {names[0]: conversion}
    if conversion.quantize != "float32":
        modes[FLOAT32_NAME] = FLOAT32
    blobs = {}
    for name, mode in modes.items():
        if not mode.needs_calibration:  # the int8 model was announced with its calibration
            _log(f"convert: {mode.label}" + (" (comparison model)" if mode is FLOAT32 else ""))
        blobs[name] = populate(convert(model, mode, calibration), meta, files, source=name)

    gate = run_gate(model, blobs, evaluation, test, options.gate.max_accuracy_drop)
    if not gate.passed and not options.gate.keep_failed:
        return ExportResult(gate, ())

    entries = {}
    used = None if calibration is None else len(calibration)
    for result in gate.models:
        _log(f"latency: {result.name}")
        latency = _latency(blobs[result.name], evaluation.images[0], options)
        entries[result.name] = model_entry(
            result.name, blobs[result.name], modes[result.name], result, gate, latency, used
        )
    source = {
        "file": str(model_path),
        "sha256": sha256(Path(model_path).read_bytes()),
        "name": model.name,
        "input_shape": [None, height, width, channels],
    }
    card = build_card(source, gate, calibration_info, entries)
    if options.force:
        card = merge_previous(card, out_dir)

    # One set: the models, labels and card are swapped in together, or the previous set stays.
    with staged_files(out_dir, names) as staging:
        for name, data in {**blobs, LABELS_NAME: files[LABELS_NAME]}.items():
            atomic_write_bytes(staging / name, data)
        write_card(staging, card)
    return ExportResult(gate, tuple(out_dir / name for name in names), card)
