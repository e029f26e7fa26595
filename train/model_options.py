"""Options that choose and shape the model (which registered model, input size, width, dropout, weights)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edge_runtime.errors import ParameterError
from train.views import check_views

IMAGENET = "imagenet"


@dataclass(frozen=True)
class ModelOptions:
    """What model to build; None fields take the model spec's default (see ModelSpec.resolve).

    Attributes:
      model: Name of a model in train.model_spec (e.g. 'cnn', 'mobilenet_v2').
      image_size: Square input side in pixels; the model takes (image_size, image_size, 3).
      alpha: Width multiplier, for models that have one (MobileNets, cnn_bn); 1.0 otherwise.
      dropout: Dropout rate before the classifier layer.
      weights: Initial weights: None (random), 'imagenet' (Keras' pretrained base, downloaded on
        first use) or the path of a weights file (.weights.h5, .h5 or .keras): the base's weights
        for models with a pretrained base, the whole model's for the others.
      grayscale: Convert the RGB input to gray inside the model (BT.601 luma), for data without
        colour (Fashion-MNIST, ELPV); the input stays RGB depth 3. None: decided from the data.
      views: The saved model averages its softmax over this many mirrored views of the input
        (train.views: 1, 2 or 4; for parts with mirror symmetry), at that many times the inference
        cost. Training runs on single views.
    """

    model: str = "cnn"
    image_size: int | None = None
    alpha: float = 1.0
    dropout: float | None = None
    weights: str | None = None
    grayscale: bool | None = None
    views: int = 1

    def __post_init__(self) -> None:
        check_views(self.views)
        if self.image_size is not None and self.image_size <= 0:
            raise ParameterError("image_size", self.image_size, "must be a positive number of pixels")
        if self.dropout is not None and not 0.0 <= self.dropout < 1.0:
            raise ParameterError("dropout", self.dropout, "must be in [0, 1)")
        if self.alpha <= 0:
            raise ParameterError("alpha", self.alpha, "must be positive")
        if self.weights is not None and not self.weights:
            raise ParameterError(
                "weights", self.weights, "empty; use 'imagenet', a weights file path, or None (random)"
            )

    @property
    def pretrained(self) -> bool:
        """True when the model starts from given weights (ImageNet or a file), not at random."""
        return self.weights is not None


def check_weights_file(weights: str | None) -> None:
    """Raises FileNotFoundError naming `weights` when it is a path (not None or 'imagenet') to no file."""
    if weights not in (None, IMAGENET) and not Path(weights).is_file():
        raise FileNotFoundError(
            f"{weights}: no such weights file for --weights; give a .weights.h5, .h5 or .keras file, "
            "'imagenet' or 'none'"
        )
