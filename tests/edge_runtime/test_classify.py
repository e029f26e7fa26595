"""Tests for edge_runtime.classify: top-k/threshold logic and image classification on real models."""

from __future__ import annotations

import dataclasses
import gc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edge_runtime import classify
from edge_runtime.classify import Class, classify_image, get_classes, get_classes_from_scores
from edge_runtime.common import (
    get_score_list,
    get_scores,
    input_details,
    input_size,
    score_list,
    set_input,
    tensor_info,
)
from edge_runtime.image import load_rgb, resize
from edge_runtime.interpreter import make_interpreter

MODES = ["float32", "uint8", "int8"]


def _ids(classes: list[Class]) -> list[int]:
    return [c.id for c in classes]


@pytest.mark.parametrize(
    ("scores", "top_k", "threshold", "expected"),
    [
        ([0.1, 0.6, 0.3], 1, 0.0, [1]),
        ([0.1, 0.6, 0.3], 3, 0.0, [1, 2, 0]),
        ([0.1, 0.6, 0.3], 10, 0.0, [1, 2, 0]),
        # Threshold is inclusive.
        ([0.1, 0.6, 0.3], 3, 0.3, [1, 2]),
        ([0.1, 0.6, 0.3], 3, 0.30001, [1]),
        ([0.1, 0.6, 0.3], 3, 0.7, []),
        # Ties go to the lower id, whatever their positions.
        ([0.2, 0.4, 0.0, 0.4, 0.2], 5, 0.0, [1, 3, 0, 4, 2]),
        ([0.25, 0.25, 0.25, 0.25], 2, 0.0, [0, 1]),
        # NaN never passes a threshold; negative scores are ordinary numbers.
        ([np.nan, 0.5, -1.0], 3, -2.0, [1, 2]),
        # A (1, N) model output flattens.
        ([[0.3, 0.7]], 2, 0.0, [1, 0]),
    ],
)
def test_top_k_and_threshold(scores, top_k, threshold, expected):
    assert _ids(get_classes_from_scores(np.array(scores), top_k, threshold)) == expected


def test_results_carry_scores_and_labels():
    scores = np.array([0.125, 0.5, 0.375], dtype=np.float32)
    classes = get_classes_from_scores(scores, 2, labels=["cat", "dog", "eel"])
    assert classes == [Class(1, 0.5, "dog"), Class(2, 0.375, "eel")]
    assert all(type(c.score) is float and type(c.id) is int for c in classes)
    assert get_classes_from_scores(scores, 1) == [Class(1, 0.5, None)]


def test_class_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Class(0, 0.5).score = 1.0  # type: ignore[misc]


def test_ordering_does_not_depend_on_input_order():
    rng = np.random.default_rng(0)
    scores = rng.choice([0.1, 0.2, 0.3], size=50)
    classes = get_classes_from_scores(scores, 50)
    keys = [(-c.score, c.id) for c in classes]
    assert keys == sorted(keys) and len(classes) == 50


def test_bad_top_k_and_labels():
    with pytest.raises(ValueError, match=r"^top_k=0: must be 1 or more$"):
        get_classes_from_scores(np.ones(3), 0)
    with pytest.raises(ValueError, match=r"^2 labels for 3 class scores; give one label per class$"):
        get_classes_from_scores(np.ones(3), 1, labels=["a", "b"])


def _write_images(folder: Path) -> list[Path]:
    """Gradients, noise and flat colours of several sizes, as PNG and JPEG files."""
    rng = np.random.default_rng(7)
    ramp_x, ramp_y = np.meshgrid(np.linspace(0, 255, 96), np.linspace(0, 255, 72))
    arrays = {
        "ramp_rg.png": np.stack([ramp_x, ramp_y, np.full_like(ramp_x, 60)], axis=-1),
        "ramp_gray.jpg": np.stack([ramp_x] * 3, axis=-1),
        "ramp_inverse.png": 255 - np.stack([ramp_y, ramp_x, ramp_y], axis=-1),
        "noise.png": rng.integers(0, 256, (50, 40, 3)),
        "noise_big.jpg": rng.integers(0, 256, (300, 400, 3)),
        "blocks.png": rng.integers(0, 256, (4, 4, 3)).repeat(16, axis=0).repeat(16, axis=1),
        "red.png": np.full((32, 32, 3), (255, 0, 0)),
        "green.jpg": np.full((20, 30, 3), (0, 255, 0)),
        "blue.png": np.full((32, 32, 3), (0, 0, 255)),
        "white.png": np.full((32, 32, 3), 255),
        "gray.png": np.full((10, 10, 3), 128),
    }
    paths = []
    for name, array in arrays.items():
        path = folder / name
        Image.fromarray(array.astype(np.uint8)).save(
            path, **({"quality": 95} if name.endswith(".jpg") else {})
        )
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def interpreters(tiny_tflite):
    return {mode: make_interpreter(tiny_tflite[mode]) for mode in MODES}


def test_three_variants_agree_on_top1(interpreters, tmp_path):
    margin_checked, float_top1 = 0, set()
    for path in _write_images(tmp_path):
        rgb = load_rgb(path)
        results = {m: classify_image(i, rgb, top_k=3) for m, i in interpreters.items()}
        scores = {m: np.array([c.score for c in sorted(r, key=lambda c: c.id)]) for m, r in results.items()}
        assert all(len(r) == 3 for r in results.values())
        assert results["uint8"] == results["int8"], path.name
        np.testing.assert_allclose(scores["int8"], scores["float32"], atol=4 / 256, err_msg=path.name)
        # Where the float model is not near a tie, quantization must not flip its answer.
        best, second = sorted(scores["float32"])[::-1][:2]
        if best - second > 3 / 256:
            margin_checked += 1
            assert results["int8"][0].id == results["float32"][0].id, path.name
        float_top1.add(results["float32"][0].id)
    assert margin_checked >= 8
    assert len(float_top1) >= 2, "the images should not all land in one class"


def test_classify_image_resizes_then_runs(interpreters):
    interpreter = interpreters["int8"]
    rgb = np.random.default_rng(3).integers(0, 256, (120, 90, 3), dtype=np.uint8)
    width, height = input_size(interpreter)
    set_input(interpreter, resize(rgb, width, height))
    interpreter.invoke()
    manual = get_classes_from_scores(get_scores(interpreter), 2, 0.0, ["a", "b", "c"])
    assert get_classes(interpreter, 2, 0.0, ["a", "b", "c"]) == manual
    assert classify_image(interpreter, rgb, top_k=2, labels=["a", "b", "c"]) == manual


@pytest.mark.parametrize("mode", MODES)
def test_classify_image_on_camera_frames_matches_the_manual_path(interpreters, mode):
    # 640x480 takes the halving plan; uint8 and int8 inputs get its last step written straight into
    # the tensor, float32 through set_input: all must equal resize -> set_input -> invoke -> top-k.
    interpreter = interpreters[mode]
    rng = np.random.default_rng(4)
    for shape in ((480, 640, 3), (480, 640, 3), (720, 1280, 3), (481, 643, 3), (32, 32, 3)):
        rgb = rng.integers(0, 256, shape, dtype=np.uint8)
        width, height = input_size(interpreter)
        set_input(interpreter, resize(rgb, width, height))
        interpreter.invoke()
        manual = get_classes_from_scores(get_scores(interpreter), 3)
        tensor = interpreter.get_tensor(input_details(interpreter)["index"]).copy()
        assert classify_image(interpreter, rgb, top_k=3) == manual
        np.testing.assert_array_equal(interpreter.get_tensor(input_details(interpreter)["index"]), tensor)


def test_classify_image_threshold_and_top_k(interpreters):
    rgb = np.full((32, 32, 3), 90, dtype=np.uint8)
    everything = classify_image(interpreters["uint8"], rgb, top_k=3)
    assert [c.score for c in everything] == sorted((c.score for c in everything), reverse=True)
    assert classify_image(interpreters["uint8"], rgb, top_k=1) == everything[:1]
    assert (
        classify_image(interpreters["uint8"], rgb, top_k=3, threshold=everything[1].score) == everything[:2]
    )
    assert classify_image(interpreters["uint8"], rgb, top_k=3, threshold=1.01) == []


def test_nan_scores_are_never_returned():
    scores = np.array([np.nan, 0.2, np.nan, 0.7, 0.1], np.float32)
    assert [c.id for c in get_classes_from_scores(scores, top_k=5)] == [3, 1, 4]
    assert [c.id for c in get_classes_from_scores(scores, top_k=5, threshold=-1.0)] == [3, 1, 4]


@pytest.mark.parametrize("classes", [2, 5, 64, 65, 1001])
def test_few_and_many_classes_pick_alike(classes):
    """Up to 64 classes top-k runs in Python, above in numpy: the same answer either way."""
    rng = np.random.default_rng(classes)
    for _ in range(30):
        # Coarse values make ties; NaN and negative scores appear too.
        scores = rng.integers(0, 8, classes).astype(np.float32) / 8 - 0.25
        scores[rng.random(classes) < 0.1] = np.nan
        threshold = float(rng.choice([-1.0, 0.0, 0.25]))
        top_k = int(rng.integers(1, classes + 2))
        got = get_classes_from_scores(scores, top_k, threshold)
        finite = [(-float(v), i) for i, v in enumerate(scores) if v >= threshold]
        assert [(-c.score, c.id) for c in got] == sorted(finite)[:top_k]
        assert all(type(c.score) is float and type(c.id) is int for c in got)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16])
@pytest.mark.parametrize("classes", [65, 1001])
def test_many_quantized_classes_ranked_by_their_integers_pick_as_the_scores_do(dtype, classes):
    """Above 64 classes a quantized output is ranked by its integers and only the kept scores are
    dequantized: the same classes, order and float scores as ranking the dequantized floats."""
    from edge_runtime.common import TensorInfo

    rng = np.random.default_rng(classes + np.dtype(dtype).itemsize)
    limits = np.iinfo(dtype)
    labels = [f"c{i}" for i in range(classes)]
    for case in range(40):
        scale, zero_point = [(1 / 256, 0), (1 / 255, -128), (0.0137, 17)][case % 3]
        scale = float(np.float32(scale))  # a .tflite stores its scales as float32
        info = TensorInfo(7, np.dtype(dtype), scale, zero_point, size=classes)
        assert classify._ranks_integers(info)
        # Few distinct values (all-equal in some cases) make ties; the extremes of the type appear too.
        low, high = (limits.min, limits.max + 1) if case % 4 else (limits.max - 2, limits.max + 1)
        raw = rng.integers(low, high, (1, classes)).astype(dtype)
        raw[0, rng.integers(classes)] = limits.max if case % 2 else limits.min
        floats = (raw.reshape(-1).astype(np.float32) - np.float32(zero_point)) * np.float32(scale)
        threshold = float(rng.choice([-1e9, 0.0, float(np.median(floats))]))
        top_k = int(rng.integers(1, classes + 2))
        got = classify._top_k_of_quantized(raw, info, top_k, threshold, labels)
        assert got == get_classes_from_scores(floats, top_k, threshold, labels)
        assert all(type(c.score) is float and type(c.id) is int for c in got)
    assert not classify._ranks_integers(TensorInfo(7, np.dtype(np.uint8), 0.0, 0, size=classes))
    assert not classify._ranks_integers(TensorInfo(7, np.dtype(np.uint8), float("inf"), 0, size=classes))
    assert not classify._ranks_integers(TensorInfo(7, np.dtype(np.int32), 1 / 256, 0, size=classes))
    assert not classify._ranks_integers(TensorInfo(7, np.dtype(np.uint8), 1 / 256, 0, size=64))
    assert not classify._ranks_integers(TensorInfo(7, np.dtype(np.float32), 0.0, 0, size=classes))


@pytest.mark.parametrize("mode", MODES)
def test_the_python_score_list_is_bit_for_bit_get_scores(interpreters, mode):
    interpreter = interpreters[mode]
    rng = np.random.default_rng(5)
    width, height = input_size(interpreter)
    for _ in range(5):
        set_input(interpreter, rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
        interpreter.invoke()
        assert get_score_list(interpreter) == get_scores(interpreter).tolist()
        assert get_classes(interpreter, 3) == get_classes_from_scores(get_scores(interpreter), 3)


@pytest.mark.parametrize("mode", MODES)
def test_the_score_list_of_any_output_tensor_is_bit_for_bit_get_scores(interpreters, mode):
    """common.score_list, which classify_image ranks, on output tensors the model never made: ties,
    extremes and every value of the output's type, dequantized as get_scores does."""
    info = tensor_info(interpreters[mode])[1]
    rng = np.random.default_rng(6)
    for _ in range(200):
        if info.dtype.kind == "f":
            raw = rng.random((1, info.size)).astype(info.dtype)
        else:
            limits = np.iinfo(info.dtype)
            raw = rng.integers(limits.min, limits.max + 1, (1, info.size)).astype(info.dtype)
        if rng.random() < 0.5:
            raw[0, rng.integers(info.size)] = raw[0, 0]  # a tie
        expected = raw.reshape(-1).astype(np.float32)
        if info.dtype.kind in "iu":
            expected = (expected - np.float32(info.zero_point)) * np.float32(info.scale)
        got = score_list(raw, info)
        assert got == expected.tolist() and all(type(v) is float for v in got)


def test_an_interpreters_route_goes_with_it(tiny_tflite):
    interpreter = make_interpreter(tiny_tflite["uint8"])
    rgb = np.zeros((48, 64, 3), np.uint8)
    first = classify_image(interpreter, rgb)
    assert classify._ROUTES[id(interpreter)][1] is classify._route(interpreter)
    key = id(interpreter)
    del interpreter
    gc.collect()
    assert key not in classify._ROUTES
    again = make_interpreter(tiny_tflite["uint8"])  # may reuse the id: a new route either way
    assert classify_image(again, rgb) == first
    assert classify._ROUTES[id(again)][0]() is again


@pytest.mark.slow  # converts a Keras model in-process
@pytest.mark.parametrize("mode", ["uint8", "int8"])
def test_a_real_many_class_quantized_model_gives_the_float_path_s_classes(tmp_path, mode, monkeypatch):
    """classify_image and get_classes on a 100-class full-integer model: its integers ranked, the
    result equal to ranking get_scores' floats, on camera-sized frames with ties and thresholds."""
    from conftest import _convert, _tiny_keras_model

    path = tmp_path / f"many_{mode}.tflite"
    path.write_bytes(_convert(_tiny_keras_model(num_classes=100), mode, 32))
    interpreter = make_interpreter(path)
    assert classify._ranks_integers(tensor_info(interpreter)[1]) and tensor_info(interpreter)[1].size == 100
    # Counts the calls that take the integer path (the real function runs), so equal results from the
    # float path could not pass for it.
    ranked, integer_path = [], classify._top_k_of_quantized
    monkeypatch.setattr(classify, "_top_k_of_quantized", lambda *a: ranked.append(1) or integer_path(*a))
    labels = [f"class {i}" for i in range(100)]
    rng = np.random.default_rng(8)
    for index in range(6):
        frame = (
            rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
            if index
            else np.zeros((480, 640, 3), np.uint8)
        )
        top_k, threshold = [(5, 0.0), (100, 0.0), (3, 0.01)][index % 3]
        got = classify_image(interpreter, frame, top_k=top_k, threshold=threshold, labels=labels)
        expected = get_classes_from_scores(get_scores(interpreter), top_k, threshold, labels)
        assert got == expected == get_classes(interpreter, top_k, threshold, labels) and got
    assert len(ranked) == 2 * 6  # classify_image and get_classes, every frame
