"""Conversion modes: quantization and I/O type, which combinations exist, their file names and clients."""

from __future__ import annotations

from dataclasses import dataclass

from edge_runtime.errors import UserError

QUANTIZATIONS = ("int8", "float16", "dynamic", "float32")
IO_TYPES = ("uint8", "int8", "float32")
RECOMMENDED_CALIBRATION_IMAGES = 300

# The I/O types each quantization can have; the first is its default.
_IO_BY_QUANTIZATION = {
    "int8": ("uint8", "int8"),
    "float16": ("float32",),
    "dynamic": ("float32",),
    "float32": ("float32",),
}

# Who loads which model, as measured by the tests (tests/convert/test_convert_modes.py) and Coral's docs.
_CLIENTS = {
    ("int8", "uint8"): (
        "TFLite Task Library",
        "MediaPipe Tasks",
        "Coral Edge TPU (after edgetpu_compiler) and pycoral",
        "CPU interpreters (ai-edge-litert, tflite-runtime)",
    ),
    ("int8", "int8"): ("CPU interpreters only (ai-edge-litert, tflite-runtime)",),
    ("float16", "float32"): ("TFLite Task Library", "MediaPipe Tasks", "CPU and GPU-delegate interpreters"),
    ("dynamic", "float32"): ("TFLite Task Library", "MediaPipe Tasks", "CPU interpreters"),
    ("float32", "float32"): ("TFLite Task Library", "MediaPipe Tasks", "CPU and GPU-delegate interpreters"),
}

CLIENTS_HELP = """\
which clients accept which model (--quantize / --io):
  int8 / uint8 (default)  TFLite Task Library, MediaPipe Tasks, Coral Edge TPU (after edgetpu_compiler;
                          pycoral needs uint8), CPU interpreters
  int8 / int8             CPU interpreters only: the Task Library and MediaPipe Tasks accept only uint8 or
                          float32 input and output, and pycoral needs uint8
  float16 / float32       TFLite Task Library, MediaPipe Tasks, CPU and GPU delegates; not the Edge TPU
  dynamic / float32       TFLite Task Library, MediaPipe Tasks, CPU; not the Edge TPU
  float32 / float32       TFLite Task Library, MediaPipe Tasks, CPU and GPU delegates; not the Edge TPU
"""


@dataclass(frozen=True)
class ConvertOptions:
    """How to convert.

    Attributes:
      quantize: 'int8' (int8 weights and activations, calibrated), 'float16' (float16 weights),
        'dynamic' (int8 weights, float activations, no calibration) or 'float32' (none).
      io_type: Input/output tensor type: 'uint8' or 'int8' for int8 models, 'float32' for the
        others; None picks the mode's default (uint8 for int8, float32 otherwise).
      calibration_images: How many training images calibrate the int8 ranges (all if fewer).
      seed: Seeds the choice of calibration images.
    """

    quantize: str = "int8"
    io_type: str | None = None
    calibration_images: int = RECOMMENDED_CALIBRATION_IMAGES
    seed: int = 0

    def __post_init__(self) -> None:
        if self.quantize not in QUANTIZATIONS:
            raise UserError(f"--quantize {self.quantize!r} is not one of {', '.join(QUANTIZATIONS)}")
        allowed = _IO_BY_QUANTIZATION[self.quantize]
        if self.io_type is None:
            object.__setattr__(self, "io_type", allowed[0])  # resolve the default once, at construction
        elif self.io_type not in IO_TYPES:
            raise UserError(f"--io {self.io_type!r} is not one of {', '.join(IO_TYPES)}")
        elif self.io_type not in allowed:
            if self.quantize == "int8":
                raise UserError(
                    "--io float32 with --quantize int8 is not full-integer; use --io uint8 (raw pixels in, "
                    "no float conversion) or --quantize dynamic/float16 for float input and output"
                )
            raise UserError(
                f"--io {self.io_type} needs --quantize int8; {self.quantize} models take float32 input and "
                "output (leave --io out)"
            )
        if isinstance(self.calibration_images, bool) or self.calibration_images < 1:
            raise UserError(f"--calibration-images {self.calibration_images} must be at least 1")

    @property
    def needs_calibration(self) -> bool:
        """Whether this mode calibrates activation ranges on images (full-integer int8 only)."""
        return self.quantize == "int8"

    @property
    def label(self) -> str:
        """A short description for logs and the model card, e.g. 'int8, uint8 I/O'."""
        return f"{self.quantize}, {self.io_type} I/O"


def model_filename(options: ConvertOptions) -> str:
    """The file name of a mode's model: model_<quantize>.tflite, plus _<io>io when not the default I/O.

    model_int8.tflite (uint8 I/O) and model_float32.tflite keep the names the slice gave them.
    """
    suffix = "" if options.io_type == _IO_BY_QUANTIZATION[options.quantize][0] else f"_{options.io_type}io"
    return f"model_{options.quantize}{suffix}.tflite"


def clients(options: ConvertOptions, channels: int = 3) -> tuple[str, ...]:
    """The clients that load a model of this mode; `channels` is the model's input depth.

    The Task Library and MediaPipe Tasks take RGB models only ("Only RGB color space is supported
    for now."), so a depth-1 model is for the other clients.
    """
    names = _CLIENTS[(options.quantize, options.io_type)]
    if channels == 3:
        return names
    return tuple(n for n in names if n not in ("TFLite Task Library", "MediaPipe Tasks"))


def task_library_accepts(options: ConvertOptions) -> bool:
    """Whether the TFLite Task Library and MediaPipe Tasks load this mode (uint8 or float32 I/O)."""
    return options.io_type in ("uint8", "float32")
