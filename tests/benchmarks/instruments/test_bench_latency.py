"""The benchmark_model-style runner and the MAC counter on the conftest tiny models (structure, no timings)."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.instruments.isolated import measure_in_child
from benchmarks.instruments.latency import (
    LatencyOptions,
    interleaved_latency,
    measure_latency,
    seeded_input,
    thread_counts,
)
from benchmarks.instruments.macs import count_macs, keras_macs
from edge_runtime.errors import ParameterError

FAST = LatencyOptions(min_runs=5, min_seconds=0.0, warmup_runs=2, warmup_seconds=0.0)

# The tiny model by hand: conv 3x3x3->8 on 32x32 (valid: 30x30 out), pool to 15x15, conv 3x3x8->16
# (13x13 out), global average pool, dense 16->3.
TINY_MACS = 30 * 30 * 8 * (3 * 3 * 3) + 13 * 13 * 16 * (3 * 3 * 8) + 16 * 3


def _check_result(result, path, threads, dtype):
    stats = result.stats
    assert result.model == str(path)
    assert result.size_bytes == path.stat().st_size
    assert result.threads == threads
    assert result.backend == "ai_edge_litert"
    assert result.input_shape == (1, 32, 32, 3)
    assert result.input_dtype == dtype
    assert result.init_ms > 0 and result.first_ms > 0
    assert result.warmup_runs >= 2 and result.warmup_avg_ms > 0
    assert stats.count >= 5
    assert 0 < stats.min_ms <= stats.p50_ms <= stats.p95_ms <= stats.p99_ms <= stats.max_ms
    assert stats.min_ms <= stats.avg_ms <= stats.max_ms
    assert result.rss_peak_mb > 0
    if result.rss_baseline_mb is not None:
        assert result.rss_delta_mb == pytest.approx(result.rss_peak_mb - result.rss_baseline_mb)
        assert result.rss_peak_mb >= result.rss_baseline_mb


@pytest.mark.parametrize("mode", ["float32", "uint8", "int8"])
def test_each_tiny_model_gets_every_figure(tiny_tflite, mode):
    result = measure_latency(tiny_tflite[mode], 1, FAST)
    _check_result(result, tiny_tflite[mode], 1, mode)
    data = result.to_json()
    assert data["input_shape"] == [1, 32, 32, 3]
    assert set(data["stats"]) == {
        "count",
        "avg_ms",
        "std_ms",
        "min_ms",
        "max_ms",
        "p50_ms",
        "p95_ms",
        "p99_ms",
    }


def test_run_count_and_duration_minimums_are_both_honoured(tiny_tflite):
    by_runs = measure_latency(
        tiny_tflite["uint8"], 1, LatencyOptions(min_runs=40, min_seconds=0.0, warmup_runs=0)
    )
    assert by_runs.stats.count >= 40
    assert by_runs.warmup_runs == 0
    by_time = measure_latency(
        tiny_tflite["uint8"], 1, LatencyOptions(min_runs=1, min_seconds=0.2, warmup_runs=0)
    )
    # One run is far shorter than 0.2 s, so the duration minimum keeps it running past min_runs.
    assert by_time.stats.count > 10


def test_child_process_measures_every_thread_count(tiny_tflite):
    results = measure_in_child(tiny_tflite["int8"], [1, 2], FAST)
    assert [r["threads"] for r in results] == [1, 2]
    for r in results:
        assert r["input_dtype"] == "int8"
        assert r["stats"]["count"] >= 5
        assert r["rss_peak_scope"] in ("model", "process")


def test_seeded_input_is_repeatable_and_covers_the_type_range():
    a = seeded_input((1, 64, 64, 3), np.uint8, 0)
    assert np.array_equal(a, seeded_input((1, 64, 64, 3), np.uint8, 0))
    assert not np.array_equal(a, seeded_input((1, 64, 64, 3), np.uint8, 1))
    assert (a.min(), a.max()) == (0, 255)
    signed = seeded_input((1, 64, 64, 3), np.int8, 0)
    assert (signed.min(), signed.max()) == (-128, 127)
    floats = seeded_input((1, 8, 8, 3), np.float32, 0)
    assert floats.dtype == np.float32 and floats.min() >= 0.0 and floats.max() <= 255.0


def test_bad_options_and_missing_models_say_what_to_fix(tmp_path):
    with pytest.raises(ParameterError, match="^min_runs=0: must be 1 or more$"):
        LatencyOptions(min_runs=0)
    with pytest.raises(ParameterError, match="^warmup_seconds=-1.0: must be 0 or more$"):
        LatencyOptions(warmup_seconds=-1.0)
    with pytest.raises(FileNotFoundError, match="model file not found"):
        measure_latency(tmp_path / "absent.tflite", 1, FAST)


def test_interleaved_latency_gives_each_model_its_median(tiny_tflite):
    medians = interleaved_latency(
        {"a": tiny_tflite["uint8"], "b": tiny_tflite["float32"]}, 1, rounds=3, runs=2
    )
    assert set(medians) == {"a", "b"} and all(value > 0 for value in medians.values())
    with pytest.raises(ParameterError, match="^rounds=0: must be 1 or more$"):
        interleaved_latency({"a": tiny_tflite["uint8"]}, 1, rounds=0)


def test_thread_counts_go_from_one_to_the_cores():
    assert thread_counts(4) == [1, 2, 3, 4]
    assert thread_counts(1) == [1]
    assert thread_counts(0) == [1]


@pytest.mark.parametrize("mode", ["float32", "uint8"])
def test_macs_of_the_tiny_model_match_the_hand_count(tiny_tflite, mode):
    macs = count_macs(tiny_tflite[mode])
    assert macs.total == TINY_MACS
    assert macs.by_op == {"CONV_2D": TINY_MACS - 48, "FULLY_CONNECTED": 48}
    assert "MEAN" in macs.uncounted_ops or "AVERAGE_POOL_2D" in macs.uncounted_ops


def test_keras_layers_give_the_same_macs(tiny_keras):
    import keras

    assert keras_macs(keras.saving.load_model(tiny_keras)) == TINY_MACS
