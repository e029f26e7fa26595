"""Puts TFLite Metadata and its packed files (labels.txt) into a .tflite model, as tflite-support does."""

from __future__ import annotations

import io
import struct
import zipfile

import numpy as np
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils

from edge_runtime.errors import UserError
from edge_runtime.metadata import METADATA_NAME, ModelMetadata, build_metadata
from labels import parse_labels

__all__ = ["populate"]

# TFLite's schema asks for 16-byte aligned buffer data (force_align: 16); the Python object API
# packs it unaligned, so _AlignedBuffer restores it.
_BUFFER_ALIGNMENT = 16
_CHANNELS = {"RGB": 3, "GRAYSCALE": 1}
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so the same inputs give the same bytes


class _AlignedBuffer(schema.BufferT):
    """A model buffer whose data is packed 16-byte aligned within the file."""

    def Pack(self, builder):  # noqa: N802 (the object API's name)
        data = None
        if self.data is not None:
            payload = np.asarray(self.data, dtype=np.uint8).tobytes()
            builder.StartVector(1, len(payload), _BUFFER_ALIGNMENT)
            builder.head -= len(payload)
            builder.Bytes[builder.head : builder.head + len(payload)] = payload
            data = builder.EndVector()
        schema.BufferStart(builder)
        if data is not None:
            schema.BufferAddData(builder, data)
        if self.offset:
            schema.BufferAddOffset(builder, self.offset)
            schema.BufferAddSize(builder, self.size)
        return schema.BufferEnd(builder)


def _text(name: bytes | str | None) -> str | None:
    return name.decode("utf-8", "replace") if isinstance(name, bytes) else name


def _read_model(model: bytes, source: str) -> schema.ModelT:
    if len(model) < 8 or model[4:8] != b"TFL3":
        raise UserError(f"{source}: not a TFLite model (no TFL3 identifier); pass a .tflite file")
    try:
        return flatbuffer_utils.read_model_from_bytearray(bytearray(model))
    except (struct.error, IndexError, ValueError, TypeError, UnicodeDecodeError) as err:
        raise UserError(f"{source}: corrupt TFLite model ({type(err).__name__}); re-convert it") from None


def _check_channels(what: str, values: tuple[float, ...], channels: int, source: str) -> None:
    if len(values) not in (0, 1, channels):
        raise UserError(
            f"{source}: metadata {what} has {len(values)} values; give 1 or {channels} (one per channel)"
        )


def _check(model: schema.ModelT, meta: ModelMetadata, files: dict[str, bytes], source: str) -> None:
    """Raises UserError unless `meta` and `files` describe `model`'s one image input and one output."""
    if not model.subgraphs:
        raise UserError(f"{source}: the model has no subgraph")
    graph = model.subgraphs[0]
    # The object API gives numpy arrays (or None): no truth tests on them.
    inputs = [] if graph.inputs is None else list(graph.inputs)
    outputs = [] if graph.outputs is None else list(graph.outputs)
    if len(inputs) != 1 or len(outputs) != 1:
        raise UserError(
            f"{source}: the model has {len(inputs)} inputs and {len(outputs)} outputs; the metadata describes "
            "one image input and one probability output"
        )
    in_shape = [int(d) for d in graph.tensors[inputs[0]].shape]
    out_shape = [int(d) for d in graph.tensors[outputs[0]].shape]
    if len(in_shape) != 4:
        raise UserError(f"{source}: input shape {in_shape} is not [1, height, width, channels]")
    channels, image = in_shape[-1], meta.input
    if _CHANNELS.get(image.color_space, channels) != channels:
        raise UserError(f"{source}: input has {channels} channels but the metadata says {image.color_space}")
    for what in ("mean", "std", "min", "max"):
        _check_channels(f"input {what}", getattr(image, what), channels, source)
    labels_file = meta.output.labels_file
    extra = sorted(set(files) - {labels_file})
    if extra:
        raise UserError(f"files: {extra[0]!r} is not named in the metadata; pack only the labels file")
    if labels_file is None:
        return
    if labels_file not in files:
        raise UserError(f"files: no {labels_file!r}, the labels file the metadata names; pass its contents")
    try:
        names = parse_labels(files[labels_file].decode("utf-8-sig"), source=labels_file)
    except UnicodeDecodeError:
        raise UserError(f"{labels_file}: not UTF-8 text; save the labels as UTF-8") from None
    except ValueError as err:
        raise UserError(str(err)) from None
    if not out_shape or len(names) != out_shape[-1]:
        raise UserError(
            f"{labels_file}: {len(names)} labels but {source}'s output has shape {out_shape}; "
            "use the labels the model was trained with"
        )


def _zip_appended(model: bytes, files: dict[str, bytes]) -> bytes:
    """`model` followed by an uncompressed zip of `files`, offsets counted from the file's start."""
    stream = io.BytesIO(model)
    stream.seek(0, io.SEEK_END)
    with zipfile.ZipFile(stream, "a", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(files):
            archive.writestr(zipfile.ZipInfo(name, date_time=_ZIP_TIME), files[name])
    return stream.getvalue()


def populate(model: bytes, meta: ModelMetadata, files: dict[str, bytes], source: str = "model") -> bytes:
    """Returns `model` with TFLite Metadata `meta` and the packed `files`.

    An existing TFLITE_METADATA entry and packed zip are replaced, so populating twice
    gives the same model as populating once.

    Args:
      model: A .tflite model's bytes, with or without metadata.
      meta: The metadata to record.
      files: Files to pack, by name: exactly the labels file `meta.output.labels_file` names.
      source: What to call the model in error messages (usually its path).

    Returns:
      The .tflite bytes (identifier TFL3) with the metadata buffer, and the zip appended.

    Raises:
      UserError: The model is corrupt or not one image input and one output, or `files`
        does not match the metadata or the model's number of classes.
    """
    graph = _read_model(model, source)
    _check(graph, meta, files, source)
    # Re-serializing drops whatever followed the flatbuffer, i.e. an earlier zip of packed files.
    graph.buffers = [_AlignedBuffer(b.data, b.offset, b.size) for b in graph.buffers]
    buffer = _AlignedBuffer(np.frombuffer(build_metadata(meta), dtype=np.uint8))
    entries = [m for m in graph.metadata or [] if _text(m.name) == METADATA_NAME]
    if entries and entries[0].buffer < len(graph.buffers):  # reuse its buffer: no orphan, same bytes
        graph.buffers[entries[0].buffer] = buffer
        graph.metadata = [m for m in graph.metadata if m is entries[0] or m not in entries]
    else:
        graph.buffers.append(buffer)
        others = [m for m in graph.metadata or [] if m not in entries]
        graph.metadata = others + [schema.MetadataT(name=METADATA_NAME, buffer=len(graph.buffers) - 1)]
    return _zip_appended(flatbuffer_utils.convert_object_to_bytearray(graph), files)
