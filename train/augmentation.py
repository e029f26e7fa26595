"""Training-time augmentation: Keras preprocessing layers (flip, rotation, translation, zoom, brightness, contrast, gain, blur, gamma, noise) and quarter turns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from edge_runtime.errors import ParameterError

if TYPE_CHECKING:
    import keras

FLIP_MODES = ("none", "horizontal", "vertical", "horizontal_and_vertical")
FILL_MODES = ("reflect", "wrap", "constant", "nearest")

# The amount settings (0 = off), in the order their layers run.
AMOUNTS = ("rotation", "translation", "zoom", "brightness", "contrast", "gain", "blur", "gamma", "noise")
# The highest value each may take, and a hint for the error (zoom, below 1, is checked on its own).
_HIGHEST = {
    "rotation": (0.5, ""),
    "translation": (1.0, ""),
    "brightness": (1.0, ""),
    "contrast": (1.0, ""),
    "gain": (3, " (0.3: exposures 0.77x to 1.3x)"),
    "blur": (8, " pixels (1: a slightly soft focus)"),
    "gamma": (3, " (0.25: gammas 0.8 to 1.25)"),
    "noise": (64, " levels of 0..255 (3: faint sensor noise)"),
}


@dataclass(frozen=True)
class AugmentOptions:
    """How training images are varied, anew every epoch; validation and test images never are.

    The layers run in a training-only wrapper around the model, so the saved model (and the
    .tflite converted from it) holds none of them. Quarter turns have no Keras layer; they run in
    the tf.data pipeline (see Dataset.gen_tf_dataset).

    Attributes:
      flip: Random mirroring: 'none', 'horizontal' (left-right), 'vertical' (up-down) or
        'horizontal_and_vertical' (each at random).
      quarter_turns: Rotate by a random multiple of 90 degrees; label-preserving for parts with
        square symmetry such as ELPV solar cells.
      rotation: Largest random rotation as a fraction of a full turn (0.1 = +-36 degrees).
      translation: Largest random shift as a fraction of the height and width.
      zoom: Largest random zoom in or out as a fraction of the size.
      brightness: Largest random brightness shift as a fraction of the pixel range (0.2 = +-51 of
        255), for cameras or exposures that vary.
      contrast: Largest random contrast change as a fraction (0.2: 0.8x to 1.2x around the mean).
      gain: Largest random exposure change: every pixel multiplied by one factor per image,
        drawn log-uniformly from [1 / (1 + gain), 1 + gain] (clipped at 255). Unlike brightness
        (an offset) it scales dark defects and bright areas alike, as a longer exposure or a
        higher current does in electroluminescence images; it keeps a model from telling
        classes apart by overall brightness where the data confounds them.
      blur: Gaussian blur in pixels of the model's input (a standard deviation); each image is
        blended with its blur by a random weight from 0 to 1, so it gets a blur from none to this.
      gamma: Largest random tone-curve change: 255 * (x / 255) ** g per image, g drawn
        log-uniformly from [1 / (1 + gamma), 1 + gamma]; dark areas move against bright ones,
        as they do between EL exposures and currents.
      noise: Standard deviation of Gaussian pixel noise, in levels of 0..255 (a camera's
        sensor noise: one value per pixel, the same on each channel), anew for every image.
      fill_mode: How pixels from outside the image are filled: 'reflect', 'wrap', 'constant',
        'nearest' (Keras' fill modes).
    """

    flip: str = "horizontal_and_vertical"
    quarter_turns: bool = False
    rotation: float = 0.0
    translation: float = 0.0
    zoom: float = 0.0
    brightness: float = 0.0
    contrast: float = 0.0
    gain: float = 0.0
    blur: float = 0.0
    gamma: float = 0.0
    noise: float = 0.0
    fill_mode: str = "reflect"

    def __post_init__(self) -> None:
        if self.flip not in FLIP_MODES:
            raise ParameterError("flip", self.flip, f"not a flip mode; use one of {', '.join(FLIP_MODES)}")
        if self.fill_mode not in FILL_MODES:
            raise ParameterError(
                "fill_mode", self.fill_mode, f"not known; use one of {', '.join(FILL_MODES)}"
            )
        for name, (high, hint) in _HIGHEST.items():
            value = getattr(self, name)
            if not 0.0 <= value <= high:
                raise ParameterError(name, value, f"must be in [0, {high}]{hint}")
        if not 0.0 <= self.zoom < 1.0:
            raise ParameterError("zoom", self.zoom, "must be in [0, 1)")

    @classmethod
    def none(cls) -> AugmentOptions:
        """No augmentation at all."""
        return cls(flip="none")

    @classmethod
    def cifar10(cls) -> AugmentOptions:
        """The CIFAR-10 notebook's settings: left-right flips, +-36 degree rotation, 10% shift and zoom."""
        return cls(flip="horizontal", rotation=0.1, translation=0.1, zoom=0.1)

    @property
    def active(self) -> bool:
        """True when any augmentation is on."""
        return self.flip != "none" or self.quarter_turns or any(getattr(self, name) for name in AMOUNTS)

    def describe(self) -> str:
        """A short summary for logs, e.g. 'flip horizontal, rotation 0.1'."""
        parts = [f"flip {self.flip}"] if self.flip != "none" else []
        parts += ["quarter turns"] if self.quarter_turns else []
        parts += [f"{name} {getattr(self, name)}" for name in AMOUNTS if getattr(self, name)]
        return ", ".join(parts) or "none"


def build_augmenter(options: AugmentOptions, seed: int) -> keras.Sequential | None:
    """The Keras preprocessing layers for `options`, seeded, or None when no layer is needed.

    Each layer gets its own seed derived from `seed`, so a run reproduces. The layers are active
    only when called with training=True (inside fit); at inference they pass images through.

    Args:
      options: Which augmentations to use.
      seed: Base seed of the layers' random streams.

    Returns:
      A keras.Sequential of RandomFlip, RandomRotation, RandomTranslation, RandomZoom,
      RandomBrightness, RandomContrast, RandomGain, RandomBlur, RandomGamma and RandomNoise (those that
      are on, in that order), or None. The layers
      see raw 0..255 pixels.
    """
    import keras

    from train.photometric import RandomBlur, RandomGain, RandomGamma, RandomNoise

    layers: list[keras.layers.Layer] = []
    if options.flip != "none":
        layers.append(keras.layers.RandomFlip(options.flip, seed=seed, name="random_flip"))
    if options.rotation:
        layers.append(
            keras.layers.RandomRotation(
                options.rotation, fill_mode=options.fill_mode, seed=seed + 1, name="random_rotation"
            )
        )
    if options.translation:
        layers.append(
            keras.layers.RandomTranslation(
                options.translation,
                options.translation,
                fill_mode=options.fill_mode,
                seed=seed + 2,
                name="random_translation",
            )
        )
    if options.zoom:
        layers.append(
            keras.layers.RandomZoom(
                options.zoom, fill_mode=options.fill_mode, seed=seed + 3, name="random_zoom"
            )
        )
    if options.brightness:
        layers.append(
            keras.layers.RandomBrightness(
                options.brightness, value_range=(0.0, 255.0), seed=seed + 4, name="random_brightness"
            )
        )
    if options.contrast:
        layers.append(
            keras.layers.RandomContrast(
                options.contrast, value_range=(0.0, 255.0), seed=seed + 5, name="random_contrast"
            )
        )
    if options.gain:
        layers.append(RandomGain(options.gain, seed=seed + 6, name="random_gain"))
    if options.blur:
        layers.append(RandomBlur(options.blur, seed=seed + 9, name="random_blur"))
    if options.gamma:
        layers.append(RandomGamma(options.gamma, seed=seed + 7, name="random_gamma"))
    if options.noise:
        layers.append(RandomNoise(options.noise, seed=seed + 8, name="random_noise"))
    return keras.Sequential(layers, name="augmentation") if layers else None
