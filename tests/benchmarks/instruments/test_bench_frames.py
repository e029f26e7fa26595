"""The one ELPV sampler and the synthetic 640x480 camera video the benchmarks and the camera tests share."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from benchmarks.instruments.frames import FPS, decode_video, elpv_files, sample_images, write_video
from edge_runtime.errors import ParameterError


def test_the_sample_is_half_defective_and_seeded():
    files = elpv_files(6, seed=3)
    assert len(files) == 6 and files == elpv_files(6, seed=3)
    assert files != elpv_files(6, seed=4)
    assert elpv_files(5)[:2] == elpv_files(4)[:2]  # without a seed: labels.csv order, defective first
    with pytest.raises(ParameterError, match="^count=0: need at least one image$"):
        elpv_files(0)


def test_sampled_images_are_resized_rgb_and_say_where_they_came_from():
    images = sample_images(4, 32, 24, seed=0)
    assert images.images.shape == (4, 24, 32, 3) and images.images.dtype == np.uint8
    assert "4 sampled with seed 0, half defective" in images.source


def test_the_video_is_640x480_at_30_fps_and_decodes_to_its_frame_count(tmp_path):
    video = write_video(tmp_path / "cells.mp4", frames=8, hold=2, cells=2)
    capture = cv2.VideoCapture(str(video))
    assert capture.get(cv2.CAP_PROP_FPS) == FPS == 30
    capture.release()
    frames = decode_video(video)
    assert len(frames) == 8 and frames[0].shape == (480, 640, 3)
    assert len(decode_video(video, 3)) == 3
    # A held cell still drifts like a handheld camera: no two frames alike, none blank.
    assert len({frame.tobytes() for frame in frames}) == 8 and min(np.mean(f) for f in frames) > 30
