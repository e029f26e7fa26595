"""PNG charts of a results dict, drawn with matplotlib's object API (no pyplot, no global backend state)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path

from edge_runtime.files import atomic_write_bytes

DPI = 80


def _figure(width: float = 7.0, height: float = 3.8):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _plain_log_axis(axis) -> None:
    """Log-scale ticks at 1, 2, 5 x 10^n written as plain numbers (0.2, 1, 5, 20), no minor labels."""
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FormatStrFormatter("%g"))
    axis.set_minor_formatter(NullFormatter())


def _save(figure, path: Path) -> Path:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return atomic_write_bytes(path, buffer.getvalue())


def latency_vs_threads(models: Mapping[str, Mapping], path: Path) -> Path | None:
    """Median latency (log scale) against threads, one line per model; None when nothing was measured.

    The median, not the mean: on a shared machine a few preempted runs move the mean a lot.
    """
    measured = {name: entry["latency"] for name, entry in models.items() if entry.get("latency")}
    if not measured:
        return None
    figure = _figure()
    axes = figure.subplots()
    for name, results in measured.items():
        results = sorted(results, key=lambda r: r["threads"])
        axes.plot(
            [r["threads"] for r in results], [r["stats"]["p50_ms"] for r in results], marker="o", label=name
        )
    threads = sorted({r["threads"] for results in measured.values() for r in results})
    axes.set_xticks(threads)
    axes.set_yscale("log")
    _plain_log_axis(axes.yaxis)
    axes.set_xlabel("interpreter threads")
    axes.set_ylabel("p50 latency, ms (log)")
    axes.set_title("Latency vs threads")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return _save(figure, path)


def table_side_by_side(rows: Sequence[Mapping], path: Path) -> Path | None:
    """Measured mean beside the published Pixel 3 latency per MobileNet (log scale)."""
    rows = [row for row in rows if row.get("avg_ms") is not None]
    if not rows:
        return None
    figure = _figure()
    axes = figure.subplots()
    positions = range(len(rows))
    width = 0.4
    axes.bar(
        [p - width / 2 for p in positions],
        [r["published_pixel3_ms"] for r in rows],
        width,
        label="Pixel 3, 4 threads (published)",
    )
    threads = rows[0]["threads"]
    axes.bar(
        [p + width / 2 for p in positions],
        [r["avg_ms"] for r in rows],
        width,
        label=f"this machine, {threads} threads",
    )
    axes.set_xticks(
        list(positions),
        [r["name"].replace("MobileNet_", "").replace("_quant", "\nquant") for r in rows],
        fontsize=7,
    )
    axes.set_yscale("log")
    _plain_log_axis(axes.yaxis)
    axes.set_ylabel("mean latency, ms (log)")
    axes.set_title("MobileNet table: published vs measured")
    axes.legend(fontsize=8)
    axes.grid(True, axis="y", which="both", alpha=0.3)
    return _save(figure, path)


def peers_chart(peer_runs: Sequence[Mapping], path: Path) -> Path | None:
    """p50 per call of each peer (bars) with p95 marks, one group per model."""
    runs = [run for run in peer_runs if any("stats" in p for p in run["peers"].values())]
    if not runs:
        return None
    figure = _figure(7.0, 1.2 + 1.4 * len(runs))
    axes = figure.subplots(len(runs), 1, squeeze=False)[:, 0]
    for ax, run in zip(axes, runs, strict=True):
        peers = [(name, p["stats"]) for name, p in run["peers"].items() if "stats" in p]
        names = [name for name, _ in peers]
        ax.barh(names, [s["p50_ms"] for _, s in peers], color="tab:blue", label="p50")
        ax.plot([s["p95_ms"] for _, s in peers], names, "k|", markersize=12, label="p95")
        ax.invert_yaxis()
        ax.set_title(f"{run['name']}: ms per 640x480 frame", fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(True, axis="x", alpha=0.3)
    axes[0].legend(fontsize=7, loc="lower right")
    return _save(figure, path)


def float_vs_int8_chart(section: Mapping, path: Path) -> Path | None:
    """Size and mean latency, float32 beside int8: the default model when built, plus the MobileNet pairs."""
    groups = []
    models = section.get("models", {})
    if "model_float32" in models and "model_int8" in models:
        f32, i8 = models["model_float32"], models["model_int8"]
        groups.append(
            (
                "default model",
                f32.get("size_bytes"),
                i8.get("size_bytes"),
                f32.get("latency_avg_ms"),
                i8.get("latency_avg_ms"),
            )
        )
    for pair in section.get("table_pairs", []):
        groups.append(
            (
                pair["architecture"].replace("MobileNet_", ""),
                pair["float32_size_bytes"],
                pair["int8_size_bytes"],
                pair["float32_avg_ms"],
                pair["int8_avg_ms"],
            )
        )
    groups = [g for g in groups if None not in g[1:]]
    if not groups:
        return None
    figure = _figure()
    size_ax, time_ax = figure.subplots(1, 2)
    positions = range(len(groups))
    width = 0.38
    for ax, (f_index, title, scale) in (
        (size_ax, (1, "size, MB", 1e6)),
        (time_ax, (3, "mean latency, ms", 1.0)),
    ):
        ax.bar(
            [p - width / 2 for p in positions], [g[f_index] / scale for g in groups], width, label="float32"
        )
        ax.bar(
            [p + width / 2 for p in positions], [g[f_index + 1] / scale for g in groups], width, label="int8"
        )
        ax.set_xticks(list(positions), [g[0] for g in groups], fontsize=7)
        ax.set_title(title, fontsize=9)
        ax.grid(True, axis="y", alpha=0.3)
    size_ax.legend(fontsize=8)
    figure.suptitle("float32 vs int8", fontsize=10)
    return _save(figure, path)


def histogram_chart(
    panels: Mapping[str, Mapping[str, Sequence[float]]], path: Path, title: str
) -> Path | None:
    """Per-frame latency histograms: one panel per model, one step line per setting; None without samples."""
    import numpy as np

    panels = {name: {k: v for k, v in series.items() if len(v)} for name, series in panels.items()}
    panels = {name: series for name, series in panels.items() if series}
    if not panels:
        return None
    columns = min(3, len(panels))
    rows = -(-len(panels) // columns)
    figure = _figure(3.0 * columns + 0.5, 2.4 * rows + 0.6)
    grid = figure.subplots(rows, columns, squeeze=False)
    for ax, (name, series) in zip(grid.flat, panels.items(), strict=False):
        top = max(40.0, max(float(np.percentile(v, 99.5)) for v in series.values()) * 1.05)
        bins = np.linspace(0.0, top, 50)
        for label, values in series.items():
            ax.hist(np.minimum(values, top), bins=bins, histtype="step", label=label)
        ax.axvline(33.3, color="red", linestyle="--", linewidth=1)
        ax.set_title(name, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(grid.flat)[len(panels) :]:
        ax.set_visible(False)
    grid[0, 0].legend(fontsize=6)
    figure.supxlabel("capture-to-result latency, ms (red: 33 ms budget)", fontsize=8)
    figure.suptitle(title, fontsize=10)
    return _save(figure, path)
