"""Every conversion mode: Keras agreement, tensor types, file names, the clients that accept or reject it (the
registry, its --help section and docs table), and bad options reported under their flags."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, edge_runtime_top, run_clients, run_module

# mode key -> (quantize, io), and how far its probabilities may be from the Keras model's
MODES = {
    "int8_uint8": (("int8", "uint8"), 0.1),  # uint8 output: steps of 1/256 plus int8 arithmetic
    "int8_int8": (("int8", "int8"), 0.1),
    "float16": (("float16", None), 1e-2),
    "dynamic": (("dynamic", None), 5e-2),
    "float32": (("float32", None), 1e-4),
}
TASK_LIBRARY_MODES = ["int8_uint8", "float16", "dynamic", "float32"]


@pytest.fixture(scope="module")
def mode_models(trained_model, elpv_subset, tmp_path_factory) -> dict[str, Path]:
    """The trained model converted in every mode, with metadata and labels, as `python -m convert` writes it."""
    from convert.converter import ConvertOptions, calibration_set, convert, load_keras_model
    from convert.export import ExportOptions, model_metadata
    from convert.metadata_writer import populate
    from convert.modes import model_filename
    from labels import format_labels, read_labels

    model = load_keras_model(trained_model / "model.keras")
    names = read_labels(trained_model / "labels.txt")
    calibration = calibration_set(elpv_subset / "train", 64, 64, 64)
    meta = model_metadata("cnn", "test model", names, ExportOptions())
    files = {"labels.txt": format_labels(names).encode()}
    folder = tmp_path_factory.mktemp("modes")
    paths = {}
    for key, ((quantize, io), _) in MODES.items():
        options = ConvertOptions(quantize, io)
        path = folder / model_filename(options)
        path.write_bytes(populate(convert(model, options, calibration), meta, files))
        paths[key] = path
    return paths


@pytest.fixture(scope="module")
def subset_images(elpv_subset) -> np.ndarray:
    from edge_runtime.folders import list_images
    from edge_runtime.image import load_resized

    return np.stack([load_resized(p, 64, 64) for p in list_images(elpv_subset, recursive=True)])


@pytest.fixture(scope="module")
def keras_reference(trained_model, subset_images):
    from convert.converter import load_keras_model
    from convert.scores import keras_scores

    return keras_scores(load_keras_model(trained_model / "model.keras"), subset_images)


def test_file_names():
    from convert.modes import ConvertOptions, model_filename

    names = {key: model_filename(ConvertOptions(q, io)) for key, ((q, io), _) in MODES.items()}
    assert names == {
        "int8_uint8": "model_int8.tflite",
        "int8_int8": "model_int8_int8io.tflite",
        "float16": "model_float16.tflite",
        "dynamic": "model_dynamic.tflite",
        "float32": "model_float32.tflite",
    }


@pytest.mark.slow
@pytest.mark.parametrize("key", list(MODES))
def test_every_mode_agrees_with_keras(mode_models, subset_images, keras_reference, key):
    from convert.scores import tflite_scores

    scores = tflite_scores(mode_models[key], subset_images)
    assert len(subset_images) == 120
    assert np.mean(scores.predictions == keras_reference.predictions) >= 0.95
    assert np.max(np.abs(scores.probabilities - keras_reference.probabilities)) < MODES[key][1]


@pytest.mark.slow
def test_tensor_types_of_each_mode(mode_models):
    from edge_runtime.interpreter import make_interpreter
    from edge_runtime.metadata import read_labels

    def io(key):
        interpreter = make_interpreter(mode_models[key])
        inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
        types = {np.dtype(t["dtype"]).name for t in interpreter.get_tensor_details()}
        return np.dtype(inp["dtype"]).name, inp["quantization"], np.dtype(out["dtype"]).name, types

    assert io("int8_uint8")[:3] == ("uint8", (1.0, 0), "uint8")
    assert io("int8_int8")[:3] == ("int8", (1.0, -128), "int8")
    for key in ("float16", "dynamic", "float32"):
        assert io(key)[0] == io(key)[2] == "float32"
    assert "float16" in io("float16")[3]  # float16 weights, dequantized at load
    assert "int8" in io("dynamic")[3] and "float16" not in io("dynamic")[3]
    assert io("float32")[3] <= {"float32", "int32"}
    for path in mode_models.values():
        assert read_labels(path.read_bytes()) == ["defective", "functional"]
    sizes = {key: path.stat().st_size for key, path in mode_models.items()}
    assert sizes["int8_uint8"] < sizes["float16"] < sizes["float32"] and sizes["dynamic"] < sizes["float16"]


# --- the Task Library and MediaPipe Tasks ----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.clients
@pytest.mark.parametrize("key", TASK_LIBRARY_MODES)
def test_task_library_and_mediapipe_load_every_supported_mode(mode_models, sized_test_images, key):
    model = mode_models[key]
    ours = edge_runtime_top(model, sized_test_images)
    clients = run_clients(model, sized_test_images)
    # Hybrid (dynamic) and float16 kernels differ between runtimes in the last digits.
    tolerance = {"float16": 1e-3, "dynamic": 2e-2}.get(key, 1e-5)
    for client in ("task_library", "mediapipe"):
        assert "error" not in clients[client], (
            f"{client} rejected {model.name}: {clients[client].get('error')}"
        )
        for theirs, mine in zip(clients[client]["results"], ours, strict=True):
            assert {c["label"] for c in theirs} == {"defective", "functional"}
            margin = mine[0][1] - mine[1][1]
            if margin > 2 * tolerance:  # a clear winner must be the same; near-ties may flip
                assert theirs[0]["label"] == mine[0][0]
            assert theirs[0]["score"] == pytest.approx(mine[0][1], abs=tolerance + margin)


@pytest.mark.slow
@pytest.mark.clients
def test_int8_io_is_rejected_by_the_task_library_and_mediapipe(mode_models, sized_test_images):
    from convert.modes import ConvertOptions

    mode = ConvertOptions("int8", "int8").mode
    clients = run_clients(mode_models["int8_int8"], sized_test_images[:1])
    # The errors the modes table quotes.
    for client in ("task_library", "mediapipe"):
        support = mode.support(client)
        assert not support.loads and support.error
        assert clients[client]["error"].endswith(support.error)


# --- options and bad input -------------------------------------------------------------------------


def _one_error_line(proc) -> str:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.strip().splitlines() if line.startswith("error:")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--quantize", "float16", "--io", "uint8"],
            "error: --io 'uint8': float16 models take float32 input and output; integer I/O needs int8",
        ),
        (
            ["--quantize", "dynamic", "--io", "int8"],
            "error: --io 'int8': dynamic models take float32 input and output",
        ),
        (["--io", "float32"], "error: --io 'float32': int8 quantization is full-integer"),
        (["--calibration-images", "0"], "error: --calibration-images 0: must be at least 1"),
    ],
)
def test_invalid_combinations_are_refused_under_their_flags_before_anything_loads(
    tmp_path, capsys, flags, message
):
    from convert.__main__ import main

    out = tmp_path / "o"
    assert main(["--model", str(tmp_path / "m.keras"), "--out", str(out), *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("error:") == 1, err
    assert not out.exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"quantize": "int4"},
            "quantize='int4': not a quantization; use one of int8, float16, dynamic, float32",
        ),
        ({"io_type": "int16"}, "io_type='int16': not an I/O type; use one of uint8, int8, float32"),
        ({"quantize": "float32", "io_type": "int8"}, "io_type='int8': float32 models take float32 input"),
        ({"calibration_images": True}, "calibration_images=True: must be at least 1"),
    ],
)
def test_the_library_names_its_parameters(kwargs, message):
    from convert.modes import ConvertOptions
    from edge_runtime.errors import ParameterError

    with pytest.raises(ParameterError) as caught:
        ConvertOptions(**kwargs)
    assert str(caught.value).startswith(message)


def test_default_io_follows_the_mode_and_clients_follow_the_input_depth():
    from convert.modes import ConvertOptions, clients

    assert ConvertOptions().io_type == "uint8" and ConvertOptions("float16").io_type == "float32"
    assert "TFLite Task Library" in clients(ConvertOptions()) and "Coral Edge TPU" in clients(
        ConvertOptions()
    )
    assert clients(ConvertOptions("int8", "int8")) == clients(ConvertOptions(), channels=1)[1:]
    assert clients(ConvertOptions("float16"), channels=1) == (
        "CPU interpreters (edge_runtime, ai-edge-litert, tflite-runtime)",
    )


def test_the_help_and_the_docs_table_come_from_the_registry(capsys):
    from convert.__main__ import _parser
    from convert.modes_table import main, modes_help, modes_table_markdown

    assert modes_help() in _parser().format_help()
    assert main([]) == 0
    printed = capsys.readouterr().out
    assert printed == modes_table_markdown() + "\n"
    row = next(line for line in printed.splitlines() if line.startswith("| `int8` / `int8` |"))
    assert "`model_int8_int8io.tflite`" in row and row.count("**no**") == 3
    assert "Requested one of these types: uint8/float32, got INT8." in row


def test_docs_convert_md_holds_the_current_table():
    docs = REPO / "docs" / "convert.md"
    from convert.modes_table import modes_table_markdown

    text = docs.read_text(encoding="utf-8")
    assert "<!-- modes-table -->\n" in text and "\n<!-- /modes-table -->" in text, f"{docs}: no table markers"
    block = text.split("<!-- modes-table -->\n", 1)[1].split("\n<!-- /modes-table -->", 1)[0]
    assert block == modes_table_markdown(), (
        f"{docs}: stale modes table; paste `python -m convert.modes` between the markers"
    )


def _main(capsys, *args: str) -> tuple[int, str]:
    from convert.__main__ import main

    code = main(list(args))
    return code, capsys.readouterr().err


@pytest.mark.slow
def test_model_input_that_is_not_an_image_of_depth_1_or_3(tmp_path, elpv_subset, capsys):
    import keras

    inputs = keras.Input((16, 16, 4))
    outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling2D()(inputs))
    keras.Model(inputs, outputs).save(tmp_path / "rgba.keras")
    (tmp_path / "labels.txt").write_text("defective\nfunctional\n")
    out = tmp_path / "o"
    code, err = _main(
        capsys,
        "--model",
        str(tmp_path / "rgba.keras"),
        "--out",
        str(out),
        "--calibration-data",
        str(elpv_subset / "train"),
    )
    assert code == 2 and err.count("error:") == 1
    assert "input shape (None, 16, 16, 4) is not an image (None, height, width, 1 or 3)" in err
    assert not out.exists()


@pytest.mark.slow
def test_a_keras_file_that_is_not_a_model(tmp_path, elpv_subset, capsys):
    fake = tmp_path / "model.keras"
    fake.write_text("just text")
    code, err = _main(
        capsys,
        "--model",
        str(fake),
        "--out",
        str(tmp_path / "o"),
        "--calibration-data",
        str(elpv_subset / "train"),
    )
    assert code == 2 and err.count("error:") == 1
    assert f"{fake}: cannot load as a Keras model" in err
    assert not (tmp_path / "o").exists()


def test_an_existing_model_card_is_kept_without_force(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "model_card.json").write_text("{}")
    (tmp_path / "m.keras").write_bytes(b"PK")  # never loaded: the existing card is found first
    args = ["--model", str(tmp_path / "m.keras"), "--out", str(out), "--calibration-data", str(tmp_path)]
    line = _one_error_line(run_module("convert", *args, check=False))
    assert "model_card.json: already exists; pass --force" in line
    assert (out / "model_card.json").read_text() == "{}"


@pytest.fixture(scope="module")
def gray_export(elpv_subset, tmp_path_factory):
    """A depth-1 (grayscale) Keras model exported by export_all; returns (result, output folder)."""
    import keras

    from convert.converter import ConvertOptions
    from convert.export import ExportOptions, export_all
    from convert.gate import GateOptions

    folder = tmp_path_factory.mktemp("gray")
    keras.utils.set_random_seed(0)
    inputs = keras.Input((32, 32, 1))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(4, 3, activation="relu")(x)
    outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling2D()(x))
    keras.Model(inputs, outputs, name="gray").save(folder / "gray.keras")
    (folder / "labels.txt").write_text("defective\nfunctional\n")
    # An untrained model sits near 50/50, where int8 rounding flips answers: the gate is not the point here.
    options = ExportOptions(
        conversion=ConvertOptions(calibration_images=16),
        gate=GateOptions(max_accuracy_drop=100.0),
        latency_runs=2,
    )
    out = folder / "out"
    return export_all(folder / "gray.keras", folder / "labels.txt", elpv_subset / "train", out, options), out


@pytest.mark.slow
def test_depth_1_models_are_converted_with_grayscale_metadata(gray_export):
    from edge_runtime.interpreter import make_interpreter
    from edge_runtime.metadata import read_metadata

    result, out = gray_export
    assert result.passed and (out / "model_int8.tflite") in result.written
    details = make_interpreter(out / "model_int8.tflite").get_input_details()[0]
    assert list(details["shape"]) == [1, 32, 32, 1] and details["quantization"] == (1.0, 0)
    assert read_metadata((out / "model_int8.tflite").read_bytes()).input.color_space == "GRAYSCALE"
    entry = json.loads((out / "model_card.json").read_text())["models"]["model_int8.tflite"]
    assert entry["input"]["color_space"] == "GRAYSCALE"
    assert "TFLite Task Library" not in entry["clients"] and "MediaPipe Tasks" not in entry["clients"]
    assert result.gate.models[0].top1_agreement >= 0.9


@pytest.mark.slow
@pytest.mark.clients
def test_depth_1_models_are_rejected_by_the_task_library_and_mediapipe(gray_export, sized_test_images):
    from convert.modes import RGB_ONLY_CLIENTS, RGB_ONLY_ERROR

    _, out = gray_export
    clients = run_clients(out / "model_int8.tflite", sized_test_images[:1])
    for client in RGB_ONLY_CLIENTS:
        assert clients[client]["error"] == RGB_ONLY_ERROR
