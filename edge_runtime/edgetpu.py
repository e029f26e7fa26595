"""Coral Edge TPU facts the runtime checks: the library's name, a compiled model's op, the device option."""

from __future__ import annotations

import platform
import re
from pathlib import Path

from edge_runtime import flatbuffer as fb
from edge_runtime.errors import ParameterError, UserError

# The Edge TPU runtime (libedgetpu) as each system names it; pycoral's edgetpu.py uses the same names.
LIBRARIES = {"Linux": "libedgetpu.so.1", "Darwin": "libedgetpu.1.dylib", "Windows": "edgetpu.dll"}
# edgetpu_compiler replaces the ops it maps with one custom op of this name; only the Edge TPU
# delegate can run it, so a compiled model without the delegate fails to prepare.
CUSTOM_OP = "edgetpu-custom-op"
# The "device" option libedgetpu's external delegate reads (tflite_plugin_create_delegate): any
# device when absent or empty; ':N' the N-th of any type; 'usb' / 'pci' any of that type, or the
# N-th with ':N'. Anything else opens no device, so it is refused here as a configuration mistake.
DEVICE_OPTION = "device"
_DEVICE = re.compile(r"(usb|pci)?(:\d+)?")
PAIRINGS_DOC = "docs/devices.md, 'Coral: known-good runtime pairings'"


def library_name(system: str | None = None) -> str:
    """The Edge TPU runtime's library name on SYSTEM (default: this one; Linux's name for others)."""
    return LIBRARIES.get(system or platform.system(), LIBRARIES["Linux"])


def is_library(library: str) -> bool:
    """True when LIBRARY (a name or path) is the Edge TPU runtime, judged by its file name."""
    name = Path(library).name
    return name.startswith("libedgetpu") or name == LIBRARIES["Windows"]


def check_device(device: str) -> str:
    """Returns DEVICE when libedgetpu understands it ('usb', 'usb:0', 'pci', 'pci:1', ':0').

    Raises:
      ParameterError: Any other spelling (libedgetpu would open no device and say nothing).
    """
    if not device or not _DEVICE.fullmatch(device):
        raise ParameterError(
            "edgetpu_device", device, "must be usb, usb:N, pci, pci:N or :N (N counts from 0)"
        )
    return device


def compiled_for_edgetpu(model: bytes, source: str = "model") -> bool:
    """True when the .tflite MODEL holds the Edge TPU's custom op (it went through edgetpu_compiler).

    Reads the op codes of the flatbuffer (Model.operator_codes, OperatorCode.custom_code) without
    building an interpreter. A flatbuffer too damaged to read is False: the interpreter then says
    what is wrong with it.
    """
    try:
        root = fb.Table.root(model, f"{source}: corrupt TFLite model")
        return any(code.string(1) == CUSTOM_OP for code in root.tables(1))  # Model 1: operator_codes
    except UserError:
        return False


def uncompiled_name(source: str) -> str:
    """The uncompiled model's likely file name: model_int8_edgetpu.tflite -> model_int8.tflite."""
    name = Path(source).name
    return (
        name.replace("_edgetpu.tflite", ".tflite")
        if name.endswith("_edgetpu.tflite")
        else "model_int8.tflite"
    )
