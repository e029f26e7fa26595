"""Listing image files and class-folder datasets (ROOT/<class>/*.png), shared by every stage."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from edge_runtime.errors import UserError
from edge_runtime.image import is_image_name


def list_images(folder: str | os.PathLike, recursive: bool = False) -> list[Path]:
    """Image files in `folder` (by suffix), sorted by path so every run sees the same order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    pattern = "**/*" if recursive else "*"
    return sorted(p for p in folder.glob(pattern) if p.is_file() and is_image_name(p))


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
    """Lists ROOT/<class>/* image files, classes in sorted order (or in `class_names` order).

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
        images = list_images(root / name)
        if not images:
            raise UserError(f"{root / name}: class {name!r} has no image files")
        files.extend((path, label) for path in images)
    return ClassFolder(root=root, class_names=tuple(class_names), files=tuple(files))
