"""The one registry of trainable models: each spec says how to build its model and what it accepts."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from edge_runtime.errors import UserError
from train.model_options import ModelOptions

if TYPE_CHECKING:
    import keras

# Builders import keras themselves, so a mistyped model name or size fails before TensorFlow's
# multi-second import.
Builder = Callable[[tuple[int, int, int], int, ModelOptions], "keras.Model"]


@dataclass(frozen=True)
class ModelSpec:
    """Everything about one model; no code outside this module branches on model names.

    Every model takes RGB float input (H, W, 3) of raw 0..255 pixels and has its preprocessing
    inside; its output is softmax probabilities over the classes.

    Attributes:
      name: Registry key, as given to --model.
      description: One line for help texts.
      build_fn: Builds the model from (input shape, number of classes, resolved options).
      default_size: Input side used when ModelOptions.image_size is None.
      min_size: Smallest accepted input side.
      max_size: Largest accepted input side.
      allowed_sizes: When set, the only accepted sides (sizes the architecture has weights for).
      default_dropout: Dropout used when ModelOptions.dropout is None.
      alphas: Accepted width multipliers; empty when the model has none (alpha must stay 1.0).
    """

    name: str
    description: str
    build_fn: Builder
    default_size: int
    min_size: int = 32
    max_size: int = 512
    allowed_sizes: tuple[int, ...] | None = None
    default_dropout: float = 0.5
    alphas: tuple[float, ...] = ()

    def resolve(self, options: ModelOptions) -> ModelOptions:
        """Returns `options` with defaults filled in, after checking them against this spec.

        Raises:
          UserError: The options name another model, or the size or alpha is not accepted.
        """
        if options.model != self.name:
            raise UserError(f"options are for model {options.model!r}, not {self.name!r}")
        size = self.default_size if options.image_size is None else options.image_size
        if self.allowed_sizes is not None and size not in self.allowed_sizes:
            allowed = ", ".join(map(str, self.allowed_sizes))
            raise UserError(f"image size {size} is not supported by {self.name}; use one of {allowed}")
        if not self.min_size <= size <= self.max_size:
            raise UserError(
                f"image size {size} is out of range for {self.name}; use {self.min_size}..{self.max_size}"
            )
        if self.alphas and options.alpha not in self.alphas:
            allowed = ", ".join(map(str, self.alphas))
            raise UserError(f"alpha {options.alpha} is not supported by {self.name}; use one of {allowed}")
        if not self.alphas and options.alpha != 1.0:
            raise UserError(f"model {self.name} has no width multiplier; leave alpha at 1.0")
        dropout = self.default_dropout if options.dropout is None else options.dropout
        return dataclasses.replace(options, image_size=size, dropout=dropout)

    def build(self, options: ModelOptions, num_classes: int) -> keras.Model:
        """Builds the (untrained) model for `num_classes` classes with (size, size, 3) input."""
        if num_classes < 2:
            raise UserError(f"{self.name}: need at least 2 classes, got {num_classes}")
        resolved = self.resolve(options)
        shape = (resolved.image_size, resolved.image_size, 3)
        return self.build_fn(shape, num_classes, resolved)


def _build_cnn(shape: tuple[int, int, int], num_classes: int, options: ModelOptions) -> keras.Model:
    """Three conv/pool stages (16, 32, 64 filters), a 128-unit dense layer, dropout, softmax."""
    import keras

    inputs = keras.Input(shape, name="image")
    x = keras.layers.Rescaling(1.0 / 255.0, name="rescale_0_1")(inputs)
    for filters in (16, 32, 64):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = keras.layers.MaxPooling2D()(x)
    # Flatten as in the tutorial: global average pooling instead scored 0.74 vs 0.79 test accuracy on
    # ELPV at 128 px (30 epochs), too few features left for a 3-layer network.
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(128, activation="relu")(x)
    x = keras.layers.Dropout(options.dropout)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="cnn")


def _build_mobilenet_v2(shape: tuple[int, int, int], num_classes: int, options: ModelOptions) -> keras.Model:
    """MobileNetV2 features (no pretrained weights), global average pooling, dropout, softmax."""
    import keras

    inputs = keras.Input(shape, name="image")
    # mobilenet_v2.preprocess_input as a layer: x / 127.5 - 1 maps 0..255 to -1..1.
    x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="rescale_minus1_1")(inputs)
    backbone = keras.applications.MobileNetV2(
        input_tensor=x, include_top=False, weights=None, alpha=options.alpha
    )
    x = keras.layers.GlobalAveragePooling2D()(backbone.output)
    x = keras.layers.Dropout(options.dropout)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=f"mobilenet_v2_{options.alpha}")


MODEL_SPECS: Mapping[str, ModelSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            ModelSpec(
                name="cnn",
                description="small 3-layer CNN (casting-defect tutorial), trains from scratch in minutes",
                build_fn=_build_cnn,
                default_size=128,
                default_dropout=0.5,
            ),
            ModelSpec(
                name="mobilenet_v2",
                description="Keras MobileNetV2 (random init) with a softmax head",
                build_fn=_build_mobilenet_v2,
                default_size=224,
                allowed_sizes=(96, 128, 160, 192, 224),
                default_dropout=0.2,
                # The widths Keras has MobileNetV2 ImageNet weights for.
                alphas=(0.35, 0.5, 0.75, 1.0, 1.3, 1.4),
            ),
        )
    }
)


def get_spec(name: str) -> ModelSpec:
    """The registered spec called `name`.

    Raises:
      UserError: No model has that name; the message lists the valid names.
    """
    try:
        return MODEL_SPECS[name]
    except KeyError:
        raise UserError(f"unknown model {name!r}; valid models: {', '.join(MODEL_SPECS)}") from None
