"""Training hyperparameters: how long and how the model is fitted, independent of which model."""

from __future__ import annotations

from dataclasses import dataclass, field

from edge_runtime.errors import ParameterError
from train.augmentation import AugmentOptions

LR_SCHEDULES = ("constant", "cosine")
OPTIMIZERS = ("adam", "sgd")
MONITORS = ("val_loss", "val_accuracy")


@dataclass(frozen=True)
class Hyperparameters:
    """How to fit a model.

    Attributes:
      epochs: Passes over the training images (the first stage, with a frozen base when the model
        starts from pretrained weights).
      batch_size: Images per gradient step (over all replicas); the training split needs at least
        this many.
      learning_rate: Adam's (peak) learning rate.
      seed: Seeds the validation split, the shuffle, the augmentation, weight initialization and
        dropout: the same seed and data give the same model.
      validation_split: Share of each class held out to pick the best epoch; 0 keeps the last
        epoch (unless a separate validation set is given).
      split_seed: Seed of that split; None: `seed`. Give ensemble members (other seeds) the same.
      augmentation: Random changes to training images (AugmentOptions.none() for none).
      class_weights: Weight the loss by inverse class frequency, so a minority class (ELPV's
        defective cells, ~31%) counts as much as the majority.
      oversample: Instead of class weights, show every class as often as the largest one in each
        epoch (its images again, in fresh shuffles): epochs grow to classes x the largest class.
      early_stopping_patience: Stop after this many epochs without improving `monitor`; None
        trains all epochs. Either way the weights of the best epoch are kept.
      monitor: What picks the best epoch: 'val_loss' (lowest) or 'val_accuracy' (highest).
      lr_schedule: 'constant', or 'cosine' decay to 0 over all epochs of the stage.
      warmup_epochs: Epochs of linear learning-rate warm-up before the cosine decay.
      weight_decay: Decoupled weight decay (AdamW, or SGD's) when above 0.
      optimizer: 'adam' (AdamW with weight decay) or 'sgd' (momentum 0.9, Nesterov).
      label_smoothing: Share of each target spread evenly over the classes (0: none). The default
        0.1 bounds the logits, so the int8 copy of the model loses little: without it a model can
        grow logit differences over 100 on confident images, and int8's coarser steps at the
        output then flip the images near the decision boundary.
      mixup: Beta(mixup, mixup) blending of training images and their targets (0: none; 0.2-0.4
        is usual).
      ema: Momentum of an exponential moving average of the weights (0: none; 0.99-0.999). The
        average is what validation scores, what picks the best epoch and what is saved.
      precise_bn: Training images (unaugmented, seeded pick) on which batch-norm statistics are
        re-estimated for the weights validated at each epoch's end, and kept with them (0: the
        moving statistics as trained). With a fast-moving model these statistics lag the
        weights, and validation swings for it.
      fine_tune_epochs: Epochs of a second stage that unfreezes the top of a pretrained base; 0
        for none.
      fine_tune_layers: How many of the base's top layers the second stage trains (batch norm
        layers stay frozen); None: the top third.
      fine_tune_learning_rate: The second stage's learning rate; None: learning_rate / 10.
    """

    # Defaults measured on ELPV (1,968 training images, 2 CPU cores): the cnn at 128 px trains in
    # about 4 minutes and is not better with more epochs, a larger batch or a cosine schedule.
    epochs: int = 40
    batch_size: int = 16
    learning_rate: float = 1e-3
    seed: int = 0
    validation_split: float = 0.2
    split_seed: int | None = None
    augmentation: AugmentOptions = field(default_factory=AugmentOptions)
    class_weights: bool = True
    oversample: bool = False
    early_stopping_patience: int | None = None
    monitor: str = "val_loss"
    lr_schedule: str = "constant"
    warmup_epochs: int = 0
    weight_decay: float = 0.0
    optimizer: str = "adam"
    label_smoothing: float = 0.1
    mixup: float = 0.0
    ema: float = 0.0
    precise_bn: int = 0
    fine_tune_epochs: int = 0
    fine_tune_layers: int | None = None
    fine_tune_learning_rate: float | None = None

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ParameterError("epochs", self.epochs, "must be at least 1")
        if self.batch_size < 1:
            raise ParameterError("batch_size", self.batch_size, "must be at least 1")
        if not self.learning_rate > 0:
            raise ParameterError("learning_rate", self.learning_rate, "must be positive")
        if not 0.0 <= self.validation_split < 1.0:
            raise ParameterError("validation_split", self.validation_split, "must be in [0, 1)")
        if self.oversample and self.class_weights:
            raise ParameterError(
                "oversample", self.oversample, "balances the classes already: turn class weights off with it"
            )
        if self.early_stopping_patience is not None and self.early_stopping_patience < 1:
            raise ParameterError(
                "early_stopping_patience", self.early_stopping_patience, "must be at least 1"
            )
        if self.monitor not in MONITORS:
            raise ParameterError("monitor", self.monitor, f"not known; use one of {', '.join(MONITORS)}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ParameterError(
                "lr_schedule", self.lr_schedule, f"not known; use one of {', '.join(LR_SCHEDULES)}"
            )
        if not 0 <= self.warmup_epochs < self.epochs:
            raise ParameterError(
                "warmup_epochs", self.warmup_epochs, f"must be in [0, {self.epochs}), fewer than the epochs"
            )
        if self.warmup_epochs and self.lr_schedule != "cosine":
            raise ParameterError(
                "warmup_epochs", self.warmup_epochs, "warm-up needs the cosine learning-rate schedule"
            )
        if self.weight_decay < 0:
            raise ParameterError("weight_decay", self.weight_decay, "must not be negative")
        if self.optimizer not in OPTIMIZERS:
            raise ParameterError(
                "optimizer", self.optimizer, f"not known; use one of {', '.join(OPTIMIZERS)}"
            )
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ParameterError("label_smoothing", self.label_smoothing, "must be in [0, 1)")
        if self.mixup < 0:
            raise ParameterError("mixup", self.mixup, "must not be negative (0 turns it off)")
        if not 0.0 <= self.ema < 1.0:
            raise ParameterError("ema", self.ema, "must be in [0, 1): 0 for none, 0.99-0.999 usually")
        if self.precise_bn < 0:
            raise ParameterError("precise_bn", self.precise_bn, "must not be negative (0 turns it off)")
        if self.fine_tune_epochs < 0:
            raise ParameterError("fine_tune_epochs", self.fine_tune_epochs, "must not be negative")
        if self.fine_tune_layers is not None and self.fine_tune_layers < 1:
            raise ParameterError("fine_tune_layers", self.fine_tune_layers, "must be at least 1")
        if self.fine_tune_learning_rate is not None and not self.fine_tune_learning_rate > 0:
            raise ParameterError("fine_tune_learning_rate", self.fine_tune_learning_rate, "must be positive")

    def targets(self, soft_labels: bool) -> str:
        """What the training pipeline yields (Dataset.gen_tf_dataset): class indices unless
        soft labels, label smoothing or mixup need probability targets."""
        if soft_labels:
            return "soft"
        return "one_hot" if self.label_smoothing or self.mixup else "index"

    @property
    def total_epochs(self) -> int:
        """Epochs of both stages."""
        return self.epochs + self.fine_tune_epochs

    @property
    def fine_tune_rate(self) -> float:
        """The second stage's learning rate."""
        return self.fine_tune_learning_rate or self.learning_rate / 10
