"""Peers take turns: every round runs each peer once, the order rotating; the option dataclasses name bad parameters."""

from __future__ import annotations

import json

import pytest

from benchmarks.plan.models import RegistryOptions
from benchmarks.suite.peers import PeerOptions, _interleave
from benchmarks.suite.run import SECTIONS, RunOptions
from edge_runtime.errors import ParameterError


def test_rounds_rotate_the_peer_order_after_a_warm_up_on_every_frame():
    calls: list[tuple[str, int, int]] = []

    def runner(name):
        def run(count: int, start: int):
            calls.append((name, count, start))
            return [1.0] * count, 0.0, 0.001

        return run

    options = PeerOptions(rounds=3, calls_per_round=4, frames=7)
    lines: list[str] = []
    collected = _interleave({n: runner(n) for n in ("a", "b", "c")}, options, lines.append)
    warm_up, rounds = calls[:3], calls[3:]
    assert warm_up == [("a", 7, 0), ("b", 7, 0), ("c", 7, 0)]
    assert [name for name, _, _ in rounds] == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    assert {start for name, _, start in rounds if name == "a"} == {0, 4, 8}
    assert all(count == 4 for _, count, _ in rounds)
    assert {name: len(entry["times"]) for name, entry in collected.items()} == {"a": 12, "b": 12, "c": 12}
    assert len(lines) == 3 and lines[-1].startswith("  peers round 3/3")


def test_a_broken_clients_environment_is_reported_and_the_rest_still_timed(tiny_tflite):
    from benchmarks.suite.peers import run_peers

    options = PeerOptions(rounds=1, calls_per_round=2, frames=2, clients_python="/bin/false")
    result = run_peers(tiny_tflite["uint8"], options, progress=lambda line: None)
    peers = result["peers"]
    assert peers["task_library"]["skipped"].startswith("clients_timing.py exited 1")
    assert peers["mediapipe"]["skipped"] == peers["task_library"]["skipped"]
    assert peers["invoke_floor"]["stats"]["count"] == 2
    assert peers["edge_runtime"]["stats"]["count"] == 2
    assert result["frame_size"] == [640, 480]
    # The overhead is split inside edge_runtime's own calls: the warm-up pass is not counted, and
    # each call's own work plus its invoke() is the call's time (the timer's reads aside).
    edge = peers["edge_runtime"]
    assert edge["own_work_ms"]["count"] == edge["invoke_in_call_ms"]["count"] == 2
    assert edge["own_work_ms"]["min_ms"] > 0 and edge["invoke_in_call_ms"]["min_ms"] > 0
    assert edge["own_work_ms"]["min_ms"] + edge["invoke_in_call_ms"]["min_ms"] <= edge["stats"]["max_ms"]
    split = result["edge_runtime_overhead"]["split"]
    assert split["own_work_p50_ms"] == edge["own_work_ms"]["p50_ms"]
    floor = peers["invoke_floor"]["stats"]["p50_ms"]
    assert split["invoke_slowdown_p50_ms"] == pytest.approx(edge["invoke_in_call_ms"]["p50_ms"] - floor)


@pytest.mark.parametrize("mode", ["uint8", "int8"])
def test_the_invoke_timer_gives_classify_image_the_interpreter_itself(tiny_tflite, mode):
    # The timer must not add work of its own to edge_runtime's measured calls: what classify_image
    # reads of the interpreter per frame is the interpreter's own bound methods, found on the timer
    # without a forwarding __getattr__, and the results are the bare interpreter's.
    import numpy as np

    from benchmarks.suite.peers import InvokeTimer
    from edge_runtime.classify import classify_image
    from edge_runtime.interpreter import make_interpreter

    bare = make_interpreter(tiny_tflite[mode], num_threads=1)
    inner = make_interpreter(tiny_tflite[mode], num_threads=1)
    timer = InvokeTimer(inner)
    assert not hasattr(InvokeTimer, "__getattr__")
    assert timer.get_tensor.__self__ is inner and timer.tensor.__self__ is inner
    frame = np.random.default_rng(3).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    assert classify_image(timer, frame, top_k=2) == classify_image(bare, frame, top_k=2)
    assert timer.last_ns > 0


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: PeerOptions(calls_per_round=0), "calls_per_round=0: must be 1 or more"),
        (
            lambda: RunOptions(skip=("tables",)),
            "skip=tables: unknown section; choose from " + ",".join(SECTIONS),
        ),
        (lambda: RunOptions(calibration_images=0), "calibration_images=0: must be 1 or more"),
        (lambda: RegistryOptions(classes=1), "classes=1: need at least 2"),
    ],
)
def test_option_errors_name_the_parameter(make, message):
    with pytest.raises(ParameterError) as raised:
        make()
    assert str(raised.value) == message


def test_the_peers_command_takes_rounds_with_quick(tiny_tflite):
    from conftest import run_module

    args = ("benchmarks", "peers", str(tiny_tflite["uint8"]), "--clients-python", "/bin/false", "--quick")
    proc = run_module(*args, "--rounds", "2")
    assert "peers round 2/2" in proc.stderr and "round 3/" not in proc.stderr
    assert "peers round 3/3" in run_module(*args).stderr  # --quick's own 3 rounds otherwise
    printed = json.loads(proc.stdout)  # with the machine it ran on, as a suite run records it
    assert printed["command"].startswith("python -m benchmarks peers ") and printed["machine"]["cpu_model"]
    assert printed["edge_runtime_overhead"]["target_ms"] == 0.3


def test_a_full_run_times_the_peers_on_both_models_of_the_overhead_target():
    from benchmarks.suite.run import peer_models

    full = {n: {} for n in ("MobileNet_V1_1.0_224_quant", "MobileNet_V2_1.0_224_quant", "model_int8", "x")}
    assert peer_models(full) == ["MobileNet_V1_1.0_224_quant", "MobileNet_V2_1.0_224_quant", "model_int8"]
    quick = {n: {} for n in ("MobileNet_V1_0.25_128_quant", "model_int8")}  # --quick builds no V2
    assert peer_models(quick) == ["MobileNet_V1_0.25_128_quant", "model_int8"]


def test_the_peers_command_s_default_rounds_are_a_suite_run_s():
    from benchmarks.suite.cli import PEER_ROUNDS
    from benchmarks.suite.run import peer_options

    assert PEER_ROUNDS == PeerOptions().rounds == peer_options(False, None).rounds == 50
    assert peer_options(True, None).rounds == 3
