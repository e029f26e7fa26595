"""TFLite Metadata writer and reader, checked against each other, the interpreter and tflite-support."""

from __future__ import annotations

import io
import re
import struct
import zipfile

import numpy as np
import pytest

from conftest import run_clients_script
from edge_runtime.errors import UserError
from edge_runtime.metadata import (
    METADATA_NAME,
    ImageInputMetadata,
    ModelMetadata,
    ProbabilityOutputMetadata,
    associated_files,
    read_labels,
    read_metadata,
)

LABELS = {"labels.txt": b"crack\nfinger\nclean\n"}
# Values exactly representable as float32, so they come back unchanged.
META = ModelMetadata(
    name="tiny classifier",
    description="Three classes of 32x32 cells.",
    version="2.5",
    author="test suite",
    license="Apache-2.0",
    input=ImageInputMetadata(
        name="pixels",
        description="RGB, 0..255",
        mean=(127.5, 64.0, 0.25),
        std=(127.5, 2.0, 1.0),
        color_space="RGB",
        min=0,
        max=255,
    ),
    output=ProbabilityOutputMetadata(
        name="scores", description="softmax", labels_file="labels.txt", labels_description="one per line"
    ),
)


def populate(model: bytes, meta: ModelMetadata = META, files: dict[str, bytes] = LABELS) -> bytes:
    from convert.metadata_writer import populate as populate_model

    return populate_model(model, meta, files)


def run(model: bytes, image: np.ndarray) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=model)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def metadata_entries(model: bytes) -> list[str]:
    from tensorflow.lite.python import schema_py_generated as schema

    root = schema.Model.GetRootAs(model, 0)
    return [root.Metadata(i).Name().decode() for i in range(root.MetadataLength())]


@pytest.mark.parametrize("mode", ["uint8", "float32"])
def test_round_trip_keeps_every_field(tiny_tflite, mode):
    model = populate(tiny_tflite[mode].read_bytes())
    assert model[4:8] == b"TFL3"
    assert read_metadata(model) == META
    assert read_metadata(model).input.mean == (127.5, 64.0, 0.25)
    assert read_labels(model) == ["crack", "finger", "clean"]
    assert associated_files(model) == LABELS
    info = zipfile.ZipFile(io.BytesIO(model)).infolist()  # stdlib zipfile: the appended archive is standard
    assert [(i.filename, i.compress_type) for i in info] == [("labels.txt", zipfile.ZIP_STORED)]


def test_defaults_and_absent_parts_round_trip(tiny_tflite):
    meta = ModelMetadata(
        name="m",
        input=ImageInputMetadata(mean=(), std=(), min=(), max=(), description=""),
        output=ProbabilityOutputMetadata(labels_file=None, labels_description=""),
    )
    model = populate(tiny_tflite["uint8"].read_bytes(), meta, {})
    assert read_metadata(model) == meta
    assert read_labels(model) is None
    assert associated_files(model) == {}


@pytest.mark.parametrize("mode", ["uint8", "float32"])
def test_populated_model_runs_exactly_like_the_plain_one(tiny_tflite, mode):
    plain = tiny_tflite[mode].read_bytes()
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (1, 32, 32, 3)).astype(np.uint8 if mode == "uint8" else np.float32)
    expected = run(plain, image)
    np.testing.assert_array_equal(run(populate(plain), image), expected)
    assert expected.shape == (1, 3)


def test_populating_twice_replaces_rather_than_duplicates(tiny_tflite):
    plain = tiny_tflite["uint8"].read_bytes()
    once = populate(plain)
    assert metadata_entries(once).count(METADATA_NAME) == 1
    assert metadata_entries(once) == [*metadata_entries(plain), METADATA_NAME]
    assert populate(once) == once  # same bytes: no second entry, buffer or zip

    renamed = ModelMetadata(name="second", output=ProbabilityOutputMetadata(labels_file="classes.txt"))
    again = populate(once, renamed, {"classes.txt": b"a\nb\nc\n"})
    assert metadata_entries(again).count(METADATA_NAME) == 1
    assert read_metadata(again) == renamed
    assert associated_files(again) == {"classes.txt": b"a\nb\nc\n"}
    assert read_labels(again) == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("meta", "files", "message"),
    [
        (META, {"labels.txt": b"one\ntwo\n"}, "labels.txt: 2 labels but model's output has shape [1, 3]"),
        (META, {}, "files: no 'labels.txt', the labels file the metadata names"),
        (META, {**LABELS, "readme.txt": b"x"}, "files: 'readme.txt' is not named in the metadata"),
        (META, {"labels.txt": b"a\n\nb\n"}, "labels.txt: line 2 is blank"),
        (
            ModelMetadata("m", input=ImageInputMetadata(mean=(1.0, 2.0), std=(1.0, 2.0))),
            LABELS,
            "model: metadata input mean has 2 values; give 1 or 3",
        ),
        (
            ModelMetadata("m", input=ImageInputMetadata(color_space="GRAYSCALE")),
            LABELS,
            "model: input has 3 channels but the metadata says GRAYSCALE",
        ),
    ],
)
def test_populate_refuses_metadata_that_does_not_fit_the_model(tiny_tflite, meta, files, message):
    with pytest.raises(UserError, match="^" + re.escape(message)):
        populate(tiny_tflite["uint8"].read_bytes(), meta, files)


def test_populate_refuses_a_model_with_two_outputs():
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 3))
    flat = keras.layers.Flatten()(inputs)
    two_heads = keras.Model(inputs, [keras.layers.Dense(3)(flat), keras.layers.Dense(2)(flat)])
    model = tf.lite.TFLiteConverter.from_keras_model(two_heads).convert()
    from convert.metadata_writer import populate as populate_model

    message = "^two.tflite: the model has 1 inputs and 2 outputs; the metadata describes"
    with pytest.raises(UserError, match=message):
        populate_model(model, META, LABELS, source="two.tflite")


def test_metadata_options_are_checked():
    with pytest.raises(UserError, match=r"input normalization: 1 mean and 0 std values"):
        ImageInputMetadata(mean=(0.0,), std=())
    with pytest.raises(UserError, match=r"std \(0.0,\) has a zero"):
        ImageInputMetadata(std=0)
    with pytest.raises(UserError, match="color_space 'BGR' is unknown"):
        ImageInputMetadata(color_space="BGR")


def test_model_without_metadata_has_none(tiny_tflite):
    plain = tiny_tflite["int8"].read_bytes()
    assert read_metadata(plain) is None
    assert read_labels(plain) is None
    assert associated_files(plain) == {}


def test_corrupt_bytes_are_user_errors(tiny_tflite):
    model = populate(tiny_tflite["uint8"].read_bytes())
    with pytest.raises(UserError, match="^x.tflite: not a TFLite model"):
        read_metadata(b"PK\x03\x04 certainly not a model", source="x.tflite")
    with pytest.raises(UserError, match="^model: not a TFLite model"):
        read_metadata(b"")
    with pytest.raises(UserError, match="^model: not a TFLite model"):
        populate(b"\x00" * 64)
    with pytest.raises(UserError, match="^model: corrupt TFLite model"):
        populate(model[:200])

    # The metadata root offset pointing far outside the metadata buffer.
    at = model.index(b"M001") - 4
    broken = model[:at] + b"\xf0\xff\xff\x0f" + model[at + 4 :]
    with pytest.raises(UserError, match=f"^model: corrupt {METADATA_NAME}: offset .* is outside its"):
        read_metadata(broken)
    # The metadata identifier damaged.
    broken = model.replace(b"M001", b"M999")
    with pytest.raises(UserError, match="is not TFLite Metadata"):
        read_metadata(broken)
    # The model cut short: offsets point past the end.
    with pytest.raises(UserError, match="^m.tflite: corrupt TFLite model: offset"):
        read_metadata(model[:200], source="m.tflite")
    # A zero std could only come from a damaged or foreign file: refused like a bad option.
    odd = ModelMetadata("m", input=ImageInputMetadata(std=3.5))
    zeroed = populate(tiny_tflite["uint8"].read_bytes(), odd).replace(struct.pack("<f", 3.5), bytes(4))
    with pytest.raises(UserError, match=r"^model: metadata input normalization: std \(0.0,\) has a zero"):
        read_metadata(zeroed)
    # The packed labels file changed after packing: its CRC no longer matches.
    broken = model[: model.rindex(b"crack")] + b"CRACK" + model[model.rindex(b"crack") + 5 :]
    assert read_metadata(broken) == META
    with pytest.raises(UserError, match="packed associated files are damaged"):
        read_labels(broken)


@pytest.mark.clients
def test_tflite_support_reads_what_we_write(tiny_tflite, tmp_path):
    path = tmp_path / "populated.tflite"
    path.write_bytes(populate(tiny_tflite["uint8"].read_bytes()))
    dumped = clients_json(str(path))
    assert dumped["packed_files"] == ["labels.txt"]
    assert dumped["files"] == {"labels.txt": "crack\nfinger\nclean\n"}
    meta = dumped["metadata"]
    assert [
        meta[k] for k in ("name", "description", "version", "author", "license", "min_parser_version")
    ] == [
        "tiny classifier",
        "Three classes of 32x32 cells.",
        "2.5",
        "test suite",
        "Apache-2.0",
        "1.0.0",
    ]
    (graph,) = meta["subgraph_metadata"]
    (image,), (scores,) = graph["input_tensor_metadata"], graph["output_tensor_metadata"]
    assert (image["name"], image["description"]) == ("pixels", "RGB, 0..255")
    assert image["content"] == {
        "content_properties_type": "ImageProperties",
        "content_properties": {"color_space": "RGB"},
    }
    assert image["process_units"] == [
        {
            "options_type": "NormalizationOptions",
            "options": {"mean": [127.5, 64.0, 0.25], "std": [127.5, 2.0, 1.0]},
        }
    ]
    assert image["stats"] == {"max": [255.0], "min": [0.0]}
    assert (scores["name"], scores["description"]) == ("scores", "softmax")
    assert scores["content"]["content_properties_type"] == "FeatureProperties"
    assert scores["stats"] == {"max": [1.0], "min": [0.0]}
    assert scores["associated_files"] == [
        {"name": "labels.txt", "description": "one per line", "type": "TENSOR_AXIS_LABELS"}
    ]


@pytest.mark.clients
def test_we_read_what_tflite_support_writes(tiny_tflite, tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_bytes(LABELS["labels.txt"])
    out = tmp_path / "reference.tflite"
    clients_json("--write-reference", str(tiny_tflite["float32"]), str(labels), str(out), "127.5", "127.5")
    model = out.read_bytes()
    meta = read_metadata(model)
    assert (meta.input.mean, meta.input.std, meta.input.color_space) == ((127.5,), (127.5,), "RGB")
    assert meta.output.labels_file == "labels.txt"
    assert read_labels(model) == ["crack", "finger", "clean"]


def clients_json(*args: str) -> dict:
    return run_clients_script("dump_metadata.py", *args, timeout=300)
