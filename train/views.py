"""Test-time augmentation inside the model: its softmax averaged over mirrored views of a square input."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from edge_runtime.errors import ParameterError

if TYPE_CHECKING:
    import keras

# 1: the image; 2: and its transpose (mirrored on the diagonal); 4: and its left-right mirror and
# that mirror's transpose (a quarter turn).
VIEWS = (1, 2, 4)


def check_views(views: int) -> None:
    """Raises ParameterError unless `views` is one of VIEWS (the views need a square input)."""
    if views not in VIEWS:
        raise ParameterError("views", views, f"not supported; use one of {', '.join(map(str, VIEWS))}")


def _transpose(x: keras.KerasTensor, name: str) -> keras.KerasTensor:
    import keras

    return keras.layers.Permute((2, 1, 3), name=name)(x)


def _mirror_left_right(x: keras.KerasTensor, name: str) -> keras.KerasTensor:
    """x with its width reversed: a frozen anti-diagonal 0/1 matrix applied along the width axis.

    Keras has no fixed flip layer; this is built-in layers only (Permute, Dense), so the model loads
    without custom objects and converts to TRANSPOSE and FULLY_CONNECTED, exact in int8 (weights of
    0 and 1, pixels that stay whole numbers).
    """
    import keras

    width = int(x.shape[2])
    y = keras.layers.Permute((1, 3, 2), name=f"{name}_width_last")(x)
    reverse = keras.layers.Dense(width, use_bias=False, trainable=False, name=f"{name}_reverse")
    y = reverse(y)
    reverse.set_weights([np.eye(width, dtype=np.float32)[::-1]])
    return keras.layers.Permute((1, 3, 2), name=f"{name}_width_back")(y)


def average_views(model: keras.Model, views: int) -> keras.Model:
    """`model` itself for 1 view, else a model averaging its softmax over `views` mirrored views.

    The views share `model`'s weights (it runs once per view), so the result costs `views` times
    the inference time and has no weights to train; train `model`, then wrap it.

    Raises:
      UserError: `views` is not in VIEWS, or the input is not square.
    """
    import keras

    check_views(views)
    if views == 1:
        return model
    height, width, channels = model.input_shape[1:]
    if height != width:
        raise ParameterError("views", views, f"more than one view needs a square input, not {height}x{width}")
    inputs = keras.Input((height, width, channels), name="image")
    images = [inputs, _transpose(inputs, "view_transpose")]
    if views == 4:
        mirrored = _mirror_left_right(inputs, "view_mirror")
        images += [mirrored, _transpose(mirrored, "view_mirror_transpose")]
    outputs = [model(image) for image in images]
    average = keras.layers.Average(name="probabilities")(outputs)
    return keras.Model(inputs, average, name=f"{model.name}_views{views}")
