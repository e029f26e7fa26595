"""In-model preprocessing shared by the builders: raw 0..255 RGB in, scaled (and optionally gray) pixels out.

Everything here is a fixed, built-in Keras layer (Rescaling, or a frozen 1x1 Conv2D), so a saved
model loads without custom objects and converts to plain TFLite ops.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import keras

# ITU-R BT.601 luma, as Pillow's convert("L") and the converter's calibration use; the weights sum
# to 1, so a gray pixel (r = g = b) keeps its value and any scaling before it is preserved.
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
# Caffe-style ImageNet means, in BGR order (keras.applications.vgg16.preprocess_input).
CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)


def image_input(shape: tuple[int, int, int]) -> keras.KerasTensor:
    """The model's input: (H, W, 3) RGB floats of raw 0..255 pixels, named 'image'."""
    import keras

    return keras.Input(shape, name="image")


def rescaled(
    x: keras.KerasTensor, scale: float, offset: float = 0.0, name: str = "rescale"
) -> keras.KerasTensor:
    """x * scale + offset, e.g. 1/255 (0..1) or 1/127.5 and -1 (-1..1)."""
    import keras

    return keras.layers.Rescaling(scale, offset=offset, name=name)(x)


def _frozen_pointwise(x: keras.KerasTensor, kernel: np.ndarray, bias: np.ndarray | None, name: str):
    """A frozen 1x1 convolution with the given (in, out) kernel and optional bias."""
    import keras

    layer = keras.layers.Conv2D(
        kernel.shape[1], 1, use_bias=bias is not None, trainable=False, name=name, kernel_initializer="zeros"
    )
    y = layer(x)
    layer.set_weights([kernel[None, None], *([] if bias is None else [bias])])
    return y


def to_gray(x: keras.KerasTensor, channels: int = 1, name: str = "grayscale") -> keras.KerasTensor:
    """BT.601 luma of an RGB tensor, repeated `channels` times (3 for a base that expects RGB).

    Args:
      x: (B, H, W, 3) pixels at any scale.
      channels: Output depth; every channel holds the luma.
      name: Layer name.
    """
    return _frozen_pointwise(x, np.repeat(LUMA[:, None], channels, axis=1), None, name)


def caffe_bgr(x: keras.KerasTensor, name: str = "caffe_bgr") -> keras.KerasTensor:
    """keras.applications' 'caffe' preprocessing as one layer: RGB to BGR, minus the ImageNet means."""
    swap = np.eye(3, dtype=np.float32)[:, ::-1]  # output channel j takes input channel 2 - j
    return _frozen_pointwise(x, swap, -CAFFE_MEAN_BGR, name)


def classifier_head(
    x: keras.KerasTensor, num_classes: int, dropout: float, name: str = "probabilities"
) -> keras.KerasTensor:
    """Dropout (when above 0) and a softmax Dense layer named 'probabilities'."""
    import keras

    if dropout:
        x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    return keras.layers.Dense(num_classes, activation="softmax", name=name)(x)
