"""Float vs int8 for the default model: accuracy from build/evaluation.json, sizes from build/tflite."""

from __future__ import annotations

import json
import os
from pathlib import Path

from benchmarks.instruments.stats import ratio

MAKE_HINT = "run `make evaluate` (exports ELPV, trains, converts and evaluates the default model)"
FLOAT_NAME, INT8_NAME = "model_float32", "model_int8"


def default_models(build: str | os.PathLike = "build") -> dict[str, Path]:
    """The default model's .tflite files that exist: {'model_float32': path, 'model_int8': path}."""
    folder = Path(build) / "tflite"
    return {
        name: folder / f"{name}.tflite"
        for name in (FLOAT_NAME, INT8_NAME)
        if (folder / f"{name}.tflite").is_file()
    }


def float_vs_int8(build: str | os.PathLike = "build", latency: dict[str, float] | None = None) -> dict:
    """Accuracy, size and speed of the default model's float32 and int8 .tflite files.

    Args:
      build: The build folder (evaluation.json, tflite/).
      latency: Measured mean latency in ms by model name ('model_float32', 'model_int8'), if any.

    Returns:
      JSON-ready: per model accuracy (None when not evaluated), size in bytes and latency; the
      int8 model's size ratio, speed-up and accuracy drop in points; and 'missing' listing what
      was not found with how to make it.
    """
    build = Path(build)
    latency = latency or {}
    evaluation_file = build / "evaluation.json"
    evaluation = json.loads(evaluation_file.read_text()) if evaluation_file.is_file() else None
    models = default_models(build)
    missing = []
    if evaluation is None:
        missing.append(f"{evaluation_file} not found; {MAKE_HINT}")
    for name in (FLOAT_NAME, INT8_NAME):
        if name not in models:
            missing.append(f"{build / 'tflite' / (name + '.tflite')} not found; {MAKE_HINT}")
    rows = {}
    for name in ("keras_float32", FLOAT_NAME, INT8_NAME):
        entry = (evaluation or {}).get("models", {}).get(name, {})
        path = models.get(name)
        if not entry and path is None:
            continue
        rows[name] = {
            "accuracy": entry.get("accuracy"),
            "size_bytes": path.stat().st_size if path else None,
            "latency_avg_ms": latency.get(name),
        }
    result: dict = {"models": rows, "missing": missing}
    if evaluation is not None:
        result["test_images"] = evaluation.get("num_images")
        result["data"] = evaluation.get("data")
    f32, i8 = rows.get(FLOAT_NAME, {}), rows.get(INT8_NAME, {})
    result["int8_size_ratio"] = ratio(i8.get("size_bytes"), f32.get("size_bytes"))
    result["int8_speedup"] = ratio(f32.get("latency_avg_ms"), i8.get("latency_avg_ms"))
    if f32.get("accuracy") is not None and i8.get("accuracy") is not None:
        result["int8_accuracy_drop_points"] = 100.0 * (f32["accuracy"] - i8["accuracy"])
    return result


def table_pairs(table_rows: list[dict]) -> list[dict]:
    """Float vs int8 pairs from the MobileNet table (same architecture): size ratio and speed-up.

    Rows are matched by name: 'X_quant' with 'X'. Accuracy is not compared (random weights).
    """
    by_name = {row["name"]: row for row in table_rows}
    pairs = []
    for name, quant in by_name.items():
        base = by_name.get(name.removesuffix("_quant")) if name.endswith("_quant") else None
        if base is None or None in (
            base.get("avg_ms"),
            quant.get("avg_ms"),
            base.get("size_bytes"),
            quant.get("size_bytes"),
        ):
            continue
        pairs.append(
            {
                "architecture": base["name"],
                "float32_size_bytes": base.get("size_bytes"),
                "int8_size_bytes": quant.get("size_bytes"),
                "float32_avg_ms": base.get("avg_ms"),
                "int8_avg_ms": quant.get("avg_ms"),
                "int8_size_ratio": ratio(quant.get("size_bytes"), base.get("size_bytes")),
                "int8_speedup": ratio(base.get("avg_ms"), quant.get("avg_ms")),
            }
        )
    return pairs


def precision_advice(section: dict, cpu=None) -> dict:
    """Which precision to deploy on this CPU, per measured pair of `float_vs_int8`'s section.

    The default model's pair (when both were timed) and every MobileNet table pair get the advice
    `python -m benchmarks plan` and the doctor give (`edge_runtime.doctor.measure.int8_advice`): the
    CPU's int8 dot-product features read against the measured mean invoke times and sizes.

    Args:
      section: `float_vs_int8`'s result, with its 'table_pairs'.
      cpu: `edge_runtime.doctor.cpu.CpuInfo`; default this machine's.

    Returns:
      JSON-ready: 'cpu' (arch, model, features) and 'advice', one entry per pair.
    """
    from benchmarks.plan.precision import cpu_facts, this_cpu
    from edge_runtime.doctor.measure import int8_advice

    cpu = cpu or this_cpu()
    # (int8 name, its ms, its bytes, float name, its ms, its bytes), as int8_advice takes them.
    pairs = []
    models = section.get("models", {})
    i8, f32 = models.get(INT8_NAME, {}), models.get(FLOAT_NAME, {})
    default = (INT8_NAME, i8.get("latency_avg_ms"), i8.get("size_bytes"))
    default += (FLOAT_NAME, f32.get("latency_avg_ms"), f32.get("size_bytes"))
    if None not in default:
        pairs.append(default)
    for p in section.get("table_pairs", []):
        name = p["architecture"]
        quant = (f"{name}_quant", p["int8_avg_ms"], p["int8_size_bytes"])
        pairs.append(quant + (name, p["float32_avg_ms"], p["float32_size_bytes"]))
    advice = [
        {"int8": p[0], "float": p[3], "int8_ms": p[1], "float_ms": p[4], "advice": int8_advice(cpu, *p)}
        for p in pairs
    ]
    return {"cpu": cpu_facts(cpu), "advice": advice}
