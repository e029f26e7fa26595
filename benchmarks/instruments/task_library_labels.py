"""Prints the TFLite Task Library's top class for each image listed in a file, as JSON (clients' venv only).

Runs in the clients' environment (tflite-support 0.4.4), never in the main one, so it imports
nothing from this repository. Usage: task_library_labels.py MODEL.tflite LIST.txt, LIST holding
one image path per line. Prints {"labels": [top-1 label per image], "scores": [its score]} or
{"error": "..."} when the Task Library rejects the model or an image.
"""

from __future__ import annotations

import json
import sys


def main(model: str, listing: str) -> int:
    """Classifies every listed image with the Task Library's ImageClassifier."""
    import numpy as np
    from PIL import Image
    from tflite_support.task import core, processor, vision

    try:
        classifier = vision.ImageClassifier.create_from_options(
            vision.ImageClassifierOptions(
                base_options=core.BaseOptions(file_name=model, num_threads=1),
                classification_options=processor.ClassificationOptions(max_results=1),
            )
        )
        labels, scores = [], []
        with open(listing) as paths:
            for path in filter(None, (line.rstrip("\n") for line in paths)):
                with Image.open(path) as image:
                    rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
                top = (
                    classifier.classify(vision.TensorImage.create_from_array(rgb))
                    .classifications[0]
                    .categories[0]
                )
                labels.append(top.category_name)
                scores.append(round(float(top.score), 6))
    except Exception as err:  # the client's refusal is the answer, reported as one line of JSON
        print(json.dumps({"error": f"{type(err).__name__}: {err}"}))
        return 1
    print(json.dumps({"labels": labels, "scores": scores}))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: task_library_labels.py MODEL.tflite LIST.txt")
    sys.exit(main(sys.argv[1], sys.argv[2]))
