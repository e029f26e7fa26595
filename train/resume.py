"""The state of a run in OUT/checkpoints/, and the checks that let --resume continue it exactly."""

from __future__ import annotations

import json
from pathlib import Path

from edge_runtime.errors import UserError

CHECKPOINTS = "checkpoints"
BEST, LAST, STATE = "best.keras", "last.keras", "state.json"


def checkpoint_folder(out_dir: Path) -> Path:
    """OUT/checkpoints: best.keras (best epoch), last.keras (training model and optimizer), state.json."""
    return out_dir / CHECKPOINTS


def check_resumable(out_dir: Path) -> None:
    """Raises FileNotFoundError naming the state file when `out_dir` holds no checkpoint to resume."""
    folder = checkpoint_folder(out_dir)
    if not (folder / STATE).is_file() or not (folder / LAST).is_file():
        raise FileNotFoundError(
            f"{folder / STATE}: no checkpoint to resume; train into {out_dir} without --resume first"
        )


def read_state(out_dir: Path, settings: dict) -> dict:
    """The saved state of the run in `out_dir`, checked against this run's `settings`.

    Args:
      out_dir: The --out folder of the interrupted run.
      settings: This run's model options, hyperparameters, data and classes (JSON-ready);
        resuming with other settings would silently train a different model.

    Returns:
      The state: epochs_done, stage, stage2_start, history, best, wrapped, settings.

    Raises:
      FileNotFoundError: No checkpoint to resume in `out_dir`.
      UserError: The state is damaged, or was made with other settings.
    """
    folder = checkpoint_folder(out_dir)
    path = folder / STATE
    if not path.is_file() or not (folder / LAST).is_file():
        raise FileNotFoundError(
            f"{path}: no checkpoint to resume; train into {out_dir} without --resume first"
        )
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        saved = state["settings"]
        int(state["epochs_done"])
    except (ValueError, KeyError, TypeError):
        raise UserError(f"{path}: damaged checkpoint state; delete {folder} and train again") from None
    differs = sorted(_differences(saved, settings))
    if differs:
        shown = "; ".join(differs[:3]) + ("; ..." if len(differs) > 3 else "")
        raise UserError(
            f"{path}: the checkpoint was trained with other settings ({shown}); "
            "resume with the same options, or train into a new --out"
        )
    return state


def _differences(saved: object, current: object, prefix: str = "") -> list[str]:
    """'key: saved -> current' for every leaf that differs.

    A setting the checkpoint does not have (an option added since) is no difference while it is
    off (None, False or 0, as every option's default is), so such runs still resume.
    """
    if isinstance(saved, dict) and isinstance(current, dict):
        found = []
        for key in sorted(set(saved) | set(current)):
            name = f"{prefix}.{key}" if prefix else str(key)
            if key not in saved and current[key] in (None, False, 0):
                continue
            found += _differences(saved.get(key), current.get(key), name)
        return found
    return [] if saved == current else [f"{prefix}: {saved!r} -> {current!r}"]
