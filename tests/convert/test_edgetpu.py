"""Edge TPU readiness: the op report on real converted models, the documented limits, the compiler command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO


def _report(path_or_bytes, runtime: int | None = None):
    from convert.edgetpu import edgetpu_report
    from convert.tflite_graph import read_graph

    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    return edgetpu_report(read_graph(data)) if runtime is None else edgetpu_report(read_graph(data), runtime)


def _run_edgetpu(*args: str) -> subprocess.CompletedProcess:
    """`python -m convert.edgetpu` with a PATH that holds only Python: edgetpu_compiler is surely absent."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PATH": str(Path(sys.executable).parent)}
    return subprocess.run(
        [sys.executable, "-m", "convert.edgetpu", *args], cwd=REPO, env=env, capture_output=True, text=True
    )


@pytest.mark.slow
def test_int8_model_maps_completely(converted):
    report = _report(converted / "model_int8.tflite")
    names = [op.name for op in report.ops]
    assert names[0] == "QUANTIZE" and names[-1] == "QUANTIZE"  # uint8 <-> int8 at the edges
    assert {"CONV_2D", "FULLY_CONNECTED", "SOFTMAX"} <= set(names)
    assert report.split_at is None and report.mapped == len(report.ops)
    assert all(op.check.maps and op.on_edgetpu for op in report.ops)
    assert report.to_dict()["fully_mapped"] is True


@pytest.mark.slow
def test_float32_model_does_not_map_and_says_why(converted):
    from convert.edgetpu import format_report

    report = _report(converted / "model_float32.tflite")
    assert report.split_at == 0 and report.mapped == 0
    for op in report.ops:
        assert not op.check.maps and not op.on_edgetpu
        assert any("not 8-bit quantized" in r and "(float32)" in r for r in op.check.reasons)
    text = format_report(report)
    assert "0 of" in text and "whole model runs on the CPU" in text and "--quantize int8" in text


@pytest.mark.slow
def test_older_runtime_without_quantize_splits_at_the_input(converted):
    report = _report(converted / "model_int8.tflite", runtime=12)
    assert report.split_at == 0
    assert report.ops[0].check.reasons == ("needs Edge TPU runtime 13 or newer (targeting 12)",)


@pytest.mark.slow
def test_an_unsupported_op_in_the_middle_splits_the_graph():
    """HARD_SWISH (MobileNetV3's activation) is not on Coral's list: the compiler stops mapping there."""
    import keras

    from convert.converter import ConvertOptions, convert
    from convert.edgetpu import format_report

    keras.utils.set_random_seed(0)
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(8, 3)(x)
    x = keras.layers.Activation("hard_swish")(x)
    x = keras.layers.Conv2D(8, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(2, activation="softmax")(x)
    images = np.random.default_rng(0).integers(0, 256, (8, 32, 32, 3)).astype(np.uint8)
    report = _report(convert(keras.Model(inputs, outputs), ConvertOptions(), images))

    names = [op.name for op in report.ops]
    split = names.index("HARD_SWISH")
    assert report.split_at == split == 2
    assert report.ops[split].check.reasons == ("HARD_SWISH is not in the Edge TPU op list",)
    # Ops before the split run on the Edge TPU; after it everything stays on the CPU, even ops
    # that would map on their own (the second CONV_2D, MEAN, FULLY_CONNECTED ...).
    assert [op.on_edgetpu for op in report.ops] == [i < split for i in range(len(names))]
    assert all(op.check.maps for op in report.ops if op.index != split)
    assert report.mapped == 2
    summary = format_report(report).splitlines()[-1]
    assert summary == (
        f"2 of {len(names)} ops map: the graph splits before op 2 (HARD_SWISH); ops 0-1 run on the Edge TPU, "
        f"op 2 and the {len(names) - 3} after it on the CPU"
    )
    first = report.to_dict()["first_unmapped_op"]
    assert first == {"index": 2, "op": "HARD_SWISH", "reasons": ["HARD_SWISH is not in the Edge TPU op list"]}


# --- the documented limits, on operators built from the graph's own data types ----------------------


def _tensor(index, shape, dtype="int8", constant=False, values=None, signature=None):
    from convert.tflite_graph import Tensor

    shape = tuple(shape)
    return Tensor(index, f"t{index}", dtype, shape, tuple(signature or shape), constant, values)


def _op(name, inputs, outputs, **options):
    from convert.tflite_graph import Op

    return Op(0, name, 1, tuple(inputs), tuple(outputs), options)


def test_tensor_requirements():
    from convert.edgetpu_ops import check_op

    ok = check_op(
        _op("ADD", [_tensor(0, [1, 8, 8, 4]), _tensor(1, [1, 8, 8, 4])], [_tensor(2, [1, 8, 8, 4])])
    )
    assert ok.maps and ok.reasons == ()
    batch2 = check_op(_op("RELU", [_tensor(0, [2, 8, 8, 4])], [_tensor(1, [2, 8, 8, 4])]))
    assert not batch2.maps
    assert "dimension larger than 1 outside the 3 innermost (batch must be 1)" in batch2.reasons[0]
    dynamic = check_op(
        _op("RELU", [_tensor(0, [1, 8, 8, 4], signature=[-1, 8, 8, 4])], [_tensor(1, [1, 8, 8, 4])])
    )
    assert "dynamic shape [-1, 8, 8, 4]" in dynamic.reasons[0]
    floats = check_op(_op("RELU", [_tensor(0, [1, 4], "float32")], [_tensor(1, [1, 4], "float32")]))
    assert floats.reasons == ("2 tensor(s) not 8-bit quantized: 't0' (float32), 't1' (float32)",)
    # 4-D filters with every dimension > 1 and int32 biases are parameters, not activations: fine.
    conv = check_op(
        _op(
            "CONV_2D",
            [
                _tensor(0, [1, 8, 8, 3]),
                _tensor(1, [16, 3, 3, 3], constant=True),
                _tensor(2, [16], "int32", True),
            ],
            [_tensor(3, [1, 6, 6, 16])],
            dilationWFactor=1,
            dilationHFactor=1,
        )
    )
    assert conv.maps


def test_per_op_limits():
    from convert.edgetpu_ops import check_op

    x = _tensor(0, [1, 8, 8, 4])
    dilated = _op("CONV_2D", [x], [_tensor(1, [1, 8, 8, 4])], dilationWFactor=2, dilationHFactor=1)
    assert check_op(dilated).reasons == ("CONV_2D dilation differs in x (2) and y (1)",)
    pool = _op("MAX_POOL_2D", [x], [_tensor(1, [1, 4, 4, 4])], fusedActivationFunction=1)
    assert check_op(pool).reasons == ("MAX_POOL_2D has a fused activation function",)
    fc = _op("FULLY_CONNECTED", [_tensor(0, [1, 4, 16])], [_tensor(1, [1, 4, 10])], weightsFormat=0)
    assert check_op(fc).reasons == ("FULLY_CONNECTED output [1, 4, 10] is not one-dimensional",)
    softmax = _op("SOFTMAX", [_tensor(0, [1, 20000])], [_tensor(1, [1, 20000])])
    assert check_op(softmax).reasons == ("SOFTMAX input has 20000 elements, more than 16000",)
    axes = _tensor(1, [2], "int32", constant=True, values=np.array([0, 1], dtype=np.int32))
    mean = _op("MEAN", [x, axes], [_tensor(2, [1, 1, 1, 4])])
    assert check_op(mean).reasons == ("MEAN reduces the batch dimension",)
    xy = _tensor(1, [2], "int32", constant=True, values=np.array([1, 2], dtype=np.int32))
    assert check_op(_op("MEAN", [x, xy], [_tensor(2, [1, 1, 1, 4])])).maps
    strides = _tensor(3, [4], "int32", constant=True, values=np.array([1, 2, 2, 1], dtype=np.int32))
    begin = _tensor(1, [4], "int32", constant=True, values=np.zeros(4, dtype=np.int32))
    sliced = _op("STRIDED_SLICE", [x, begin, begin, strides], [_tensor(4, [1, 4, 4, 4])])
    assert check_op(sliced).reasons == ("STRIDED_SLICE strides are not all 1",)
    transpose = _op("TRANSPOSE", [x], [_tensor(1, [1, 8, 8, 4])])
    assert check_op(transpose).maps and not check_op(transpose, runtime_version=13).maps


def test_compiler_command_is_built_without_the_compiler(tmp_path):
    from convert.edgetpu import compiled_paths, compiler_command

    model = tmp_path / "model_int8.tflite"
    assert compiler_command(model, tmp_path / "out") == [
        "edgetpu_compiler",
        "--show_operations",
        "--out_dir",
        str(tmp_path / "out"),
        str(model),
    ]
    assert compiler_command(model, tmp_path, min_runtime_version=13)[-3:] == [
        "--min_runtime_version",
        "13",
        str(model),
    ]
    assert compiled_paths(model, tmp_path) == (
        tmp_path / "model_int8_edgetpu.tflite",
        tmp_path / "model_int8_edgetpu.log",
    )


@pytest.mark.slow
def test_cli_prints_the_report_and_how_to_install_the_compiler(converted):
    model = converted / "model_int8.tflite"
    proc = _run_edgetpu("--model", str(model))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stdout.splitlines()[-1].endswith("ops map to the Edge TPU (runtime 14); no CPU fallback")
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "edgetpu_compiler is not on PATH" in errors[0] and "apt-get install edgetpu-compiler" in errors[0]
    assert not (converted / "model_int8_edgetpu.tflite").exists()

    report_only = _run_edgetpu("--model", str(converted / "model_float32.tflite"), "--report-only")
    assert report_only.returncode == 0 and "whole model runs on the CPU" in report_only.stdout
    refused = _run_edgetpu("--model", str(converted / "model_float32.tflite"))
    assert refused.returncode == 2 and "no op maps to the Edge TPU" in refused.stderr


def test_cli_bad_model_path(tmp_path):
    proc = _run_edgetpu("--model", str(tmp_path / "missing.tflite"))
    assert proc.returncode == 2 and "missing.tflite" in proc.stderr and "Traceback" not in proc.stderr
