"""Joins measured MobileNet figures with the published table: latency, size and MAC ratios, GMAC/s."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from benchmarks.instruments.markdown import fmt, md_table
from benchmarks.instruments.roofline import gmacs_per_second
from benchmarks.instruments.stats import ratio
from benchmarks.suite.table_models import TableModel

TOP1_NOTE = (
    "Top-1 is NOT reproduced: the models are built with weights=None (random weights, no ImageNet), "
    "which does not change latency or size but makes accuracy meaningless; the published top-1 is shown "
    "for reference only."
)


def latency_at(results: Sequence[Mapping], threads: int | None = None) -> Mapping | None:
    """The latency result at `threads`, or at the most threads measured when None; None if absent."""
    if not results:
        return None
    if threads is None:
        return max(results, key=lambda r: r["threads"])
    return next((r for r in results if r["threads"] == threads), None)


def join_row(
    model: TableModel, measured: Mapping | None, probe_gmacs: Mapping[str, float] | None = None
) -> dict:
    """One table row: published figures beside measured ones, with measured/published ratios.

    Args:
      model: The published row.
      measured: {'size_bytes', 'macs', 'latency': [LatencyResult.to_json() per thread count]},
        or None when the model was not measured.
      probe_gmacs: The probe's GMAC/s ceiling by quantization ('int8', 'float32') for the same
        thread budget.

    Returns:
      JSON-ready row. Latency ratios compare the mean at the most threads measured with the
      Pixel figures (benchmark_model's average; below 1: faster here). GMAC/s is MACs over the
      median run. Size is in MB of 10^6 bytes.
    """
    measured = measured or {}
    results = measured.get("latency") or []
    best = latency_at(results)
    single = latency_at(results, 1)
    avg = best["stats"]["avg_ms"] if best else None
    size_mb = measured["size_bytes"] / 1e6 if measured.get("size_bytes") else None
    macs = measured.get("macs")
    gmacs = gmacs_per_second(macs, best["stats"]["p50_ms"] if best else None)
    ceiling = (probe_gmacs or {}).get(model.quantize)
    return {
        "name": model.name,
        "quantize": model.quantize,
        "threads": best["threads"] if best else None,
        "avg_ms": avg,
        "p50_ms": best["stats"]["p50_ms"] if best else None,
        "p99_ms": best["stats"]["p99_ms"] if best else None,
        "avg_ms_1_thread": single["stats"]["avg_ms"] if single else None,
        "published_pixel3_ms": model.pixel3_ms,
        "ratio_vs_pixel3": ratio(avg, model.pixel3_ms),
        "published_pixel4_ms": model.pixel4_ms,
        "ratio_vs_pixel4": ratio(avg, model.pixel4_ms),
        "size_bytes": measured.get("size_bytes"),
        "size_mb": size_mb,
        "published_size_mb": model.size_mb,
        "size_ratio": ratio(size_mb, model.size_mb),
        "published_top1": model.top1,
        "top1": None,
        "macs": macs,
        "published_macs": int(model.macs_millions * 1e6),
        "macs_ratio": ratio(macs, model.macs_millions * 1e6),
        "gmacs_per_s": gmacs,
        "probe_gmacs_per_s": ceiling,
        "fraction_of_probe": ratio(gmacs, ceiling),
    }


def join_table(
    models: Sequence[TableModel],
    measured: Mapping[str, Mapping],
    probe_gmacs: Mapping[str, float] | None = None,
) -> list[dict]:
    """`join_row` for every published model, in table order (unmeasured models keep None cells)."""
    return [join_row(model, measured.get(model.name), probe_gmacs) for model in models]


def markdown(rows: Sequence[Mapping]) -> str:
    """The side-by-side table as Markdown, followed by the top-1 note."""
    headers = [
        "model",
        "threads",
        "mean ms",
        "p50 ms",
        "Pixel 3 ms",
        "ratio",
        "Pixel 4 ms",
        "ratio",
        "size MB",
        "published MB",
        "ratio",
        "MACs M",
        "GMAC/s",
        "of probe",
        "published top-1",
    ]
    body = [
        [
            row["name"],
            fmt(row["threads"]),
            fmt(row["avg_ms"]),
            fmt(row["p50_ms"]),
            fmt(row["published_pixel3_ms"], 1),
            fmt(row["ratio_vs_pixel3"], 2, "×"),
            fmt(row["published_pixel4_ms"], 1),
            fmt(row["ratio_vs_pixel4"], 2, "×"),
            fmt(row["size_mb"]),
            fmt(row["published_size_mb"], 1),
            fmt(row["size_ratio"], 2, "×"),
            fmt(row["macs"] / 1e6 if row["macs"] else None, 0),
            fmt(row["gmacs_per_s"], 1),
            fmt(100 * row["fraction_of_probe"] if row["fraction_of_probe"] else None, 0, "%"),
            fmt(row["published_top1"], 1, "% (not reproduced)"),
        ]
        for row in rows
    ]
    return md_table(headers, body) + "\n\n" + TOP1_NOTE
