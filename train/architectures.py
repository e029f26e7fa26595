"""Models built from scratch: the seeds' ann and cnn (and its CIFAR-10 variant), and a deeper batch-norm CNN."""

from __future__ import annotations

from typing import TYPE_CHECKING

from train.model_inputs import classifier_head, image_input, rescaled, to_gray
from train.model_options import ModelOptions

if TYPE_CHECKING:
    import keras


def _pixels_0_1(shape: tuple[int, int, int], options: ModelOptions):
    """(input, 0..1 pixels, gray when options.grayscale)."""
    inputs = image_input(shape)
    x = rescaled(inputs, 1.0 / 255.0, name="rescale_0_1")
    return inputs, to_gray(x) if options.grayscale else x


def build_ann(shape: tuple[int, int, int], num_classes: int, options: ModelOptions) -> keras.Model:
    """The Fashion-MNIST post's network: Flatten, Dense 50, Dense 50 (ReLU), softmax."""
    import keras

    inputs, x = _pixels_0_1(shape, options)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(50, activation="relu")(x)
    x = keras.layers.Dense(50, activation="relu")(x)
    return keras.Model(inputs, classifier_head(x, num_classes, options.dropout or 0.0), name="ann")


def _conv_pool_stages(x, filters_per_stage: tuple[tuple[int, ...], ...]):
    """Per stage: 3x3 ReLU convolutions with the given filters, then 2x2 max-pooling."""
    import keras

    for stage, filters in enumerate(filters_per_stage, start=1):
        for index, count in enumerate(filters, start=1):
            x = keras.layers.Conv2D(
                count, 3, padding="same", activation="relu", name=f"stage{stage}_conv{index}"
            )(x)
        x = keras.layers.MaxPooling2D(name=f"stage{stage}_pool")(x)
    return x


def build_cnn(shape: tuple[int, int, int], num_classes: int, options: ModelOptions) -> keras.Model:
    """The casting tutorial's CNN: conv/pool stages of 16, 32, 64 filters, Dense 128, dropout, softmax."""
    import keras

    inputs, x = _pixels_0_1(shape, options)
    x = _conv_pool_stages(x, ((16,), (32,), (64,)))
    # Flatten as in the tutorial: global average pooling instead scored 0.74 vs 0.79 test accuracy on
    # ELPV at 128 px (30 epochs), too few features left for a 3-layer network.
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(128, activation="relu")(x)
    return keras.Model(inputs, classifier_head(x, num_classes, options.dropout or 0.0), name="cnn")


def build_cnn_cifar10(shape: tuple[int, int, int], num_classes: int, options: ModelOptions) -> keras.Model:
    """The cnn for CIFAR-10's 32x32 colour images: two convolutions per stage, 32/64/128 filters."""
    import keras

    inputs, x = _pixels_0_1(shape, options)
    x = _conv_pool_stages(x, ((32, 32), (64, 64), (128, 128)))
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(128, activation="relu")(x)
    return keras.Model(inputs, classifier_head(x, num_classes, options.dropout or 0.0), name="cnn_cifar10")


def build_cnn_bn(shape: tuple[int, int, int], num_classes: int, options: ModelOptions) -> keras.Model:
    """A VGG-style CNN with batch norm, for training from scratch at 128-224 px on a CPU.

    A stride-2 stem and a max-pool bring the image to 1/4 size; four stages of two 3x3
    convolution + batch norm + ReLU layers follow, doubling the width (32, 64, 128, 256 times
    alpha) while halving the size; global average pooling, dropout, softmax. Every stage costs
    about the same multiply-adds (~90 M in all at 160 px, alpha 1), less than MobileNetV2-1.0-224
    (300 M), and dense 3x3 convolutions run well in int8.
    """
    return _cnn_bn(shape, num_classes, options, stem_convs=1, name="cnn_bn")


def build_cnn_bn_fullres(shape: tuple[int, int, int], num_classes: int, options: ModelOptions) -> keras.Model:
    """`cnn_bn` with a second stride-2 convolution in its stem, for cells at their full resolution.

    The stem's two learned stride-2 convolutions and the max-pool bring the image to 1/8 size, so
    the body works on a 300 px cell as `cnn_bn` does on a 150-160 px one (about the same
    multiply-adds: ~100 M at 300 px, alpha 1) while the first convolution still sees every pixel:
    thin cracks are filtered before they are averaged away, where `cnn_bn` at 160 px receives them
    already resampled below a pixel wide.
    """
    return _cnn_bn(shape, num_classes, options, stem_convs=2, name="cnn_bn_fullres")


def _cnn_bn(shape: tuple[int, int, int], num_classes: int, options: ModelOptions, stem_convs: int, name: str):
    """The `cnn_bn` family: `stem_convs` stride-2 convolutions, a max-pool, four two-convolution stages."""
    import keras

    def conv_bn_relu(x, filters: int, name: str, strides: int = 1):
        x = keras.layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False, name=name)(x)
        x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
        return keras.layers.ReLU(name=f"{name}_relu")(x)

    width = max(8, int(round(32 * options.alpha)))
    inputs, x = _pixels_0_1(shape, options)
    for index in range(stem_convs):
        x = conv_bn_relu(x, max(8, width // 2), "stem" if index == 0 else f"stem{index + 1}", strides=2)
    x = keras.layers.MaxPooling2D(name="stem_pool")(x)
    for stage in range(4):
        for index in (1, 2):
            x = conv_bn_relu(x, width * 2**stage, f"stage{stage + 1}_conv{index}")
        if stage < 3:
            x = keras.layers.MaxPooling2D(name=f"stage{stage + 1}_pool")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    return keras.Model(inputs, classifier_head(x, num_classes, options.dropout or 0.0), name=name)


def build_cnn_res(shape: tuple[int, int, int], num_classes: int, options: ModelOptions) -> keras.Model:
    """A small ResNet (one basic block per stage, batch norm) for thin defects at 224-300 px on a CPU.

    A stride-2 stem and a max-pool bring the image to 1/4 size; four stages of one residual block
    (two 3x3 convolution + batch norm layers and a shortcut, 1x1 strided where the shape changes)
    double the width (32, 64, 128, 256 times alpha) while halving the size; global average
    pooling, dropout, softmax. Batch norm uses momentum 0.9 so its statistics follow the weights
    within an epoch of ELPV's ~50 steps. About 200 M multiply-adds at 224 px, alpha 1.
    """
    import keras

    def conv_bn(x, filters: int, name: str, strides: int = 1, kernel: int = 3):
        x = keras.layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False, name=name)(
            x
        )
        return keras.layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)

    def block(x, filters: int, strides: int, name: str):
        shortcut = x
        if strides != 1 or x.shape[-1] != filters:
            shortcut = conv_bn(x, filters, f"{name}_shortcut", strides=strides, kernel=1)
        y = keras.layers.ReLU(name=f"{name}_relu1")(conv_bn(x, filters, f"{name}_conv1", strides=strides))
        y = conv_bn(y, filters, f"{name}_conv2")
        return keras.layers.ReLU(name=f"{name}_relu2")(keras.layers.Add(name=f"{name}_add")([shortcut, y]))

    width = max(8, int(round(32 * options.alpha)))
    inputs, x = _pixels_0_1(shape, options)
    x = keras.layers.ReLU(name="stem_relu")(conv_bn(x, max(8, width // 2), "stem", strides=2))
    x = keras.layers.MaxPooling2D(name="stem_pool")(x)
    for stage in range(4):
        x = block(x, width * 2**stage, 1 if stage == 0 else 2, f"stage{stage + 1}")
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    return keras.Model(inputs, classifier_head(x, num_classes, options.dropout or 0.0), name="cnn_res")
