"""Reads (or writes) TFLite Metadata with tflite-support's own Python library; prints JSON.

Runs in the clients' environment (.venv-clients), never in the main one; the tests use it as
an independent reference for edge_runtime.metadata.

  dump_metadata.py MODEL.tflite
      Prints {"metadata": <MetadataDisplayer JSON>, "packed_files": [...], "files": {name: text}}.
  dump_metadata.py --write-reference MODEL.tflite LABELS.txt OUT.tflite MEAN STD
      Populates MODEL with tflite-support's image-classifier metadata writer, as a model from
      elsewhere would be; prints {"written": OUT}.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def dump(model: str) -> dict:
    from tensorflow_lite_support.metadata.python.metadata import MetadataDisplayer

    displayer = MetadataDisplayer.with_model_file(model)
    packed = displayer.get_packed_associated_file_list()
    return {
        "metadata": json.loads(displayer.get_metadata_json()),
        "packed_files": packed,
        "files": {name: displayer.get_associated_file_buffer(name).decode("utf-8") for name in packed},
    }


def write_reference(model: str, labels: str, out: str, mean: float, std: float) -> dict:
    from tflite_support.metadata_writers import image_classifier, writer_utils

    writer = image_classifier.MetadataWriter.create_for_inference(
        writer_utils.load_file(model), [mean], [std], [labels]
    )
    writer_utils.save_file(writer.populate(), out)
    return {"written": str(Path(out))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-reference", nargs=5, metavar=("MODEL", "LABELS", "OUT", "MEAN", "STD"))
    parser.add_argument("model", nargs="?")
    args = parser.parse_args()
    if args.write_reference:
        model, labels, out, mean, std = args.write_reference
        print(json.dumps(write_reference(model, labels, out, float(mean), float(std))))
    else:
        print(json.dumps(dump(args.model)))


if __name__ == "__main__":
    main()
