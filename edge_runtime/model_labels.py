"""Finds a model's class names: --labels, the labels packed in the model, or labels.txt beside it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from edge_runtime.errors import UserError

LABELS_BESIDE_MODEL = "labels.txt"


def resolve_labels(
    model_path: Path,
    labels_file: str | None,
    num_classes: int,
    warn: Callable[[str], None] | None = None,
) -> tuple[list[str] | None, str]:
    """Finds the class names: --labels if given, else the model's embedded labels, else labels.txt beside it.

    An explicit --labels wins (e.g. translated names); the labels inside the model come next
    because they travel with it and cannot go stale. labels.txt beside the model serves every model
    without usable embedded labels: no metadata, metadata naming no labels file, a labels file named
    but not packed (edgetpu_compiler drops the packed files), or metadata that cannot be read.

    Args:
      model_path: The .tflite file.
      labels_file: --labels, or None.
      num_classes: The model's number of outputs, which the labels must match.
      warn: Receives a `warning:` line when the embedded labels are unusable (default: ignored).

    Returns:
      The names (None: show class indices) and where they came from, for logs.

    Raises:
      UserError: A labels file that cannot be read or does not match the model's outputs.
    """
    from labels import read_labels

    if labels_file is not None:
        names, source = read_labels(labels_file), labels_file
    else:
        try:
            names, source = _embedded_labels(model_path), f"{model_path} (embedded)"
        except UserError as err:
            names, source = None, ""
            if warn is not None:
                warn(
                    f"warning: the model's own labels are unusable ({err}); trying {LABELS_BESIDE_MODEL} beside it"
                )
    beside = model_path.with_name(LABELS_BESIDE_MODEL)
    if names is None and beside.is_file():
        names, source = read_labels(beside), str(beside)
    if names is None:
        return None, "none (class indices)"
    if len(names) != num_classes:
        raise UserError(
            f"{source}: {len(names)} labels but the model has {num_classes} outputs; "
            "use the labels file written with this model"
        )
    return names, source


def _embedded_labels(model_path: Path) -> list[str] | None:
    """The labels packed inside the model's metadata, or None when it records none.

    Raises:
      UserError: The metadata is corrupt, or names a labels file that is missing or invalid.
    """
    from edge_runtime.metadata import read_labels

    return read_labels(model_path.read_bytes(), source=str(model_path))
