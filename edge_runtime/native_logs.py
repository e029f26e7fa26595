"""Hides the native libraries' start-up noise (absl's `I0000 ... cuInit` lines) and keeps everything else on stderr."""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

# Lines TensorFlow's C++ start-up prints before any Python code can set its log level: absl's
# "before InitializeLog" warning, and info lines and GPU probing errors on a machine without CUDA.
NOISE = (
    re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$"),
    re.compile(r"^I\d{4} [\d:. ]+\d+ \S+:\d+\] "),  # any absl info line
    re.compile(r"^[WE]\d{4} [\d:. ]+\d+ \S+:\d+\] .*(cuInit|CUDA|cuda|GPU|TensorRT|cuDNN|cuFFT|cuBLAS)"),
)


def is_noise(line: str) -> bool:
    """True for a start-up line of the native libraries that tells a user nothing (see NOISE)."""
    return any(pattern.search(line) for pattern in NOISE)


@contextlib.contextmanager
def filtered_stderr() -> Iterator[None]:
    """Captures file descriptor 2 (native code writes there directly) and replays all but the noise."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [
                line for line in captured.read().decode("utf-8", "replace").splitlines() if not is_noise(line)
            ]
            if kept:
                print("\n".join(kept), file=sys.stderr, flush=True)


def quiet_import(name: str, warm_up: Callable[[ModuleType], Any] | None = None) -> ModuleType:
    """Imports module NAME (and runs WARM_UP on it) with the native start-up noise filtered out.

    For TensorFlow, warm up with `lambda tf: tf.config.list_physical_devices("GPU")`: the GPU probe
    (and its cuInit error on a machine without CUDA) then happens here, not in the middle of a run.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if name in sys.modules:
        return sys.modules[name]
    with filtered_stderr():
        module = importlib.import_module(name)
        if warm_up is not None:
            warm_up(module)
    return module


def quiet_tensorflow() -> ModuleType:
    """TensorFlow, imported and its devices probed without the start-up noise."""
    return quiet_import("tensorflow", lambda tf: tf.config.list_physical_devices("GPU"))
