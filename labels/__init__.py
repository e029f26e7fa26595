"""The one labels format: UTF-8 text, one class name per line, line index = class index."""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["parse_labels", "format_labels", "read_labels", "write_labels", "builtin_labels_path"]

_HERE = Path(__file__).resolve().parent


def parse_labels(text: str, source: str = "labels") -> list[str]:
    """Parses labels text into a list of class names.

    Trailing whitespace on a line and one final newline are ignored; a blank line inside the
    list, a duplicate name or an empty file is an error, because each would shift or merge
    class indices silently.

    Args:
      text: The file's contents.
      source: What to call the text in error messages (usually its path).

    Returns:
      The class names, index i being class i.

    Raises:
      ValueError: The text is empty, has a blank line or repeats a name.
    """
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise ValueError(f"{source}: no labels (expected one class name per line)")
    seen: dict[str, int] = {}
    for index, name in enumerate(lines):
        if not name:
            raise ValueError(f"{source}: line {index + 1} is blank (one class name per line, no gaps)")
        if name in seen:
            raise ValueError(f"{source}: label {name!r} on line {index + 1} repeats line {seen[name] + 1}")
        seen[name] = index
    return lines


def format_labels(names: list[str]) -> str:
    """Returns the file text for `names`; checks them as `parse_labels` would."""
    for name in names:
        if "\n" in name or "\r" in name or name != name.strip() or not name:
            raise ValueError(f"label {name!r} is empty, has surrounding spaces or a line break")
    text = "".join(f"{name}\n" for name in names)
    parse_labels(text)
    return text


# A labels file of 100,000 classes of 100 characters is 10 MB; anything bigger is another file.
MAX_LABELS_BYTES = 16 * 2**20


def read_labels(path: str | os.PathLike) -> list[str]:
    """Reads a labels file; errors name the file (a folder, a pipe or a device is refused, not read)."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: labels file not found") from None
    if stat.S_ISDIR(info.st_mode):
        raise ValueError(f"{path}: is a folder; pass the labels file (one class name per line)")
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{path}: not a regular file (a pipe, device or socket); pass a labels file")
    if info.st_size > MAX_LABELS_BYTES:
        raise ValueError(f"{path}: {info.st_size} bytes is too large for a labels file; pass a labels file")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 text (byte {err.start}); save the labels as UTF-8") from None
    return parse_labels(text, source=str(path))


def write_labels(path: str | os.PathLike, names: list[str]) -> None:
    """Writes a labels file atomically (temporary file, then rename)."""
    path = Path(path)
    text = format_labels(names)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def builtin_labels_path(dataset: str) -> Path:
    """Path of the label file shipped for a built-in dataset (e.g. 'elpv')."""
    path = _HERE / f"{dataset}.txt"
    if not path.is_file():
        known = sorted(p.stem for p in _HERE.glob("*.txt"))
        raise ValueError(f"no built-in labels for dataset {dataset!r}; known: {', '.join(known)}")
    return path
