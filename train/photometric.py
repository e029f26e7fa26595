"""The pixel augmentations of EL-like images (--gain, --gamma, --noise, --blur) as serializable Keras layers."""

from __future__ import annotations

import math

import keras
import numpy as np


class _PixelAugmentation(keras.layers.Layer):
    """A seeded layer with one setting that changes raw 0..255 pixels in training and passes them through at inference.

    Subclasses name their setting (`setting`, also their constructor's first argument) and define
    `augment(images)`; the setting, the seed, the random stream and the saved config are kept here.
    Each subclass needs its own `__init__` taking the setting by its name: a saved config passes it
    by that name when the layer is loaded.
    """

    setting = "factor"

    def __init__(self, value: float, seed: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        setattr(self, self.setting, value)
        self.seed = seed
        self.generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def call(self, images, training=None):
        return self.augment(images) if training else images

    def augment(self, images):
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), self.setting: getattr(self, self.setting), "seed": self.seed}


def _log_uniform(generator, count, factor: float, dtype):
    """`count` factors per batch, log-uniform in [1 / (1 + factor), 1 + factor], shaped to scale images."""
    limit = math.log1p(factor)
    draw = keras.random.uniform((count, 1, 1, 1), -limit, limit, seed=generator)
    return keras.ops.cast(keras.ops.exp(draw), dtype)


@keras.saving.register_keras_serializable(package="train")
class RandomGain(_PixelAugmentation):
    """Multiplies each image by one random factor, log-uniform in [1 / (1 + factor), 1 + factor], in training only.

    An exposure change: dark defects and bright areas scale alike. Pixels stay within 0..255
    (clipped). Inactive at inference, like Keras' own random layers.
    """

    def __init__(self, factor: float, seed: int | None = None, **kwargs) -> None:
        super().__init__(factor, seed, **kwargs)

    def augment(self, images):
        gain = _log_uniform(self.generator, keras.ops.shape(images)[0], self.factor, images.dtype)
        return keras.ops.clip(images * gain, 0.0, 255.0)


@keras.saving.register_keras_serializable(package="train")
class RandomGamma(_PixelAugmentation):
    """Maps each image through 255 * (x / 255) ** g, with g log-uniform in [1 / (1 + factor), 1 + factor], in training only.

    Unlike a gain or an offset, a gamma changes how dark and bright areas compare: in
    electroluminescence images, how dark grain stands against the lit cell as the exposure and
    the current change. Pixels are raw 0..255; black and white stay put. Inactive at inference.
    """

    def __init__(self, factor: float, seed: int | None = None, **kwargs) -> None:
        super().__init__(factor, seed, **kwargs)

    def augment(self, images):
        gamma = _log_uniform(self.generator, keras.ops.shape(images)[0], self.factor, images.dtype)
        return 255.0 * keras.ops.power(keras.ops.clip(images / 255.0, 0.0, 1.0), gamma)


@keras.saving.register_keras_serializable(package="train")
class RandomNoise(_PixelAugmentation):
    """Adds Gaussian noise of `stddev` levels (0..255) to every pixel, the same on each channel, in training only.

    One value per pixel is a sensor's noise: a gray image stays gray (three channels of
    independent noise would average down to stddev / sqrt(3) in a model that turns them gray),
    and a colour image gets luminance noise. The result stays within 0..255. Inactive at inference.
    """

    setting = "stddev"

    def __init__(self, stddev: float, seed: int | None = None, **kwargs) -> None:
        super().__init__(stddev, seed, **kwargs)

    def augment(self, images):
        shape = keras.ops.shape(images)
        noise = keras.random.normal(
            (shape[0], shape[1], shape[2], 1), stddev=self.stddev, seed=self.generator
        )
        return keras.ops.clip(images + keras.ops.cast(noise, images.dtype), 0.0, 255.0)


def gaussian_taps(sigma: float, max_radius: int | None = None) -> np.ndarray:
    """A normalized 1-D Gaussian of standard deviation `sigma` pixels, cut at 3 sigma (at least 3 taps)
    or at `max_radius` taps each side when that is shorter (an image smaller than the blur's reach)."""
    radius = max(1, math.ceil(3.0 * sigma))
    if max_radius is not None:
        radius = max(1, min(radius, max_radius))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    taps = np.exp(-0.5 * (x / sigma) ** 2)
    return (taps / taps.sum()).astype(np.float32)


@keras.saving.register_keras_serializable(package="train")
class RandomBlur(_PixelAugmentation):
    """Blends each image with its Gaussian blur of `sigma` pixels by a weight drawn from [0, 1], in training only.

    The blend is itself a blur kernel, from none (weight 0) to the full Gaussian (weight 1), so
    every image gets its own strength of the softness of a lens slightly out of focus or a cell
    that moved; the edges are mirrored, so borders do not darken. Sigma is in the model's input
    pixels. Inactive at inference.
    """

    setting = "sigma"

    def __init__(self, sigma: float, seed: int | None = None, **kwargs) -> None:
        super().__init__(sigma, seed, **kwargs)

    def augment(self, images):
        height, width, channels = images.shape[1:]
        # A mirrored pad can reach at most one image size less one pixel (TensorFlow's symmetric pad).
        sides = [side - 1 for side in (height, width) if side is not None]
        taps = gaussian_taps(self.sigma, min(sides) if sides else None)
        radius = len(taps) // 2
        column = np.tile(taps.reshape(-1, 1, 1, 1), (1, 1, channels, 1))
        row = np.tile(taps.reshape(1, -1, 1, 1), (1, 1, channels, 1))
        padded = keras.ops.pad(images, ((0, 0), (radius, radius), (radius, radius), (0, 0)), mode="symmetric")
        blurred = keras.ops.depthwise_conv(padded, keras.ops.cast(column, images.dtype))
        blurred = keras.ops.depthwise_conv(blurred, keras.ops.cast(row, images.dtype))
        weight = keras.random.uniform((keras.ops.shape(images)[0], 1, 1, 1), seed=self.generator)
        return images + keras.ops.cast(weight, images.dtype) * (blurred - images)
