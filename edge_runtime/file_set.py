"""A set of artifacts replaced as a whole: staged beside the target, checked, then swapped in, or not at all."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from edge_runtime.errors import UserError

# Kept free beyond the artifacts themselves, so a run does not fill the disk to the last byte.
SPARE_BYTES = 16 * 1024 * 1024


def check_output_folder(folder: str | os.PathLike, needed_bytes: int = 0, flag: str = "--out") -> Path:
    """Checks, before any slow work, that FOLDER can take the artifacts: a folder (or creatable), writable, with space.

    Args:
      folder: The output folder; it may not exist yet (its nearest existing parent is checked).
      needed_bytes: About how much the artifacts will take; SPARE_BYTES more must be free.
      flag: The option that named the folder, for the message.

    Returns:
      The folder as a Path.

    Raises:
      UserError: A file is in the way, the folder is not writable, or the disk lacks space.
    """
    path = Path(folder)
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        where = "is a file" if existing == path else f"cannot be created: {existing} is a file"
        raise UserError(f"{path}: {where}, not a folder; choose another {flag}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(
            f"{existing}: not writable by this user; choose another {flag} or fix its permissions"
        )
    free = shutil.disk_usage(existing).free
    if free < needed_bytes + SPARE_BYTES:
        raise UserError(
            f"{existing}: {free / 2**20:.0f} MiB free, about {(needed_bytes + SPARE_BYTES) / 2**20:.0f} MiB "
            f"needed; free some space or choose another {flag}"
        )
    return path


@contextlib.contextmanager
def staged_files(folder: str | os.PathLike, names: tuple[str, ...] | list[str]) -> Iterator[Path]:
    """Yields a staging folder for the artifacts NAMES of FOLDER; on a clean exit swaps them all in.

    Write each artifact into the yielded folder (any way: Keras' save, atomic writes). When the
    block ends without an exception, every name must have been written; the previous files of those
    names move aside, the new ones move in, and the old ones are deleted. On an exception (a failed
    run, a full disk, Ctrl-C) the staging folder is removed and FOLDER keeps its previous set; a
    failure during the swap itself puts the previous files back. Files of FOLDER not in NAMES stay.

    Raises:
      UserError: The block ended without writing one of NAMES (a bug in the caller, named).
    """
    target = Path(folder)
    new_folder = not target.exists()
    parent = target.parent if new_folder else target
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.staging-", dir=parent))
    try:
        yield staging
        missing = [name for name in names if not (staging / name).exists()]
        if missing:
            raise UserError(f"{target}: the run did not produce {', '.join(missing)}; nothing was replaced")
        _sync_folder(staging)
        if new_folder:
            umask = os.umask(0)
            os.umask(umask)
            staging.chmod(0o777 & ~umask)  # mkdtemp's 0700 would hide the artifacts from other users
            os.replace(staging, target)  # the whole folder appears at once
            _sync_folder(parent)
            return
        _swap(staging, target, names)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap(staging: Path, target: Path, names: tuple[str, ...] | list[str]) -> None:
    """Moves NAMES from STAGING into TARGET, the previous files into STAGING/.previous; undone on any failure."""
    previous = staging / ".previous"
    previous.mkdir()
    moved_aside, moved_in = [], []
    try:
        for name in names:
            if (target / name).exists():
                os.replace(target / name, previous / name)
                moved_aside.append(name)
        for name in names:
            os.replace(staging / name, target / name)
            moved_in.append(name)
    except BaseException:
        for name in moved_in:
            with contextlib.suppress(OSError):
                os.replace(target / name, staging / name)
        for name in moved_aside:
            with contextlib.suppress(OSError):
                os.replace(previous / name, target / name)
        raise
    _sync_folder(target)


def _sync_folder(folder: Path) -> None:
    """Flushes a folder's entries (renames) to disk where the system allows opening a folder."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as err:
        if err.errno not in (errno.EINVAL, errno.EBADF):
            raise
    finally:
        os.close(fd)
