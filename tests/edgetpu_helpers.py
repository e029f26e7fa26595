"""Stand-ins for what this machine lacks: a model as edgetpu_compiler writes it, and a delegate library.

`edgetpu_compiled` rewrites a real converted model the way the compiler does when every op maps:
one custom op named `edgetpu-custom-op` between the input and output tensors, and neither metadata
nor packed files. `fake_delegate` compiles, with the system's C compiler, an external delegate
(the tflite_plugin_create_delegate interface libedgetpu exports) that fails to start like a Coral
that is not plugged in, unless told `start=yes`; then it claims no op, so the CPU runs the model.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

_DELEGATE_C = r"""
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* TfLiteDelegate's layout (tensorflow/lite/core/c/common.h); only Prepare is ever called. */
typedef struct Delegate {
  void* data;
  int (*prepare)(void* context, struct Delegate* delegate);
  void* copy_from_buffer_handle;
  void* copy_to_buffer_handle;
  void* free_buffer_handle;
  int64_t flags;
  void* opaque_delegate_builder;
} Delegate;

static int prepare(void* context, Delegate* delegate) { return 0; /* kTfLiteOk, claims no op */ }
static Delegate claims_nothing = {0, prepare, 0, 0, 0, 0, 0};

/* Options: report=PATH writes every key=value received to PATH; start=yes returns a delegate. */
Delegate* tflite_plugin_create_delegate(char** keys, char** values, size_t count,
                                        void (*report_error)(const char*)) {
  int start = 0;
  for (size_t i = 0; i < count; i++) {
    if (strcmp(keys[i], "report") == 0) {
      FILE* out = fopen(values[i], "w");
      if (out == NULL) return NULL;
      for (size_t j = 0; j < count; j++) fprintf(out, "%s=%s\n", keys[j], values[j]);
      fclose(out);
    }
    if (strcmp(keys[i], "start") == 0 && strcmp(values[i], "yes") == 0) start = 1;
  }
  if (!start) {
    if (report_error != NULL) report_error("no accelerator found");
    return NULL;
  }
  return &claims_nothing;
}

void tflite_plugin_destroy_delegate(Delegate* delegate) {}
"""


def fake_delegate(folder: Path) -> Path:
    """Compiles the fake delegate into FOLDER; skips the test, saying why, without a C compiler."""
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        pytest.skip("no C compiler (cc, gcc or clang) to build the fake delegate library")
    source, library = folder / "fake_delegate.c", folder / "libfake_delegate.so"
    source.write_text(_DELEGATE_C)
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
    return library


def edgetpu_compiled(model: bytes) -> bytes:
    """MODEL as edgetpu_compiler writes a fully mapped model: one edgetpu-custom-op, no metadata."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    graph = flatbuffer_utils.read_model_from_bytearray(bytearray(model))
    code = schema.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.CUSTOM
    code.customCode, code.version = "edgetpu-custom-op", 1
    subgraph = graph.subgraphs[0]
    op = schema.OperatorT()
    op.opcodeIndex = 0
    op.inputs = np.array([subgraph.inputs[0]], dtype=np.int32)
    op.outputs = np.array([subgraph.outputs[0]], dtype=np.int32)
    op.customOptions = np.frombuffer(b"stand-in for the Edge TPU executable", dtype=np.uint8)
    graph.operatorCodes, subgraph.operators, graph.metadata = [code], [op], None
    return bytes(flatbuffer_utils.convert_object_to_bytearray(graph))
