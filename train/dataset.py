"""The image dataset: class folders (ROOT/<class>/*.png) or arrays, decoded and resized once as the runtime does."""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from edge_runtime.errors import ParameterError, UserError
from edge_runtime.folders import read_class_folder
from edge_runtime.image import load_resized, resize

if TYPE_CHECKING:
    import tensorflow as tf

_log = logging.getLogger(__name__)
TARGETS = ("index", "one_hot", "soft")
_MAX_NAMED_SKIPS = 3


@dataclass(frozen=True, eq=False)
class Dataset:
    """Decoded images of a class-folder dataset.

    Attributes:
      root: The folder the images came from (used in messages).
      class_names: Class names, index i being label i (sorted subfolder names).
      images: (N, H, W, 3) uint8 RGB pixels, decoded and resized by edge_runtime.image.
      labels: (N,) int32 class indices.
      skipped: Files with an image suffix that could not be decoded, with the reason.
      files: Each image's path relative to `root` ('<class>/<file>'), when read from a folder.
      targets: (N, classes) float32 soft labels (class probabilities) to train on instead of
        `labels`, or None (see with_soft_labels).
      soft_labels: The file `targets` came from, or None.
    """

    root: Path
    class_names: tuple[str, ...]
    images: np.ndarray
    labels: np.ndarray
    skipped: tuple[tuple[Path, str], ...] = ()
    files: tuple[str, ...] = ()
    targets: np.ndarray | None = None
    soft_labels: Path | None = None

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def image_size(self) -> tuple[int, int]:
        """(height, width) of the images."""
        return int(self.images.shape[1]), int(self.images.shape[2])

    @functools.cached_property
    def grayscale(self) -> bool:
        """True when every pixel is gray (r = g = b), e.g. Fashion-MNIST or ELPV."""
        pixels = self.images
        return bool(
            np.array_equal(pixels[..., 0], pixels[..., 1]) and np.array_equal(pixels[..., 0], pixels[..., 2])
        )

    def class_counts(self) -> dict[str, int]:
        """Number of images of each class, in label order."""
        counts = np.bincount(self.labels, minlength=len(self.class_names))
        return {name: int(n) for name, n in zip(self.class_names, counts, strict=True)}

    @classmethod
    def from_folder(
        cls,
        path: str | os.PathLike,
        *,
        image_size: tuple[int, int],
        class_names: Sequence[str] | None = None,
        workers: int | None = None,
    ) -> Dataset:
        """Loads every image of ROOT/<class>/* (like keras.utils.image_dataset_from_directory).

        Classes are ROOT's subfolders, sorted, or `class_names` in its order (a model's labels).
        Files are decoded with the runtime's decoder and resize (edge_runtime.image.load_resized);
        undecodable ones are skipped, counted in `skipped` and reported in one warning.

        Args:
          path: The dataset folder.
          image_size: (height, width) to resize every image to.
          class_names: The classes to read, in label order; default: every subfolder, sorted.
          workers: Decoding threads (default: the number of CPUs).

        Raises:
          FileNotFoundError: The folder does not exist.
          UserError: No class folders, a class with no readable images, or a single class.
        """
        folder = read_class_folder(path, None if class_names is None else list(class_names))
        height, width = image_size
        with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
            decoded = list(pool.map(lambda item: _try_load(item[0], width, height), folder.files))

        images, labels, skipped, files = [], [], [], []
        for (file, label), (pixels, reason) in zip(folder.files, decoded, strict=True):
            if pixels is None:
                skipped.append((file, reason))
            else:
                images.append(pixels)
                labels.append(label)
                files.append(file.relative_to(folder.root).as_posix())
        counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=len(folder.class_names))
        for name, count in zip(folder.class_names, counts, strict=True):
            if count == 0:
                raise UserError(
                    f"{folder.root / name}: class {name!r} has no readable images; "
                    "add images or remove the folder"
                )
        if skipped:
            named = "; ".join(reason for _, reason in skipped[:_MAX_NAMED_SKIPS])
            more = f" and {len(skipped) - _MAX_NAMED_SKIPS} more" if len(skipped) > _MAX_NAMED_SKIPS else ""
            _log.warning(
                "%s: skipped %d unreadable image file(s): %s%s", folder.root, len(skipped), named, more
            )
        return cls(
            root=folder.root,
            class_names=folder.class_names,
            images=np.stack(images),
            labels=np.asarray(labels, dtype=np.int32),
            skipped=tuple(skipped),
            files=tuple(files),
        )

    def with_soft_labels(self, path: str | os.PathLike) -> Dataset:
        """This dataset with soft targets read from `path` (see train.soft_labels), one per image.

        Raises:
          UserError: The file is missing or malformed, or does not cover every image; or the
            images were not read from a folder (no relative paths to look up).
        """
        from train.soft_labels import soft_targets

        if len(self.files) != len(self):
            raise UserError(
                f"{path}: soft labels need a dataset read from a class folder (--data), not {self.root}"
            )
        targets = soft_targets(path, self.files, self.class_names)
        return dataclasses.replace(self, targets=targets, soft_labels=Path(path))

    @classmethod
    def from_arrays(
        cls,
        images: np.ndarray,
        labels: np.ndarray,
        class_names: Sequence[str],
        *,
        image_size: tuple[int, int],
        root: str | os.PathLike,
    ) -> Dataset:
        """Wraps in-memory (N, H, W) gray or (N, H, W, 3) RGB uint8 images and (N,) or (N, 1) labels.

        Gray becomes RGB (r = g = b); images are resized to `image_size` (height, width) with the
        runtime's resize. `root` says where they came from, for messages and the training config.

        Raises:
          UserError: The arrays do not match, or a label has no class name.
        """
        images = np.asarray(images, dtype=np.uint8)
        labels = np.asarray(labels).reshape(-1).astype(np.int32)
        if images.ndim == 3:
            images = np.repeat(images[..., None], 3, axis=-1)
        if images.ndim != 4 or images.shape[-1] != 3 or len(images) != len(labels):
            raise UserError(
                f"{root}: images {images.shape} and labels {labels.shape} do not match (N, H, W[, 3]) and (N,)"
            )
        if len(labels) and not 0 <= labels.min() <= labels.max() < len(class_names):
            raise UserError(
                f"{root}: labels {labels.min()}..{labels.max()} exceed the {len(class_names)} classes"
            )
        height, width = image_size
        if images.shape[1:3] != (height, width):
            images = np.stack([resize(image, width, height) for image in images])
        return cls(Path(root), tuple(class_names), images, labels)

    def split(self, fraction: float, seed: int = 0) -> tuple[Dataset, Dataset]:
        """Splits off `fraction` of every class (stratified), with a seeded shuffle.

        Args:
          fraction: Share of each class that goes to the second part, in (0, 1).
          seed: Seed of the shuffle; the same seed gives the same split.

        Returns:
          (rest, split_off), e.g. (train, validation).
        """
        if not 0.0 < fraction < 1.0:
            raise ParameterError("fraction", fraction, "must be between 0 and 1 (exclusive)")
        rng = np.random.default_rng(seed)
        keep, take = [], []
        for label in range(len(self.class_names)):
            members = np.flatnonzero(self.labels == label)
            members = members[rng.permutation(len(members))]
            n_take = int(round(len(members) * fraction))
            take.append(members[:n_take])
            keep.append(members[n_take:])
        return self._subset(np.sort(np.concatenate(keep))), self._subset(np.sort(np.concatenate(take)))

    def _subset(self, indices: np.ndarray) -> Dataset:
        return dataclasses.replace(
            self,
            images=self.images[indices],
            labels=self.labels[indices],
            files=tuple(self.files[i] for i in indices) if self.files else (),
            targets=None if self.targets is None else self.targets[indices],
        )

    def target_matrix(self, soft: bool = True) -> np.ndarray:
        """(N, classes) float32 targets: the soft labels when there are some and `soft`, else one-hot labels."""
        if soft and self.targets is not None:
            return self.targets.astype(np.float32)
        return np.eye(len(self.class_names), dtype=np.float32)[self.labels]

    def gen_tf_dataset(
        self,
        batch_size: int,
        *,
        shuffle: bool = False,
        quarter_turns: bool = False,
        seed: int = 0,
        epochs: int = 1,
        first_epoch: int = 0,
        targets: str = "index",
        mixup: float = 0.0,
        oversample: bool = False,
    ) -> tf.data.Dataset:
        """A tf.data pipeline of (float32 raw 0..255 pixels (B, H, W, 3), targets).

        Epoch e is shuffled, turned and mixed with seeds made of (`seed`, e) alone, so a resumed
        run's epochs are an uninterrupted run's. Each epoch ends with its own (possibly smaller)
        batch: fit with steps_per_epoch = self.steps(batch_size). Batches are cast to float32 only
        when consumed (the resident copy stays uint8); one unshuffled pass (evaluation) is cached
        after the cast, so validating every epoch reuses the same batches.

        Args:
          batch_size: Images per batch.
          shuffle: Shuffle every epoch, in an order fixed by (`seed`, epoch).
          quarter_turns: Rotate each image by a random multiple of 90 degrees (training only;
            square images). Flips and the other augmentations are Keras layers (train.augmentation).
          seed: Seed of the shuffle, the turns and mixup.
          epochs: Epochs to yield, one after the other.
          first_epoch: Number of the first epoch yielded (to resume a run).
          targets: 'index': int32 class indices (B,); 'one_hot': float32 one-hot labels
            (B, classes); 'soft': the soft labels (B, classes) when the dataset has them, else one-hot.
          mixup: When above 0, each image is blended with another of its batch (and so are their
            targets, which must then be 'one_hot' or 'soft') by a weight drawn from
            Beta(mixup, mixup), kept at or above one half so the image stays the main one.
          oversample: Every class as often as the largest in each epoch (`epoch_size`): a
            smaller class's images are drawn in fresh shuffles of the class, as many as needed,
            so an epoch repeats none of them more than once more than the others.
        """
        import tensorflow as tf

        if quarter_turns and self.image_size[0] != self.image_size[1]:
            raise UserError(f"{self.root}: quarter turns need square images, not {self.image_size}")
        if targets not in TARGETS:
            raise ParameterError("targets", targets, f"not known; use one of {', '.join(TARGETS)}")
        if mixup and targets == "index":
            raise ParameterError("mixup", mixup, "blends targets: use targets 'one_hot' or 'soft'")
        values = self.labels if targets == "index" else self.target_matrix(soft=targets == "soft")
        if not (shuffle or quarter_turns or mixup or oversample) and epochs == 1:
            data = tf.data.Dataset.from_tensor_slices((self.images, values))
            data = data.batch(batch_size).map(_to_float, num_parallel_calls=tf.data.AUTOTUNE)
            return data.cache().prefetch(tf.data.AUTOTUNE)
        images, labels, size = tf.constant(self.images), tf.constant(values), self.epoch_size(oversample)
        if oversample:
            members = [np.flatnonzero(self.labels == label) for label in range(len(self.class_names))]
            largest = max(len(m) for m in members)

        def one_epoch(epoch):
            key = tf.stack([tf.constant(seed, tf.int64), epoch])
            pool = _balanced_pool(members, largest, key) if oversample else tf.range(size, dtype=tf.int64)
            order = tf.gather(pool, tf.argsort(tf.random.stateless_uniform([size], key))) if shuffle else pool
            positions = tf.range(size, dtype=tf.int64)

            def fetch(position, index):
                pixels = tf.gather(images, index)
                if quarter_turns:
                    # keyed by the image (by its place in the epoch when classes are oversampled,
                    # so an image drawn twice is not turned alike twice)
                    place = position if oversample else tf.cast(index, tf.int64)
                    turn_key = tf.stack([key[0] + 1, epoch * size + place])
                    turns = tf.random.stateless_uniform([], turn_key, minval=0, maxval=4, dtype=tf.int32)
                    pixels = tf.ensure_shape(tf.image.rot90(pixels, turns), pixels.shape)
                return pixels, tf.gather(labels, index)

            data = tf.data.Dataset.from_tensor_slices((positions, order))
            data = data.map(fetch, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size)
            data = data.map(_to_float, num_parallel_calls=tf.data.AUTOTUNE)
            if mixup:
                data = data.enumerate().map(
                    lambda step, batch: _mix(batch, tf.stack([key[0] + 2, epoch * size + step]), mixup),
                    num_parallel_calls=tf.data.AUTOTUNE,
                )
            return data

        data = tf.data.Dataset.range(first_epoch, first_epoch + epochs).flat_map(one_epoch)
        return data.prefetch(tf.data.AUTOTUNE)

    def epoch_size(self, oversample: bool = False) -> int:
        """Images per training epoch: all of them, or as many per class (of those with images) as the largest has."""
        if not oversample:
            return len(self)
        counts = np.bincount(self.labels, minlength=len(self.class_names))
        return int(np.count_nonzero(counts)) * int(counts.max())

    def steps(self, batch_size: int, oversample: bool = False) -> int:
        """Batches per epoch (the last one may be smaller)."""
        return -(-self.epoch_size(oversample) // batch_size)


def _balanced_pool(members: list[np.ndarray], largest: int, key):
    """One epoch's image indices, `largest` per class: each class's images in fresh shuffles of the
    class (seeded by `key` and the class), as many laps as it takes, the last lap cut short."""
    import tensorflow as tf

    drawn = []
    for label, indices in enumerate(members):
        if not len(indices):
            continue
        laps = []
        count = -(-largest // len(indices))
        for lap in range(count):
            # seeds seed + 3 + label (the shuffle, turns and mixup use seed + 0..2), one stream per (epoch, lap)
            lap_key = tf.stack([key[0] + 3 + label, key[1] * count + lap])
            laps.append(tf.gather(indices, tf.argsort(tf.random.stateless_uniform([len(indices)], lap_key))))
        drawn.append(tf.concat(laps, 0)[:largest])
    return tf.cast(tf.concat(drawn, 0), tf.int64)


def _to_float(pixels, labels):
    import tensorflow as tf

    return tf.cast(pixels, tf.float32), labels


def _mix(batch, key, alpha: float):
    """Mixup of a float batch: each image and target blended with a partner from the same batch."""
    import tensorflow as tf

    pixels, targets = batch
    count = tf.shape(pixels)[0]
    gammas = [tf.random.stateless_gamma([count], key + offset, alpha) for offset in (0, 1)]
    weight = gammas[0] / (gammas[0] + gammas[1] + 1e-12)
    weight = tf.maximum(weight, 1.0 - weight)  # the image keeps the larger share
    partner = tf.argsort(tf.random.stateless_uniform([count], key + 2))
    w_pixels, w_targets = tf.reshape(weight, [-1, 1, 1, 1]), tf.reshape(weight, [-1, 1])
    mixed_pixels = w_pixels * pixels + (1.0 - w_pixels) * tf.gather(pixels, partner)
    mixed_targets = w_targets * targets + (1.0 - w_targets) * tf.gather(targets, partner)
    return mixed_pixels, mixed_targets


def _try_load(file: Path, width: int, height: int) -> tuple[np.ndarray | None, str]:
    """Decoded pixels, or None and the reason the file cannot be read."""
    try:
        return load_resized(file, width, height), ""
    except (UserError, OSError) as err:
        return None, str(err)
