"""`doctor --measure MODEL`: times the int8 model and its float sibling on this device, and says which to deploy here.

Light by design: WARMUP_RUNS untimed invokes, then MEASURE_RUNS timed ones (each phase cut off after
MAX_SECONDS), with the runtime's default threads, through `edge_runtime.timing.time_invokes`, the one
invoke timer the benchmarks use. The input is all zeros: XNNPACK's time does not depend on the values.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from edge_runtime.doctor.check import FAIL, INFO, OK, Check

WARMUP_RUNS = 10
MEASURE_RUNS = 200
MAX_SECONDS = 10.0
# Closer than this, the two models run at the same speed as far as a deployment decision goes.
SAME_SPEED = 0.10


@dataclass(frozen=True)
class Timing:
    """One model's median invoke time here."""

    path: Path
    size_bytes: int
    p50_ms: float
    runs: int
    threads: int


def float_siblings(model: Path) -> list[Path]:
    """The float models convert writes beside an int8 one: model_float32.tflite, model_float16.tflite."""
    if "int8" not in model.stem:
        return []
    names = (model.stem.replace("int8", kind) + model.suffix for kind in ("float32", "float16"))
    return [model.with_name(name) for name in names if model.with_name(name).is_file()]


def time_model(path: Path, threads: int) -> Timing:
    """Median `invoke()` time of the model at PATH with THREADS threads, on an all-zero input."""
    import numpy as np

    from edge_runtime.interpreter import make_interpreter
    from edge_runtime.timing import time_invokes

    interpreter = make_interpreter(path, num_threads=threads)
    for detail in interpreter.get_input_details():
        interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], detail["dtype"]))
    times = time_invokes(interpreter, MEASURE_RUNS, warmup_runs=WARMUP_RUNS, max_seconds=MAX_SECONDS)
    return Timing(path, path.stat().st_size, statistics.median(times.runs_ms), len(times.runs_ms), threads)


def int8_advice(
    cpu, int8_name: str, int8_ms: float, int8_bytes: int, float_name: str, float_ms: float, float_bytes: int
) -> str:
    """Which model to deploy on this CPU and why: the measured medians, read against the CPU's int8 features.

    Args:
      cpu: `edge_runtime.doctor.cpu.CpuInfo` of this machine (x86 VNNI/AMX, Arm dot product).
      int8_name, int8_ms, int8_bytes: The int8 model, its median invoke time and its size.
      float_name, float_ms, float_bytes: The same for its float sibling.
    """
    from edge_runtime.doctor.cpu import ARM_INT8_DOT, X86_INT8_DOT

    dot = [f for f in (X86_INT8_DOT if cpu.arch == "x86" else ARM_INT8_DOT) if f in cpu.features]
    if dot:
        why = f"{cpu.model} has int8 dot-product instructions ({', '.join(dot)}), where int8 is expected to be faster"
    elif cpu.arch in ("x86", "arm"):
        missing = "VNNI" if cpu.arch == "x86" else "dot-product extension (asimddp)"
        why = f"{cpu.model} has no {missing}, so int8 is expected to save size more than time"
    else:
        why = f"{cpu.model}: int8 features unknown"
    speed, smaller = float_ms / int8_ms, float_bytes / int8_bytes
    measured = f"measured {int8_name} {int8_ms:.3g} ms vs {float_name} {float_ms:.3g} ms"
    if speed >= 1 + SAME_SPEED:
        choice = f"deploy {int8_name}: {speed:.2g}x faster and {smaller:.2g}x smaller"
    elif speed > 1 - SAME_SPEED:
        choice = f"deploy {int8_name}: as fast (within {SAME_SPEED:.0%}) and {smaller:.2g}x smaller"
    else:
        choice = (
            f"{float_name} is {1 / speed:.2g}x faster here: deploy it if its {float_bytes / 1e6:.1f} MB fit; "
            f"{int8_name} only for size or the Edge TPU"
        )
    surprise = (
        "; not what the features predict (measure again on an idle machine)"
        if (dot and speed < 1 - SAME_SPEED)
        else ""
    )
    return f"{why}; {measured}: {choice}{surprise}"


def check_integrity(model: Path) -> Check:
    """The model's sha256 against the model_card.json convert wrote beside it (as `--verify` does)."""
    from edge_runtime.errors import UserError
    from edge_runtime.model_verify import CARD_JSON, verify_against_card

    if not (model.parent / CARD_JSON).is_file():
        return Check("model card", INFO, f"no {CARD_JSON} beside {model.name}: its integrity is not checked")
    try:
        return Check("model card", OK, verify_against_card(model).removeprefix("verified: "))
    except UserError as err:
        return Check("model card", FAIL, str(err), "copy the model and its model_card.json again")


def _describe(t: Timing) -> str:
    return f"{t.path.name} p50 {t.p50_ms:.3g} ms ({t.size_bytes / 1e6:.1f} MB, {t.runs} runs)"


def check_measure(int8: Timing, floats: Sequence[Timing], cpu=None) -> Check:
    """Which model to deploy on this device, from the measured medians and the CPU's int8 features.

    int8 wins when it is faster, or about as fast (within SAME_SPEED) since it is smaller; a float model
    wins when it is clearly faster and its size fits the device (see `int8_advice`).
    """
    facts = {
        "threads": int8.threads,
        "models": [
            {"path": str(t.path), "size_bytes": t.size_bytes, "p50_ms": round(t.p50_ms, 4), "runs": t.runs}
            for t in (int8, *floats)
        ],
    }
    measured = ", ".join(_describe(t) for t in (int8, *floats)) + f"; {int8.threads} threads"
    if not floats:
        return Check(
            "measure",
            INFO,
            f"{measured}; no float model beside it to compare",
            "pass the float model: --measure-float build/tflite/model_float32.tflite",
            facts,
        )
    from edge_runtime.doctor.cpu import parse_cpuinfo

    best = min(floats, key=lambda t: t.p50_ms)
    verdict = int8_advice(
        cpu or parse_cpuinfo(""), int8.path.name, int8.p50_ms, int8.size_bytes,
        best.path.name, best.p50_ms, best.size_bytes,
    )  # fmt: skip
    facts["decision"] = verdict
    return Check("measure", OK, f"{measured}: {verdict}", facts=facts)
