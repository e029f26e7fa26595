"""edge_runtime.timing.time_invokes on the real interpreter: warm-up kept out, minimums and the cut-off honoured."""

from __future__ import annotations

import pytest

from edge_runtime.errors import ParameterError
from edge_runtime.timing import time_invokes


@pytest.fixture(scope="module")
def interpreter(tiny_tflite):
    from edge_runtime.interpreter import make_interpreter

    return make_interpreter(tiny_tflite["uint8"], num_threads=1)


def test_warm_up_runs_first_and_stays_out_of_the_timed_runs(interpreter):
    times = time_invokes(interpreter, 5, warmup_runs=3)
    assert (len(times.warmup_ms), len(times.runs_ms)) == (3, 5)
    assert min(times.warmup_ms + times.runs_ms) > 0


def test_the_duration_minimum_keeps_timing_past_the_run_minimum(interpreter):
    times = time_invokes(interpreter, 1, min_seconds=0.02)
    assert len(times.runs_ms) > 1 and sum(times.runs_ms) > 0 and times.warmup_ms == ()


def test_max_seconds_stops_a_phase_before_its_minimums(interpreter):
    times = time_invokes(interpreter, 10**9, max_seconds=0.01)
    assert 1 <= len(times.runs_ms) < 10**9


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_runs": 0}, "min_runs=0: must be 1 or more"),
        ({"warmup_runs": -1}, "warmup_runs=-1: must be 0 or more"),
        ({"min_seconds": -0.5}, "min_seconds=-0.5: must be 0 or more"),
        ({"max_seconds": 0.0}, "max_seconds=0.0: must be more than 0"),
    ],
)
def test_bad_counts_name_the_parameter(interpreter, kwargs, message):
    with pytest.raises(ParameterError) as raised:
        time_invokes(interpreter, **kwargs)
    assert str(raised.value) == message
