"""RandomGamma and RandomNoise: the --gamma and --noise augmentations of EL-like images, serializable Keras layers."""

from __future__ import annotations

import math

import keras


@keras.saving.register_keras_serializable(package="train")
class RandomGamma(keras.layers.Layer):
    """Maps each image through 255 * (x / 255) ** g, with g log-uniform in [1 / (1 + factor), 1 + factor], in training only.

    Unlike a gain or an offset, a gamma changes how dark and bright areas compare: in
    electroluminescence images, how dark grain stands against the lit cell as the exposure and
    the current change. Pixels are raw 0..255; black and white stay put. Inactive at inference.
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
        gamma = keras.ops.cast(
            keras.ops.exp(keras.random.uniform(shape, -limit, limit, seed=self.generator)), images.dtype
        )
        unit = keras.ops.clip(images / 255.0, 0.0, 1.0)
        return 255.0 * keras.ops.power(unit, gamma)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "seed": self.seed}


@keras.saving.register_keras_serializable(package="train")
class RandomNoise(keras.layers.Layer):
    """Adds Gaussian noise of `stddev` levels (0..255) to every pixel, the same on each channel, in training only.

    One value per pixel is a sensor's noise: a gray image stays gray (three channels of
    independent noise would average down to stddev / sqrt(3) in a model that turns them gray),
    and a colour image gets luminance noise. The result stays within 0..255. Inactive at inference.
    """

    def __init__(self, stddev: float, seed: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.stddev, self.seed = stddev, seed
        self.generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def call(self, images, training=None):
        if not training:
            return images
        shape = keras.ops.shape(images)
        noise = keras.random.normal(
            (shape[0], shape[1], shape[2], 1), stddev=self.stddev, seed=self.generator
        )
        return keras.ops.clip(images + keras.ops.cast(noise, images.dtype), 0.0, 255.0)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}
