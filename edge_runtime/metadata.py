"""TFLite Metadata (schema file identifier M001): building it and reading it back, without TensorFlow."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

import flatbuffers

from edge_runtime import flatbuffer as fb
from edge_runtime.errors import UserError
from labels import parse_labels

__all__ = [
    "METADATA_NAME",
    "MIN_PARSER_VERSION",
    "ImageInputMetadata",
    "ProbabilityOutputMetadata",
    "ModelMetadata",
    "build_metadata",
    "read_metadata",
    "associated_files",
    "read_labels",
]

METADATA_NAME = "TFLITE_METADATA"  # the Model.metadata entry whose buffer holds the metadata flatbuffer
# Every field written here exists since metadata schema 1.0.0, so any metadata parser understands them.
MIN_PARSER_VERSION = "1.0.0"
_MODEL_ID, _METADATA_ID = b"TFL3", b"M001"
_COLOR_SPACES = ("UNKNOWN", "RGB", "GRAYSCALE")  # ColorSpaceType values 0, 1, 2
_FEATURE_PROPERTIES, _IMAGE_PROPERTIES = 1, 2  # ContentProperties union tags
_NORMALIZATION_OPTIONS = 1  # ProcessUnitOptions union tag
_TENSOR_AXIS_LABELS = 2  # AssociatedFileType


def _floats(values: float | tuple[float, ...]) -> tuple[float, ...]:
    return (float(values),) if isinstance(values, (int, float)) else tuple(float(v) for v in values)


@dataclass(frozen=True)
class ImageInputMetadata:
    """The image input tensor. Empty `mean`/`std` or `min`/`max` mean "not recorded".

    Attributes:
      name: Tensor name shown by metadata tools.
      description: What the tensor holds.
      mean: NormalizationOptions mean, one value per channel or one for all: tensor = (pixel - mean) / std.
      std: NormalizationOptions std, as `mean`.
      color_space: 'RGB', 'GRAYSCALE' or 'UNKNOWN'.
      min: Stats: smallest tensor value, per channel or one for all.
      max: Stats: largest tensor value, per channel or one for all.
    """

    name: str = "image"
    description: str = "Input image: RGB, raw pixel values 0..255."
    mean: tuple[float, ...] = (0.0,)
    std: tuple[float, ...] = (1.0,)
    color_space: str = "RGB"
    min: tuple[float, ...] = (0.0,)
    max: tuple[float, ...] = (255.0,)

    def __post_init__(self) -> None:
        for name in ("mean", "std", "min", "max"):  # accept scalars and lists; store tuples of floats
            object.__setattr__(self, name, _floats(getattr(self, name)))
        if len(self.mean) != len(self.std):
            raise UserError(
                f"input normalization: {len(self.mean)} mean and {len(self.std)} std values; give both alike"
            )
        if 0.0 in self.std:
            raise UserError(f"input normalization: std {self.std} has a zero; use a positive std")
        if self.color_space not in _COLOR_SPACES:
            raise UserError(
                f"input color_space {self.color_space!r} is unknown; use one of {', '.join(_COLOR_SPACES)}"
            )


@dataclass(frozen=True)
class ProbabilityOutputMetadata:
    """The class-probability output tensor and its labels file (None: no labels recorded).

    Attributes:
      name: Tensor name shown by metadata tools.
      description: What the tensor holds.
      labels_file: Name of the packed TENSOR_AXIS_LABELS file, line i naming class i.
      labels_description: Description of that file (not recorded without `labels_file`).
      min: Stats: smallest tensor value, per class or one for all.
      max: Stats: largest tensor value, per class or one for all.
    """

    name: str = "probability"
    description: str = "Probability of each class, in the order of the labels file."
    labels_file: str | None = "labels.txt"
    labels_description: str = "Class names, one per line; line i names class i."
    min: tuple[float, ...] = (0.0,)
    max: tuple[float, ...] = (1.0,)

    def __post_init__(self) -> None:
        for name in ("min", "max"):
            object.__setattr__(self, name, _floats(getattr(self, name)))


@dataclass(frozen=True)
class ModelMetadata:
    """Everything we record about a single-input, single-output image classifier."""

    name: str
    description: str = ""
    version: str = ""
    author: str = ""
    license: str = ""
    input: ImageInputMetadata = field(default_factory=ImageInputMetadata)
    output: ProbabilityOutputMetadata = field(default_factory=ProbabilityOutputMetadata)


def _tensor(b, t, tag: int, properties: int, units: list[int], files: list[int]) -> int:
    name, description = fb.string(b, t.name), fb.string(b, t.description)
    content = fb.table(b, {1: properties}, {0: tag})  # Content: content_properties_type, content_properties
    stats = None
    if t.min or t.max:
        stats = fb.table(b, {0: fb.float_vector(b, t.max), 1: fb.float_vector(b, t.min)})  # Stats: max, min
    units_vector, files_vector = fb.table_vector(b, units), fb.table_vector(b, files)
    # TensorMetadata: name, description, dimension_names, content, process_units, stats, associated_files
    return fb.table(b, {0: name, 1: description, 3: content, 4: units_vector, 5: stats, 6: files_vector})


def build_metadata(meta: ModelMetadata) -> bytes:
    """Builds the TFLite Metadata flatbuffer (identifier M001) for `meta`.

    Args:
      meta: What to record.

    Returns:
      The flatbuffer, to be stored in the model's TFLITE_METADATA buffer.
    """
    b = flatbuffers.Builder(1024)
    image, output = meta.input, meta.output
    units = []
    if image.mean:
        options = fb.table(b, {0: fb.float_vector(b, image.mean), 1: fb.float_vector(b, image.std)})
        # ProcessUnit: options_type 0, options 1
        units.append(fb.table(b, {1: options}, {0: _NORMALIZATION_OPTIONS}))
    properties = fb.table(b, {}, {0: _COLOR_SPACES.index(image.color_space)})  # ImageProperties: color_space
    input_tensor = _tensor(b, image, _IMAGE_PROPERTIES, properties, units, [])
    files = []
    if output.labels_file:
        name, description = fb.string(b, output.labels_file), fb.string(b, output.labels_description)
        files.append(fb.table(b, {0: name, 1: description}, {2: _TENSOR_AXIS_LABELS}))  # AssociatedFile
    output_tensor = _tensor(b, output, _FEATURE_PROPERTIES, fb.table(b, {}), [], files)
    # SubGraphMetadata: input_tensor_metadata 2, output_tensor_metadata 3
    subgraph = fb.table(b, {2: fb.table_vector(b, [input_tensor]), 3: fb.table_vector(b, [output_tensor])})
    texts = [
        fb.string(b, text) for text in (meta.name, meta.description, meta.version, meta.author, meta.license)
    ]
    # ModelMetadata: name, description, version, subgraph_metadata, author, license, associated_files,
    # min_parser_version
    root = fb.table(
        b,
        {0: texts[0], 1: texts[1], 2: texts[2], 3: fb.table_vector(b, [subgraph]), 4: texts[3], 5: texts[4]}
        | {7: b.CreateString(MIN_PARSER_VERSION)},
    )
    b.Finish(root, file_identifier=_METADATA_ID)
    return bytes(b.Output())


def _metadata_buffer(model: bytes, source: str) -> bytes | None:
    """The TFLITE_METADATA buffer's bytes, or None."""
    if len(model) < 8 or model[4:8] != _MODEL_ID:
        raise UserError(f"{source}: not a TFLite model (no TFL3 identifier); pass a .tflite file")
    root = fb.Table.root(model, f"{source}: corrupt TFLite model")  # Model: buffers 4, metadata 6
    for entry in root.tables(6):  # Metadata: name 0, buffer 1
        if entry.string(0) != METADATA_NAME:
            continue
        index, buffers = entry.scalar(1, "<I"), root.tables(4)
        if index >= len(buffers):
            raise UserError(
                f"{source}: {METADATA_NAME} names buffer {index} of {len(buffers)}; re-create the model"
            )
        data = buffers[index].byte_vector(0)  # Buffer: data 0, offset 1, size 2
        offset, size = buffers[index].scalar(1, "<Q"), buffers[index].scalar(2, "<Q")
        if not data and offset > 1:  # large models keep data outside the flatbuffer, offset from file start
            if offset + size > len(model):
                raise UserError(
                    f"{source}: {METADATA_NAME} data lies beyond the file's end; re-create the model"
                )
            data = model[offset : offset + size]
        return data or None
    return None


def _tensor_stats(tensor: fb.Table) -> dict[str, tuple[float, ...]]:
    stats = tensor.table(5)
    return {"max": stats.floats(0), "min": stats.floats(1)} if stats else {"max": (), "min": ()}


def _checked(cls, source: str, *args, **kwargs):
    """`cls(*args, **kwargs)`, its complaint about the values naming the model."""
    try:
        return cls(*args, **kwargs)
    except UserError as err:
        raise UserError(f"{source}: metadata {err}") from None


def _read_input(tensor: fb.Table, source: str) -> ImageInputMetadata:
    color_space, mean, std = "UNKNOWN", (), ()
    content = tensor.table(3)
    if content and content.scalar(0, "<B") == _IMAGE_PROPERTIES and content.table(1):
        value = content.table(1).scalar(0, "<b")
        color_space = _COLOR_SPACES[value] if 0 <= value < len(_COLOR_SPACES) else "UNKNOWN"
    for unit in tensor.tables(4):
        if unit.scalar(0, "<B") == _NORMALIZATION_OPTIONS and unit.table(1):
            mean, std = unit.table(1).floats(0), unit.table(1).floats(1)
            break
    stats = _tensor_stats(tensor)
    return _checked(
        ImageInputMetadata, source, tensor.string(0), tensor.string(1), mean, std, color_space, **stats
    )


def _read_output(tensor: fb.Table, source: str) -> ProbabilityOutputMetadata:
    labels = [f for f in tensor.tables(6) if f.scalar(2, "<b") == _TENSOR_AXIS_LABELS]
    labels_file = labels[0].string(0) if labels else None
    labels_description = labels[0].string(1) if labels else ""
    texts = tensor.string(0), tensor.string(1), labels_file, labels_description
    return _checked(ProbabilityOutputMetadata, source, *texts, **_tensor_stats(tensor))


def read_metadata(model: bytes, source: str = "model") -> ModelMetadata | None:
    """Reads the TFLite Metadata of a .tflite model.

    Args:
      model: The .tflite file's bytes.
      source: What to call the model in error messages (usually its path).

    Returns:
      The metadata, or None when the model has none.

    Raises:
      UserError: The bytes are not a TFLite model, the metadata is corrupt or is not that of
        a single-input, single-output model.
    """
    data = _metadata_buffer(model, source)
    if data is None:
        return None
    if len(data) < 8 or data[4:8] != _METADATA_ID:
        raise UserError(
            f"{source}: {METADATA_NAME} is not TFLite Metadata (no M001 identifier); re-create the model"
        )
    root = fb.Table.root(data, f"{source}: corrupt {METADATA_NAME}")
    subgraphs = root.tables(3)
    if len(subgraphs) != 1:
        raise UserError(f"{source}: metadata describes {len(subgraphs)} subgraphs; expected 1")
    inputs, outputs = subgraphs[0].tables(2), subgraphs[0].tables(3)
    if len(inputs) != 1 or len(outputs) != 1:
        raise UserError(
            f"{source}: metadata describes {len(inputs)} inputs and {len(outputs)} outputs; expected 1 and 1"
        )
    image, output = _read_input(inputs[0], source), _read_output(outputs[0], source)
    texts = [root.string(i) for i in (0, 1, 2, 4, 5)]  # name, description, version, author, license
    return ModelMetadata(*texts, input=image, output=output)


def associated_files(model: bytes, source: str = "model") -> dict[str, bytes]:
    """The files packed into the model (the zip appended to the .tflite), by name; {} if none.

    Raises:
      UserError: The packed zip is damaged.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(model))
    except zipfile.BadZipFile:
        return {}
    try:
        with archive:
            return {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as err:
        raise UserError(
            f"{source}: packed associated files are damaged ({err}); re-create the model"
        ) from None


def read_labels(model: bytes, source: str = "model") -> list[str] | None:
    """The class names from the output's TENSOR_AXIS_LABELS file packed in the model.

    Args:
      model: The .tflite file's bytes.
      source: What to call the model in error messages (usually its path).

    Returns:
      The class names (index i = class i), or None if the metadata records no labels file.

    Raises:
      UserError: Corrupt model or metadata, or the labels file is missing or invalid.
    """
    meta = read_metadata(model, source)
    if meta is None or meta.output.labels_file is None:
        return None
    name = meta.output.labels_file
    files = associated_files(model, source)
    if name not in files:
        raise UserError(
            f"{source}: metadata names labels file {name!r} but it is not packed in the model; re-create it"
        )
    try:
        return parse_labels(files[name].decode("utf-8-sig"), source=f"{source}:{name}")
    except UnicodeDecodeError:
        raise UserError(f"{source}:{name}: labels file is not UTF-8; re-create the model") from None
    except ValueError as err:
        raise UserError(str(err)) from None
