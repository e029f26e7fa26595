"""Times the TFLite Task Library and MediaPipe Tasks ImageClassifier on frames, on command.

A script for the clients' environment (.venv-clients: tflite-support, mediapipe); project code
never imports it. Usage: clients_timing.py MODEL.tflite FRAMES.npy [--threads N] [--top-k K]
It builds both classifiers, prints one JSON line {"ready": ...} and then answers each stdin line
{"client": "task_library" | "mediapipe", "calls": N, "start": I, "prepared": false} with one JSON
line holding the duration of every call in ms and the process CPU time used, so the caller can
interleave these clients with its own runs. A call is the client's image wrapper (TensorImage,
mp.Image) and classify(); with "prepared": true the wrapper is made before the clock starts and
classify() alone is timed. An empty line or end of input ends it. benchmarks.instruments.clients
runs it; the peers and the camera benchmark's per-frame cost both time the clients through it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np


def task_library(model: str, threads: int, top_k: int):
    """(wrap, classify): the Task Library's TensorImage from RGB, and its ImageClassifier.classify."""
    from tflite_support.task import core, processor, vision

    options = vision.ImageClassifierOptions(
        base_options=core.BaseOptions(file_name=model, num_threads=threads),
        classification_options=processor.ClassificationOptions(max_results=top_k),
    )
    classifier = vision.ImageClassifier.create_from_options(options)
    return vision.TensorImage.create_from_array, classifier.classify


def mediapipe(model: str, threads: int, top_k: int):
    """(wrap, classify): MediaPipe's mp.Image from RGB, and its ImageClassifier.classify (own thread count)."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    options = vision.ImageClassifierOptions(
        base_options=BaseOptions(model_asset_path=model), max_results=top_k
    )
    classifier = vision.ImageClassifier.create_from_options(options)

    def wrap(rgb: np.ndarray):
        return mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)

    return wrap, classifier.classify


def _emit(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("frames", help=".npy file of (N, H, W, 3) uint8 RGB frames")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--top-k", type=int, default=5)
    args = parser.parse_args()
    frames = np.load(args.frames)
    classifiers, init_ms, errors = {}, {}, {}
    for name, make in (("task_library", task_library), ("mediapipe", mediapipe)):
        start = time.perf_counter()
        try:
            classifiers[name] = make(args.model, args.threads, args.top_k)
        except Exception as err:  # A client refusing the model is a result to report.
            errors[name] = f"{type(err).__name__}: {err}"
            continue
        init_ms[name] = (time.perf_counter() - start) * 1000
    _emit({"ready": True, "init_ms": init_ms, "errors": errors})
    for line in sys.stdin:
        if not line.strip():
            break
        command = json.loads(line)
        wrap, classify = classifiers[command["client"]]
        prepared = command.get("prepared", False)
        times = []
        cpu, wall = time.process_time(), time.perf_counter()
        for i in range(command["calls"]):
            frame = frames[(command["start"] + i) % len(frames)]
            image = wrap(frame) if prepared else None
            before = time.perf_counter_ns()
            classify(image if prepared else wrap(frame))
            times.append((time.perf_counter_ns() - before) / 1e6)
        _emit(
            {
                "client": command["client"],
                "times_ms": times,
                "cpu_seconds": time.process_time() - cpu,
                "wall_seconds": time.perf_counter() - wall,
            }
        )


if __name__ == "__main__":
    main()
