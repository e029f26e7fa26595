"""Transfer learning on a nested pretrained base: freeze it, then unfreeze its top for fine-tuning."""

from __future__ import annotations

from typing import TYPE_CHECKING

from edge_runtime.errors import ParameterError

if TYPE_CHECKING:
    import keras

    from train.hyperparameters import Hyperparameters
    from train.model_options import ModelOptions
    from train.model_spec import ModelSpec


def check_fine_tuning(spec: ModelSpec, options: ModelOptions, hparams: Hyperparameters) -> None:
    """Raises UserError when fine-tuning epochs are asked for a model without a pretrained base."""
    if hparams.fine_tune_epochs and not (spec.has_base and options.pretrained):
        raise ParameterError(
            "fine_tune_epochs",
            hparams.fine_tune_epochs,
            f"fine-tuning unfreezes a pretrained base: {spec.name} needs ImageNet weights or a weights file "
            "(and a model with a base)",
        )


def find_base(model: keras.Model) -> keras.Model | None:
    """The one nested model inside `model` (a keras.applications base), or None."""
    import keras

    nested = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    return nested[0] if len(nested) == 1 else None


def freeze_base(model: keras.Model) -> int:
    """Makes the base untrainable (the head still trains); returns how many weights stay trainable."""
    base = find_base(model)
    if base is not None:
        base.trainable = False
    return sum(_size(w) for w in model.trainable_weights)


def unfreeze_top(model: keras.Model, layers: int | None = None) -> int:
    """Lets the top `layers` layers of the base train (default: the top third), batch norm excepted.

    Batch-norm layers stay frozen: their statistics came from far more images than a small
    dataset has, and the base is called in inference mode anyway (train.applications).

    Args:
      model: A model with a nested base (see find_base).
      layers: How many of the base's last layers to unfreeze; None for a third of them.

    Returns:
      The number of base layers that now train (with weights, batch norm excepted).
    """
    import keras

    base = find_base(model)
    if base is None:
        return 0
    count = len(base.layers) // 3 if layers is None else min(layers, len(base.layers))
    base.trainable = True
    first = len(base.layers) - count
    training = 0
    for index, layer in enumerate(base.layers):
        layer.trainable = index >= first and not isinstance(layer, keras.layers.BatchNormalization)
        training += int(layer.trainable and bool(layer.weights))
    return training


def _size(weight) -> int:
    """Number of values in a weight."""
    size = 1
    for dim in weight.shape:
        size *= int(dim)
    return size
