"""Finds a model's class names: --labels, the labels packed in the model, or labels.txt beside it."""

from __future__ import annotations

from pathlib import Path

from edge_runtime.errors import UserError

LABELS_BESIDE_MODEL = "labels.txt"


def resolve_labels(
    model_path: Path, labels_file: str | None, num_classes: int
) -> tuple[list[str] | None, str]:
    """Finds the class names: --labels if given, else the model's embedded labels, else labels.txt beside it.

    An explicit --labels wins (e.g. translated names); the labels inside the model come next
    because they travel with it and cannot go stale.

    Returns:
      The names (None: show class indices) and where they came from, for logs.

    Raises:
      UserError: A labels file that cannot be read or does not match the model's outputs.
    """
    from labels import read_labels

    if labels_file is not None:
        names, source = read_labels(labels_file), labels_file
    else:
        names, source = _embedded_labels(model_path), f"{model_path} (embedded)"
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
    """The labels packed inside the model's metadata, or None when it records none."""
    from edge_runtime.metadata import read_labels

    return read_labels(model_path.read_bytes(), source=str(model_path))
