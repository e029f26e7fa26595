"""What the camera CLI writes while it runs: JSON lines for other programs and the rolling status line."""

from __future__ import annotations

import json
import sys
import threading
from typing import TextIO

from edge_runtime.errors import UserError


class JsonLines:
    """Writes one JSON object per line, flushed so other programs see each result at once."""

    def __init__(self, target: str, stop: threading.Event) -> None:
        self._stop = stop
        if target == "-":
            self._file: TextIO | None = sys.stdout
            self._owned = False
        else:
            try:
                self._file = open(target, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
            except OSError as err:
                raise UserError(
                    f"{target}: cannot open the JSON-lines file for writing ({err.strerror})"
                ) from None
            self._owned = True

    def write(self, record: dict) -> None:
        if self._file is None:
            return
        try:
            self._file.write(json.dumps(record) + "\n")
            self._file.flush()
        except BrokenPipeError:  # the reading program went away: stop as if asked to
            self._file = None
            self._stop.set()

    def close(self) -> None:
        if self._owned and self._file is not None:
            self._file.close()


class StatusLine:
    """The status line on stderr: rewritten in place on a terminal, one line per interval in a log."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self._shown = False

    def show(self, line: str) -> None:
        if self.tty:
            sys.stderr.write(f"\r{line[:200]:<100}")
            self._shown = True
        else:
            sys.stderr.write(f"status: {line}\n")
        sys.stderr.flush()

    def end(self) -> None:
        if self._shown:
            sys.stderr.write("\n")
