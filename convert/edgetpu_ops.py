"""Coral's documented Edge TPU op list and limits, and the check of one .tflite operator against them.

Facts from https://coral.ai/docs/edgetpu/models-intro/ ("Model requirements", "Supported
operations"): every tensor 8-bit quantized with a static shape, at most the 3 innermost
dimensions larger than 1, constant parameters, and only the listed ops, each with its limits
and the Edge TPU runtime version that first supports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from convert.tflite_graph import Op, Tensor

ALL_RUNTIMES = 10  # "All" in Coral's table: every released runtime
DEFAULT_RUNTIME_VERSION = 14  # the newest Edge TPU runtime, the compiler's default target
SOFTMAX_MAX_ELEMENTS = 16000

# Operator -> the first Edge TPU runtime version that runs it.
_IN_EVERY_RUNTIME = (
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED",
    "L2_NORMALIZATION", "LOGISTIC", "MAXIMUM", "MAX_POOL_2D", "MEAN", "MINIMUM", "MUL", "PAD", "RELU",
    "RELU6", "RELU_N1_TO_1", "RESHAPE", "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "SLICE", "SOFTMAX",
    "SPACE_TO_DEPTH", "SPLIT", "SQUEEZE", "STRIDED_SLICE", "SUB", "TANH",
)  # fmt: skip
SUPPORTED_SINCE = {
    **dict.fromkeys(_IN_EVERY_RUNTIME, ALL_RUNTIMES),
    **dict.fromkeys(("EXPAND_DIMS", "PACK", "PRELU", "QUANTIZE", "SUM", "TRANSPOSE_CONV"), 13),
    **dict.fromkeys(("LSTM", "UNIDIRECTIONAL_SEQUENCE_LSTM", "REDUCE_MAX", "REDUCE_MIN"), 14),
    **dict.fromkeys(("RSQRT", "SQUARED_DIFFERENCE", "TRANSPOSE"), 14),
}

# Documented caveats that depend on sizes the compiler decides on; reported, not judged.
NOTES = {
    "RESHAPE": "certain reshapes of large tensors may stay on the CPU",
    "RESIZE_BILINEAR": "depending on the sizes the compiler may keep it on the CPU to avoid losing precision",
    "RESIZE_NEAREST_NEIGHBOR": "depending on the sizes the compiler may keep it on the CPU to avoid losing precision",
    "CONCATENATION": "a constant input must be all zeros",
}

_EIGHT_BIT = ("int8", "uint8")
_PARAMETER_TYPES = ("int8", "uint8", "int32", "int64")  # weights, int32 biases, shape/axis parameters


@dataclass(frozen=True)
class OpCheck:
    """Whether one operator maps to the Edge TPU on its own merits (ignoring where the graph splits).

    Attributes:
      maps: True when no documented requirement is broken.
      reasons: One line per broken requirement.
      notes: Documented caveats the compiler decides on (sizes), for the report.
    """

    maps: bool
    reasons: tuple[str, ...]
    notes: tuple[str, ...] = ()


def _large_dims(shape: tuple[int, ...]) -> int:
    return sum(1 for d in shape if d > 1)


def _short(name: str) -> str:
    """A readable tensor name: converters join fused names with ';', keep the first."""
    first = name.split(";")[0]
    return first if len(first) <= 48 else "..." + first[-45:]


def tensor_problems(tensors: tuple[Tensor, ...]) -> list[str]:
    """The Edge TPU's model requirements broken by an op's tensors, one line per kind of problem."""
    problems = []
    wide = [t for t in tensors if t.dtype not in (_PARAMETER_TYPES if t.constant else _EIGHT_BIT)]
    if wide:
        named = ", ".join(f"{_short(t.name)!r} ({t.dtype})" for t in wide[:2])
        more = f" and {len(wide) - 2} more" if len(wide) > 2 else ""
        problems.append(f"{len(wide)} tensor(s) not 8-bit quantized: {named}{more}")
    for tensor in tensors:
        if any(d < 0 for d in tensor.shape_signature):
            problems.append(
                f"tensor {_short(tensor.name)!r} has a dynamic shape {list(tensor.shape_signature)}"
            )
        # Filters are 4-D by nature; the dimension limit concerns the activations flowing through.
        if not tensor.constant and len(tensor.shape) > 3 and any(d > 1 for d in tensor.shape[:-3]):
            problems.append(
                f"tensor {_short(tensor.name)!r} shape {list(tensor.shape)} has a dimension larger than 1 "
                "outside the 3 innermost (batch must be 1)"
            )
    return problems


def _axes(op: Op, position: int, data: int = 0) -> list[int] | None:
    """Non-negative axis values of the constant axis input at `position` over input `data`; None if not constant."""
    if len(op.inputs) <= max(position, data) or op.inputs[position].values is None:
        return None
    rank = len(op.inputs[data].shape)
    return sorted({int(a) % rank for a in op.inputs[position].values.reshape(-1)}) if rank else []


def _no_fused_activation(op: Op, runtime: int) -> list[str]:
    if op.options.get("fusedActivationFunction", 0) != 0:
        return ["has a fused activation function"]
    return []


def _concatenation(op: Op, runtime: int) -> list[str]:
    problems = _no_fused_activation(op, runtime)
    if any(t.constant for t in op.inputs) and len(op.inputs) != 2:
        problems.append("has a constant input but more than 2 inputs")
    return problems


def _conv(op: Op, runtime: int) -> list[str]:
    w, h = op.options.get("dilationWFactor", 1), op.options.get("dilationHFactor", 1)
    if op.name == "DEPTHWISE_CONV_2D" and runtime <= 12 and (w, h) != (1, 1):
        return [f"dilation {h}x{w}: runtime {runtime} has no dilated depthwise convolution"]
    return [f"dilation differs in x ({w}) and y ({h})"] if w != h else []


def _fully_connected(op: Op, runtime: int) -> list[str]:
    problems = []
    if op.options.get("weightsFormat", 0) != 0:
        problems.append("weights are not in the default format")
    if op.outputs and _large_dims(op.outputs[0].shape) > 1:
        problems.append(f"output {list(op.outputs[0].shape)} is not one-dimensional")
    return problems


def _reduction(op: Op, runtime: int) -> list[str]:
    axes = _axes(op, 1)
    if axes is None:
        return ["reduction axes are not constant"]
    rank = len(op.inputs[0].shape)
    problems = ["reduces the batch dimension"] if rank == 4 and 0 in axes else []
    if op.name == "MEAN" and rank == 4:
        if runtime <= 12 and any(a not in (1, 2) for a in axes):
            problems.append(f"runtime {runtime} reduces along x and y only")
        elif 3 in axes and op.inputs[0].shape[3] % 4:
            problems.append(f"reduces depth {op.inputs[0].shape[3]}, not a multiple of 4")
    return problems


def _pad(op: Op, runtime: int) -> list[str]:
    paddings = op.inputs[1].values if len(op.inputs) > 1 else None
    if paddings is None:
        return ["paddings are not constant"]
    rows = paddings.reshape(-1, 2).tolist()
    problems = ["pads the batch dimension"] if len(rows) == 4 and rows[0] != [0, 0] else []
    if runtime <= 12 and len(rows) == 4 and rows[3] != [0, 0]:
        problems.append(f"runtime {runtime} pads along x and y only")
    return problems


def _axis_option(op: Op, runtime: int) -> list[str]:
    axis = _axes(op, 0, data=1) if op.name == "SPLIT" else [op.options.get("axis", 0)]
    if axis is None:
        return ["split axis is not constant"]
    return ["works on the batch dimension"] if 0 in axis and len(op.outputs[0].shape) == 4 else []


def _strided_slice(op: Op, runtime: int) -> list[str]:
    strides = op.inputs[3].values if len(op.inputs) > 3 else None
    problems = []
    if strides is None or any(int(s) != 1 for s in strides.reshape(-1)):
        problems.append("strides are not all 1")
    if op.options.get("ellipsisMask", 0) or op.options.get("newAxisMask", 0):
        problems.append("uses an ellipsis or new-axis mask")
    return problems


def _softmax(op: Op, runtime: int) -> list[str]:
    shape = op.inputs[0].shape
    size = 1
    for d in shape:
        size *= d
    problems = [f"input {list(shape)} is not one-dimensional"] if _large_dims(shape) > 1 else []
    if size > SOFTMAX_MAX_ELEMENTS:
        problems.append(f"input has {size} elements, more than {SOFTMAX_MAX_ELEMENTS}")
    return problems


def _prelu(op: Op, runtime: int) -> list[str]:
    alpha = op.inputs[1] if len(op.inputs) > 1 else None
    if alpha is None or not alpha.constant:
        return ["alpha is not constant"]
    return (
        [f"alpha {list(alpha.shape)} varies along more than the innermost dimension"]
        if any(d > 1 for d in alpha.shape[:-1])
        else []
    )


_LIMITS: dict[str, Callable[[Op, int], list[str]]] = {
    "AVERAGE_POOL_2D": _no_fused_activation,
    "MAX_POOL_2D": _no_fused_activation,
    "CONCATENATION": _concatenation,
    "CONV_2D": _conv,
    "DEPTHWISE_CONV_2D": _conv,
    "FULLY_CONNECTED": _fully_connected,
    "MEAN": _reduction,
    "SUM": _reduction,
    "REDUCE_MAX": _reduction,
    "REDUCE_MIN": _reduction,
    "PAD": _pad,
    "PACK": _axis_option,
    "SPLIT": _axis_option,
    "STRIDED_SLICE": _strided_slice,
    "SOFTMAX": _softmax,
    "PRELU": _prelu,
}


def check_op(op: Op, runtime_version: int = DEFAULT_RUNTIME_VERSION) -> OpCheck:
    """Checks one operator against the op list, its limits and the tensor requirements."""
    since = SUPPORTED_SINCE.get(op.name)
    if since is None:
        return OpCheck(False, (f"{op.name} is not in the Edge TPU op list",))
    reasons = []
    if since > runtime_version:
        reasons.append(f"needs Edge TPU runtime {since} or newer (targeting {runtime_version})")
    unique = {t.index: t for t in (*op.inputs, *op.outputs)}
    reasons.extend(tensor_problems(tuple(unique.values())))
    if not reasons and op.name in _LIMITS:  # limits read quantized shapes and parameters
        reasons.extend(f"{op.name} {r}" for r in _LIMITS[op.name](op, runtime_version))
    notes = (NOTES[op.name],) if op.name in NOTES else ()
    return OpCheck(not reasons, tuple(reasons), notes)
