"""The model card beside the models: model_card.json and MODEL_CARD.md, with latency measured here."""

from __future__ import annotations

import hashlib
import json
import math
import platform
import time
from importlib import metadata as package_metadata
from pathlib import Path

import numpy as np

from convert.accuracy import ConfidentAccuracy
from convert.edgetpu import edgetpu_report, summary_line
from convert.gate import GateResult, ModelResult
from convert.modes import ConvertOptions, clients
from convert.tflite_graph import read_graph
from edge_runtime.files import atomic_write_text
from edge_runtime.interpreter import usable_cores
from edge_runtime.model_verify import CARD_JSON

CARD_MD = "MODEL_CARD.md"
CARD_VERSION = 1
_MODES = {
    "int8": "int8 weights and activations (full integer, calibrated)",
    "float16": "float16 weights, float32 activations",
    "dynamic": "int8 weights, float32 activations (dynamic range)",
    "float32": "float32 weights and activations (no quantization)",
}


def sha256(data: bytes) -> str:
    """Hex SHA-256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


def measure_latency(model: bytes, image: np.ndarray, threads: int, runs: int = 20, warmup: int = 3) -> dict:
    """Median, min and max milliseconds of `runs` invokes after `warmup`, through edge_runtime."""
    from edge_runtime.common import set_input
    from edge_runtime.interpreter import make_interpreter
    from edge_runtime.timing import time_invokes

    interpreter = make_interpreter(model, num_threads=threads)
    set_input(interpreter, image)
    times = time_invokes(interpreter, runs, warmup_runs=warmup).runs_ms
    return {
        "threads": threads,
        "median_ms": round(float(np.median(times)), 4),
        "min_ms": round(float(np.min(times)), 4),
        "max_ms": round(float(np.max(times)), 4),
        "runs": runs,
        "warmup": warmup,
    }


def _number(value: float) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 6)


def _tensor(details: dict) -> dict:
    scale, zero_point = details["quantization"]
    spec = {"shape": [int(d) for d in details["shape"]], "dtype": np.dtype(details["dtype"]).name}
    if spec["dtype"] != "float32":
        spec.update(scale=float(scale), zero_point=int(zero_point))
    return spec


def _confident(point: ConfidentAccuracy | None) -> dict | None:
    """Accuracy on the confident results and the share set aside as ambiguous, or None if not measured."""
    if point is None:
        return None
    return {"accuracy": _number(point.accuracy), "share_set_aside": _number(point.share_set_aside)}


def _top_k_and_confidence(result: ModelResult, gate: GateResult) -> dict:
    """The card's top-5 (from 5 classes) and confident-results entries, Keras float beside converted."""
    extra = {}
    if gate.keras_top5 is not None and result.top5 is not None:
        extra["top5"] = {"keras_float": _number(gate.keras_top5), "converted": _number(result.top5)}
    if result.confident is not None and gate.keras_confident is not None:
        extra["confident"] = {
            **result.confident.rule.to_json(),
            "keras_float": _confident(gate.keras_confident),
            "converted": _confident(result.confident),
        }
    return extra


def model_entry(
    name: str,
    data: bytes,
    options: ConvertOptions,
    result: ModelResult,
    gate: GateResult,
    latency: list[dict],
    calibration_images: int | None = None,
) -> dict:
    """The card's entry for one converted model (everything but the numbers passed in is read from `data`)."""
    from edge_runtime.interpreter import make_interpreter

    interpreter = make_interpreter(data)
    graph = read_graph(data)
    inp = _tensor(interpreter.get_input_details()[0])
    inp.update(color_space="GRAYSCALE" if inp["shape"][-1] == 1 else "RGB", pixels="raw 0..255")
    out = _tensor(interpreter.get_output_details()[0])
    out["content"] = "class probabilities (softmax)"
    report = edgetpu_report(graph)
    entry = {
        "file": name,
        "sha256": sha256(data),
        "size_bytes": len(data),
        "quantization": {
            "mode": options.quantize,
            "io": options.io_type,
            "description": _MODES[options.quantize],
        },
        "input": inp,
        "output": out,
        "ops": graph.op_counts(),
        "num_ops": len(graph.ops),
        "accuracy": {
            "keras_float": _number(gate.keras_accuracy),
            "converted": _number(result.accuracy),
            "drop_points": round(result.drop_points, 4),
            "max_drop_points": gate.max_accuracy_drop,
            "gate": "passed" if result.passed else "failed",
            "top1_agreement_with_keras": _number(result.top1_agreement),
            **_top_k_and_confidence(result, gate),
            "test_images": gate.num_images,
            "test_data": gate.test_data.describe(),
            "per_class": {
                c: {
                    "keras_float": _number(gate.keras_per_class[c]),
                    "converted": _number(result.per_class[c]),
                }
                for c in gate.class_names
            },
        },
        "latency_ms": latency,
        "clients": list(clients(options, inp["shape"][-1])),
        "edge_tpu": {**report.to_dict(), "summary": summary_line(report)},
    }
    entry["edge_tpu"].pop("unmapped_ops")  # python -m convert.edgetpu lists them
    if options.needs_calibration and calibration_images is not None:
        entry["calibration_images"] = calibration_images
    return entry


def _version(package: str) -> str | None:
    try:
        return package_metadata.version(package)
    except package_metadata.PackageNotFoundError:
        return None


def build_card(source: dict, gate: GateResult, calibration: dict | None, models: dict[str, dict]) -> dict:
    """The whole card: source model, dataset, gate settings, models, machine and tool versions."""
    return {
        "model_card_version": CARD_VERSION,
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "source_model": source,
        "classes": gate.class_names,
        "dataset": {
            "calibration": calibration,
            "test": {
                "source": gate.test_data.source,
                "description": gate.test_data.describe(),
                "folder": str(gate.test_data.folder),
                "images": gate.num_images,
                "class_counts": gate.class_counts,
            },
        },
        "models": models,
        "machine": {
            "platform": platform.platform(),
            "machine": platform.machine(),
            "processor": platform.processor() or None,
            "cpu_threads": usable_cores(),
            "python": platform.python_version(),
        },
        "tools": {p: _version(p) for p in ("tensorflow", "keras", "ai-edge-litert", "numpy")},
    }


def merge_previous(card: dict, folder: Path) -> dict:
    """Adds entries of an earlier card in `folder` for models still there, unchanged, from the same source.

    So converting a second mode into a folder keeps the first mode's entry; an entry whose file
    changed or whose source model differs is dropped.
    """
    try:
        old = json.loads((folder / CARD_JSON).read_text(encoding="utf-8"))
        if old["source_model"]["sha256"] != card["source_model"]["sha256"]:
            return card
        kept = {
            name: entry
            for name, entry in old["models"].items()
            if name not in card["models"]
            and (folder / name).is_file()
            and sha256((folder / name).read_bytes()) == entry.get("sha256")
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return card  # no readable earlier card: this one stands alone
    return {**card, "models": {**card["models"], **kept}}


def write_card(folder: Path, card: dict) -> list[Path]:
    """Writes model_card.json and MODEL_CARD.md atomically; returns their paths."""
    from convert.model_card_md import render_markdown

    json_path = atomic_write_text(folder / CARD_JSON, json.dumps(card, indent=2, allow_nan=False) + "\n")
    md_path = atomic_write_text(folder / CARD_MD, render_markdown(card))
    return [json_path, md_path]
