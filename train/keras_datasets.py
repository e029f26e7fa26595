"""Fashion-MNIST and CIFAR-10 from keras.datasets' cache, downloaded on first use, as Datasets.

Keras keeps them under $KERAS_HOME (default ~/.keras): datasets/fashion-mnist/*.gz, and
datasets/cifar-10-batches-py-target/cifar-10-batches-py/ (the extracted archive). When a file is
missing and cannot be downloaded, the error names it and where to put it.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_runtime.errors import ParameterError, UserError, cli_main
from labels import builtin_labels_path, read_labels
from train.applications import keras_home
from train.cifar import read_cifar_batch
from train.dataset import Dataset

Arrays = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
SPLITS = ("train", "test")
MAX_BYTES = 4 * 2**30  # decoded uint8 images held in memory (and once more by tf.data)


@dataclass(frozen=True)
class KerasDataset:
    """One of keras.datasets' image datasets.

    Attributes:
      name: Registry key, as given to --dataset (also the labels/ file's name).
      folder: Its folder under KERAS_HOME.
      files: Files in `folder` the loader reads.
      url: Where Keras downloads it from (for the offline message).
      how: What to do with the download, for the offline message.
      read: Reads ((x_train, y_train), (x_test, y_test)), downloading through Keras if needed.
    """

    name: str
    folder: str
    files: tuple[str, ...]
    url: str
    how: str
    read: Callable[[Path], Arrays]

    def path(self) -> Path:
        """The dataset's folder in Keras' cache."""
        return keras_home() / self.folder


def _read_fashion_mnist(folder: Path) -> Arrays:
    """keras.datasets.fashion_mnist.load_data(): reads the four .gz files, downloading missing ones."""
    import keras

    return keras.datasets.fashion_mnist.load_data()


def _read_cifar10(folder: Path) -> Arrays:
    """The extracted batches if present (Keras leaves them there), else keras.datasets.cifar10.load_data()."""
    batches = folder / "cifar-10-batches-py"
    if not (batches / "test_batch").is_file():
        import keras

        # Downloads and extracts; with the archive present it re-checks its hash and re-extracts.
        return keras.datasets.cifar10.load_data()
    parts = [read_cifar_batch(batches / f"data_batch_{i}") for i in range(1, 6)]
    train = (np.concatenate([x for x, _ in parts]), np.concatenate([y for _, y in parts]))
    return train, read_cifar_batch(batches / "test_batch")


KERAS_DATASETS = {
    spec.name: spec
    for spec in (
        KerasDataset(
            name="fashion_mnist",
            folder="datasets/fashion-mnist",
            files=(
                "train-labels-idx1-ubyte.gz",
                "train-images-idx3-ubyte.gz",
                "t10k-labels-idx1-ubyte.gz",
                "t10k-images-idx3-ubyte.gz",
            ),
            url="https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
            how="download it from {url} and put it there",
            read=_read_fashion_mnist,
        ),
        KerasDataset(
            name="cifar10",
            folder="datasets/cifar-10-batches-py-target",
            files=tuple(
                f"cifar-10-batches-py/{n}" for n in (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch")
            ),
            url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
            how="download {url} and extract it into {folder}",
            read=_read_cifar10,
        ),
    )
}


def get_keras_dataset(name: str) -> KerasDataset:
    """The keras.datasets entry called `name`; UserError listing the valid names otherwise."""
    try:
        return KERAS_DATASETS[name]
    except KeyError:
        raise UserError(f"unknown dataset {name!r}; valid datasets: {', '.join(KERAS_DATASETS)}") from None


def _arrays(spec: KerasDataset) -> Arrays:
    """Reads the dataset, letting Keras download missing files; offline, names every missing file at once."""
    folder = spec.path()
    empty = [folder / f for f in spec.files if (folder / f).is_file() and (folder / f).stat().st_size == 0]
    if empty:
        raise UserError(
            f"{', '.join(map(str, empty))}: empty (0 bytes), not the {spec.name} file{'s' if len(empty) > 1 else ''}; "
            f"delete {'them' if len(empty) > 1 else 'it'} and {spec.how.format(url=spec.url, folder=folder)}"
        )
    missing = [folder / f for f in spec.files if not (folder / f).is_file()]
    try:
        return spec.read(folder)
    except Exception as err:  # keras.utils.get_file raises a bare Exception when the download fails.
        if not missing or "URL fetch failure" not in str(err):
            raise
        reason = str(err).rsplit(" -- ", 1)[-1]
        fix = spec.how.format(url=spec.url, folder=folder)
        names = ", ".join(str(path.relative_to(folder)) for path in missing)
        raise UserError(
            f"{folder}: {len(missing)} {spec.name} file{'s' if len(missing) > 1 else ''} missing ({names}) "
            f"and cannot be downloaded ({reason}); {fix}"
        ) from None


def _sample(labels: np.ndarray, limit_per_class: int | None, seed: int) -> np.ndarray:
    """Sorted indices of at most `limit_per_class` images of each class (a seeded sample), or all."""
    if limit_per_class is None:
        return np.arange(len(labels))
    if limit_per_class < 1:
        raise ParameterError("limit_per_class", limit_per_class, "must be at least 1")
    rng = np.random.default_rng(seed)
    keep = [rng.permutation(np.flatnonzero(labels == c))[:limit_per_class] for c in np.unique(labels)]
    return np.sort(np.concatenate(keep))


def load_keras_dataset(
    name: str,
    split: str,
    image_size: tuple[int, int],
    *,
    limit_per_class: int | None = None,
    seed: int = 0,
) -> Dataset:
    """Loads keras.datasets' `name` ('fashion_mnist' or 'cifar10') as a Dataset.

    Gray images become RGB (r = g = b); the classes are those of labels/<name>.txt, in Keras'
    label order.

    Args:
      name: A key of KERAS_DATASETS.
      split: 'train' or 'test'.
      image_size: (height, width) to resize to, as the runtime resizes.
      limit_per_class: Keep at most this many images per class (a seeded sample), for quick runs.
      seed: Seed of that sample.

    Raises:
      UserError: Unknown name or split, or a missing file that cannot be downloaded.
    """
    spec = get_keras_dataset(name)
    if split not in SPLITS:
        raise UserError(f"split {split!r} is not known; use {' or '.join(SPLITS)}")
    images, labels = _arrays(spec)[SPLITS.index(split)]
    labels = np.asarray(labels).reshape(-1)
    if limit_per_class is not None:
        chosen = _sample(labels, limit_per_class, seed)
        images, labels = images[chosen], labels[chosen]
    needed = len(labels) * image_size[0] * image_size[1] * 3
    if needed > MAX_BYTES:
        raise UserError(
            f"{name} {split} at {image_size[0]}x{image_size[1]} needs {needed / 2**30:.1f} GiB in memory; "
            "use a smaller --image-size or --limit-per-class"
        )
    class_names = read_labels(builtin_labels_path(name))
    return Dataset.from_arrays(images, labels, class_names, image_size=image_size, root=spec.path())


def export_folders(
    name: str, out: str | os.PathLike, *, limit_per_class: int | None = None, seed: int = 0
) -> dict:
    """Writes OUT/{train,test}/<class>/<index>.png from keras.datasets' `name`, for convert and evaluation.

    Images keep their native size (28x28 gray, 32x32 RGB); an existing non-empty OUT is refused.

    Returns:
      Images written per split.

    Raises:
      UserError: OUT is not empty, or the dataset cannot be loaded.
    """
    from PIL import Image

    root = Path(out)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise UserError(f"{root}: exists and is not an empty folder; choose a new --out")
    spec = get_keras_dataset(name)
    arrays = _arrays(spec)
    class_names = read_labels(builtin_labels_path(name))
    counts = {}
    for split, (images, labels) in zip(SPLITS, arrays, strict=True):
        labels = np.asarray(labels).reshape(-1)
        chosen = _sample(labels, limit_per_class, seed)
        for index in chosen:
            folder = root / split / class_names[labels[index]]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.asarray(images[index], dtype=np.uint8)).save(folder / f"{index:05d}.png")
        counts[split] = len(chosen)
    return counts


@cli_main
def main(argv: list[str] | None = None) -> int:
    """CLI: python -m train.keras_datasets NAME --out DIR [--limit-per-class N] exports class folders."""
    parser = argparse.ArgumentParser(prog="python -m train.keras_datasets", description=main.__doc__)
    parser.add_argument("name", help=f"one of {', '.join(KERAS_DATASETS)}")
    parser.add_argument("--out", required=True, type=Path, help="new folder for train/ and test/")
    parser.add_argument("--limit-per-class", type=int, help="at most N images per class and split (seeded)")
    parser.add_argument("--seed", type=int, default=0, help="seed of that sample")
    args = parser.parse_args(argv)
    counts = export_folders(args.name, args.out, limit_per_class=args.limit_per_class, seed=args.seed)
    print(f"wrote {', '.join(f'{n} {split}' for split, n in counts.items())} images to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
