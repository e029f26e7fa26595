"""Reads a .tflite flatbuffer's main graph: operators in execution order, their tensors and options."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edge_runtime.errors import UserError

# Constant int tensors up to this size (axes, paddings, strides, shapes) keep their values.
_SMALL_CONSTANT = 64


@dataclass(frozen=True)
class Tensor:
    """One tensor of the graph.

    Attributes:
      index: Position in the subgraph's tensor list.
      name: The converter's name for it.
      dtype: 'float32', 'int8', 'uint8', 'int32', ... (lower-case TensorType name).
      shape: Static shape.
      shape_signature: Shape with -1 for dynamic dimensions (equals `shape` when all static).
      constant: Whether its data is stored in the model (weights, biases, shape parameters).
      values: The data of small constant integer tensors, else None.
    """

    index: int
    name: str
    dtype: str
    shape: tuple[int, ...]
    shape_signature: tuple[int, ...]
    constant: bool
    values: np.ndarray | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Op:
    """One operator, in execution order.

    Attributes:
      index: Position in execution order.
      name: Builtin operator name (e.g. 'CONV_2D'), or 'CUSTOM:<code>' for custom ops.
      version: The operator code's version.
      inputs: Input tensors (optional inputs left out).
      outputs: Output tensors.
      options: The builtin options as a dict (field name -> value), empty when there are none.
    """

    index: int
    name: str
    version: int
    inputs: tuple[Tensor, ...]
    outputs: tuple[Tensor, ...]
    options: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Graph:
    """The main subgraph of a .tflite model."""

    ops: tuple[Op, ...]
    tensors: tuple[Tensor, ...]
    inputs: tuple[Tensor, ...]
    outputs: tuple[Tensor, ...]
    num_subgraphs: int = 1

    def op_counts(self) -> dict[str, int]:
        """How often each operator occurs, in order of first use."""
        return dict(Counter(op.name for op in self.ops))


def _names(enum_class) -> dict[int, str]:
    return {value: key for key, value in vars(enum_class).items() if not key.startswith("_")}


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _options(obj) -> dict[str, Any]:
    if obj is None:
        return {}
    result = {}
    for key, value in vars(obj).items():
        result[key] = value.tolist() if isinstance(value, np.ndarray) else value
    return result


def read_graph(model: bytes) -> Graph:
    """Parses the first subgraph of a .tflite model.

    Raises:
      UserError: The bytes are not a TFLite flatbuffer or cannot be parsed.
    """
    from ai_edge_litert import schema_py_generated as schema

    if len(model) < 8 or model[4:8] != b"TFL3":
        raise UserError("not a TFLite model (no TFL3 identifier); pass a .tflite file")
    try:
        parsed = schema.ModelT.InitFromPackedBuf(bytearray(model), 0)
    except Exception as err:  # flatbuffers raises struct/index errors on damaged files
        raise UserError(f"corrupt TFLite model ({type(err).__name__}); re-convert it") from None
    if not parsed.subgraphs:
        raise UserError("the TFLite model has no subgraph")
    op_names, type_names = _names(schema.BuiltinOperator), _names(schema.TensorType)
    graph, buffers = parsed.subgraphs[0], parsed.buffers or []
    tensors = []
    for index, raw in enumerate(graph.tensors or []):
        data = buffers[raw.buffer].data if 0 < raw.buffer < len(buffers) else None
        constant = data is not None and len(data) > 0
        dtype = type_names.get(raw.type, str(raw.type)).lower()
        shape = tuple(int(d) for d in (raw.shape if raw.shape is not None else ()))
        signature = tuple(int(d) for d in raw.shapeSignature) if raw.shapeSignature is not None else shape
        values = None
        if constant and dtype in ("int32", "int64") and int(np.prod(shape or (1,))) <= _SMALL_CONSTANT:
            values = np.frombuffer(np.asarray(data, dtype=np.uint8).tobytes(), dtype=dtype).reshape(shape)
        tensors.append(Tensor(index, _text(raw.name), dtype, shape, signature, constant, values))
    ops = []
    for index, raw in enumerate(graph.operators or []):
        code = parsed.operatorCodes[raw.opcodeIndex]
        builtin = max(code.builtinCode, code.deprecatedBuiltinCode)  # the schema keeps both fields
        name = op_names.get(builtin, str(builtin))
        if name == "CUSTOM":
            name = f"CUSTOM:{_text(code.customCode)}"
        inputs = tuple(tensors[i] for i in (raw.inputs if raw.inputs is not None else ()) if i >= 0)
        outputs = tuple(tensors[i] for i in (raw.outputs if raw.outputs is not None else ()) if i >= 0)
        ops.append(Op(index, name, int(code.version), inputs, outputs, _options(raw.builtinOptions)))
    return Graph(
        ops=tuple(ops),
        tensors=tuple(tensors),
        inputs=tuple(tensors[i] for i in graph.inputs),
        outputs=tuple(tensors[i] for i in graph.outputs),
        num_subgraphs=len(parsed.subgraphs),
    )
