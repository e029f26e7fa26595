"""docs/devices.md's Android section: a 16 KB-ready MediaPipe first, and examples that agree with their options."""

from __future__ import annotations

import re

import pytest

from conftest import REPO

# tasks-vision's native libraries are 16 KB page-aligned from 0.10.26 (google-ai-edge/mediapipe#6028);
# Maven's 0.20230731 is a mislabelled 2023 build (google-ai-edge/mediapipe#5588) that sorts above it.
FIRST_16KB_TASKS_VISION = (0, 10, 26)
MISLABELLED = "0.20230731"
# The clockwise turn that makes an image upright, per EXIF orientation the Task Library undoes
# (tflite-support frame_buffer_utils.cc: from RIGHT_TOP to TOP_LEFT is 90 degrees clockwise).
EXIF_TURN = {"TOP_LEFT": 0, "RIGHT_TOP": 90, "BOTTOM_RIGHT": 180, "LEFT_BOTTOM": 270}


def android_section() -> str:
    text = (REPO / "docs" / "devices.md").read_text()
    start = text.index("\n## Android\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def subsection(title_start: str) -> str:
    parts = re.split(r"\n(?=### )", android_section())
    found = [part for part in parts if part.startswith(f"### {title_start}")]
    assert len(found) == 1, [part.splitlines()[0] for part in parts]
    return found[0]


def kotlin_blocks(text: str) -> list[str]:
    return re.findall(r"```kotlin\n(.*?)```", text, flags=re.S)


def test_mediapipe_comes_first_with_a_pinned_16kb_aligned_tasks_vision():
    section = android_section()
    assert section.index("### MediaPipe Tasks") < section.index("### TFLite Task Library")
    versions = re.findall(r'"com\.google\.mediapipe:tasks-vision:([^"]+)"', section)
    assert len(versions) == 1, versions
    assert re.fullmatch(r"\d+\.\d+\.\d+", versions[0]) and versions[0] != MISLABELLED, versions[0]
    assert tuple(map(int, versions[0].split("."))) >= FIRST_16KB_TASKS_VISION


def test_the_mediapipe_kotlin_feeds_an_upright_argb_8888_image_and_closes():
    code = "\n".join(kotlin_blocks(subsection("MediaPipe Tasks")))
    for needed in (
        "BitmapImageBuilder(",
        "Bitmap.Config.ARGB_8888",
        "setRotationDegrees(",
        "classifier.close()",
    ):
        assert needed in code, needed
    # The camera path hands CameraX's rotation to MediaPipe, whose convention is the same (clockwise).
    assert "imageInfo.rotationDegrees" in code


def test_the_task_library_is_second_with_the_16kb_warning_and_a_correct_orientation_map():
    text = subsection("TFLite Task Library")
    flat = " ".join(text.split())
    assert "org.tensorflow:tensorflow-lite-task-vision:0.4.4" in flat
    assert "not 16 KB page-aligned" in flat and "tflite-support/issues/1001" in flat
    assert "Android 15" in flat and "1 November 2025" in flat
    code = "\n".join(kotlin_blocks(text))
    assert "TensorImage.fromBitmap(" in code and "Bitmap.Config.ARGB_8888" in code
    mapping = {int(deg): name for deg, name in re.findall(r"(\d+) -> Orientation\.(\w+)", code)}
    mapping[0] = re.search(r"else -> Orientation\.(\w+)", code)[1]
    assert {EXIF_TURN[name] for name in mapping.values()} == set(mapping) and len(mapping) == 4
    assert all(EXIF_TURN[name] == degrees for degrees, name in mapping.items()), mapping


@pytest.mark.parametrize("title", ["MediaPipe Tasks", "TFLite Task Library"])
def test_example_results_respect_the_threshold_and_max_results_set_beside_them(title):
    examples = 0
    for block in kotlin_blocks(subsection(title)):
        threshold = re.search(r"setScoreThreshold\(([\d.]+)f\)", block)
        for shown in re.findall(r"// e\.g\. \[(.*?)\]", block):
            results = [float(score) for score in re.findall(r'\("\w+", ([\d.]+)\)', shown)]
            max_results = int(re.search(r"setMaxResults\((\d+)\)", block)[1])
            assert threshold and 1 <= len(results) <= max_results, block
            assert all(score >= float(threshold[1]) for score in results), (shown, threshold[1])
            examples += 1
    assert examples >= 1
