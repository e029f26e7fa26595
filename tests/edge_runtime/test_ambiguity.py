"""The ambiguity rule: crafted score vectors, and a real model's outputs in classify, the camera loop and its CLIs."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from camera_helpers import cli_env, summary_counts

from benchmarks.instruments.frames import camera_frame
from benchmarks.instruments.frames import elpv_files as elpv_images
from conftest import REPO
from edge_runtime.ambiguity import AmbiguityRule, ambiguous_mask, judge, top_two
from edge_runtime.camera.loop import LoopOptions, run_loop
from edge_runtime.camera.overlay import draw_overlay
from edge_runtime.camera.sources import SourceOptions, open_source
from edge_runtime.classify import classify_image, get_confidence
from edge_runtime.errors import UserError
from edge_runtime.image import load_rgb
from edge_runtime.interpreter import make_interpreter

OFF = AmbiguityRule(0.0, 0.0)


@pytest.mark.parametrize(
    ("scores", "ambiguous", "reason"),
    [
        # The TFLite guide's example: spread over three labels, ambiguous on both counts.
        ([0.31, 0.35, 0.34], True, "top score 0.35 < 0.50, margin 0.01 < 0.10"),
        ([0.90, 0.06, 0.04], False, None),
        ([0.52, 0.46, 0.02], True, "margin 0.06 < 0.10"),  # a two-way coin toss passes the 0.5 floor
        ([0.45, 0.20, 0.20, 0.15], True, "top score 0.45 < 0.50"),  # clear winner, but less than the rest
        ([0.50, 0.40, 0.10], False, None),  # exactly at both limits: not below them
        ([0.54, 0.46], True, "margin 0.08 < 0.10"),  # two classes: below 0.55 is ambiguous
        ([0.56, 0.44], False, None),
        ([1.0], False, None),  # one class: the margin is the score itself
    ],
)
def test_crafted_score_vectors(scores, ambiguous, reason):
    confidence = judge(np.array(scores, np.float32).astype(np.float64))
    assert confidence.ambiguous is ambiguous and confidence.reason == reason
    assert confidence.top_score == pytest.approx(max(scores))
    ordered = sorted(scores, reverse=True) + [0.0]
    assert confidence.margin == pytest.approx(ordered[0] - ordered[1])
    assert judge(scores, OFF).ambiguous is False  # 0 and 0 turn the rule off


def test_thresholds_are_configurable_and_checked():
    guide = [0.31, 0.35, 0.34]
    assert judge(guide, AmbiguityRule(ambiguous_below=0.3, min_margin=0.0)).ambiguous is False
    assert judge(guide, AmbiguityRule(ambiguous_below=0.3, min_margin=0.02)).reason == "margin 0.01 < 0.02"
    assert judge([0.9, 0.1], AmbiguityRule(ambiguous_below=0.95)).reason == "top score 0.90 < 0.95"
    with pytest.raises(UserError, match=r"^--ambiguous-below 1\.5: must be a probability from 0 to 1"):
        AmbiguityRule(ambiguous_below=1.5)
    with pytest.raises(UserError, match=r"^--min-margin -0\.1: must be a probability from 0 to 1"):
        AmbiguityRule(min_margin=-0.1)
    with pytest.raises(ValueError, match="non-empty score vector"):
        top_two([])


def test_the_vectorized_rule_agrees_with_judge():
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.full(4, 0.7), size=300)
    rule = AmbiguityRule(0.45, 0.15)
    expected = [judge(row, rule).ambiguous for row in probabilities]
    assert ambiguous_mask(probabilities, rule).tolist() == expected
    assert 30 < sum(expected) < 270  # both kinds present


# --- a real model's outputs ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    """Eight 640x480 BGR camera frames of real ELPV cells."""
    return [camera_frame(load_rgb(p), i) for i, p in enumerate(elpv_images(8))]


@pytest.fixture(scope="module")
def frame_folder(frames, tmp_path_factory):
    folder = tmp_path_factory.mktemp("frames")
    for index, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"frame_{index:02d}.png"), frame)
    return folder


def _api_confidences(model, frames, rule):
    """classify_image + get_confidence on each frame: the single-image API's verdicts."""
    interpreter = make_interpreter(model)
    verdicts = []
    for frame in frames:
        classify_image(interpreter, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), top_k=1)
        verdicts.append(get_confidence(interpreter, rule))
    return verdicts


def test_untrained_model_outputs_are_ambiguous_like_the_guides_example(tiny_tflite, frames):
    # An untrained 3-class model spreads its probabilities like the guide's 0.31/0.35/0.34.
    for mode in ("float32", "uint8", "int8"):
        for confidence in _api_confidences(tiny_tflite[mode], frames, AmbiguityRule()):
            assert confidence.ambiguous and confidence.top_score < 0.5 and confidence.margin < 0.1


def test_camera_loop_marks_the_same_frames_as_the_api(tiny_tflite, frames, frame_folder):
    model = tiny_tflite["uint8"]
    margins = [c.margin for c in _api_confidences(model, frames, OFF)]
    rule = AmbiguityRule(ambiguous_below=0.0, min_margin=float(np.median(margins)))  # splits the frames
    expected = [c.ambiguous for c in _api_confidences(model, frames, rule)]
    assert 0 < sum(expected) < len(frames)
    results = []
    summary = run_loop(
        [make_interpreter(model, num_threads=1) for _ in range(2)],
        open_source(str(frame_folder), SourceOptions(fps=100)),
        LoopOptions(budget_ms=10_000, ambiguity=rule),
        on_result=results.append,
    )
    assert summary.error is None and summary.processed == len(results) > 0
    for result in results:
        assert result.ambiguous is expected[result.frame_id]
        assert result.margin == pytest.approx(margins[result.frame_id], abs=1e-6)
        record = result.to_record()
        assert record["ambiguous"] is result.ambiguous and record["margin"] == round(result.margin, 6)
    count = sum(r.ambiguous for r in results)
    assert summary.ambiguous == count and summary.ambiguous_share == pytest.approx(count / len(results))
    share = f"({100 * count / len(results):.1f}%)"
    assert (
        f"ambiguous results (set aside as untrustworthy): {count} of {len(results)} {share}" in summary.text()
    )
    assert summary.to_dict()["ambiguous"] == count


def test_overlay_flags_an_ambiguous_result_in_orange(frames):
    from edge_runtime.classify import Class

    plain, flagged = frames[0].copy(), frames[0].copy()
    draw_overlay(plain, [Class(1, 0.35, "defective")], fps=30.0)
    draw_overlay(flagged, [Class(1, 0.35, "defective")], fps=30.0, ambiguous=True)

    def orange(image: np.ndarray) -> np.ndarray:  # anti-aliased text: few pixels hit the colour exactly
        return (np.abs(image[:80, :400].astype(int) - (0, 165, 255)).max(axis=2) <= 40).sum()

    assert orange(flagged) > 50 and orange(plain) == 0


def _run(*args) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "edge_runtime", *map(str, args)]
    return subprocess.run(command, cwd=REPO, env=cli_env(), capture_output=True, text=True, timeout=120)


def test_classify_cli_shows_the_verdict(tiny_tflite, frame_folder, frames):
    model, files = tiny_tflite["uint8"], sorted(frame_folder.glob("*.png"))[:3]
    proc = _run("classify", "--model", model, "--json", *files)
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    interpreter = make_interpreter(model)
    for path, record in zip(files, records, strict=True):
        classify_image(interpreter, load_rgb(path))
        expected = get_confidence(interpreter)
        assert record["ambiguous"] is expected.ambiguous is True
        assert record["top_score"] == pytest.approx(expected.top_score, abs=1e-6)
        assert record["margin"] == pytest.approx(expected.margin, abs=1e-6)
    text = _run("classify", "--model", model, "--top-k", "2", files[0])
    lines = text.stdout.splitlines()
    assert len(lines) == 3 and "[ambiguous: top score 0." in lines[1] and "[ambiguous" not in lines[2]
    off = _run(
        "classify", "--model", model, "--ambiguous-below", "0", "--min-margin", "0", "--json", files[0]
    )
    assert json.loads(off.stdout)["ambiguous"] is False
    bad = _run("classify", "--model", model, "--ambiguous-below", "1.5", files[0])
    assert bad.returncode == 2 and "argument --ambiguous-below: 1.5 must be from 0 to 1" in bad.stderr


def test_camera_cli_writes_the_verdict_and_the_share(tiny_tflite, frame_folder, tmp_path):
    out = tmp_path / "results.jsonl"
    proc = _run(
        "camera", "--model", tiny_tflite["uint8"], "--source", frame_folder, "--fps", "50",
        "--jsonl", out, "--status-interval", "0", "--min-margin", "0.2",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    counts = summary_counts(proc.stderr)
    assert len(records) == counts["processed"] > 0 and all(r["ambiguous"] is True for r in records)
    assert (
        f"ambiguous results (set aside as untrustworthy): {len(records)} of {len(records)} (100.0%)"
        in proc.stderr
    )
    assert "ambiguous when top score below 0.50 or margin over the second below 0.20" in proc.stderr
