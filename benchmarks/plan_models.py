"""The planner's default candidates: every registered model at the TFLite table's input sizes, untrained.

Each is built with weights=None (latency and size do not depend on weight values; no download),
converted with the convert stage (convert.converter, through benchmarks.converting) and cached.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from edge_runtime.errors import UserError


@dataclass(frozen=True)
class RegistryOptions:
    """Which registered models to build and how.

    Attributes:
      work_dir: Cache of the converted models.
      models: Registry names to build; empty: all.
      sizes: Input sides; empty: the TFLite table's (the smallest only with quick runs).
      classes: Outputs of the classifier head (2, as ELPV).
      quantize: A convert.modes quantization (int8: full integer, uint8 I/O).
      calibration_images: int8 calibration images.
      rebuild: Convert even when cached.
    """

    work_dir: Path = Path("build/plan/models")
    models: tuple[str, ...] = ()
    sizes: tuple[int, ...] = ()
    classes: int = 2
    quantize: str = "int8"
    calibration_images: int = 100
    rebuild: bool = False

    def __post_init__(self) -> None:
        from convert.modes import QUANTIZATIONS

        if self.classes < 2:
            raise UserError(f"--classes {self.classes}: need at least 2")
        if self.quantize not in QUANTIZATIONS:
            raise UserError(f"--quantize {self.quantize!r} is not one of {', '.join(QUANTIZATIONS)}")
        if self.calibration_images < 1:
            raise UserError(f"--calibration-images {self.calibration_images}: must be 1 or more")
        if any(size < 1 for size in self.sizes):
            raise UserError(f"--sizes {','.join(map(str, self.sizes))}: sizes must be 1 or more pixels")


@dataclass(frozen=True)
class RegistryCandidate:
    """One registered model at one input size.

    Attributes:
      model: The train.model_spec registry name.
      size: The square input side in pixels.
    """

    model: str
    size: int

    def file_stem(self, quantize: str) -> str:
        """The cached file's stem, e.g. 'mobilenet_v2_224_int8'."""
        return f"{self.model}_{self.size}_{quantize}"


def table_sizes() -> tuple[int, ...]:
    """The input sizes of TFLite's hosted-models table (benchmarks.table_models), ascending."""
    from benchmarks.table_models import TABLE_MODELS

    return tuple(sorted({model.size for model in TABLE_MODELS}))


def registry_candidates(sizes: Sequence[int], only: Sequence[str] = ()) -> list[RegistryCandidate]:
    """Every registered model (or the `only` ones) at each of `sizes` it accepts, in registry order.

    A size a model does not accept (outside its range, or not one it has weights for) is skipped;
    the registry's own check decides, so new models need no change here.

    Raises:
      UserError: A name in `only` is not registered.
    """
    from train.model_options import ModelOptions
    from train.model_spec import MODEL_SPECS

    unknown = [name for name in only if name not in MODEL_SPECS]
    if unknown:
        raise UserError(
            f"--registry-models {unknown[0]}: no such model; choose from {', '.join(MODEL_SPECS)}"
        )
    candidates = []
    for name, spec in MODEL_SPECS.items():
        if only and name not in only:
            continue
        for size in sizes:
            try:
                spec.resolve(ModelOptions(model=name, image_size=size))
            except UserError:
                continue
            candidates.append(RegistryCandidate(name, size))
    return candidates


def registry_fingerprint() -> str:
    """SHA-256 of the source of the train modules the registry loads, so an edited model is rebuilt."""
    import train.model_spec  # noqa: F401  (loads the modules that define the models)

    digest = hashlib.sha256()
    for name in sorted(n for n in sys.modules if n == "train" or n.startswith("train.")):
        path = getattr(sys.modules[name], "__file__", None)
        if path and Path(path).is_file():
            digest.update(name.encode() + b"\0" + Path(path).read_bytes())
    return digest.hexdigest()


def build_candidate(
    candidate: RegistryCandidate,
    work_dir: str | os.PathLike,
    quantize: str = "int8",
    classes: int = 2,
    calibration_images: int = 100,
    seed: int = 0,
    rebuild: bool = False,
) -> Path:
    """Builds the candidate untrained, converts it and caches WORK_DIR/<model>_<size>_<quantize>.tflite.

    Args:
      candidate: Which registered model at which size.
      work_dir: Cache folder; a file whose recorded settings match is reused.
      quantize: A convert.modes quantization ('int8' calibrates on real ELPV images when installed).
      classes: Outputs of the classifier head.
      calibration_images: int8 calibration images.
      seed: Seeds the random weights and the calibration sample.
      rebuild: Convert even when cached.

    Returns:
      The .tflite path (with TFLite Metadata and placeholder labels).
    """
    from benchmarks.converting import build_tflite
    from train.model_options import ModelOptions
    from train.model_spec import get_spec

    options = ModelOptions(model=candidate.model, image_size=candidate.size, weights=None)

    def make_keras():
        import keras

        keras.utils.set_random_seed(seed)
        return get_spec(candidate.model).build(options, classes)

    built = build_tflite(
        candidate.file_stem(quantize),
        make_keras,
        quantize,
        work_dir,
        calibration_images=calibration_images,
        seed=seed,
        rebuild=rebuild,
        architecture={
            "registry": candidate.model,
            "size": candidate.size,
            "classes": classes,
            "weights": None,
            "source_sha256": registry_fingerprint(),
        },
    )
    return Path(built.path)
