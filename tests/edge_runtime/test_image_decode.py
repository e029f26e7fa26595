"""Decoding user files: only regular files, float pixels by their range, a memory bound, reduced JPEG decoding."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
from PIL import Image

from edge_runtime.errors import UserError
from edge_runtime.image import load_resized, load_rgb, resize


def _refused_without_blocking(func, fifo) -> list[str]:
    """FUNC(FIFO)'s error message; fails (after unblocking it) when FUNC waits on the pipe."""
    outcome = []
    reader = threading.Thread(target=lambda: outcome.append(_error_of(func, fifo)), daemon=True)
    reader.start()
    reader.join(timeout=10)
    if reader.is_alive():  # unblock the reader before failing, so the run ends
        with open(fifo, "wb"):
            pass
        pytest.fail(f"{func.__name__} blocked on a named pipe")
    return outcome


def test_a_named_pipe_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "frame.png"
    os.mkfifo(fifo)
    assert _refused_without_blocking(load_rgb, fifo) == [
        f"{fifo}: not a regular file (a pipe, device or socket); pass an image file"
    ]


def _error_of(func, *args) -> str:
    try:
        func(*args)
    except UserError as err:
        return str(err)
    return "no error"


@pytest.mark.parametrize(("top", "scale"), [(1.0, 255.0), (255.0, 1.0)], ids=["0..1", "0..255"])
def test_float_images_are_read_by_their_range(tmp_path, top, scale):
    ramp = np.linspace(0.0, top, 64, dtype=np.float32).reshape(8, 8)
    path = tmp_path / "ramp.tiff"
    Image.fromarray(ramp, mode="F").save(path)
    rgb = load_rgb(path)
    assert rgb.shape == (8, 8, 3)
    np.testing.assert_array_equal(rgb[:, :, 0], np.rint(ramp * scale).astype(np.uint8))
    assert rgb.max() == 255  # a 0..1 image is not read as nearly black


def test_float_pixels_outside_both_ranges_are_refused_with_the_range(tmp_path):
    path = tmp_path / "depth.tiff"
    Image.fromarray(np.array([[-3.5, 1200.0]], dtype=np.float32), mode="F").save(path)
    with pytest.raises(
        UserError, match=r"depth\.tiff: .*float pixels from -3\.5 to 1200, neither 0\.\.1 nor 0\.\.255"
    ):
        load_rgb(path)


def test_images_over_the_pixel_limit_are_refused_before_decoding(tmp_path):
    path = tmp_path / "big.png"
    Image.new("L", (400, 300)).save(path)
    with pytest.raises(UserError, match=r"big\.png: 400x300 is 0 megapixels, over the 0 MP limit"):
        load_rgb(path, max_pixels=100_000)
    assert load_rgb(path, max_pixels=120_000).shape == (300, 400, 3)


def test_a_large_jpeg_is_decoded_reduced_to_twice_the_model_size(tmp_path):
    rng = np.random.default_rng(0)
    photo = (rng.random((1200, 1600, 3)) * 255).astype(np.uint8)
    path = tmp_path / "photo.jpg"
    Image.fromarray(photo).save(path, quality=90)
    reduced = load_rgb(path, size_hint=(128, 96))
    assert reduced.shape == (300, 400, 3)  # 1/4 in the decoder, still at least 2x the 128x96 target
    assert load_rgb(path).shape == (1200, 1600, 3)
    # The reduced decode changes the pixels the model sees by little: the same 128x96 after resizing.
    full = load_resized(path, 128, 96).astype(int)
    direct = resize(load_rgb(path), 128, 96).astype(int)
    assert np.abs(full - direct).mean() < 3.0


def test_a_named_pipe_given_as_the_model_is_refused_without_blocking(tmp_path):
    from edge_runtime.interpreter import read_model

    fifo = tmp_path / "model.tflite"
    os.mkfifo(fifo)
    assert _refused_without_blocking(read_model, fifo) == [
        f"{fifo}: not a regular file (a pipe, device or socket); pass a .tflite file"
    ]
