"""Converts benchmark models with our own convert stage, quietly, and caches the .tflite files."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.instruments.frames import sample_images
from edge_runtime.files import atomic_write_bytes, atomic_write_text


@dataclass(frozen=True)
class BuiltModel:
    """A converted benchmark model.

    Attributes:
      name: The model's name.
      path: The .tflite file (with TFLite Metadata and placeholder labels, so the Task Library
        and MediaPipe accept it).
      size_bytes: The converted flatbuffer alone, what a size table compares.
      quantize: 'int8' (uint8 I/O) or 'float32'.
      calibration: Where the calibration images came from (None for float32).
      keras_macs: MACs counted from the Keras layers.
      convert_seconds: Conversion time when converted now; from the cache entry when reused.
      reused: True when the cached file matched and nothing was converted.
    """

    name: str
    path: str
    size_bytes: int
    quantize: str
    calibration: str | None
    keras_macs: int
    convert_seconds: float
    reused: bool


@contextlib.contextmanager
def quiet_output() -> Iterator[None]:
    """Silences stdout and stderr at the file-descriptor level (TensorFlow logs from C++).

    The captured text is replayed on stderr when the block raises, so a failure still explains
    itself.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile(mode="w+b") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        except BaseException:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            log.seek(0)
            sys.stderr.write(log.read().decode("utf-8", "replace")[-4000:])
            raise
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def with_metadata(data: bytes, name: str, classes: int) -> bytes:
    """Adds our TFLite Metadata and placeholder labels (class_0000...) to converted bytes."""
    from convert.export import ExportOptions, model_metadata
    from convert.metadata_writer import populate
    from labels import format_labels

    names = [f"class_{i:04d}" for i in range(classes)]
    meta = model_metadata(name, f"{name}, random weights, for benchmarks only", names, ExportOptions())
    return populate(data, meta, {"labels.txt": format_labels(names).encode("utf-8")})


def build_tflite(
    name: str,
    make_keras: Callable[[], object],
    quantize: str,
    work_dir: str | os.PathLike,
    calibration_images: int = 100,
    seed: int = 0,
    rebuild: bool = False,
    architecture: Mapping | None = None,
) -> BuiltModel:
    """Converts a Keras model with convert.converter (int8 with uint8 I/O, or float32), cached.

    The file WORK_DIR/NAME.tflite is reused when its sidecar NAME.json records the same
    settings and library versions.

    Args:
      name: File stem and model name.
      make_keras: Builds the Keras model (called only when converting).
      quantize: 'int8' or 'float32'.
      work_dir: Cache folder.
      calibration_images: int8 calibration images (real ELPV images when installed).
      seed: Seeds the calibration sample.
      rebuild: Convert even when the cache matches.
      architecture: What defines the Keras model (JSON-ready), part of the cache key so a
        changed architecture is converted again.

    Returns:
      The model's path, sizes and how it was made.
    """
    from benchmarks.instruments.machine import library_versions
    from convert.converter import ConvertOptions, convert, image_input_size

    work = Path(work_dir)
    path, sidecar = work / f"{name}.tflite", work / f"{name}.json"
    key = {
        "name": name,
        "quantize": quantize,
        "calibration_images": calibration_images if quantize == "int8" else 0,
        "seed": seed,
        "architecture": json.loads(json.dumps(architecture)) if architecture is not None else None,
        "libraries": library_versions(("tensorflow", "keras", "elpv-dataset")),
    }
    if not rebuild and path.is_file() and sidecar.is_file():
        cached = json.loads(sidecar.read_text())
        if cached.get("key") == key:
            return BuiltModel(**{**cached["model"], "reused": True})

    start = time.perf_counter()
    with quiet_output():
        model = make_keras()
        calibration = None
        if quantize == "int8":
            width, height = image_input_size(model)
            calibration = sample_images(calibration_images, width, height, seed)
        options = ConvertOptions(
            quantize=quantize,
            io_type="uint8" if quantize == "int8" else "float32",
            calibration_images=calibration_images,
            seed=seed,
        )
        data = convert(model, options, None if calibration is None else calibration.images)
        classes = int(model.outputs[0].shape[-1])
        from benchmarks.instruments.macs import keras_macs

        macs = keras_macs(model)
    built = BuiltModel(
        name=name,
        path=str(path),
        size_bytes=len(data),
        quantize=quantize,
        calibration=None if calibration is None else calibration.source,
        keras_macs=macs,
        convert_seconds=time.perf_counter() - start,
        reused=False,
    )
    atomic_write_bytes(path, with_metadata(data, name, classes))
    entry = {k: v for k, v in asdict(built).items() if k != "reused"}
    atomic_write_text(sidecar, json.dumps({"key": key, "model": entry}, indent=2) + "\n")
    return built
