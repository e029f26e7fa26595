"""Exports the ELPV solar-cell dataset (pip package elpv-dataset) to train/test class folders."""

from __future__ import annotations

import argparse
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from edge_runtime.errors import UserError, cli_main
from edge_runtime.files import atomic_write_text
from labels import builtin_labels_path, read_labels
from train.soft_labels import FILE_NAME as SOFT_LABELS
from train.soft_labels import soft_labels_json

TRAIN_FRACTION = 0.75
DEFECT_THRESHOLD = 0.5  # cells with a defect probability of 2/3 or 1 are defective
FUNCTIONAL, DEFECTIVE = "functional", "defective"
MARKER = "export.json"
SPLITS = ("train", "test")


@dataclass(frozen=True)
class ExportSummary:
    """What an export holds.

    Attributes:
      root: The export folder (ROOT/train/<class>, ROOT/test/<class>).
      counts: Images per split per class, e.g. counts["train"]["defective"].
      reused: True when a finished export with the same settings was already there.
    """

    root: Path
    counts: Mapping[str, Mapping[str, int]]
    reused: bool

    def total(self, split: str) -> int:
        """Number of images in `split` ('train' or 'test')."""
        return sum(self.counts[split].values())


def read_elpv_labels(data_dir: Path) -> list[tuple[str, float]]:
    """Reads elpv-dataset's labels.csv: (relative image path, defect probability) rows.

    The file is whitespace-separated: path, probability, cell type (mono/poly).
    """
    csv = data_dir / "labels.csv"
    rows = []
    for number, line in enumerate(csv.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 2:
            raise UserError(f"{csv}: line {number} has no probability column; reinstall elpv-dataset")
        rows.append((fields[0], float(fields[1])))
    return rows


def soft_label_rows(
    rows: list[tuple[str, float]], chosen: Mapping[str, list[str]]
) -> dict[str, dict[str, float]]:
    """The soft labels of the `chosen` images (class -> image paths): '<class>/<file>' -> class probabilities.

    The experts' defect probability p (0, 1/3, 2/3 or 1) gives defective p, functional 1 - p.
    """
    probability = dict(rows)
    return {
        f"{name}/{Path(path).name}": {DEFECTIVE: probability[path], FUNCTIONAL: 1.0 - probability[path]}
        for name, paths in chosen.items()
        for path in paths
    }


def split_rows(
    rows: list[tuple[str, float]], class_names: list[str], seed: int
) -> dict[str, dict[str, list[str]]]:
    """Assigns each image to a class by its probability and splits every class 75/25 with `seed`.

    Splitting each class on its own keeps the defect ratio of train and test equal (stratified).

    Args:
      rows: (image path, defect probability) pairs, as read_elpv_labels returns them.
      class_names: The ELPV classes in label order: 'functional' and 'defective', either order.
      seed: Seed of the split.

    Returns:
      splits[split][class] = image paths in shuffled order (so any prefix is a random sample),
      for split 'train' and 'test'.
    """
    if sorted(class_names) != [DEFECTIVE, FUNCTIONAL]:
        raise UserError(f"ELPV classes must be {DEFECTIVE!r} and {FUNCTIONAL!r}, got {class_names}")
    by_class: dict[str, list[str]] = {FUNCTIONAL: [], DEFECTIVE: []}
    for path, probability in rows:
        by_class[DEFECTIVE if probability >= DEFECT_THRESHOLD else FUNCTIONAL].append(path)
    rng = np.random.default_rng(seed)
    splits: dict[str, dict[str, list[str]]] = {split: {} for split in SPLITS}
    for name in (FUNCTIONAL, DEFECTIVE):
        paths = sorted(by_class[name])
        order = rng.permutation(len(paths))
        n_train = round(len(paths) * TRAIN_FRACTION)
        splits["train"][name] = [paths[i] for i in order[:n_train]]
        splits["test"][name] = [paths[i] for i in order[n_train:]]
    return {split: {name: splits[split][name] for name in class_names} for split in SPLITS}


def _finished_export(root: Path, settings: dict) -> dict | None:
    """The marker of a completed export in `root` with the same settings, or None."""
    try:
        marker = json.loads((root / MARKER).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return marker if marker.get("settings") == settings else None


def _check_replaceable(root: Path) -> None:
    """Refuses to replace a folder that has files but is not an export of ours."""
    if root.exists() and not root.is_dir():
        raise UserError(f"{root}: is a file; pass a folder path for the export")
    if root.is_dir() and any(root.iterdir()) and not (root / MARKER).is_file():
        raise UserError(
            f"{root}: folder is not empty and holds no ELPV export; choose an empty or new folder"
        )


def export(
    root: str | os.PathLike, per_class_limit: dict[str, int] | None = None, seed: int = 0
) -> ExportSummary:
    """Writes ROOT/{train,test}/<class>/*.png from the installed elpv-dataset package.

    Classes are those of labels/elpv.txt, in its order: 'functional' (defect probability < 0.5)
    and 'defective' (>= 0.5). Each split also gets soft_labels.json, the experts' probabilities
    (train.soft_labels format), for `python -m train --soft-labels`.
    Files are written to a temporary sibling folder that is renamed to ROOT when complete, so
    ROOT is either absent, empty, or a whole export with its marker (export.json, the counts).
    A finished export with the same settings is reused.

    Args:
      root: The export folder; it must not exist, be empty, or hold an earlier export.
      per_class_limit: Caps images per class per split, e.g. {"train": 24, "test": 8} for tests.
      seed: Seed of the stratified 75/25 split.

    Returns:
      The counts per split and class.

    Raises:
      UserError: ROOT is a file, or a non-empty folder that is not an export.
    """
    root = Path(root)
    limits = dict(per_class_limit or {})
    unknown = sorted(set(limits) - set(SPLITS))
    if unknown:
        raise UserError(f"per_class_limit: unknown split(s) {unknown}; use 'train' and/or 'test'")
    settings = {
        "seed": seed,
        "per_class_limit": {k: limits[k] for k in sorted(limits)},
        "soft_labels": SOFT_LABELS,
    }
    _check_replaceable(root)
    marker = _finished_export(root, settings)
    if marker is not None:
        return ExportSummary(root=root, counts=marker["counts"], reused=True)

    data_dir = Path(str(resources.files("elpv_dataset") / "data"))
    class_names = read_labels(builtin_labels_path("elpv"))
    rows = read_elpv_labels(data_dir)
    splits = split_rows(rows, class_names, seed)

    root.parent.mkdir(parents=True, exist_ok=True)
    staging = root.with_name(f".{root.name}.partial{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    counts: dict[str, dict[str, int]] = {}
    try:
        for split in SPLITS:
            counts[split] = {}
            chosen = {name: splits[split][name][: limits.get(split)] for name in class_names}
            for name in class_names:
                folder = staging / split / name
                folder.mkdir(parents=True)
                for relative in chosen[name]:
                    # A copy, not a hard link: editing an exported file must not edit the installed package.
                    shutil.copyfile(data_dir / relative, folder / Path(relative).name)
                counts[split][name] = len(chosen[name])
            soft = soft_labels_json(soft_label_rows(rows, chosen))
            atomic_write_text(staging / split / SOFT_LABELS, soft)
        marker = {"dataset": "elpv", "settings": settings, "counts": counts}
        atomic_write_text(staging / MARKER, json.dumps(marker, indent=2) + "\n")
        _replace_folder(staging, root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ExportSummary(root=root, counts=counts, reused=False)


def _replace_folder(new: Path, root: Path) -> None:
    """Renames `new` to `root`, moving an empty folder or an older export out of the way first."""
    if root.is_dir() and any(root.iterdir()):
        old = root.with_name(f".{root.name}.old{os.getpid()}")
        os.replace(root, old)
        os.replace(new, root)
        shutil.rmtree(old, ignore_errors=True)
    else:
        # os.replace renames a folder over an empty one.
        os.replace(new, root)


@cli_main
def main(argv: list[str] | None = None) -> int:
    """CLI: python -m train.elpv --out build/data/elpv [--seed 0]."""
    parser = argparse.ArgumentParser(prog="python -m train.elpv", description=__doc__)
    parser.add_argument("--out", required=True, type=Path, help="export folder (e.g. build/data/elpv)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the stratified 75/25 split")
    args = parser.parse_args(argv)
    print(f"exporting ELPV to {args.out} (stratified 75/25 split, seed {args.seed})")
    summary = export(args.out, seed=args.seed)
    for split in SPLITS:
        per_class = ", ".join(f"{name} {n}" for name, n in summary.counts[split].items())
        print(f"{split}: {summary.total(split)} images ({per_class})")
    print("already exported; nothing to do" if summary.reused else f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
