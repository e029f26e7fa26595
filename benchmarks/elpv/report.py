"""The ELPV benchmark's Markdown: accuracy against the published figures, training time, latency, how to rerun."""

from __future__ import annotations

import numpy as np

PUBLISHED = {"vgg19_finetuned_gpu": 0.8842, "svm_handcrafted": 0.8244}  # Deitsch et al. 2019, binary accuracy
TRAIN_BUDGET_SECONDS = 30 * 60
REFERENCE = "MobileNet_V2_1.0_224_quant"


def _validation_line(result: dict) -> str:
    """What the validation split (held out of the training images, picking each model's epoch) said."""
    members = result["validation_accuracy"]["members"]
    line = (
        "- validation accuracy (the split held out of the training images, which picked the kept epoch): "
        + (
            f"{100 * members[0]:.2f}%"
            if len(members) == 1
            else f"members (seeds 0-{len(members) - 1}) " + ", ".join(f"{100 * v:.2f}%" for v in members)
        )
    )
    average = result["validation_accuracy"].get("ensemble")
    return line + ("" if average is None else f"; their average (the benchmark model) {100 * average:.2f}%")


def markdown(result: dict) -> str:
    """The report of one run's results dict."""
    m, ev = result["int8"], result["evaluation"]["models"]
    lat = result["latency_ms"]
    lines = [
        "# ELPV accuracy: trained from scratch on 2 CPU cores, evaluated as int8 .tflite",
        "",
        f"Default split (1,968 train / 656 test, defective = probability >= 0.5). Target: >= 88.4% int8 test accuracy "
        f"(Deitsch et al. 2019: {100 * PUBLISHED['vgg19_finetuned_gpu']:.2f}% fine-tuned ImageNet VGG19 on a GPU, "
        f"{100 * PUBLISHED['svm_handcrafted']:.2f}% SVM). Target reached: **{'yes' if result['target_reached'] else 'no'}**.",
        "",
        "| model | accuracy | balanced accuracy | defective recall | functional recall |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in ("keras_float32", "model_float32", "model_int8"):
        entry = ev[name]
        per = entry["per_class_accuracy"]
        lines.append(
            f"| {name} | {100 * entry['accuracy']:.2f}% | {100 * np.mean(list(per.values())):.2f}% | "
            f"{100 * per['defective']:.2f}% | {100 * per['functional']:.2f}% |"
        )
    lines += [
        "",
        f"- int8 vs Keras float: {result['int8_minus_float_points']:+.2f} points; int8 F1: "
        + ", ".join(f"{k} {v['f1']:.3f}" for k, v in m["per_class"].items()),
        "- int8 accuracy by the experts' defect probability: "
        + ", ".join(
            f"p = {p}: {100 * v['accuracy']:.1f}% of {v['images']}"
            for p, v in m.get("accuracy_by_expert_probability", {}).items()
        ),
        f"- training: {result['train_seconds'] / 60:.1f} min wall ({result['fit_seconds'] / 60:.1f} min fitting) on "
        f"{result['machine']['cpus']} CPU cores, from scratch (random init); "
        f"{'within' if result['within_train_budget'] else '**over**'} the {TRAIN_BUDGET_SECONDS // 60}-minute budget",
        _validation_line(result),
        f"- machine load (uptime) before training: `{result['uptime']['before_training']}`; after: "
        f"`{result['uptime']['after_training']}`",
        "- latency, median ms per image, the two models timed in alternating rounds: "
        + "; ".join(
            f"{threads} thread{'s' if int(threads) > 1 else ''}: this model {v['model_int8']:.2f} ms, "
            f"{REFERENCE} {v[REFERENCE]:.2f} ms ({v[REFERENCE] / v['model_int8']:.1f}x)"
            for threads, v in lat.items()
        ),
        "",
        "Reproduce: `python -m benchmarks elpv` runs all of it; step by step:",
        "",
        "```sh",
        *result["commands"],
        "```",
    ]
    if result.get("notes"):
        lines += ["", "## What was tried", "", *result["notes"]]
    return "\n".join(lines) + "\n"
