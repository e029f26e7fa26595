"""The delegate options of `classify` and `camera`: --edgetpu, --delegate, --delegate-option, --edgetpu-device."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from edge_runtime.edgetpu import DEVICE_OPTION, check_device, library_name
from edge_runtime.errors import ParameterError


@dataclass(frozen=True)
class DelegateChoice:
    """Which delegate library to load and the options passed to it.

    Attributes:
      library: Library name or path (e.g. 'libedgetpu.so.1'), or None for the CPU alone.
      options: Passed to the library's tflite_plugin_create_delegate as keys and values.
      edgetpu: True when the library was chosen with --edgetpu or --edgetpu-device.
    """

    library: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    edgetpu: bool = False

    def describe(self) -> str:
        """For the start-up log line: 'none', or the library and its options."""
        if self.library is None:
            return "none"
        shown = ", ".join(f"{key}={value}" for key, value in self.options.items())
        return f"{self.library} ({shown})" if shown else self.library


def add_delegate_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds --edgetpu | --delegate LIB, --delegate-option KEY=VALUE (repeatable) and --edgetpu-device."""
    library = parser.add_mutually_exclusive_group()
    library.add_argument(
        "--edgetpu", action="store_true", help=f"run on a Coral Edge TPU (loads {library_name()})"
    )
    library.add_argument("--delegate", metavar="LIB", help="external delegate library to load")
    parser.add_argument(
        "--delegate-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="option passed to the delegate (repeatable), e.g. device=usb:0 for libedgetpu",
    )
    parser.add_argument(
        "--edgetpu-device",
        metavar="DEV",
        help="which Edge TPU: usb, usb:N, pci, pci:N or :N (the N-th of any kind); implies --edgetpu "
        "unless --delegate names the library (default: any)",
    )


def parse_option(text: str) -> tuple[str, str]:
    """KEY=VALUE -> (KEY, VALUE); the value may be empty or hold '='.

    Raises:
      ParameterError: No '=' or an empty key.
    """
    key, equals, value = text.partition("=")
    if not equals or not key.strip():
        raise ParameterError("delegate_option", text, "must be KEY=VALUE, e.g. device=usb:0")
    return key.strip(), value


def delegate_from_args(args: argparse.Namespace) -> DelegateChoice:
    """The delegate the command line asks for.

    Raises:
      ParameterError: A bad --delegate-option or --edgetpu-device, a key given twice with two values,
        options without a library, or --edgetpu-device beside a different device= option.
    """
    options: dict[str, str] = {}
    for text in args.delegate_option:
        key, value = parse_option(text)
        if key in options and options[key] != value:
            raise ParameterError("delegate_option", text, f"{key} is already {options[key]!r}; give it once")
        options[key] = value
    if args.edgetpu_device is not None:
        device = check_device(args.edgetpu_device)
        if options.get(DEVICE_OPTION, device) != device:
            raise ParameterError(
                "edgetpu_device",
                device,
                f"--delegate-option {DEVICE_OPTION}={options[DEVICE_OPTION]} differs",
            )
        options[DEVICE_OPTION] = device
    edgetpu = args.edgetpu or (args.edgetpu_device is not None and args.delegate is None)
    library = library_name() if edgetpu else args.delegate
    if library is None and options:  # only --delegate-option can get here: --edgetpu-device implies --edgetpu
        raise ParameterError(
            "delegate_option", args.delegate_option[0], "needs a delegate; add --edgetpu or --delegate LIB"
        )
    return DelegateChoice(library, options, edgetpu)
