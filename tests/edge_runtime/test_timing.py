"""edge_runtime.timing.time_invokes on a counting stand-in and the real interpreter: warm-up kept out, minimums honoured."""

from __future__ import annotations

import pytest

from edge_runtime.errors import ParameterError
from edge_runtime.timing import time_invokes


class CountingInterpreter:
    """Counts invoke() calls; nothing else of the interpreter is needed to time it."""

    def __init__(self) -> None:
        self.calls = 0

    def invoke(self) -> None:
        self.calls += 1


def test_warm_up_runs_first_and_stays_out_of_the_timed_runs():
    interpreter = CountingInterpreter()
    times = time_invokes(interpreter, 5, warmup_runs=3)
    assert (len(times.warmup_ms), len(times.runs_ms), interpreter.calls) == (3, 5, 8)
    assert all(ms >= 0 for ms in times.warmup_ms + times.runs_ms)


def test_the_duration_minimum_keeps_timing_past_the_run_minimum():
    times = time_invokes(CountingInterpreter(), 1, min_seconds=0.02)
    assert len(times.runs_ms) > 1 and times.warmup_ms == ()


def test_max_seconds_stops_a_phase_before_its_minimums():
    times = time_invokes(CountingInterpreter(), 10**9, max_seconds=0.01)
    assert 1 <= len(times.runs_ms) < 10**9


def test_the_real_interpreter_is_timed(tiny_tflite):
    from edge_runtime.interpreter import make_interpreter

    times = time_invokes(make_interpreter(tiny_tflite["uint8"]), 3, warmup_runs=1)
    assert len(times.runs_ms) == 3 and min(times.runs_ms) > 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_runs": 0}, "min_runs=0: must be 1 or more"),
        ({"warmup_runs": -1}, "warmup_runs=-1: must be 0 or more"),
        ({"min_seconds": -0.5}, "min_seconds=-0.5: must be 0 or more"),
        ({"max_seconds": 0.0}, "max_seconds=0.0: must be more than 0"),
    ],
)
def test_bad_counts_name_the_parameter(kwargs, message):
    with pytest.raises(ParameterError) as raised:
        time_invokes(CountingInterpreter(), **kwargs)
    assert str(raised.value) == message
