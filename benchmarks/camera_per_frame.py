"""Per-frame cost of the camera loop's work: end to end vs bare invoke() vs the Task Library's classify()."""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from benchmarks.camera_report import summarize
from edge_runtime.camera.preprocess import FramePreprocessor
from edge_runtime.classify import get_classes
from edge_runtime.common import set_input
from edge_runtime.interpreter import make_interpreter
from edge_runtime.metadata import read_labels


class TaskLibrary:
    """The Task Library in a child process of the clients' environment: one classify() round per request."""

    def __init__(
        self, clients_python: str, model: Path, frames: list[np.ndarray], threads: int, tmp: Path
    ) -> None:
        npy = tmp / "frames.npy"
        np.save(npy, np.stack([cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for f in frames]))
        script = Path(__file__).with_name("camera_task_library.py")
        command = [clients_python, str(script), str(model), str(npy), "--threads", str(threads)]
        self._proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        if self._proc.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the Task Library child did not start (exit {self._proc.wait()})")

    def round(self) -> dict:
        self._proc.stdin.write("go\n")
        self._proc.stdin.flush()
        return json.loads(self._proc.stdout.readline())

    def close(self) -> None:
        self._proc.stdin.close()
        self._proc.wait(timeout=60)


def per_frame_cost(
    model: Path, frames: list[np.ndarray], threads: int, rounds: int, clients_python: str
) -> dict:
    """End to end (640x480 BGR frame -> top-3) vs bare invoke() vs the Task Library's classify().

    One interpreter; end to end and bare invoke alternate frame by frame, and each round of ours is
    followed by a Task Library round on the same frames, so machine noise hits all alike. For
    reference, the same path with OpenCV's fractional area filter (the resize before whole-factor box
    averaging replaced it) is timed too.
    """
    interpreter = make_interpreter(model, num_threads=threads)
    labels = read_labels(model.read_bytes())
    prepare = FramePreprocessor(224, 224)
    rgb = np.empty((224, 224, 3), np.uint8)
    names = ("end_to_end", "invoke", "preprocess", "invoke_in_end_to_end", "top_k", "area_filter")
    rows: dict[str, list[float]] = {name: [] for name in names}
    rows.update(task_library_classify=[], task_library_with_tensor_image=[])
    for frame in frames[:10]:
        set_input(interpreter, prepare(frame))
        interpreter.invoke()
    with tempfile.TemporaryDirectory() as tmp:
        peer, missing = None, None
        if Path(clients_python).exists():
            peer = TaskLibrary(clients_python, model, frames, threads, Path(tmp))
        else:
            missing = f"{clients_python} not found (make clients builds the clients' environment)"
        for _ in range(rounds):
            for frame in frames:
                start = time.perf_counter()
                set_input(interpreter, prepare(frame))
                prepared = time.perf_counter()
                interpreter.invoke()
                invoked = time.perf_counter()
                get_classes(interpreter, 3, 0.0, labels)
                done = time.perf_counter()
                interpreter.invoke()
                bare = time.perf_counter()
                small = cv2.resize(frame, (224, 224), interpolation=cv2.INTER_AREA)
                set_input(interpreter, cv2.cvtColor(small, cv2.COLOR_BGR2RGB, dst=rgb))
                interpreter.invoke()
                get_classes(interpreter, 3, 0.0, labels)
                area_filter = time.perf_counter()
                rows["end_to_end"].append((done - start) * 1000)
                rows["preprocess"].append((prepared - start) * 1000)
                rows["invoke"].append((bare - done) * 1000)
                rows["invoke_in_end_to_end"].append((invoked - prepared) * 1000)
                rows["top_k"].append((done - invoked) * 1000)
                rows["area_filter"].append((area_filter - bare) * 1000)
            if peer is not None:
                out = peer.round()
                rows["task_library_classify"] += out["classify_ms"]
                rows["task_library_with_tensor_image"] += out["with_tensor_image_ms"]
        if peer is not None:
            peer.close()
    result = {name: summarize(values) for name, values in rows.items() if values}
    p50 = {name: stats["p50"] for name, stats in result.items()}
    result["ratio_median"] = p50["end_to_end"] / p50["invoke"]
    result["ratio_mean"] = result["end_to_end"]["mean"] / result["invoke"]["mean"]
    result["area_filter_ratio_median"] = p50["area_filter"] / p50["invoke"]
    if missing is None:
        result["task_library_speedup_median"] = p50["task_library_classify"] / p50["end_to_end"]
        result["task_library_speedup_mean"] = (
            result["task_library_classify"]["mean"] / result["end_to_end"]["mean"]
        )
    else:
        result["task_library_missing"] = missing
    result.update(threads=threads, frames=len(frames), rounds=rounds)
    return result
