"""Soft labels: per-image class probabilities from a JSON file, used as training targets.

The file maps each image's path relative to the dataset folder (as `<class>/<file>`, with `/`)
to its class probabilities, e.g. ELPV's expert defect probability:

    {"images": {"defective/cell0001.png": {"defective": 0.667, "functional": 0.333}, ...}}

Classes left out of an entry have probability 0; each entry's probabilities sum to 1.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from edge_runtime.errors import UserError

FILE_NAME = "soft_labels.json"  # the name train.elpv writes beside each split's class folders
_SUM_TOLERANCE = 1e-3
_MAX_NAMED = 3


def soft_labels_json(probabilities: Mapping[str, Mapping[str, float]]) -> str:
    """The text of a soft-label file for `probabilities` (relative path -> class -> probability)."""
    lines = [
        f"  {json.dumps(name)}: {json.dumps({c: round(float(p), 6) for c, p in probabilities[name].items()})}"
        for name in sorted(probabilities)
    ]
    return '{"images": {\n' + ",\n".join(lines) + "\n}}\n"


def read_soft_labels(path: str | os.PathLike, class_names: Sequence[str]) -> dict[str, np.ndarray]:
    """Reads a soft-label file: relative image path -> (len(class_names),) float32 probabilities.

    Raises:
      UserError: The file is missing, not JSON, not in the format above, names a class that is
        not in `class_names`, or holds probabilities that are not in [0, 1] or do not sum to 1.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(
            f"{path}: no such soft-label file; pass the JSON file of per-image class probabilities"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise UserError(f"{path}: not a JSON soft-label file ({err})") from None
    images = data.get("images") if isinstance(data, dict) else None
    if not isinstance(images, dict) or not images:
        raise UserError(
            f'{path}: expected a JSON object {{"images": {{"<class>/<file>": {{"<class>": probability, ...}}}}}}'
        )
    index = {name: i for i, name in enumerate(class_names)}
    targets: dict[str, np.ndarray] = {}
    for name, entry in images.items():
        if not isinstance(entry, dict) or not entry:
            raise UserError(
                f'{path}: entry {name!r} is not an object of class probabilities, e.g. {{"a": 0.7, "b": 0.3}}'
            )
        row = np.zeros(len(class_names), dtype=np.float32)
        for class_name, value in entry.items():
            if class_name not in index:
                raise UserError(
                    f"{path}: entry {name!r} names class {class_name!r}, not one of {', '.join(class_names)}"
                )
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise UserError(
                    f"{path}: entry {name!r} gives {class_name!r} probability {value!r}; use a number in [0, 1]"
                )
            row[index[class_name]] = value
        total = float(row.sum())
        if not math.isclose(total, 1.0, abs_tol=_SUM_TOLERANCE):
            raise UserError(f"{path}: entry {name!r} probabilities sum to {total:.4f}, not 1")
        targets[name] = row / total
    return targets


def soft_targets(path: str | os.PathLike, files: Sequence[str], class_names: Sequence[str]) -> np.ndarray:
    """The (len(files), classes) soft targets of the images `files` (paths relative to the dataset folder).

    Raises:
      UserError: As read_soft_labels, or the file has no entry for some of the images.
    """
    table = read_soft_labels(path, class_names)
    missing = [name for name in files if name not in table]
    if missing:
        named = ", ".join(missing[:_MAX_NAMED]) + (
            f" and {len(missing) - _MAX_NAMED} more" if len(missing) > _MAX_NAMED else ""
        )
        raise UserError(
            f"{path}: no soft label for {len(missing)} of the {len(files)} images ({named}); "
            "the file must cover every image of the dataset folder"
        )
    return np.stack([table[name] for name in files]) if files else np.zeros((0, len(class_names)), np.float32)
