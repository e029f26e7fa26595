"""RandomGain: a random exposure factor per training image (the --gain augmentation), a serializable Keras layer."""

from __future__ import annotations

import math

import keras


@keras.saving.register_keras_serializable(package="train")
class RandomGain(keras.layers.Layer):
    """Multiplies each image by one random factor, log-uniform in [1 / (1 + factor), 1 + factor], in training only.

    Pixels are raw 0..255 and stay within them (clipped). Inactive at inference, like Keras'
    own random layers, so a model saved with it passes images through unchanged.
    """

    def __init__(self, factor: float, seed: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.factor, self.seed = factor, seed
        self.generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def call(self, images, training=None):
        if not training:
            return images
        limit = math.log1p(self.factor)
        shape = (keras.ops.shape(images)[0], 1, 1, 1)
        gain = keras.ops.exp(keras.random.uniform(shape, -limit, limit, seed=self.generator))
        return keras.ops.clip(images * keras.ops.cast(gain, images.dtype), 0.0, 255.0)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "seed": self.seed}
