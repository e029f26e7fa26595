"""The one builder of reference models: a train registry architecture, untrained, converted and cached.

Every benchmark model that stands for an architecture (the MobileNet table's rows, the camera
benchmark's MobileNetV2, the ELPV benchmark's reference, the planner's candidates) is built here
through train.model_spec with weights=None (latency and size do not depend on weight values; no
download) and converted by our convert stage (benchmarks.instruments.converting), so one cache
entry serves them all.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

from benchmarks.instruments.converting import BuiltModel, build_tflite
from benchmarks.instruments.paths import REPO

REFERENCE_WORK_DIR = Path("build/benchmarks/models")


@functools.cache
def registry_fingerprint() -> str:
    """SHA-256 of train/'s source files, so a model whose definition was edited is converted again.

    The whole package, not the modules loaded so far: those depend on what ran before in the
    process (a calibration sample loads train.elpv), and the cache key must not. Read once a process.
    """
    digest = hashlib.sha256()
    for path in sorted((REPO / "train").rglob("*.py")):
        digest.update(path.relative_to(REPO).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def registry_keras(model: str, size: int, alpha: float = 1.0, classes: int = 2, seed: int = 0):
    """The Keras model of registry MODEL at SIZE x SIZE, width ALPHA, random weights seeded by SEED."""
    import keras

    from train.model_options import ModelOptions
    from train.model_spec import get_spec

    keras.utils.set_random_seed(seed)
    return get_spec(model).build(
        ModelOptions(model=model, image_size=size, alpha=alpha, weights=None), classes
    )


def reference_model(
    name: str,
    model: str,
    size: int,
    work_dir: str | os.PathLike = REFERENCE_WORK_DIR,
    *,
    alpha: float = 1.0,
    classes: int = 2,
    quantize: str = "int8",
    calibration_images: int = 100,
    seed: int = 0,
    rebuild: bool = False,
) -> BuiltModel:
    """Builds registry model MODEL at SIZE x SIZE untrained, converts it and caches WORK_DIR/NAME.tflite.

    Args:
      name: File stem and model name, e.g. 'MobileNet_V2_1.0_224_quant'.
      model: A train.model_spec registry name, e.g. 'mobilenet_v2'.
      size: The square input side in pixels (one the registry accepts for MODEL).
      work_dir: Cache folder; a file whose recorded settings match is reused.
      alpha: Width multiplier, for the models that have one.
      classes: Outputs of the softmax head (1000 for ImageNet's table rows, 2 for ELPV).
      quantize: A convert.modes quantization ('int8': full integer with uint8 I/O, calibrated on ELPV).
      calibration_images: int8 calibration images.
      seed: Seeds the random weights and the calibration sample.
      rebuild: Convert even when cached.

    Returns:
      The converted model (with TFLite Metadata and placeholder labels) and how it was made.

    Raises:
      UserError: The registry does not accept the model, size or alpha.
    """
    from train.model_options import ModelOptions
    from train.model_spec import get_spec

    # A size or alpha the model does not take fails here, before TensorFlow loads.
    get_spec(model).resolve(ModelOptions(model=model, image_size=size, alpha=alpha, weights=None))
    make_keras = functools.partial(registry_keras, model, size, alpha, classes, seed)
    architecture = {
        "registry": model, "size": size, "alpha": alpha, "classes": classes, "weights": None,
        "source_sha256": registry_fingerprint(),
    }  # fmt: skip
    return build_tflite(name, make_keras, quantize, work_dir, calibration_images, seed, rebuild, architecture)
