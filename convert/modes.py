"""Conversion modes: one registry of quantization x I/O type, their files and the clients that load them.

convert.modes_table renders it for `python -m convert --help` and as the Markdown table of
docs/convert.md, which `python -m convert.modes` prints.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_runtime.errors import ParameterError

RECOMMENDED_CALIBRATION_IMAGES = 300


@dataclass(frozen=True)
class Support:
    """Whether one client loads a mode.

    Attributes:
      loads: The client loads the model.
      note: A short condition or reason, e.g. "and GPU delegates" or "pycoral needs uint8".
      error: The end of the error the client gives when it refuses the model, as measured by
        tests/convert/test_convert_modes.py; "" when not measured.
    """

    loads: bool
    note: str = ""
    error: str = ""


YES = Support(True)


@dataclass(frozen=True)
class Mode:
    """One conversion mode and who loads it; the first mode of a quantization gives its default I/O.

    Attributes:
      quantize: 'int8', 'float16', 'dynamic' or 'float32'.
      io_type: The input and output tensor type: 'uint8', 'int8' or 'float32'.
      tensors: What the model holds: weights / activations, and its input and output.
      task_library, mediapipe, edge_tpu, cpu: Whether each client of CLIENTS loads it.
    """

    quantize: str
    io_type: str
    tensors: str
    task_library: Support
    mediapipe: Support
    edge_tpu: Support
    cpu: Support

    @property
    def default_io(self) -> bool:
        """Whether this is its quantization's default I/O type (the one `io_type=None` picks)."""
        return _modes_of(self.quantize)[0] == self

    @property
    def filename(self) -> str:
        """model_<quantize>.tflite, plus _<io>io when not the default I/O (model_int8_int8io.tflite)."""
        return f"model_{self.quantize}{'' if self.default_io else f'_{self.io_type}io'}.tflite"

    def support(self, client: str) -> Support:
        """The Support of CLIENT, a key of CLIENTS."""
        return getattr(self, client)


# Mode field -> the client's name in the table, the help and the model card.
CLIENTS = {
    "task_library": "TFLite Task Library",
    "mediapipe": "MediaPipe Tasks",
    "edge_tpu": "Coral Edge TPU",
    "cpu": "CPU interpreters (edge_runtime, ai-edge-litert, tflite-runtime)",
}
# The clients that take RGB models only; a depth-1 (grayscale) model is refused with RGB_ONLY_ERROR.
RGB_ONLY_CLIENTS = ("task_library", "mediapipe")
RGB_ONLY_ERROR = "ValueError: Only RGB color space is supported for now."


def _float_mode(quantize: str, tensors: str, gpu: bool) -> Mode:
    """A mode with float32 input and output: every client but the Edge TPU loads it."""
    cpu = Support(True, "and GPU delegates") if gpu else YES
    return Mode(quantize, "float32", tensors, YES, YES, Support(False, "int8 models only"), cpu)


def _refuses_int8_io(types: str) -> Support:
    """The Task Library and MediaPipe Tasks refuse int8 I/O when loading; TYPES as their error spells them."""
    return Support(
        False,
        "accepts only uint8 or float32 input and output",
        f"Type mismatch for input tensor serving_default_image:0. Requested one of these types: {types}, got INT8.",
    )


MODES = (
    Mode(
        "int8",
        "uint8",
        "int8 / int8, uint8 in and out, input takes raw pixels (scale 1, zero point 0)",
        task_library=YES,
        mediapipe=YES,
        edge_tpu=Support(True, "after edgetpu_compiler: make edgetpu"),
        cpu=YES,
    ),
    Mode(
        "int8",
        "int8",
        "int8 / int8, int8 in and out (pixel - 128)",
        task_library=_refuses_int8_io("kTfLiteUint8/kTfLiteFloat32"),
        mediapipe=_refuses_int8_io("uint8/float32"),
        edge_tpu=Support(False, "pycoral needs uint8"),
        cpu=YES,
    ),
    _float_mode("float16", "float16 / float32, float32 in and out", gpu=True),
    _float_mode("dynamic", "int8 / float32 (dynamic range), float32 in and out", gpu=False),
    _float_mode("float32", "float32 / float32, float32 in and out", gpu=True),
)

QUANTIZATIONS = tuple(dict.fromkeys(m.quantize for m in MODES))
IO_TYPES = tuple(dict.fromkeys(m.io_type for m in MODES))


def _modes_of(quantize: str) -> tuple[Mode, ...]:
    return tuple(m for m in MODES if m.quantize == quantize)


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
            raise ParameterError(
                "quantize", self.quantize, f"not a quantization; use one of {', '.join(QUANTIZATIONS)}"
            )
        allowed = [m.io_type for m in _modes_of(self.quantize)]
        if self.io_type is None:
            object.__setattr__(self, "io_type", allowed[0])  # resolve the default once, at construction
        elif self.io_type not in IO_TYPES:
            raise ParameterError(
                "io_type", self.io_type, f"not an I/O type; use one of {', '.join(IO_TYPES)}"
            )
        elif self.io_type not in allowed:
            raise ParameterError("io_type", self.io_type, _io_mismatch(self.quantize))
        if isinstance(self.calibration_images, bool) or self.calibration_images < 1:
            raise ParameterError("calibration_images", self.calibration_images, "must be at least 1")

    @property
    def mode(self) -> Mode:
        """This conversion's row of MODES."""
        return next(m for m in _modes_of(self.quantize) if m.io_type == self.io_type)

    @property
    def needs_calibration(self) -> bool:
        """Whether this mode calibrates activation ranges on images (full-integer int8 only)."""
        return self.quantize == "int8"

    @property
    def label(self) -> str:
        """A short description for logs and the model card, e.g. 'int8, uint8 I/O'."""
        return f"{self.quantize}, {self.io_type} I/O"


def _io_mismatch(quantize: str) -> str:
    if quantize == "int8":
        return (
            "int8 quantization is full-integer, its input and output are uint8 or int8; use uint8 (the same raw "
            "pixels, no float conversion), or float16 or dynamic quantization for float input and output"
        )
    return f"{quantize} models take float32 input and output; integer I/O needs int8 quantization"


def model_filename(options: ConvertOptions) -> str:
    """The file name of a mode's model, e.g. model_int8.tflite (uint8 I/O) or model_int8_int8io.tflite."""
    return options.mode.filename


def clients(options: ConvertOptions, channels: int = 3) -> tuple[str, ...]:
    """The names of the clients that load a model of this mode; `channels` is the model's input depth.

    The Task Library and MediaPipe Tasks take RGB models only (RGB_ONLY_ERROR), so a depth-1 model
    is for the other clients.
    """
    return tuple(
        name
        for key, name in CLIENTS.items()
        if options.mode.support(key).loads and (channels == 3 or key not in RGB_ONLY_CLIENTS)
    )


if __name__ == "__main__":
    from convert.modes_table import main

    raise SystemExit(main())
