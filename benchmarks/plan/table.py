"""The planner's verdicts: which measured candidates fit the budget and size limit, which to use; Markdown, JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.instruments.markdown import fmt, md_table
from benchmarks.plan.measure import CARD_JSON, FRAME_HEIGHT, FRAME_WIDTH, PlanOptions

if TYPE_CHECKING:
    from benchmarks.plan.models import RegistryOptions


def safety_margin_ms(budget_ms: float, margin_ms: float | None = None) -> float:
    """The slack kept free besides the measured loop work: `margin_ms`, else 10% of the budget, at least 1 ms."""
    return margin_ms if margin_ms is not None else max(1.0, 0.1 * budget_ms)


def assess(
    rows: Sequence[Mapping],
    budget_ms: float,
    max_size_mb: float | None = None,
    margin_ms: float | None = None,
) -> list[dict]:
    """Adds each measured row's verdict: needed_ms, fits_budget, fits_size and fits.

    A candidate fits when p99 inference + p99 loop work (frame resize, colour conversion, input copy,
    ranking the scores) + the safety margin is within the budget, and its file is within
    `max_size_mb` (MB of 10^6 bytes). A row with an error (not measured) never fits.

    Args:
      rows: Rows with p50_ms, p99_ms, loop_ms and size_bytes (None when not measured).
      budget_ms: Time per frame, e.g. 33 ms for 30 fps video.
      max_size_mb: Largest model file accepted, or None for any.
      margin_ms: Safety margin; None: `safety_margin_ms`'s default.

    Returns:
      New dicts, the inputs unchanged.
    """
    margin = safety_margin_ms(budget_ms, margin_ms)
    assessed = []
    for row in rows:
        measured = row.get("p99_ms") is not None and row.get("loop_ms") is not None
        needed = row["p99_ms"] + row["loop_ms"] + margin if measured else None
        fits_budget = measured and needed <= budget_ms
        fits_size = row.get("size_bytes") is not None and (
            max_size_mb is None or row["size_bytes"] / 1e6 <= max_size_mb
        )
        assessed.append(
            {
                **row,
                "margin_ms": margin,
                "needed_ms": needed,
                "fits_budget": bool(fits_budget),
                "fits_size": bool(fits_size),
                "fits": bool(fits_budget and fits_size),
            }
        )
    return assessed


def recommend(rows: Sequence[Mapping]) -> str | None:
    """The name of the most accurate candidate that fits; ties (or unknown accuracy) go to the fastest p50.

    A known accuracy beats an unknown one. None when nothing fits.
    """
    fitting = [row for row in rows if row.get("fits")]
    if not fitting:
        return None

    def rank(row: Mapping) -> tuple:
        accuracy = row.get("accuracy")
        return (accuracy is None, -(accuracy or 0.0), row["p50_ms"], row["name"])

    return min(fitting, key=rank)["name"]


def verdict(row: Mapping) -> str:
    """'fits', 'too slow', 'too big', 'too slow, too big' or 'error'."""
    if row.get("error"):
        return "error"
    if row["fits"]:
        return "fits"
    return ", ".join(
        word for word, ok in (("too slow", row["fits_budget"]), ("too big", row["fits_size"])) if not ok
    )


def markdown(plan: Mapping) -> str:
    """The plan as Markdown: the settings, the table (recommended row marked), the recommendation, notes."""
    rows = plan["candidates"]
    recommended = plan.get("recommended")
    headers = ["model", "input", "size MB", "p50 ms", "p99 ms", "loop ms", "needed ms", "verdict", "accuracy"]
    headers.append("top-5")
    body = []
    for row in rows:
        name = f"**{row['name']}** ←" if row["name"] == recommended else row["name"]
        body.append(
            [
                name,
                row.get("input") or "–",
                fmt(row["size_bytes"] / 1e6 if row.get("size_bytes") else None, 3),
                fmt(row.get("p50_ms")),
                fmt(row.get("p99_ms")),
                fmt(row.get("loop_ms")),
                fmt(row.get("needed_ms")),
                verdict(row),
                fmt(100 * row["accuracy"] if row.get("accuracy") is not None else None, 1, "%"),
                fmt(100 * row["top5"] if row.get("top5") is not None else None, 1, "%"),
            ]
        )
    size = f", files up to {plan['max_size_mb']:g} MB" if plan.get("max_size_mb") is not None else ""
    lines = [
        f"# Model plan: {plan['budget_ms']:g} ms per frame, {plan['threads']} thread(s){size}",
        "",
        md_table(headers, body, "llrrrrrlrr"),
        "",
        f"**Recommended: {recommended}**" if recommended else "**Nothing fits.** " + plan.get("advice", ""),
        "",
    ]
    lines += [f"- {note}" for note in plan.get("notes", [])]
    if plan.get("int8_vs_float"):
        lines += ["", "## int8 or float on this CPU", ""]
        lines += [f"- {pair['advice']}" for pair in plan["int8_vs_float"]]
    return "\n".join(lines).rstrip() + "\n"


def make_plan(
    rows: list[dict], options: PlanOptions, threads: int, registry: RegistryOptions | None = None
) -> dict:
    """The plan: settings, assessed rows (least time needed first), the recommendation and notes.

    Args:
      rows: Measured rows (`given_rows` or `registry_rows`).
      options: The budget, size limit and margin.
      threads: The threads the rows were measured with.
      registry: The registry settings when the rows are untrained registry models, else None.

    Returns:
      A JSON-ready dict; 'recommended' is a row name or None, with 'advice' when nothing fits.
    """
    from benchmarks.instruments.machine import describe_machine

    margin = safety_margin_ms(options.budget_ms, options.margin_ms)
    assessed = assess(rows, options.budget_ms, options.max_size_mb, options.margin_ms)
    assessed.sort(key=lambda r: (r["needed_ms"] is None, r["needed_ms"] or 0.0, r["name"]))
    machine = describe_machine()
    notes = [
        f"needed = p99 inference + p99 loop work (a {FRAME_WIDTH}x{FRAME_HEIGHT} frame resized, colour-converted "
        f"and copied in, scores ranked: the camera loop's work besides invoke) + a {margin:g} ms safety margin "
        "(capture and decoding on the other thread, hand-offs, OS jitter); fits when needed <= budget",
        f"measured on {machine.get('cpu_model')} ({machine.get('usable_cores')} usable cores) with {threads} "
        "thread(s); run the planner on the target device for its numbers",
    ]
    if registry is not None:
        notes.append(
            "accuracy is unknown for these untrained architectures (built with weights=None), so the "
            "recommendation is simply the fastest that fits; train the ones that fit (python -m train --model "
            "NAME --image-size SIZE), convert them and run the planner on the .tflite files, whose model cards "
            "give their accuracy"
        )
    else:
        notes.append(f"accuracy and top-5: the converted model's, from the {CARD_JSON} beside each model")
        unknown = [r for r in assessed if r.get("accuracy") is None and not r.get("error")]
        notes += [f"{r['name']}: accuracy {r.get('accuracy_source')}" for r in unknown]
    notes += [f"{r['name']}: {r['error']}" for r in assessed if r.get("error")]
    plan = {
        "budget_ms": options.budget_ms,
        "threads": threads,
        "max_size_mb": options.max_size_mb,
        "margin_ms": margin,
        "quick": options.quick,
        "candidates": assessed,
        "recommended": recommend(assessed),
        "notes": notes,
        "machine": machine,
    }
    if registry is not None:
        plan["registry"] = {"classes": registry.classes, "quantize": registry.quantize, "weights": None}
    measured = [r for r in assessed if r["needed_ms"] is not None]
    if plan["recommended"] is None and measured:
        fastest = measured[0]
        plan["advice"] = (
            f"The fastest, {fastest['name']}, needs {fastest['needed_ms']:.2f} ms per frame. Raise the budget, "
            "change --threads, or use a smaller input size or width (alpha), or an accelerator."
        )
    return plan


def write_plan(plan: dict, out_dir: Path) -> tuple[Path, Path]:
    """Writes OUT/plan.json and OUT/plan.md atomically, paths relative to the repository; returns their paths."""
    from benchmarks.instruments.paths import relative_paths
    from edge_runtime.files import atomic_write_text

    plan = relative_paths(plan)
    json_path = atomic_write_text(out_dir / "plan.json", json.dumps(plan, indent=1) + "\n")
    md_path = atomic_write_text(out_dir / "plan.md", markdown(plan))
    return Path(json_path), Path(md_path)
