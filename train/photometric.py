"""RandomGamma, RandomNoise and RandomBlur: the --gamma, --noise and --blur augmentations of EL-like images, serializable Keras layers."""

from __future__ import annotations

import math

import keras
import numpy as np


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


def gaussian_taps(sigma: float) -> np.ndarray:
    """A normalized 1-D Gaussian of standard deviation `sigma` pixels, cut at 3 sigma (at least 3 taps)."""
    radius = max(1, math.ceil(3.0 * sigma))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    taps = np.exp(-0.5 * (x / sigma) ** 2)
    return (taps / taps.sum()).astype(np.float32)


@keras.saving.register_keras_serializable(package="train")
class RandomBlur(keras.layers.Layer):
    """Blends each image with its Gaussian blur of `sigma` pixels by a weight drawn from [0, 1], in training only.

    The blend is itself a blur kernel, from none (weight 0) to the full Gaussian (weight 1), so
    every image gets its own strength of the softness of a lens slightly out of focus or a cell
    that moved; the edges are mirrored, so borders do not darken. Sigma is in the model's input
    pixels. Inactive at inference.
    """

    def __init__(self, sigma: float, seed: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.sigma, self.seed = sigma, seed
        self.generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def call(self, images, training=None):
        if not training:
            return images
        channels = images.shape[-1]
        taps = gaussian_taps(self.sigma)
        radius = len(taps) // 2
        column = np.tile(taps.reshape(-1, 1, 1, 1), (1, 1, channels, 1))
        row = np.tile(taps.reshape(1, -1, 1, 1), (1, 1, channels, 1))
        padded = keras.ops.pad(images, ((0, 0), (radius, radius), (radius, radius), (0, 0)), mode="symmetric")
        blurred = keras.ops.depthwise_conv(padded, keras.ops.cast(column, images.dtype))
        blurred = keras.ops.depthwise_conv(blurred, keras.ops.cast(row, images.dtype))
        weight = keras.random.uniform((keras.ops.shape(images)[0], 1, 1, 1), seed=self.generator)
        weight = keras.ops.cast(weight, images.dtype)
        return images + weight * (blurred - images)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "sigma": self.sigma, "seed": self.seed}
