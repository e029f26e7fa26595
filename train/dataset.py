"""Class-folder image dataset (ROOT/<class>/*.png) decoded once by the runtime's loader."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from edge_runtime.errors import UserError
from edge_runtime.folders import read_class_folder
from edge_runtime.image import load_resized

if TYPE_CHECKING:
    import tensorflow as tf

_log = logging.getLogger(__name__)
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
    """

    root: Path
    class_names: tuple[str, ...]
    images: np.ndarray
    labels: np.ndarray
    skipped: tuple[tuple[Path, str], ...] = ()

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def image_size(self) -> tuple[int, int]:
        """(height, width) of the images."""
        return int(self.images.shape[1]), int(self.images.shape[2])

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

        Class names are the sorted names of ROOT's subfolders, or `class_names` in its order (a
        model's labels, for a test folder). Image files in each class folder are decoded with
        edge_runtime.image.load_resized, the decoder and resize the runtime uses; files it cannot
        decode (truncated, not an image) are skipped, counted in `skipped` and reported in one
        warning.

        Args:
          path: The dataset folder.
          image_size: (height, width) to resize every image to.
          class_names: The classes to read, in label order; default: every subfolder, sorted.
          workers: Decoding threads (default: the number of CPUs).

        Returns:
          The decoded dataset.

        Raises:
          FileNotFoundError: The folder does not exist.
          UserError: No class folders, a class with no readable images, or a single class.
        """
        folder = read_class_folder(path, None if class_names is None else list(class_names))
        height, width = image_size
        with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
            decoded = list(pool.map(lambda item: _try_load(item[0], width, height), folder.files))

        images, labels, skipped = [], [], []
        for (file, label), (pixels, reason) in zip(folder.files, decoded, strict=True):
            if pixels is None:
                skipped.append((file, reason))
            else:
                images.append(pixels)
                labels.append(label)
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
        )

    def split(self, fraction: float, seed: int = 0) -> tuple[Dataset, Dataset]:
        """Splits off `fraction` of every class (stratified), with a seeded shuffle.

        Args:
          fraction: Share of each class that goes to the second part, in (0, 1).
          seed: Seed of the shuffle; the same seed gives the same split.

        Returns:
          (rest, split_off), e.g. (train, validation).
        """
        if not 0.0 < fraction < 1.0:
            raise UserError(f"split fraction {fraction} is not between 0 and 1 (exclusive)")
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
        return Dataset(self.root, self.class_names, self.images[indices], self.labels[indices], self.skipped)

    def gen_tf_dataset(
        self, batch_size: int, *, shuffle: bool = False, augment: bool = False, seed: int = 0
    ) -> tf.data.Dataset:
        """A tf.data pipeline of (float32 raw 0..255 pixels (B, H, W, 3), int32 labels (B,)).

        The pixels are already decoded in memory, so there is nothing to cache; batches are cast
        to float32 only when consumed, keeping the resident copy uint8 (4x smaller).

        Args:
          batch_size: Images per batch (the last batch may be smaller).
          shuffle: Reshuffle every epoch, in an order fixed by `seed`.
          augment: Flip each image left-right and up-down at random, anew every epoch; for
            training only (a flipped cell or part keeps its class).
          seed: Seed of the shuffle and the flips.
        """
        import tensorflow as tf

        data = tf.data.Dataset.from_tensor_slices((self.images, self.labels))
        if shuffle:
            data = data.shuffle(len(self), seed=seed, reshuffle_each_iteration=True)
        if augment:
            # Stateless flips driven by a seeded random stream: the same seed, the same flips.
            pairs = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
            data = tf.data.Dataset.zip(data, pairs).map(_random_flips, num_parallel_calls=tf.data.AUTOTUNE)
        data = data.batch(batch_size).map(
            lambda x, y: (tf.cast(x, tf.float32), y), num_parallel_calls=tf.data.AUTOTUNE
        )
        return data.prefetch(tf.data.AUTOTUNE)


def _random_flips(pixels_and_label, pair):
    """Flips one image left-right and up-down, each with probability 1/2, seeded by `pair`."""
    import tensorflow as tf

    pixels, label = pixels_and_label
    pixels = tf.image.stateless_random_flip_left_right(pixels, pair)
    pixels = tf.image.stateless_random_flip_up_down(pixels, pair[::-1])
    return pixels, label


def _try_load(file: Path, width: int, height: int) -> tuple[np.ndarray | None, str]:
    """Decoded pixels, or None and the reason the file cannot be read."""
    try:
        return load_resized(file, width, height), ""
    except (UserError, OSError) as err:
        return None, str(err)
