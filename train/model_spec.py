"""The one registry of trainable models: each spec says how to build its model and what it accepts."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from edge_runtime.errors import ParameterError, UserError
from train.applications import CAFFE, MINUS1_1, RAW, BaseNetwork, build_application
from train.architectures import (
    build_ann,
    build_cnn,
    build_cnn_bn,
    build_cnn_bn_fullres,
    build_cnn_cifar10,
    build_cnn_res,
)
from train.model_options import IMAGENET, ModelOptions, check_weights_file

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
      imagenet_alphas: Widths Keras has ImageNet weights for; None when the model has no
        pretrained base (its --weights PATH is then the whole model's weights).
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
    imagenet_alphas: tuple[float, ...] | None = None

    @property
    def has_base(self) -> bool:
        """True for models on a keras.applications base (transfer learning and fine-tuning apply)."""
        return self.imagenet_alphas is not None

    def resolve(self, options: ModelOptions) -> ModelOptions:
        """Returns `options` with defaults filled in, after checking them against this spec.

        Raises:
          UserError: The options name another model, or the size, alpha or weights are not accepted.
        """
        if options.model != self.name:
            raise UserError(f"options are for model {options.model!r}, not {self.name!r}")
        size = self.default_size if options.image_size is None else options.image_size
        if self.allowed_sizes is not None and size not in self.allowed_sizes:
            allowed = ", ".join(map(str, self.allowed_sizes))
            raise ParameterError("image_size", size, f"not supported by {self.name}; use one of {allowed}")
        if not self.min_size <= size <= self.max_size:
            raise ParameterError(
                "image_size", size, f"out of range for {self.name}; use {self.min_size}..{self.max_size}"
            )
        if self.alphas and options.alpha not in self.alphas:
            allowed = ", ".join(map(str, self.alphas))
            raise ParameterError(
                "alpha", options.alpha, f"not supported by {self.name}; use one of {allowed}"
            )
        if not self.alphas and options.alpha != 1.0:
            raise ParameterError(
                "alpha", options.alpha, f"model {self.name} has no width multiplier; leave it at 1.0"
            )
        if options.weights == IMAGENET:
            if self.imagenet_alphas is None:
                raise ParameterError(
                    "weights",
                    IMAGENET,
                    f"model {self.name} has no ImageNet weights; use none or a weights file",
                )
            if self.alphas and options.alpha not in self.imagenet_alphas:
                allowed = ", ".join(map(str, self.imagenet_alphas))
                raise ParameterError(
                    "alpha",
                    options.alpha,
                    f"{self.name} has no ImageNet weights for it; use one of {allowed}",
                )
        dropout = self.default_dropout if options.dropout is None else options.dropout
        return dataclasses.replace(
            options, image_size=size, dropout=dropout, grayscale=bool(options.grayscale)
        )

    def build(self, options: ModelOptions, num_classes: int) -> keras.Model:
        """Builds the model for `num_classes` classes with (size, size, 3) input.

        Its weights are random, or options.weights: ImageNet or a file for the base, or a file
        for the whole model when it has no base.

        Raises:
          UserError: Fewer than 2 classes, options the model cannot take, or weights that cannot
            be had (no download) or do not fit.
          FileNotFoundError: options.weights names a missing file.
        """
        if num_classes < 2:
            raise UserError(f"{self.name}: need at least 2 classes, got {num_classes}")
        resolved = self.resolve(options)
        shape = (resolved.image_size, resolved.image_size, 3)
        model = self.build_fn(shape, num_classes, resolved)
        if resolved.weights is not None and not self.has_base:
            _load_whole_model_weights(model, Path(resolved.weights), self.name)
        return model


def _load_whole_model_weights(model: keras.Model, path: Path, name: str) -> None:
    """Loads a .weights.h5/.h5/.keras file saved from the same model into `model`."""
    check_weights_file(str(path))
    try:
        model.load_weights(path)
    except Exception as err:  # Keras raises ValueError, KeyError or h5py errors for a wrong file.
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        raise UserError(
            f"{path}: weights do not fit model {name} ({model.count_params()} parameters): {reason}; "
            "pass weights saved from the same model, size and number of classes"
        ) from None


def _application(name: str, constructor: str, preprocessing: str, **kwargs) -> Builder:
    """A builder for a model on keras.applications.<constructor> (see train.applications)."""
    hidden = kwargs.pop("hidden_units", 0)
    takes_alpha = kwargs.pop("takes_alpha", False)
    base = BaseNetwork(constructor, preprocessing, takes_alpha, kwargs, hidden)
    return functools.partial(build_application, base=base, name=name)


_V3 = {"include_preprocessing": False}  # our own x / 127.5 - 1 layer comes first
_MOBILENET = "Keras {} (alpha = width, input size; random or ImageNet base) with a softmax head"

MODEL_SPECS: Mapping[str, ModelSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            ModelSpec(
                name="ann",
                description="Flatten, Dense 50, Dense 50, softmax (the Fashion-MNIST post)",
                build_fn=build_ann,
                default_size=28,
                min_size=8,
                max_size=128,
                default_dropout=0.0,
            ),
            ModelSpec(
                name="cnn",
                description="small 3-layer CNN (casting-defect tutorial), trains from scratch in minutes",
                build_fn=build_cnn,
                default_size=128,
                default_dropout=0.5,
            ),
            ModelSpec(
                name="cnn_cifar10",
                description="the cnn for CIFAR-10: two convolutions per stage (32/64/128), Dense 128",
                build_fn=build_cnn_cifar10,
                default_size=32,
                default_dropout=0.5,
            ),
            ModelSpec(
                name="cnn_bn",
                description="VGG-style CNN with batch norm (alpha = width), the ELPV benchmark model",
                build_fn=build_cnn_bn,
                default_size=160,
                default_dropout=0.3,
                alphas=(0.5, 0.75, 1.0, 1.5, 2.0),
            ),
            ModelSpec(
                name="cnn_bn_fullres",
                description="cnn_bn with a two-convolution stride-4 stem: 300 px cells at cnn_bn-150's cost",
                build_fn=build_cnn_bn_fullres,
                default_size=300,
                min_size=64,
                default_dropout=0.3,
                alphas=(0.5, 0.75, 1.0, 1.5, 2.0),
            ),
            ModelSpec(
                name="cnn_res",
                description="small ResNet, one residual block per stage (alpha = width), for 224-300 px",
                build_fn=build_cnn_res,
                default_size=224,
                default_dropout=0.3,
                alphas=(0.5, 0.75, 1.0, 1.5, 2.0),
            ),
            ModelSpec(
                name="vgg16",
                description="Keras VGG16 base, Dense 256, softmax (the CIFAR-10 notebook's transfer model)",
                build_fn=_application("vgg16", "VGG16", CAFFE, hidden_units=256),
                default_size=224,
                imagenet_alphas=(1.0,),
            ),
            ModelSpec(
                name="mobilenet_v1",
                description=_MOBILENET.format("MobileNet (V1)"),
                build_fn=_application("mobilenet_v1", "MobileNet", MINUS1_1, takes_alpha=True),
                default_size=224,
                allowed_sizes=(128, 160, 192, 224),
                default_dropout=0.2,
                alphas=(0.25, 0.5, 0.75, 1.0),
                imagenet_alphas=(0.25, 0.5, 0.75, 1.0),
            ),
            ModelSpec(
                name="mobilenet_v2",
                description=_MOBILENET.format("MobileNetV2"),
                build_fn=_application("mobilenet_v2", "MobileNetV2", MINUS1_1, takes_alpha=True),
                default_size=224,
                allowed_sizes=(96, 128, 160, 192, 224),
                default_dropout=0.2,
                # The widths Keras has MobileNetV2 ImageNet weights for.
                alphas=(0.35, 0.5, 0.75, 1.0, 1.3, 1.4),
                imagenet_alphas=(0.35, 0.5, 0.75, 1.0, 1.3, 1.4),
            ),
            *(
                ModelSpec(
                    name=f"mobilenet_v3_{size}{suffix}",
                    description=_MOBILENET.format(f"MobileNetV3{size.title()}{suffix.replace('_', ' ')}"),
                    build_fn=_application(
                        f"mobilenet_v3_{size}{suffix}",
                        f"MobileNetV3{size.title()}",
                        MINUS1_1,
                        takes_alpha=True,
                        minimalistic=bool(suffix),
                        **_V3,
                    ),
                    default_size=224,
                    default_dropout=0.2,
                    # Minimalistic variants (no hard-swish, no squeeze-excite, 3x3 kernels) quantize
                    # to int8 with less loss; Keras has their ImageNet weights at alpha 1.0 only.
                    alphas=(1.0,) if suffix else (0.75, 1.0),
                    imagenet_alphas=(1.0,) if suffix else (0.75, 1.0),
                )
                for size in ("small", "large")
                for suffix in ("", "_minimalistic")
            ),
            ModelSpec(
                name="efficientnet_b0",
                description="Keras EfficientNetB0 (rescales inside its base; random or ImageNet) with a softmax head",
                build_fn=_application("efficientnet_b0", "EfficientNetB0", RAW),
                default_size=224,
                default_dropout=0.2,
                imagenet_alphas=(1.0,),
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
