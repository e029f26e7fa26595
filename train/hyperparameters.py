"""Training hyperparameters: how long and how the model is fitted, independent of which model."""

from __future__ import annotations

from dataclasses import dataclass

from edge_runtime.errors import UserError


@dataclass(frozen=True)
class Hyperparameters:
    """How to fit a model.

    Attributes:
      epochs: Passes over the training images.
      batch_size: Images per gradient step; the training split needs at least this many.
      learning_rate: Adam's learning rate.
      seed: Seeds the validation split, the shuffle, weight initialization and dropout.
      validation_split: Share of each class held out to pick the best epoch; 0 keeps the last epoch.
      augment: Flip training images at random (left-right, up-down) every epoch.
      class_weights: Weight the loss by inverse class frequency, so a minority class (ELPV's
        defective cells, ~31%) counts as much as the majority.
      early_stopping_patience: Stop after this many epochs without a lower validation loss;
        None trains all epochs. Either way the weights of the best epoch are kept.
    """

    # Defaults measured on ELPV (1,968 training images, 2 CPU cores): the cnn at 128 px trains in
    # about 4 minutes and is not better with more epochs, a larger batch or a cosine schedule.
    epochs: int = 40
    batch_size: int = 16
    learning_rate: float = 1e-3
    seed: int = 0
    validation_split: float = 0.2
    augment: bool = True
    class_weights: bool = True
    early_stopping_patience: int | None = None

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise UserError(f"epochs {self.epochs} must be at least 1")
        if self.batch_size < 1:
            raise UserError(f"batch size {self.batch_size} must be at least 1")
        if not self.learning_rate > 0:
            raise UserError(f"learning rate {self.learning_rate} must be positive")
        if not 0.0 <= self.validation_split < 1.0:
            raise UserError(f"validation split {self.validation_split} must be in [0, 1)")
        if self.early_stopping_patience is not None and self.early_stopping_patience < 1:
            raise UserError(f"early stopping patience {self.early_stopping_patience} must be at least 1")
