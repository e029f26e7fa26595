"""Models on a keras.applications base (VGG16, MobileNet V1/V2/V3, EfficientNetB0), random or pretrained.

The base is a nested model, so transfer learning can freeze it and fine-tuning can unfreeze its
top (train.transfer). Its input preprocessing is a layer of ours in front of it, so the model takes
raw 0..255 RGB pixels like every model here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from edge_runtime.errors import UserError
from train.model_inputs import caffe_bgr, classifier_head, image_input, rescaled, to_gray
from train.model_options import IMAGENET, ModelOptions, check_weights_file

if TYPE_CHECKING:
    import keras

# How each family wants its pixels (keras.applications.<family>.preprocess_input, as layers).
MINUS1_1, CAFFE, RAW = "minus1_1", "caffe", "raw"


@dataclass(frozen=True)
class BaseNetwork:
    """A keras.applications network used without its top.

    Attributes:
      constructor: Name of the function in keras.applications, e.g. 'MobileNetV2'.
      preprocessing: MINUS1_1 (x / 127.5 - 1), CAFFE (BGR minus ImageNet means) or RAW (the base
        rescales 0..255 itself, as EfficientNet does).
      takes_alpha: The constructor has a width multiplier.
      kwargs: Further constructor arguments, e.g. {'minimalistic': True}.
      hidden_units: Size of a ReLU Dense layer between pooling and the classifier (0: none).
    """

    constructor: str
    preprocessing: str
    takes_alpha: bool = False
    kwargs: Mapping[str, object] = field(default_factory=dict)
    hidden_units: int = 0


def keras_home() -> Path:
    """Keras' cache folder: $KERAS_HOME, else ~/.keras (datasets/ and models/ live there)."""
    return Path(os.path.expanduser(os.environ.get("KERAS_HOME") or os.path.join("~", ".keras")))


def _download_failure(err: Exception) -> tuple[str, str] | None:
    """(url, reason) when `err` is keras.utils.get_file's failed download, else None."""
    match = re.search(r"URL fetch failure on (\S+): (.*)", str(err))
    return (match.group(1), match.group(2).strip()) if match else None


def _create_base(base: BaseNetwork, shape: tuple[int, int, int], options: ModelOptions, name: str):
    """Calls the keras.applications constructor, turning download and weights-file failures into one line."""
    import keras

    weights = options.weights
    check_weights_file(weights)
    kwargs = dict(base.kwargs)
    if base.takes_alpha:
        kwargs["alpha"] = options.alpha
    constructor = getattr(keras.applications, base.constructor)
    try:
        return constructor(input_shape=shape, include_top=False, weights=weights, **kwargs)
    except Exception as err:  # Keras raises bare Exception, ValueError or h5py errors here.
        failure = _download_failure(err)
        if failure is not None:
            url, reason = failure
            target = keras_home() / "models" / url.rsplit("/", 1)[-1]
            raise UserError(
                f"cannot download the ImageNet weights of {name} from {url} ({reason}); "
                f"put that file at {target}, or use --weights none or a weights file"
            ) from None
        if weights in (None, IMAGENET):
            raise
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        raise UserError(
            f"{weights}: weights do not fit the {name} base (alpha {options.alpha}, {shape[0]} px): {reason}; "
            "pass this base's weights file (include_top=False) or --weights none"
        ) from None


def build_application(
    shape: tuple[int, int, int], num_classes: int, options: ModelOptions, *, base: BaseNetwork, name: str
) -> keras.Model:
    """input -> preprocessing -> base (nested) -> global average pooling -> head.

    A pretrained base is called with training=False, so its batch-norm layers keep their
    statistics even when fine-tuning unfreezes them; a random base trains them normally.

    Args:
      shape: (size, size, 3) input shape.
      num_classes: Outputs of the softmax.
      options: Resolved model options (alpha, dropout, weights, grayscale).
      base: Which keras.applications network, and how it wants its pixels.
      name: The model's (registry) name, for the model and messages.

    Raises:
      FileNotFoundError: options.weights names a missing file.
      UserError: ImageNet weights cannot be downloaded, or a weights file does not fit.
    """
    import keras

    inputs = image_input(shape)
    if base.preprocessing == MINUS1_1:
        x = rescaled(inputs, 1.0 / 127.5, offset=-1.0, name="rescale_minus1_1")
        x = to_gray(x, channels=3) if options.grayscale else x
    else:
        x = to_gray(inputs, channels=3) if options.grayscale else inputs
        x = caffe_bgr(x) if base.preprocessing == CAFFE else x
    network = _create_base(base, (shape[0], shape[1], 3), options, name)
    x = network(x, training=False) if options.pretrained else network(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    if base.hidden_units:
        x = keras.layers.Dense(base.hidden_units, activation="relu", name="hidden")(x)
    outputs = classifier_head(x, num_classes, options.dropout or 0.0)
    alpha = f"_{options.alpha:g}" if base.takes_alpha else ""
    return keras.Model(inputs, outputs, name=f"{name}{alpha}")
