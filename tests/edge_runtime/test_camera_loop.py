"""The camera loop's parts in process: preprocessing, statistics, the frame exchange, sources, run_loop."""

from __future__ import annotations

import shutil
import threading

import cv2
import numpy as np
import pytest

from benchmarks.instruments.frames import camera_frame, write_video
from benchmarks.instruments.frames import elpv_files as elpv_images
from edge_runtime.camera.exchange import FrameExchange
from edge_runtime.camera.loop import LoopOptions, run_loop
from edge_runtime.camera.overlay import draw_overlay
from edge_runtime.camera.preprocess import FramePreprocessor, center_crop_box
from edge_runtime.camera.sources import FolderSource, SourceOptions, open_source
from edge_runtime.camera.stats import Histogram
from edge_runtime.classify import classify_image
from edge_runtime.errors import DeviceNotReady, UserError
from edge_runtime.image import load_rgb, resize
from edge_runtime.interpreter import make_interpreter


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    """Eight 640x480 BGR camera frames of real ELPV cells."""
    return [camera_frame(load_rgb(p), i) for i, p in enumerate(elpv_images(8))]


@pytest.fixture()
def frame_folder(frames, tmp_path):
    """The frames saved as PNG files, a folder source."""
    folder = tmp_path / "frames"
    folder.mkdir()
    for index, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"frame_{index:02d}.png"), frame)
    return folder


@pytest.mark.parametrize("size", [(224, 224), (32, 32), (700, 500), (640, 480)])
def test_preprocess_gives_the_single_image_pixels_in_reused_buffers(frames, size):
    prepare = FramePreprocessor(*size)
    first = prepare(frames[0])
    for frame in frames[:3]:
        rgb = prepare(frame)
        expected = resize(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), *size)
        np.testing.assert_array_equal(rgb, expected)
        assert rgb is first  # the same buffer every frame


def test_center_crop_keeps_the_model_aspect_ratio(frames):
    assert center_crop_box(640, 480, 224, 224) == (80, 0, 480, 480)
    assert center_crop_box(480, 640, 224, 224) == (0, 80, 480, 480)
    assert center_crop_box(640, 480, 320, 160) == (0, 80, 640, 320)
    rgb = FramePreprocessor(224, 224, center_crop=True)(frames[1])
    expected = resize(cv2.cvtColor(frames[1][:, 80:560], cv2.COLOR_BGR2RGB), 224, 224)
    np.testing.assert_array_equal(rgb, expected)


def test_preprocess_rejects_non_bgr_frames():
    with pytest.raises(ValueError, match="expected HxWx3 uint8 BGR"):
        FramePreprocessor(32, 32)(np.zeros((48, 64), np.uint8))


def test_histogram_percentiles_match_numpy():
    samples = np.random.default_rng(0).lognormal(mean=3.0, sigma=0.6, size=20_000)
    histogram = Histogram()
    for value in samples:
        histogram.add(float(value))
    for q in (50, 95, 99):
        assert histogram.percentile(q) == pytest.approx(np.percentile(samples, q), rel=0.01)
    summary = histogram.summary()
    assert summary.max == samples.max() and summary.mean == pytest.approx(samples.mean())
    assert np.isnan(Histogram().percentile(50))


def test_exchange_keeps_the_newest_frame_counts_exactly_and_orders_results():
    exchange = FrameExchange(pool_size=4)
    emitted: list[int] = []
    rng = np.random.default_rng(1)
    delays = rng.uniform(0, 0.002, 400)

    def worker():
        while (frame := exchange.take()) is not None:
            threading.Event().wait(delays[frame.id])
            exchange.finish(frame.id, None if frame.id % 50 == 7 else frame.id)

    workers = [threading.Thread(target=worker) for _ in range(3)]
    for thread in workers:
        thread.start()
    for index in range(400):
        exchange.put(np.zeros((2, 2, 3), np.uint8), float(index), float(index))
        if index % 3 == 0:
            threading.Event().wait(0.0005)
    exchange.close(drain=True)
    finished = False
    while not finished:
        ready, finished = exchange.ready_results(timeout=0.05)
        emitted.extend(ready)
    for thread in workers:
        thread.join()
    counts = exchange.counts()
    assert counts.captured == 400 and counts.pending == 0
    assert counts.captured == counts.processed + counts.dropped
    assert counts.processed == len(emitted) > 0
    assert emitted == sorted(emitted) and len(set(emitted)) == len(emitted)
    assert exchange.put(np.zeros((2, 2, 3), np.uint8), 0.0, 0.0) is None  # closed: not counted
    assert exchange.counts().captured == 400


def test_folder_source_gives_bgr_frames_in_name_order(frame_folder, frames):
    source = open_source(str(frame_folder), SourceOptions(fps=0))
    assert isinstance(source, FolderSource) and source.fps is None
    read = [source.read() for _ in range(len(frames))]
    assert source.read() is None
    for got, expected in zip(read, frames, strict=True):
        np.testing.assert_array_equal(got, expected)
    looping = open_source(str(frame_folder), SourceOptions(loop=True))
    assert looping.fps == 30.0
    assert len([looping.read() for _ in range(len(frames) + 3)]) == len(frames) + 3


def test_video_source_paces_at_the_file_rate_and_reads_into_the_buffer(tmp_path):
    video = write_video(tmp_path / "clip.mp4", frames=6)
    source = open_source(str(video))
    assert source.fps == 30.0 and not source.live and not source.retryable
    buffer = np.empty((480, 640, 3), np.uint8)
    assert source.read(buffer) is buffer
    assert open_source(str(video), SourceOptions(fps=12.5)).fps == 12.5
    assert open_source(str(video), SourceOptions(fps=0)).fps is None


@pytest.mark.parametrize(
    ("spec", "error", "message"),
    [
        # A camera that is not there may yet come (at boot): DeviceNotReady, exit 1 on the command line.
        (
            "/dev/video99",
            DeviceNotReady,
            r"^/dev/video99: no such camera device \(not plugged in, or not yet",
        ),
        ("missing.mp4", FileNotFoundError, "missing.mp4: no such file or folder; --source takes"),
        (
            "7",
            DeviceNotReady,
            r"^camera 7: cannot be opened \(unplugged, busy or not there\); check that it is",
        ),
        ("picamera2:x", UserError, "the camera number after ':' must be a whole number"),
    ],
)
def test_sources_that_cannot_open_say_why(spec, error, message):
    with pytest.raises(error, match=message):
        open_source(spec)


def test_bad_files_and_folders_say_why(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no image files in this folder"):
        open_source(str(tmp_path / "empty"))
    (tmp_path / "notes.mp4").write_bytes(b"not a video at all" * 100)
    with pytest.raises(UserError, match="OpenCV cannot open this video"):
        open_source(str(tmp_path / "notes.mp4"))
    cv2.imwrite(str(tmp_path / "one.png"), np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(UserError, match="is one image; use `python -m edge_runtime classify`"):
        open_source(str(tmp_path / "one.png"))


def test_overlay_draws_label_score_and_fps(frames):
    from edge_runtime.classify import Class

    image = frames[0].copy()
    draw_overlay(image, [Class(1, 0.83, "defective")], fps=29.7)
    changed = np.any(image != frames[0], axis=2)
    assert changed[:80, :300].sum() > 500  # text and its box, top-left
    assert not changed[200:, 350:].any()  # nothing elsewhere
    # green text (anti-aliased: few pixels are exactly (0, 255, 0) with some OpenCV builds)
    assert (np.abs(image[:80, :300].astype(int) - (0, 255, 0)).max(axis=2) <= 40).any()


def test_run_loop_results_are_ordered_and_match_classify_image(tiny_tflite, frame_folder, frames):
    model = tiny_tflite["uint8"]
    interpreters = [make_interpreter(model, num_threads=1) for _ in range(3)]
    results = []
    summary = run_loop(
        interpreters,
        open_source(str(frame_folder), SourceOptions(fps=200)),
        LoopOptions(budget_ms=10_000, top_k=3),
        labels=["a", "b", "c"],
        on_result=results.append,
    )
    assert summary.stop_reason == "end of source" and summary.error is None
    assert summary.captured == len(frames) == summary.processed + summary.dropped
    assert summary.processed == len(results) and summary.missed == 0
    assert [r.frame_id for r in results] == sorted({r.frame_id for r in results})
    reference = make_interpreter(model)
    for result in results:
        rgb = cv2.cvtColor(frames[result.frame_id], cv2.COLOR_BGR2RGB)
        expected = classify_image(reference, rgb, top_k=3, labels=["a", "b", "c"])
        assert list(result.classes) == expected
        assert result.captured <= result.finished and result.latency_ms > 0
    assert len(summary.warmup_ms) == 3


def test_a_folder_file_that_comes_back_is_retried_and_the_run_goes_on(
    tiny_tflite, frame_folder, frames, tmp_path
):
    source = open_source(str(frame_folder), SourceOptions(fps=0))
    missing = frame_folder / "frame_03.png"  # listed when the source opened, gone when it is read
    kept = shutil.move(missing, tmp_path / "kept.png")
    warnings: list[str] = []

    def log(line: str) -> None:  # the file comes back once the loop has said it is retrying
        warnings.append(line)
        if not missing.exists():
            shutil.move(kept, missing)

    summary = run_loop(
        [make_interpreter(tiny_tflite["uint8"])],
        source,
        LoopOptions(budget_ms=10_000, retries=6, backoff_s=0.05),
        log=log,
    )
    assert summary.error is None and summary.captured == len(frames)
    assert summary.captured == summary.processed + summary.dropped
    assert warnings and all("frame_03.png: no such file; retry" in w for w in warnings)


def test_a_folder_file_that_stays_missing_ends_the_run_with_the_error(tiny_tflite, frame_folder):
    source = open_source(str(frame_folder), SourceOptions(fps=0))
    (frame_folder / "frame_05.png").unlink()
    summary = run_loop(
        [make_interpreter(tiny_tflite["uint8"])],
        source,
        LoopOptions(retries=2, backoff_s=0.01),
    )
    assert summary.stop_reason == "source error"
    assert "frame_05.png: no such file; gave up after 2 retries" in summary.error
    assert summary.captured == 5 == summary.processed + summary.dropped


def test_loop_options_are_checked():
    with pytest.raises(UserError, match="budget_ms=0: must be more than 0"):
        LoopOptions(budget_ms=0)
    with pytest.raises(UserError, match="max_frames=0: must be 1 or more"):
        LoopOptions(max_frames=0)
    with pytest.raises(UserError, match="fps=-1: must be 0"):
        SourceOptions(fps=-1)


@pytest.mark.parametrize("lossless", [False, True], ids=["newest-frame", "lossless"])
def test_a_lossless_exchange_waits_for_a_worker_instead_of_dropping(lossless):
    """--fps 0 on files and folders: capture blocks while a frame waits; a camera's exchange drops the stale one."""
    exchange = FrameExchange(pool_size=4, lossless=lossless)
    image = np.zeros((2, 2, 3), np.uint8)
    exchange.put(image, 0.0, 0.0)
    second = threading.Thread(target=exchange.put, args=(image.copy(), 1.0, 1.0), daemon=True)
    second.start()
    second.join(timeout=0.3)
    assert second.is_alive() == lossless  # lossless: still waiting for the slot to empty
    first = exchange.take()
    assert first.id == (0 if lossless else 1)
    second.join(timeout=5)
    assert not second.is_alive()
    counts = exchange.counts()
    assert counts.dropped == (0 if lossless else 1) and counts.captured == 2
