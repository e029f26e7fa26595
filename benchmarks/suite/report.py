"""Writes a run's results: NAME.json, PNG charts, and the Markdown report that shows them."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path

from benchmarks.instruments.paths import relative_paths
from benchmarks.suite import charts, headline, sections
from benchmarks.suite.camera_section import camera_markdown, camera_series
from edge_runtime.files import atomic_write_text

REPORT_NAME = "REPORT.md"


def _clean(value):
    """JSON has no NaN or infinity: they become null (strict parsers reject them)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def draw_charts(results: Mapping, out_dir: Path) -> dict[str, str]:
    """Draws every chart the results have data for; returns {key: file name in out_dir}."""
    name = results["name"]
    made = {
        "latency_threads": charts.latency_vs_threads(
            results.get("models", {}), out_dir / f"{name}_latency_threads.png"
        ),
        "table": charts.table_side_by_side(
            results.get("mobilenet_table") or [], out_dir / f"{name}_mobilenet_table.png"
        ),
        "peers": charts.peers_chart(results.get("peers") or [], out_dir / f"{name}_peers.png"),
        "float_vs_int8": charts.float_vs_int8_chart(
            results.get("float_vs_int8") or {}, out_dir / f"{name}_float_vs_int8.png"
        ),
        "camera_loop": charts.histogram_chart(
            camera_series(results.get("camera_loop") or {}),
            out_dir / f"{name}_camera_loop_hist.png",
            "Camera loop: per-frame latency",
        ),
    }
    return {key: path.name for key, path in made.items() if path is not None}


def render_markdown(results: Mapping, chart_files: Mapping[str, str]) -> str:
    """The whole report as Markdown."""
    parts = [
        headline.header(results),
        headline.glance(results),
        sections.table(results, chart_files),
        sections.latency(results, chart_files),
        sections.peers(results, chart_files),
        camera_markdown(results.get("camera_loop"), chart_files),
        sections.float_vs_int8(results, chart_files),
        f"## Raw data\n\nEverything above, and more (per-op MACs, memory, settings), is in `{results['name']}.json`.",
    ]
    return "\n\n".join(parts) + "\n"


def write_report(
    results: Mapping, out_dir: str | os.PathLike, report_name: str = REPORT_NAME
) -> dict[str, Path]:
    """Writes NAME.json, the charts and the Markdown report into `out_dir`, each atomically.

    Paths in them are written relative to the repository (benchmarks.instruments.paths).

    Returns:
      {'json': path, 'markdown': path, <chart key>: path, ...}.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    chart_files = draw_charts(results, out)
    # Committed results hold no absolute path of the machine that made them.
    results = relative_paths({**results, "charts": chart_files})
    paths = {"json": out / f"{results['name']}.json", "markdown": out / report_name}
    atomic_write_text(paths["json"], json.dumps(_clean(results), indent=1, allow_nan=False) + "\n")
    atomic_write_text(paths["markdown"], render_markdown(results, chart_files))
    paths.update({key: out / name for key, name in chart_files.items()})
    return paths
