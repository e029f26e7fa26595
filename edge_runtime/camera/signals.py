"""SIGINT and SIGTERM for the camera loop: caught from the command's first moment, they end the run with its summary."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

_early: threading.Event | None = None


def on_signals(stop: threading.Event) -> Callable[[], None]:
    """SIGINT and SIGTERM set `stop` (a second one interrupts at once); returns the restorer."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handle(signum, frame) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    return lambda: [signal.signal(sig, handler) for sig, handler in previous.items()]


def catch_early() -> Callable[[], None]:
    """Installs the stop handlers before anything slow (imports, the model, the camera); returns the restorer.

    Without it a SIGTERM from systemd while the model loads would kill the process (exit 143, no
    summary) and a Ctrl-C would print an import's traceback; with it the run starts, sees the stop
    and ends at once with the summary and exit 0.
    """
    global _early
    _early = threading.Event()
    restore = on_signals(_early)

    def undo() -> None:
        global _early
        restore()
        _early = None

    return undo


def stop_event() -> threading.Event:
    """The event the early handlers set, or a new one when `catch_early` was not called."""
    return _early if _early is not None else threading.Event()
