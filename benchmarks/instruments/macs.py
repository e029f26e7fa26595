"""Multiply-accumulates of a .tflite model, counted from its convolution and matrix ops."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class MacCount:
    """MACs of one inference.

    Attributes:
      total: All counted MACs.
      by_op: MACs per op type (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ...).
      uncounted_ops: Op types present but not counted (element-wise, pooling, softmax: few MACs).
    """

    total: int
    by_op: dict[str, int] = field(default_factory=dict)
    uncounted_ops: tuple[str, ...] = ()


def op_macs(op_name: str, input_shapes: list[tuple[int, ...]], output_shape: tuple[int, ...]) -> int | None:
    """MACs of one op from its tensor shapes; None for an op type that is not counted.

    Shapes follow TFLite: CONV_2D weights are [out_c, kh, kw, in_c/groups] and each output
    element takes kh*kw*in_c/groups MACs; DEPTHWISE_CONV_2D weights are [1, kh, kw, out_c] and
    each output element takes kh*kw; FULLY_CONNECTED weights are [units, depth] and each output
    element takes `depth`; TRANSPOSE_CONV weights are [out_c, kh, kw, in_c] and every input
    element is spread over kh*kw*out_c outputs.
    """
    out = int(np.prod(output_shape)) if output_shape else 0
    if op_name in ("CONV_2D", "CONV_3D") and len(input_shapes) > 1:
        weights = input_shapes[1]
        return out * int(np.prod(weights[1:]))
    if op_name == "DEPTHWISE_CONV_2D" and len(input_shapes) > 1:
        weights = input_shapes[1]
        return out * int(weights[1] * weights[2])
    if op_name == "FULLY_CONNECTED" and len(input_shapes) > 1:
        return out * int(input_shapes[1][-1])
    if op_name == "TRANSPOSE_CONV" and len(input_shapes) > 2:
        weights, data = input_shapes[1], input_shapes[2]
        return int(np.prod(data)) * int(weights[0] * weights[1] * weights[2])
    if op_name == "BATCH_MATMUL" and len(input_shapes) > 1:
        return out * int(input_shapes[0][-1])
    return None


def count_macs(model: str | os.PathLike | bytes) -> MacCount:
    """Counts the MACs of one inference of a .tflite model.

    The graph is read before any delegate is applied (XNNPACK would fold the ops into one
    DELEGATE node), from ai_edge_litert or tflite_runtime.

    Args:
      model: A .tflite path or its bytes.

    Returns:
      Total MACs and MACs per op type.

    Raises:
      FileNotFoundError, UserError: The model cannot be read.
    """
    from edge_runtime.interpreter import read_model

    data, _ = read_model(model)
    try:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
    except ImportError:  # The older standalone wheel has the same API.
        from tflite_runtime.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(
        model_content=data, experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    )
    shapes = [tuple(int(n) for n in t["shape"]) for t in interpreter.get_tensor_details()]
    by_op: dict[str, int] = {}
    uncounted: set[str] = set()
    for op in interpreter._get_ops_details():
        inputs = [shapes[i] if i >= 0 else () for i in op["inputs"]]
        outputs = [shapes[i] for i in op["outputs"] if i >= 0]
        macs = op_macs(op["op_name"], inputs, outputs[0] if outputs else ())
        if macs is None:
            uncounted.add(op["op_name"])
        else:
            by_op[op["op_name"]] = by_op.get(op["op_name"], 0) + macs
    return MacCount(sum(by_op.values()), by_op, tuple(sorted(uncounted)))


def keras_macs(model) -> int:
    """MACs of a Keras model's Conv2D, DepthwiseConv2D and Dense layers at batch 1 (a cross-check).

    Nested models (a keras.applications backbone inside a wrapper) are walked too.
    """
    import keras

    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += keras_macs(layer)
            continue
        out = tuple(layer.output.shape[1:]) if hasattr(layer, "output") else ()
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            kh, kw = layer.kernel_size
            total += int(np.prod(out)) * kh * kw
        elif isinstance(layer, keras.layers.Conv2D):
            kh, kw = layer.kernel_size
            in_c = int(layer.input.shape[-1])
            total += int(np.prod(out)) * kh * kw * in_c // layer.groups
        elif isinstance(layer, keras.layers.Dense):
            total += int(np.prod(out)) * int(layer.input.shape[-1])
    return total
