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


LABELS = ["crack", "finger", "clean"]


@pytest.fixture()
def labelled(tiny_tflite, tmp_path) -> Path:
    """The tiny uint8 model with our metadata (normalization, labels.txt packed), as convert writes it."""
    from convert.metadata_writer import populate
    from edge_runtime.metadata import ImageInputMetadata, ModelMetadata

    meta = ModelMetadata(name="tiny", version="3", input=ImageInputMetadata(mean=127.5, std=127.5))
    path = tmp_path / "model_int8.tflite"
    files = {"labels.txt": "".join(f"{name}\n" for name in LABELS).encode()}
    path.write_bytes(populate(tiny_tflite["uint8"].read_bytes(), meta, files))
    return path


def _custom_options(model: bytes) -> list[bytes]:
    from tensorflow.lite.tools import flatbuffer_utils

    graph = flatbuffer_utils.read_model_from_bytearray(bytearray(model))
    return [bytes(op.customOptions) for op in graph.subgraphs[0].operators]


def test_reattach_restores_the_metadata_and_labels_the_compiler_dropped(labelled, tmp_path):
    from edgetpu_helpers import edgetpu_compiled

    from convert.edgetpu import reattach_metadata
    from edge_runtime.edgetpu import compiled_for_edgetpu
    from edge_runtime.metadata import associated_files, read_labels, read_metadata
    from edge_runtime.model_labels import resolve_labels

    compiled = tmp_path / "out" / "model_int8_edgetpu.tflite"
    compiled.parent.mkdir()
    stripped = edgetpu_compiled(labelled.read_bytes())
    compiled.write_bytes(stripped)
    assert read_metadata(stripped) is None and associated_files(stripped) == {}  # what the compiler leaves
    assert resolve_labels(compiled, None, 3) == (None, "none (class indices)")

    assert reattach_metadata(labelled, compiled) is True
    model = compiled.read_bytes()
    assert read_metadata(model) == read_metadata(labelled.read_bytes())
    assert read_labels(model) == LABELS and list(associated_files(model)) == ["labels.txt"]
    assert resolve_labels(compiled, None, 3) == (LABELS, f"{compiled} (embedded)")
    # The Edge TPU op and its executable come through unchanged; a second re-attach changes nothing.
    assert compiled_for_edgetpu(model) and _custom_options(model) == _custom_options(stripped)
    assert reattach_metadata(labelled, compiled) and compiled.read_bytes() == model


def test_reattach_leaves_a_model_alone_when_the_source_has_no_metadata(tiny_tflite, tmp_path):
    from edgetpu_helpers import edgetpu_compiled

    from convert.edgetpu import reattach_metadata

    compiled = tmp_path / "tiny_uint8_edgetpu.tflite"
    compiled.write_bytes(edgetpu_compiled(tiny_tflite["uint8"].read_bytes()))
    before = compiled.read_bytes()
    assert reattach_metadata(tiny_tflite["uint8"], compiled) is False and compiled.read_bytes() == before


_STAND_IN_COMPILER = """#!{python}
# Stands in for edgetpu_compiler: writes the prepared compiled model (no metadata, as the real one).
import shutil, sys
from pathlib import Path
args = sys.argv[1:]
out, model = Path(args[args.index("--out_dir") + 1]), Path(args[-1])
shutil.copy({compiled!r}, out / (model.stem + "_edgetpu.tflite"))
(out / (model.stem + "_edgetpu.log")).write_text("Edge TPU Compiler stand-in\\n")
print("Model compiled successfully.")
"""


def test_make_edgetpu_writes_a_compiled_model_that_carries_the_labels(
    labelled, tmp_path, monkeypatch, capsys
):
    """The compile step of `make edgetpu`, edgetpu_compiler replaced by a script (it runs on x86 Debian only)."""
    from edgetpu_helpers import edgetpu_compiled

    from convert.edgetpu import compile_model
    from edge_runtime.metadata import read_labels, read_metadata

    prepared = tmp_path / "prepared.tflite"
    prepared.write_bytes(edgetpu_compiled(labelled.read_bytes()))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "edgetpu_compiler"
    script.write_text(_STAND_IN_COMPILER.format(python=sys.executable, compiled=str(prepared)))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    compiled = labelled.with_name("model_int8_edgetpu.tflite")
    assert compile_model(labelled, labelled.parent, None, force=True) == [
        compiled,
        labelled.with_name("model_int8_edgetpu.log"),
    ]
    out = capsys.readouterr().out
    assert f"re-attached the metadata and packed files of {labelled} (edgetpu_compiler drops them)" in out
    assert read_labels(compiled.read_bytes()) == LABELS
    assert read_metadata(compiled.read_bytes()).input.mean == (127.5,)
    assert not list(labelled.parent.glob(".edgetpu-*"))  # the scratch folder is gone


@pytest.mark.clients
def test_tflite_support_reads_the_reattached_metadata(labelled, tmp_path):
    """The Task Library's own metadata reader sees the labels in the compiled model again."""
    from edgetpu_helpers import edgetpu_compiled

    from conftest import run_clients_script
    from convert.edgetpu import reattach_metadata

    compiled = tmp_path / "model_int8_edgetpu.tflite"
    compiled.write_bytes(edgetpu_compiled(labelled.read_bytes()))
    reattach_metadata(labelled, compiled)
    dumped = run_clients_script("dump_metadata.py", str(compiled), timeout=300)
    assert (
        dumped["packed_files"] == ["labels.txt"] and dumped["files"]["labels.txt"] == "crack\nfinger\nclean\n"
    )
    assert dumped["metadata"]["name"] == "tiny"
    (graph,) = dumped["metadata"]["subgraph_metadata"]
    assert graph["output_tensor_metadata"][0]["associated_files"][0]["type"] == "TENSOR_AXIS_LABELS"
