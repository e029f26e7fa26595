"""`python -m benchmarks.elpv.figures`: the recipe search drawn: accuracy vs training time, and by expert probability.

Reads the sweep's run files (benchmarks/results/elpv/runs/*.json) and, when given, a
`benchmarks.elpv.verify --out` JSON of the published model, and writes two PNGs beside the runs'
folder: accuracy_vs_time.png (each run's validation accuracy against its training minutes, the
recipe's mean as a larger mark, test int8 accuracy where the recipe was tested) and
accuracy_by_probability.png (the published model's test accuracy on the cells of each expert
defect probability, with the number of cells).
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
from pathlib import Path

from benchmarks.instruments.paths import RESULTS
from edge_runtime.errors import UserError, cli_main
from edge_runtime.files import atomic_write_bytes

RUNS = RESULTS / "elpv" / "runs"


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def accuracy_vs_time(records: list[dict]) -> bytes:
    """Validation (and test int8) accuracy of every run against its training minutes, one colour and shape per recipe."""
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 6), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    palette = colormaps["tab20"].colors
    for index, name in enumerate(sorted({r["recipe"] for r in records})):
        runs = [r for r in records if r["recipe"] == name]
        validated = [r for r in runs if r.get("val_accuracy") is not None]
        minutes = [r["wall_seconds"] / 60 for r in validated]
        val = [100 * r["val_accuracy"] for r in validated]
        # Colour and shape together tell up to 100 recipes apart (tab20 alone repeats after 20).
        colour, marker = palette[index % len(palette)], _MARKERS[index % len(_MARKERS)]
        axes.plot(minutes, val, marker, color=colour, alpha=0.45, markersize=5)
        label = f"{name} ({len(runs)} seed{'s' if len(runs) > 1 else ''})"
        if validated:
            axes.plot(
                [statistics.fmean(minutes)],
                [statistics.fmean(val)],
                marker,
                color=colour,
                markersize=10,
                label=label,
            )
        else:
            label += ", no validation"
        tested = [r for r in runs if "test" in r]
        if tested:
            axes.plot(
                [statistics.fmean(r["wall_seconds"] / 60 for r in tested)],
                [statistics.fmean(100 * r["test"]["int8"] for r in tested)],
                "*",
                color=colour,
                markersize=14,
                markeredgecolor="black",
                label=None if validated else label,
            )
    axes.axhline(88.42, color="gray", linestyle="--", linewidth=1)
    axes.text(
        axes.get_xlim()[0], 88.5, " VGG19 fine-tuned, Deitsch et al. 2019 (88.42%)", fontsize=8, color="gray"
    )
    axes.axhline(82.44, color="gray", linestyle=":", linewidth=1)
    axes.text(axes.get_xlim()[0], 82.55, " SVM, Deitsch et al. 2019 (82.44%)", fontsize=8, color="gray")
    axes.set_xlabel("training wall time per run (minutes, 2 CPU cores)")
    axes.set_ylabel("accuracy (%)")
    axes.set_title(
        "ELPV recipes: validation accuracy per run (small), recipe mean (large), test int8 mean (star)"
    )
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    return _png(figure)


_MARKERS = ("o", "s", "D", "^", "v")


def accuracy_by_probability(verified: dict) -> bytes:
    """The model's accuracy on the test cells of each expert defect probability, as bars."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    groups = verified["accuracy_by_expert_probability"]
    figure = Figure(figsize=(6, 4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    names = list(groups)
    values = [100 * groups[p]["accuracy"] for p in names]
    bars = axes.bar(names, values, color=["#4c72b0" if float(p) < 0.5 else "#c44e52" for p in names])
    for bar, p in zip(bars, names, strict=True):
        axes.text(
            bar.get_x() + bar.get_width() / 2,
            bar.get_height() + 1,
            f"{groups[p]['images']} cells",
            ha="center",
            fontsize=8,
        )
    axes.set_ylim(0, 110)
    axes.set_xlabel("expert defect probability (< 0.5: labelled functional, blue; >= 0.5: defective, red)")
    axes.set_ylabel("test accuracy (%)")
    axes.set_title(f"Published model through the Task Library: {100 * verified['accuracy']:.2f}% overall")
    return _png(figure)


@cli_main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.elpv.figures", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--runs", type=Path, default=RUNS, help="folder of the run files (default %(default)s)"
    )
    parser.add_argument(
        "--verified", type=Path, help="benchmarks.elpv.verify --out JSON of the published model"
    )
    parser.add_argument("--out", type=Path, help="folder for the PNGs (default: the runs folder's parent)")
    args = parser.parse_args(argv)
    records = [json.loads(p.read_text()) for p in sorted(args.runs.glob("*.json"))]
    if not records:
        raise UserError(f"{args.runs}: no run files; run python -m benchmarks.elpv.sweep run first")
    out = args.out or args.runs.parent
    out.mkdir(parents=True, exist_ok=True)
    written = [atomic_write_bytes(out / "accuracy_vs_time.png", accuracy_vs_time(records))]
    if args.verified:
        written.append(
            atomic_write_bytes(
                out / "accuracy_by_probability.png",
                accuracy_by_probability(json.loads(args.verified.read_text())),
            )
        )
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
