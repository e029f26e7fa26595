"""The one resize: whole-factor box averaging then bilinear, no aliasing, close to OpenCV's area filter."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge_runtime.folders import list_images
from edge_runtime.image import load_rgb, resize, resize_steps


def checkerboard(width: int, height: int) -> np.ndarray:
    """One-pixel black/white squares: the highest frequency an image can hold."""
    yy, xx = np.mgrid[0:height, 0:width]
    gray = (((xx + yy) % 2) * 255).astype(np.uint8)
    return np.repeat(gray[:, :, None], 3, axis=2)


@pytest.mark.parametrize(
    ("size", "target", "steps"),
    [
        ((640, 480), (224, 224), ((320, 240), cv2.INTER_LINEAR)),
        ((1920, 1080), (224, 224), ((240, 270), cv2.INTER_LINEAR)),
        ((300, 300), (128, 128), ((150, 150), cv2.INTER_LINEAR)),
        ((300, 300), (160, 160), ((300, 300), cv2.INTER_LINEAR)),  # factor below 2: bilinear alone
        ((641, 480), (224, 224), ((641, 480), cv2.INTER_AREA)),  # prime width: exact area filter
        ((100, 80), (224, 224), ((100, 80), cv2.INTER_LINEAR)),  # enlarging
        ((400, 100), (224, 224), ((400, 100), cv2.INTER_LINEAR)),  # enlarging along one axis
    ],
)
def test_steps_box_average_by_whole_factors_then_bilinear(size, target, steps):
    assert resize_steps(*size, *target) == steps


def test_a_one_pixel_checkerboard_shrinks_to_flat_grey():
    """Every source pixel is counted: the pattern averages out instead of aliasing into stripes."""
    board = checkerboard(640, 480)
    ours = resize(board, 224, 224).astype(np.float64)
    assert abs(ours.mean() - 127.5) < 1.0
    assert ours.std() < 1.0
    # Plain bilinear from the full frame samples a few pixels and keeps a strong pattern.
    naive = cv2.resize(board, (224, 224), interpolation=cv2.INTER_LINEAR).astype(np.float64)
    assert naive.std() > 20.0


def test_the_exact_area_fallback_also_averages():
    ours = resize(checkerboard(641, 480), 224, 224).astype(np.float64)
    assert ours.std() < 12.0  # fractional cells: small residue, no stripes of full contrast
    assert abs(ours.mean() - 127.5) < 2.0


def test_close_to_opencv_area_on_real_cells(elpv_subset):
    """On real ELPV cells (300x300) at the sizes models use, the mean difference from area is small."""
    files = list_images(elpv_subset, recursive=True)[:8]
    for side in (64, 128, 160, 224):
        for path in files:
            rgb = load_rgb(path)
            ours = resize(rgb, side, side).astype(np.int16)
            area = cv2.resize(rgb, (side, side), interpolation=cv2.INTER_AREA).astype(np.int16)
            assert np.abs(ours - area).mean() < 3.0, (path, side)


def test_writes_into_out_and_returns_it():
    frame = np.random.default_rng(0).integers(0, 256, (480, 640, 3), np.uint8)
    out = np.zeros((224, 224, 3), np.uint8)
    assert resize(frame, 224, 224, out=out) is out
    np.testing.assert_array_equal(out, resize(frame, 224, 224))
    same = np.zeros((480, 640, 3), np.uint8)
    assert resize(frame, 640, 480, out=same) is same
    np.testing.assert_array_equal(same, frame)
    assert resize(frame, 640, 480) is frame


def test_constant_images_stay_constant_at_every_size():
    flat = np.full((333, 517, 3), (10, 200, 77), np.uint8)
    for width, height in ((224, 224), (96, 160), (600, 400), (517, 100)):
        out = resize(flat, width, height)
        assert out.shape == (height, width, 3)
        assert (out == np.array((10, 200, 77), np.uint8)).all()
