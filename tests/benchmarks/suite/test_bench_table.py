"""The MobileNet table: published rows, joining measured figures, ratios, GMAC/s, the Markdown and float/int8 pairs."""

from __future__ import annotations

import pytest

from benchmarks.instruments.roofline import ceiling, gmacs_per_second
from benchmarks.suite.accuracy import table_pairs
from benchmarks.suite.mobilenet_table import TOP1_NOTE, join_row, join_table, latency_at, markdown
from benchmarks.suite.table_models import QUICK_MODELS, TABLE_MODELS, table_model


def _latency(threads: int, avg: float) -> dict:
    stats = {"avg_ms": avg, "p50_ms": avg * 0.9, "p99_ms": avg * 1.5}
    return {"threads": threads, "stats": stats}


def _measured(size_bytes: int, macs: int, by_threads: dict[int, float]) -> dict:
    return {
        "size_bytes": size_bytes,
        "macs": macs,
        "latency": [_latency(t, a) for t, a in by_threads.items()],
    }


def test_each_row_builds_the_model_its_name_says():
    # The table's names spell what was measured: MobileNet_V<version>_<alpha>_<size>[_quant].
    for row in TABLE_MODELS:
        version, alpha, size, *quant = row.name.removeprefix("MobileNet_V").split("_")
        assert (row.version, row.alpha, row.size) == (int(version), float(alpha), int(size)), row.name
        assert (row.quantize, row.registry) == (
            "int8" if quant == ["quant"] else "float32",
            f"mobilenet_v{version}",
        )
        assert table_model(row.name) is row
    assert set(QUICK_MODELS) <= {m.name for m in TABLE_MODELS}


def test_unknown_table_model_lists_the_names():
    with pytest.raises(ValueError, match="unknown table model 'MobileNet_V3'.*MobileNet_V1_1.0_224_quant"):
        table_model("MobileNet_V3")


def test_a_row_compares_the_most_threads_with_the_pixel_figures():
    model = table_model("MobileNet_V1_1.0_224_quant")
    row = join_row(
        model, _measured(4_530_000, 568_740_352, {1: 10.0, 2: 6.5}), {"int8": 200.0, "float32": 50.0}
    )
    assert row["threads"] == 2
    assert row["avg_ms"] == 6.5 and row["avg_ms_1_thread"] == 10.0
    assert row["ratio_vs_pixel3"] == pytest.approx(6.5 / 13.0)
    assert row["ratio_vs_pixel4"] == pytest.approx(6.5 / 5.0)
    assert row["size_mb"] == pytest.approx(4.53)
    assert row["size_ratio"] == pytest.approx(4.53 / 4.3)
    # GMAC/s from the median run (p50 = 0.9 * mean in these rows).
    assert row["gmacs_per_s"] == pytest.approx(568_740_352 / 5.85e-3 / 1e9)
    assert row["fraction_of_probe"] == pytest.approx(row["gmacs_per_s"] / 200.0)
    assert row["macs_ratio"] == pytest.approx(568_740_352 / 569e6)
    assert row["published_top1"] == 70.0 and row["top1"] is None


def test_an_unmeasured_row_keeps_the_published_figures_and_empty_cells():
    row = join_row(table_model("MobileNet_V2_1.0_224"), None)
    assert row["published_pixel3_ms"] == 17.5 and row["published_size_mb"] == 14.0
    assert row["avg_ms"] is None and row["ratio_vs_pixel3"] is None and row["gmacs_per_s"] is None
    assert row["ratio_vs_pixel4"] is None  # no Pixel 4 figure for this model


def test_the_table_keeps_published_order_and_the_markdown_says_top1_is_not_reproduced():
    measured = {
        "MobileNet_V1_1.0_224_quant": _measured(4_530_000, 568_740_352, {1: 10.0, 2: 6.5}),
        "MobileNet_V1_1.0_224": _measured(16_870_000, 568_740_352, {1: 30.0, 2: 18.0}),
    }
    rows = join_table(TABLE_MODELS, measured)
    assert [r["name"] for r in rows] == [m.name for m in TABLE_MODELS]
    text = markdown(rows)
    lines = text.splitlines()
    assert lines[0].startswith("| model | threads | mean ms |")
    assert len([line for line in lines if line.startswith("| MobileNet_")]) == 5
    assert (
        "| MobileNet_V1_1.0_224_quant | 2 | 6.50 | 5.85 | 13.0 | 0.50× | 5.0 | 1.30× | 4.53 | 4.3 | 1.05× |"
        in text
    )
    assert "70.0% (not reproduced)" in text
    assert TOP1_NOTE in text and "weights=None" in TOP1_NOTE


def test_float_and_int8_rows_of_one_architecture_pair_up():
    rows = join_table(
        TABLE_MODELS,
        {
            "MobileNet_V1_1.0_224_quant": _measured(4_500_000, 1, {2: 6.0}),
            "MobileNet_V1_1.0_224": _measured(16_800_000, 1, {2: 18.0}),
            "MobileNet_V2_1.0_224_quant": _measured(3_600_000, 1, {2: 5.0}),
        },
    )
    pairs = table_pairs(rows)
    assert [p["architecture"] for p in pairs] == ["MobileNet_V1_1.0_224"]  # V2 float was not measured
    assert pairs[0]["int8_speedup"] == pytest.approx(3.0)
    assert pairs[0]["int8_size_ratio"] == pytest.approx(4.5 / 16.8)


def test_latency_at_picks_the_thread_count():
    results = [_latency(1, 10.0), _latency(2, 6.0)]
    assert latency_at(results)["threads"] == 2
    assert latency_at(results, 1)["stats"]["avg_ms"] == 10.0
    assert latency_at(results, 4) is None
    assert latency_at([]) is None


def test_gmacs_per_second():
    assert gmacs_per_second(1_000_000_000, 10.0) == pytest.approx(100.0)
    assert gmacs_per_second(None, 10.0) is None
    assert gmacs_per_second(1, 0.0) is None


@pytest.mark.slow
def test_the_smallest_architecture_has_the_published_macs():
    from benchmarks.instruments.macs import keras_macs
    from benchmarks.instruments.reference import registry_keras

    row = table_model("MobileNet_V1_0.25_128_quant")
    model = registry_keras(row.registry, row.size, row.alpha, classes=1000)
    assert model.inputs[0].shape[1:] == (128, 128, 3)
    assert model.outputs[0].shape[-1] == 1000
    assert keras_macs(model) == pytest.approx(14e6, rel=0.05)


def test_the_ceiling_is_the_best_probe_within_the_thread_budget():
    probe = {"1": 100.0, "2": 90.0, "4": 300.0}  # two threads slower than one: a busy machine
    assert ceiling(probe, 1) == 100.0
    assert ceiling(probe, 2) == 100.0
    assert ceiling(probe, 4) == 300.0
    assert ceiling({}, 2) is None


def test_the_probe_ceiling_comes_from_its_fastest_run():
    from benchmarks.suite.measure import probe_ceiling

    run = {"threads": 2, "stats": {"min_ms": 2.0, "p50_ms": 4.0}}
    models = {
        "peak_probe_int8": {"kind": "probe", "quantize": "int8", "macs": 400_000_000, "latency": [run]},
        "MobileNet_V1_1.0_224_quant": {"kind": "table", "quantize": "int8", "macs": 1, "latency": [run]},
    }
    assert probe_ceiling(models) == {"int8": {"2": pytest.approx(200.0)}}


def test_best_of_repeats_keeps_the_lowest_mean_per_thread_count():
    from benchmarks.suite.measure import best_of

    repeats = [
        [_latency(1, 10.0), _latency(2, 9.0)],
        [_latency(1, 8.0), _latency(2, 30.0)],
        [_latency(2, 7.0)],
    ]
    best = best_of(repeats)
    assert [(r["threads"], r["stats"]["avg_ms"]) for r in best] == [(1, 8.0), (2, 7.0)]
    assert best[0]["repeat_means_ms"] == [10.0, 8.0]
    assert best[1]["repeat_means_ms"] == [9.0, 30.0, 7.0]
