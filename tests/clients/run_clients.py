"""Classifies images with the real TFLite Task Library and MediaPipe Tasks; prints JSON.

Runs in the clients' environment (.venv-clients: tflite-support, mediapipe), never in the
main one. Usage: run_clients.py MODEL.tflite IMAGE... [--top-k K]
Prints {"task_library": {...}, "mediapipe": {...}}: per client either {"results": [per image:
[{"index", "label", "score"}...]]} or {"error": "..."} when the client rejects the model.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from PIL import Image


def _load(path: str) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)


def task_library(model: str, images: list[np.ndarray], top_k: int) -> list[list[dict]]:
    from tflite_support.task import core, processor, vision

    options = vision.ImageClassifierOptions(
        base_options=core.BaseOptions(file_name=model, num_threads=1),
        classification_options=processor.ClassificationOptions(max_results=top_k),
    )
    classifier = vision.ImageClassifier.create_from_options(options)
    results = []
    for rgb in images:
        result = classifier.classify(vision.TensorImage.create_from_array(rgb))
        results.append(
            [
                {"index": c.index, "label": c.category_name, "score": float(c.score)}
                for c in result.classifications[0].categories
            ]
        )
    return results


def mediapipe(model: str, images: list[np.ndarray], top_k: int) -> list[list[dict]]:
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    options = vision.ImageClassifierOptions(
        base_options=BaseOptions(model_asset_path=model), max_results=top_k
    )
    results = []
    with vision.ImageClassifier.create_from_options(options) as classifier:
        for rgb in images:
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
            result = classifier.classify(image)
            results.append(
                [
                    {"index": c.index, "label": c.category_name, "score": float(c.score)}
                    for c in result.classifications[0].categories
                ]
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("images", nargs="*")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--clients", default="task_library,mediapipe")
    args = parser.parse_args()
    images = [_load(p) for p in args.images]
    out = {}
    for name in args.clients.split(","):
        run = {"task_library": task_library, "mediapipe": mediapipe}[name]
        try:
            out[name] = {"results": run(args.model, images, args.top_k)}
        except Exception as err:  # A client refusing the model is a result to report, not a crash.
            out[name] = {"error": f"{type(err).__name__}: {err}"}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
