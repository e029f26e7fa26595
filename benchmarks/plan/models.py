"""The planner's default candidates: every registered model at the TFLite table's input sizes, untrained.

Each is built with weights=None (latency and size do not depend on weight values; no download),
converted with the convert stage and cached by benchmarks.instruments.reference.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from edge_runtime.errors import ParameterError, UserError


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
            raise ParameterError("classes", self.classes, "need at least 2")
        if self.quantize not in QUANTIZATIONS:
            raise ParameterError("quantize", self.quantize, f"not one of {', '.join(QUANTIZATIONS)}")
        if self.calibration_images < 1:
            raise ParameterError("calibration_images", self.calibration_images, "must be 1 or more")
        if any(size < 1 for size in self.sizes):
            raise ParameterError("sizes", self.sizes, "sizes must be 1 or more pixels")


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
    from benchmarks.suite.table_models import TABLE_MODELS

    return tuple(sorted({model.size for model in TABLE_MODELS}))


def registry_candidates(sizes: Sequence[int], only: Sequence[str] = ()) -> list[RegistryCandidate]:
    """Every registered model (or the `only` ones) at each of `sizes` it accepts, in registry order.

    A size a model does not accept (outside its range, or not one it has weights for) is skipped;
    the registry's own check decides, so new models need no change here.

    Raises:
      ParameterError: A name in `only` is not registered (parameter 'models', as RegistryOptions).
    """
    from train.model_options import ModelOptions
    from train.model_spec import MODEL_SPECS

    unknown = [name for name in only if name not in MODEL_SPECS]
    if unknown:
        raise ParameterError("models", unknown[0], f"no such model; choose from {', '.join(MODEL_SPECS)}")
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

    See benchmarks.instruments.reference.reference_model for the arguments.

    Returns:
      The .tflite path (with TFLite Metadata and placeholder labels).
    """
    from benchmarks.instruments.reference import reference_model

    built = reference_model(
        candidate.file_stem(quantize), candidate.model, candidate.size, work_dir, classes=classes,
        quantize=quantize, calibration_images=calibration_images, seed=seed, rebuild=rebuild,
    )  # fmt: skip
    return Path(built.path)
