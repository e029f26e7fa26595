"""The evaluation summary of convert.evaluate: top-1 (top-5), confident accuracy, curves, per class; and its table."""

from __future__ import annotations

import numpy as np

from convert.accuracy import reported_ks, top_k_accuracy
from convert.confidence_plot import model_curves
from convert.scores import EvaluationSet, ModelScores
from edge_runtime.ambiguity import AmbiguityRule


def report(
    evaluation: EvaluationSet,
    results: list[ModelScores],
    reference: str | None = None,
    rule: AmbiguityRule = AmbiguityRule(),
) -> dict:
    """A JSON-ready summary of each model on the evaluation images.

    Per model: top-1 (and top-5 from 5 classes) accuracy, per-class accuracy, the accuracy on the
    results `rule` does not set aside with the share it does, the accuracy-vs-share-kept curves at
    round thresholds, and top-1 agreement with `reference`.

    Args:
      evaluation: The images and their labels.
      results: Each model's scores on them.
      reference: Name of the model others are compared with (the Keras float model), or None.
      rule: The ambiguity rule.

    Returns:
      The summary dict (what convert.evaluate writes as JSON).
    """
    labels = evaluation.labels
    ks = reported_ks(len(evaluation.class_names))
    summary: dict = {
        "num_images": int(len(labels)),
        "skipped_images": len(evaluation.skipped),
        "class_names": evaluation.class_names,
        "class_counts": {n: int(np.sum(labels == i)) for i, n in enumerate(evaluation.class_names)},
        "top_k": list(ks),
        "ambiguity_rule": rule.to_json(),
        "models": {},
    }
    by_name = {r.name: r for r in results}
    ref = by_name.get(reference) if reference else None
    for result in results:
        curves = model_curves(labels, result.probabilities, rule)
        entry = {
            "accuracy": result.accuracy(labels),
            **{f"top{k}_accuracy": top_k_accuracy(labels, result.probabilities, k) for k in ks},
            "per_class_accuracy": result.per_class_accuracy(labels, evaluation.class_names),
            "confident": curves.confident.to_json(),
            "confidence_curve": {"top_score": curves.top_score.table(), "margin": curves.margin.table()},
        }
        if ref is not None and result is not ref:
            entry[f"top1_agreement_with_{ref.name}"] = float(np.mean(result.predictions == ref.predictions))
            entry[f"accuracy_drop_vs_{ref.name}_points"] = 100.0 * (
                ref.accuracy(labels) - result.accuracy(labels)
            )
        summary["models"][result.name] = entry
    return summary


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}%"


def format_report(summary: dict) -> str:
    """A plain-text table of the summary: top-1 (top-5), confident accuracy, set aside, per class."""
    names = summary["class_names"]
    ks = summary.get("top_k", [1])
    columns = [f"top-{k}" for k in ks] + ["confident", "set aside"]
    header = (
        f"{'model':<22} "
        + " ".join(f"{c:>9}" for c in columns)
        + " "
        + " ".join(f"{n[:12]:>12}" for n in names)
    )
    lines = [
        f"{summary['num_images']} test images ({', '.join(f'{k}: {v}' for k, v in summary['class_counts'].items())})",
        header,
        "-" * len(header),
    ]
    for name, entry in summary["models"].items():
        confident = entry["confident"]
        cells = [_pct(entry[f"top{k}_accuracy"]) for k in ks]
        cells += [_pct(confident["accuracy_confident"]), _pct(confident["share_set_aside"])]
        per_class = " ".join(f"{100 * entry['per_class_accuracy'][n]:>11.2f}%" for n in names)
        lines.append(f"{name:<22} " + " ".join(f"{c:>9}" for c in cells) + f" {per_class}")
    rule = AmbiguityRule(**summary["ambiguity_rule"]) if "ambiguity_rule" in summary else AmbiguityRule()
    lines.append(f"confident: top-1 accuracy on the results not set aside as ambiguous ({rule.describe()})")
    for name, entry in summary["models"].items():
        for key, value in entry.items():
            if key.startswith("top1_agreement"):
                lines.append(f"{name}: {key.replace('_', ' ')} = {100 * value:.2f}%")
    return "\n".join(lines)
