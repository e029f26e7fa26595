"""Latency statistics on known samples, and the measured/published ratio."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks.instruments.stats import ratio, summarize


def test_summary_of_1_to_100_matches_the_formulas():
    stats = summarize(np.arange(1, 101, dtype=float))
    assert stats.count == 100
    assert stats.avg_ms == pytest.approx(50.5)
    # Population standard deviation of 1..n is sqrt((n^2 - 1) / 12).
    assert stats.std_ms == pytest.approx(math.sqrt((100**2 - 1) / 12))
    assert (stats.min_ms, stats.max_ms) == (1.0, 100.0)
    # Linear interpolation: the p-th percentile sits at rank 1 + p/100 * (n - 1).
    assert stats.p50_ms == pytest.approx(50.5)
    assert stats.p95_ms == pytest.approx(95.05)
    assert stats.p99_ms == pytest.approx(99.01)


def test_tail_percentiles_see_a_rare_slow_run():
    samples = [2.0] * 98 + [50.0, 60.0]
    stats = summarize(samples)
    assert stats.p50_ms == 2.0
    assert stats.p95_ms == 2.0
    assert stats.p99_ms == pytest.approx(50.0 + 0.01 * 10.0)
    assert stats.max_ms == 60.0
    assert stats.avg_ms == pytest.approx((98 * 2 + 110) / 100)


def test_one_sample_has_no_spread():
    stats = summarize([3.5])
    assert (stats.count, stats.avg_ms, stats.std_ms, stats.p50_ms, stats.p99_ms) == (1, 3.5, 0.0, 3.5, 3.5)


@pytest.mark.parametrize(
    ("samples", "message"),
    [([], "no latency samples"), ([1.0, -0.5], "finite and not negative"), ([1.0, float("nan")], "finite")],
)
def test_bad_samples_are_refused(samples, message):
    with pytest.raises(ValueError, match=message):
        summarize(samples)


def test_ratio_is_measured_over_reference_and_none_when_undefined():
    assert ratio(6.5, 13.0) == pytest.approx(0.5)
    assert ratio(None, 13.0) is None
    assert ratio(6.5, None) is None
    assert ratio(6.5, 0.0) is None
