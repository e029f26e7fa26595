"""Options that choose and shape the model (which registered model, input size, width, dropout)."""

from __future__ import annotations

from dataclasses import dataclass

from edge_runtime.errors import UserError


@dataclass(frozen=True)
class ModelOptions:
    """What model to build; None fields take the model spec's default (see ModelSpec.resolve).

    Attributes:
      model: Name of a model in train.model_spec (e.g. 'cnn', 'mobilenet_v2').
      image_size: Square input side in pixels; the model takes (image_size, image_size, 3).
      alpha: Width multiplier, for models that have one (mobilenet_v2); 1.0 otherwise.
      dropout: Dropout rate before the classifier layer.
    """

    model: str = "cnn"
    image_size: int | None = None
    alpha: float = 1.0
    dropout: float | None = None

    def __post_init__(self) -> None:
        if self.image_size is not None and self.image_size <= 0:
            raise UserError(f"image size {self.image_size} must be a positive number of pixels")
        if self.dropout is not None and not 0.0 <= self.dropout < 1.0:
            raise UserError(f"dropout {self.dropout} must be in [0, 1)")
        if self.alpha <= 0:
            raise UserError(f"alpha {self.alpha} must be positive")
