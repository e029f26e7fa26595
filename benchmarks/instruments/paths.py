"""Where results go (benchmarks/results/<machine>/) and paths in them written relative to the repository.

Results are committed and read on other machines, so no absolute path of the machine that made them
goes in: a path inside the repository is written relative to it (build/tflite/model_int8.tflite,
.venv-clients/bin/python), one outside it as '…/' and at most its last three parts, never its top folder (/home, /tmp).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from edge_runtime.errors import ParameterError

REPO = Path(__file__).resolve().parents[2]
RESULTS = Path("benchmarks") / "results"
# An absolute path inside a text: '/' starting a word (not '1/60', 'GMAC/s' or 'p50 / p95').
_ABSOLUTE = re.compile(r"(?<![\w.~/-])/[\w.+-]+(?:/[\w.+-]+)*")


def results_folder(machine: str) -> Path:
    """benchmarks/results/MACHINE, relative to the repository root (where the commands run)."""
    if not machine or "/" in machine or machine.startswith("."):
        raise ParameterError("machine", machine, "give a plain folder name, e.g. zen5 or raspberry-pi-5")
    return RESULTS / machine


def shown_path(path: str | os.PathLike) -> str:
    """PATH as results show it: relative to the repository, or '…/' and its last (up to three) parts outside it."""
    path = Path(os.path.abspath(path))
    if path.is_relative_to(REPO):
        return path.relative_to(REPO).as_posix()
    return "…/" + "/".join(path.parts[2:][-3:])  # never the top folder (/tmp, /home)


def relative_paths(value):
    """VALUE (JSON-ready: dicts, lists, strings, numbers) with every absolute path in its strings shown by `shown_path`."""
    if isinstance(value, str):
        return _ABSOLUTE.sub(lambda match: shown_path(match.group(0)), value)
    if isinstance(value, Mapping):
        return {key: relative_paths(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [relative_paths(item) for item in value]
    return value
