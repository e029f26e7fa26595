"""Listing image files and class-folder datasets (ROOT/<class>/*.png), shared by every stage."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from edge_runtime.errors import UserError
from edge_runtime.image import is_image_name


def list_images(folder: str | os.PathLike, recursive: bool = False) -> list[Path]:
    """Image files in `folder` (by suffix), sorted by path so every run sees the same order.

    Hidden files and folders (a leading dot: .ipynb_checkpoints, a staging folder) are skipped.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    pattern = "**/*" if recursive else "*"
    return sorted(
        p
        for p in folder.glob(pattern)
        if p.is_file()
        and is_image_name(p)
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


_NUMBER_WORDS = frozenset(
    [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "sixth",
        "seventh",
        "eighth",
        "ninth",
        "tenth",
        "low",
        "medium",
        "high",
        "small",
        "large",
    ]
)


def order_hint(class_names: list[str] | tuple[str, ...]) -> str | None:
    """A note when folder names sort alphabetically out of their natural order (eight, five, four; 1, 10, 2).

    Class i is the i-th folder in sorted order unless --labels says otherwise; for numbers and
    number words that order is rarely the one the user means.
    """
    names = list(class_names)
    numeric = all(name.isdigit() for name in names) and names != sorted(names, key=int)
    worded = all(name.lower() in _NUMBER_WORDS for name in names)
    if not (numeric or worded):
        return None
    shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
    return (
        f"note: class folders are numbered in sorted order ({shown}); if the classes have a natural order, "
        "pass --labels FILE listing them in that order"
    )


@dataclass(frozen=True)
class ClassFolder:
    """A class-folder dataset: `class_names[i]` is the sub-folder of class i."""

    root: Path
    class_names: tuple[str, ...]
    files: tuple[tuple[Path, int], ...]

    def counts(self) -> dict[str, int]:
        """Number of files per class name."""
        counts = dict.fromkeys(self.class_names, 0)
        for _, label in self.files:
            counts[self.class_names[label]] += 1
        return counts


def read_class_folder(root: str | os.PathLike, class_names: list[str] | None = None) -> ClassFolder:
    """Lists ROOT/<class>/**/* image files (nested folders too), classes in sorted order (or `class_names` order).

    Args:
      root: The dataset folder, holding one sub-folder per class.
      class_names: The expected classes, e.g. a model's labels; each must have a sub-folder.

    Raises:
      FileNotFoundError: `root` does not exist.
      UserError: No class sub-folders, a class folder without image files, fewer than two
        classes, or a class of `class_names` without a folder.
    """
    root = Path(root)
    if root.is_file():
        raise UserError(f"{root}: is a file; pass the dataset folder that holds one sub-folder per class")
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such dataset folder")
    found = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not found:
        loose = "; it holds image files directly" if list_images(root) else ""
        raise UserError(
            f"{root}: no class folders{loose} (expected {root}/<class name>/<images>, one folder per class)"
        )
    if class_names is None:
        class_names = found
        if len(class_names) < 2:
            raise UserError(
                f"{root}: only one class folder ({class_names[0]!r}); a classifier needs at least two"
            )
    else:
        missing = [name for name in class_names if name not in found]
        if missing:
            raise UserError(
                f"{root}: no folder for class(es) {', '.join(missing)} (found: {', '.join(found)})"
            )
    files: list[tuple[Path, int]] = []
    for label, name in enumerate(class_names):
        images = list_images(root / name, recursive=True)  # as calibration and Keras read them
        if not images:
            raise UserError(f"{root / name}: class {name!r} has no image files")
        files.extend((path, label) for path in images)
    return ClassFolder(root=root, class_names=tuple(class_names), files=tuple(files))
