"""Builds a TFLite interpreter from the first installed backend, with an optional delegate."""

from __future__ import annotations

import ctypes
import importlib
import importlib.util
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_runtime import edgetpu
from edge_runtime.errors import DeviceNotReady, UserError

# Preference order: the maintained LiteRT wheel, the older standalone wheel, then full TensorFlow
# (heavy, and the one place the runtime may touch it, only when nothing lighter is installed).
BACKENDS = ("ai_edge_litert", "tflite_runtime", "tensorflow")

_PIP_NAMES = {
    "ai_edge_litert": "ai-edge-litert",
    "tflite_runtime": "tflite-runtime",
    "tensorflow": "tensorflow",
}

_TFLITE_IDENTIFIER = b"TFL3"

# How to get the delegate libraries users most often name; anything else gets a generic hint. Coral's
# apt libedgetpu1-std is built against TensorFlow 2.5 and crashes current backends: not the advice.
_DELEGATE_HINTS = {
    "libedgetpu": f"install an Edge TPU runtime built for this TFLite backend (see {edgetpu.PAIRINGS_DOC})",
}


@dataclass(frozen=True)
class Backend:
    """One TFLite Python backend.

    Attributes:
      name: 'ai_edge_litert', 'tflite_runtime' or 'tensorflow'.
      interpreter_class: The backend's Interpreter class.
      load_delegate: The backend's load_delegate function.
    """

    name: str
    interpreter_class: type
    load_delegate: Callable[..., Any]


def _import_backend(name: str) -> Backend | None:
    """Imports one backend by name; None when its package is not installed."""
    if importlib.util.find_spec(name) is None:
        return None
    try:
        if name == "tensorflow":
            lite = importlib.import_module("tensorflow").lite
            return Backend(name, lite.Interpreter, lite.experimental.load_delegate)
        module = importlib.import_module(f"{name}.interpreter")
    except ImportError as err:
        raise UserError(
            f"backend {name!r} is installed but fails to import ({err}); "
            f"reinstall it: pip install --force-reinstall {_PIP_NAMES[name]}"
        ) from None
    return Backend(name, module.Interpreter, module.load_delegate)


def load_backend(name: str | None = None) -> Backend:
    """Returns the named backend, or the first installed one in `BACKENDS` order.

    Args:
      name: A name from `BACKENDS`, or None to pick the first one installed.

    Returns:
      The backend's name, Interpreter class and load_delegate function.

    Raises:
      UserError: The name is unknown, or the backend (or every backend) is not installed.
    """
    if name is not None:
        if name not in BACKENDS:
            raise UserError(f"unknown backend {name!r}; choose one of: {', '.join(BACKENDS)}")
        backend = _import_backend(name)
        if backend is None:
            raise UserError(f"backend {name!r} is not installed; install it: pip install {_PIP_NAMES[name]}")
        return backend
    for candidate in BACKENDS:
        backend = _import_backend(candidate)
        if backend is not None:
            return backend
    raise UserError("no TFLite interpreter is installed; install one: pip install ai-edge-litert")


def backend_name(interpreter: Any) -> str:
    """Names the backend an interpreter comes from (for logs), from its class's module."""
    module = type(interpreter).__module__
    for name in BACKENDS:
        if module == name or module.startswith(f"{name}."):
            return name
    return module


def read_model(model: str | os.PathLike | bytes | bytearray | memoryview) -> tuple[bytes, str]:
    """Reads and checks a .tflite model given as a path or as bytes.

    Args:
      model: Path of a .tflite file, or the file's contents.

    Returns:
      The model bytes and a name for messages (the path, or 'model bytes').

    Raises:
      FileNotFoundError: The path does not exist.
      UserError: The path is a folder or does not end in .tflite, or the bytes are not a TFLite
        flatbuffer.
    """
    if isinstance(model, (bytes, bytearray, memoryview)):
        data, source = bytes(model), "model bytes"
    else:
        path = Path(model)
        source = str(path)
        if not path.exists():
            raise FileNotFoundError(f"{path}: model file not found; check the path")
        if path.is_dir():
            raise UserError(f"{path}: is a folder, not a model; pass the path of a .tflite file")
        if path.suffix.lower() != ".tflite":
            raise UserError(
                f"{path}: not a .tflite model (the name must end in .tflite); "
                "pass a converted model such as build/tflite/model_int8.tflite"
            )
        data = path.read_bytes()
    # A TFLite flatbuffer carries its file identifier right after the 4-byte root offset.
    if data[4:8] != _TFLITE_IDENTIFIER:
        raise UserError(
            f"{source}: not a TFLite flatbuffer (no 'TFL3' identifier at bytes 4..8); "
            "the file is damaged or another format, re-create it with the converter"
        )
    return data, source


def _delegate_hint(library: str) -> str:
    """How to get a delegate library, for the error message."""
    for prefix, hint in _DELEGATE_HINTS.items():
        if Path(library).name.startswith(prefix):
            return hint
    return "check the name or path, or install the package that provides it"


def load_delegate(backend: Backend, library: str, options: Mapping[str, str] | None = None) -> Any:
    """Loads a delegate shared library with the backend's own loader.

    Args:
      backend: From `load_backend`.
      library: Library name or path, e.g. 'libedgetpu.so.1'.
      options: Passed to the library's tflite_plugin_create_delegate, e.g. {'device': 'usb:0'}
        for libedgetpu (pycoral's `device`).

    Returns:
      The backend's delegate object, for `experimental_delegates`.

    Raises:
      UserError: The library cannot be loaded or is not a TFLite delegate (a configuration mistake).
      DeviceNotReady: The library loads but the delegate does not start: its device is absent, busy
        or not yet enumerated (a Coral just plugged in), or an option names a device that is not there.
    """
    # Opening it here first gives a clear error and avoids the backend's half-built Delegate,
    # whose finalizer prints a stray traceback when the library is missing.
    try:
        handle = ctypes.CDLL(library)
    except OSError as err:
        raise UserError(
            f"delegate library {library!r} cannot be loaded ({err}); {_delegate_hint(library)}"
        ) from None
    if not hasattr(handle, "tflite_plugin_create_delegate"):
        raise UserError(
            f"{library!r} is not a TFLite delegate (no tflite_plugin_create_delegate); "
            "pass an external-delegate library such as libedgetpu.so.1"
        )
    options = dict(options or {})
    try:
        return backend.load_delegate(library, options)
    except (ValueError, RuntimeError) as err:
        # The backend's message starts with "Failed to load delegate from LIB"; keep what the library said.
        lines = [line for line in str(err).splitlines() if line.strip() and library not in line]
        detail = " ".join(" ".join(lines).split()) or "the library gave no reason"
        shown = ", ".join(f"{key}={value}" for key, value in options.items())
        with_options = f" with {shown}" if shown else ""
        if edgetpu.is_library(library):
            check = "check that the Edge TPU is plugged in (`lsusb` lists it as Global Unichip or Google)"
            if edgetpu.DEVICE_OPTION in options:
                check += f" and that {edgetpu.DEVICE_OPTION}={options[edgetpu.DEVICE_OPTION]} names one"
        else:
            check = "check that its device is there" + (" and the options are right" if shown else "")
        raise DeviceNotReady(
            f"delegate {library!r} failed to start{with_options} ({detail}); {check}"
        ) from None


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask, where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def default_threads(workers: int = 1) -> int:
    """CPU threads for each of `workers` interpreters when the user names none: the usable cores, shared.

    The backends' own default is one thread (XNNPACK makes no thread pool), which would leave three
    of a Raspberry Pi 4's four cores idle; the Pi's TFLite examples default to 4 threads for this reason.
    """
    return max(1, usable_cores() // max(1, workers))


def make_interpreter(
    model: str | os.PathLike | bytes,
    *,
    num_threads: int | None = None,
    backend: str | None = None,
    delegate: str | None = None,
    delegate_options: Mapping[str, str] | None = None,
) -> Any:
    """Creates an interpreter for a .tflite model and allocates its tensors.

    Args:
      model: Path of a .tflite file, or the model bytes.
      num_threads: CPU threads for the interpreter; None lets the backend choose.
      backend: A name from `BACKENDS`, or None for the first one installed.
      delegate: A delegate library to load (e.g. 'libedgetpu.so.1'), or None for CPU only.
      delegate_options: Options for the delegate, e.g. {'device': 'usb:0'} to pick one Edge TPU.

    Returns:
      The backend's Interpreter, ready for `set_input` and `invoke`.

    Raises:
      FileNotFoundError: The model path does not exist.
      UserError: Bad model file or bytes, bad thread count, unknown or missing backend, delegate
        that cannot be loaded, a model compiled for the Edge TPU without a delegate (checked before
        the interpreter sees it), or a model the interpreter cannot prepare.
      DeviceNotReady: The delegate loads but does not start (its device is absent or busy).
    """
    if num_threads is not None and (
        isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1
    ):
        raise UserError(f"num_threads={num_threads!r}: must be 1 or more (or None for the default)")
    if delegate_options and not delegate:
        raise UserError(f"delegate_options={dict(delegate_options)}: given without a delegate library")
    data, source = read_model(model)
    for_edgetpu = edgetpu.compiled_for_edgetpu(data, source)
    if for_edgetpu and not delegate:
        raise UserError(
            f"{source}: this model was compiled for the Edge TPU; pass --edgetpu (or --delegate "
            f"{edgetpu.library_name()}) or use the uncompiled {edgetpu.uncompiled_name(source)}"
        )
    chosen = load_backend(backend)
    delegates = [load_delegate(chosen, delegate, delegate_options)] if delegate else None
    try:
        interpreter = chosen.interpreter_class(
            model_content=data, num_threads=num_threads, experimental_delegates=delegates
        )
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as err:
        # With a delegate, the graph is handed to it (and the Edge TPU op resolved) while the
        # interpreter is built, so a delegate that cannot run the model fails here, not at allocation.
        raise UserError(_unprepared(source, err, delegate, for_edgetpu)) from None
    return interpreter


def _unprepared(source: str, err: Exception, delegate: str | None, for_edgetpu: bool) -> str:
    """The one-line message for a model the interpreter (with DELEGATE) cannot build or prepare."""
    text = str(err).strip()
    detail = " ".join(text.split()) if isinstance(err, ValueError) else (text.splitlines() or [""])[0]
    detail = detail or type(err).__name__
    if for_edgetpu and edgetpu.CUSTOM_OP in text:
        return (
            f"{source}: delegate {delegate!r} started but cannot run the Edge TPU op ({detail}); load the "
            f"Edge TPU runtime ({edgetpu.library_name()}) built for this backend (see {edgetpu.PAIRINGS_DOC})"
        )
    if isinstance(err, ValueError):
        return f"{source}: not a valid TFLite model ({detail}); re-create it with the converter"
    with_delegate = f" with delegate {delegate!r}" if delegate else ""
    return f"{source}: the interpreter cannot prepare this model{with_delegate} ({detail})"
