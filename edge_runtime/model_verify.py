"""`--verify`: the model file's sha256 against the model card `convert` wrote beside it."""

from __future__ import annotations

import json
from pathlib import Path

from edge_runtime.errors import UserError
from edge_runtime.files import sha256_file

CARD_JSON = "model_card.json"


def verify_against_card(model_path: str | Path) -> str:
    """Checks that MODEL_PATH is byte for byte the model its card describes; returns a line saying so.

    A model copied to a device can arrive truncated or be swapped for another version; the card
    `python -m convert` writes records each model's sha256.

    Raises:
      UserError: No card beside the model, no entry for it, or a different sha256.
    """
    model_path = Path(model_path)
    card = model_path.parent / CARD_JSON
    if not card.is_file():
        raise UserError(
            f"{model_path}: --verify needs the model card written with it, and {card} is not there; "
            f"copy {CARD_JSON} beside the model (or run without --verify)"
        )
    try:
        entry = json.loads(card.read_text(encoding="utf-8"))["models"].get(model_path.name)
        expected = None if entry is None else entry["sha256"]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise UserError(
            f"{card}: not a model card written by python -m convert; copy the right one"
        ) from None
    if expected is None:
        raise UserError(
            f"{card}: describes no model named {model_path.name}; copy the card written with this model"
        )
    actual = sha256_file(model_path)
    if actual != expected:
        raise UserError(
            f"{model_path}: sha256 {actual[:16]}... differs from {card} ({expected[:16]}...): the file is "
            "damaged or another version; copy the model and its card again"
        )
    return f"verified: {model_path} matches {card} (sha256 {actual[:16]}...)"
