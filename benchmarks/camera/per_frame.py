"""Per-frame cost of the camera loop's work: end to end vs bare invoke() vs the Task Library's classify()."""

from __future__ import annotations

import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np

from benchmarks.instruments.clients import start_clients
from benchmarks.instruments.stats import summarize
from edge_runtime.camera.preprocess import FramePreprocessor
from edge_runtime.classify import get_classes
from edge_runtime.common import input_size, set_input
from edge_runtime.interpreter import make_interpreter
from edge_runtime.metadata import read_labels
from edge_runtime.timing import time_invokes


def per_frame_cost(
    model: Path, frames: list[np.ndarray], threads: int, rounds: int, clients_python: str | None
) -> dict:
    """End to end (640x480 BGR frame -> top-3) vs bare invoke() vs the Task Library's classify().

    One interpreter; end to end and bare invoke alternate frame by frame, and each round of ours is
    followed by a Task Library round on the same frames, so machine noise hits all alike. For
    reference, the same path with OpenCV's fractional area filter (the resize before whole-factor box
    averaging replaced it) is timed too.
    """
    interpreter = make_interpreter(model, num_threads=threads)
    labels = read_labels(model.read_bytes())
    width, height = input_size(interpreter)
    prepare = FramePreprocessor(width, height)
    rgb = np.empty((height, width, 3), np.uint8)
    names = ("end_to_end", "invoke", "preprocess", "invoke_in_end_to_end", "top_k", "area_filter")
    rows: dict[str, list[float]] = {name: [] for name in names}
    rows.update(task_library_classify=[], task_library_with_tensor_image=[])
    for frame in frames[:10]:
        set_input(interpreter, prepare(frame))
        interpreter.invoke()
    with tempfile.TemporaryDirectory() as tmp:
        rgb_frames = np.stack([cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for f in frames])
        peer, skipped = start_clients(clients_python, model, rgb_frames, Path(tmp), threads, top_k=3)
        missing = skipped.get("task_library")
        if missing is not None and peer is not None:
            peer.close()
            peer = None
        try:
            if peer is not None:
                classify_only, with_image = (
                    peer.runner("task_library", prepared=True),
                    peer.runner("task_library"),
                )
                classify_only(min(10, len(frames)), 0)  # warm-up, as for edge_runtime
            for _ in range(rounds):
                for frame in frames:
                    start = time.perf_counter()
                    set_input(interpreter, prepare(frame))
                    prepared = time.perf_counter()
                    interpreter.invoke()
                    invoked = time.perf_counter()
                    get_classes(interpreter, 3, 0.0, labels)
                    done = time.perf_counter()
                    (bare_ms,) = time_invokes(interpreter).runs_ms
                    bare = time.perf_counter()
                    small = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
                    set_input(interpreter, cv2.cvtColor(small, cv2.COLOR_BGR2RGB, dst=rgb))
                    interpreter.invoke()
                    get_classes(interpreter, 3, 0.0, labels)
                    area_filter = time.perf_counter()
                    rows["end_to_end"].append((done - start) * 1000)
                    rows["preprocess"].append((prepared - start) * 1000)
                    rows["invoke"].append(bare_ms)
                    rows["invoke_in_end_to_end"].append((invoked - prepared) * 1000)
                    rows["top_k"].append((done - invoked) * 1000)
                    rows["area_filter"].append((area_filter - bare) * 1000)
                if peer is not None:
                    rows["task_library_classify"] += classify_only(len(frames), 0)[0]
                    rows["task_library_with_tensor_image"] += with_image(len(frames), 0)[0]
        finally:
            if peer is not None:
                peer.close()
    result: dict = {name: asdict(summarize(values)) for name, values in rows.items() if values}
    p50 = {name: stats["p50_ms"] for name, stats in result.items()}
    result["ratio_median"] = p50["end_to_end"] / p50["invoke"]
    result["ratio_mean"] = result["end_to_end"]["avg_ms"] / result["invoke"]["avg_ms"]
    result["area_filter_ratio_median"] = p50["area_filter"] / p50["invoke"]
    if missing is None:
        result["task_library_speedup_median"] = p50["task_library_classify"] / p50["end_to_end"]
        result["task_library_speedup_mean"] = (
            result["task_library_classify"]["avg_ms"] / result["end_to_end"]["avg_ms"]
        )
    else:
        result["task_library_missing"] = missing
    result.update(threads=threads, frames=len(frames), rounds=rounds)
    return result
