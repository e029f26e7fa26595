"""Times the TFLite Task Library ImageClassifier's classify() per frame; runs in the clients' environment.

Usage: camera_task_library.py MODEL.tflite FRAMES.npy [--threads N] [--top-k K]
FRAMES.npy holds (N, H, W, 3) uint8 RGB frames. After a warm-up it prints `ready`, then for each line
read from stdin it classifies every frame once and prints one JSON object of per-call milliseconds,
so the caller can interleave its own rounds with these (machine noise then hits both alike).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("frames")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--top-k", type=int, default=3)
    args = parser.parse_args()

    from tflite_support.task import core, processor, vision

    options = vision.ImageClassifierOptions(
        base_options=core.BaseOptions(file_name=args.model, num_threads=args.threads),
        classification_options=processor.ClassificationOptions(max_results=args.top_k),
    )
    classifier = vision.ImageClassifier.create_from_options(options)
    frames = np.load(args.frames)
    for frame in frames[:10]:  # warm-up, as for edge_runtime
        classifier.classify(vision.TensorImage.create_from_array(frame))
    print("ready", flush=True)
    for _ in sys.stdin:
        classify_ms, with_image_ms, top1 = [], [], []
        for frame in frames:
            start = time.perf_counter()
            image = vision.TensorImage.create_from_array(frame)
            created = time.perf_counter()
            result = classifier.classify(image)
            done = time.perf_counter()
            classify_ms.append((done - created) * 1000.0)
            with_image_ms.append((done - start) * 1000.0)
            top1.append(result.classifications[0].categories[0].index)
        print(
            json.dumps({"classify_ms": classify_ms, "with_tensor_image_ms": with_image_ms, "top1": top1}),
            flush=True,
        )


if __name__ == "__main__":
    main()
