"""int8 or float on this CPU: each int8 candidate against its float siblings, timed here, with the CPU's int8 features.

Users deploy int8 for speed, but only CPUs with int8 dot-product instructions (x86 VNNI or AMX, Arm's
dot-product extension) run it faster than float; on AVX2-only x86 or a Raspberry Pi 4's Cortex-A72
int8 mostly saves size. The advice names what this CPU has and what the timing showed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks.plan.measure import PlanOptions, latency_options


def this_cpu():
    """`edge_runtime.doctor.cpu.CpuInfo` of this machine (from /proc/cpuinfo; 'unknown' elsewhere)."""
    from edge_runtime.doctor.cpu import parse_cpuinfo

    try:
        return parse_cpuinfo(Path("/proc/cpuinfo").read_text())
    except OSError:
        return parse_cpuinfo("")


def compare_precisions(
    rows: Sequence[dict], options: PlanOptions, threads: int, log: Callable[[str], None], cpu=None
) -> list[dict]:
    """For each measured int8 candidate with a float model beside it (model_float32/float16.tflite), the advice.

    A sibling that is not itself a candidate is timed here the same way (benchmark_model's runs).

    Returns:
      One dict per (int8, float) pair: names, p50s, sizes and the advice sentence.
    """
    from benchmarks.instruments.latency import measure_latency
    from edge_runtime.doctor.measure import float_siblings, int8_advice

    cpu = cpu or this_cpu()
    by_path = {row.get("path"): row for row in rows if row.get("p50_ms") is not None}
    pairs = []
    for row in rows:
        if row.get("p50_ms") is None or not row.get("path"):
            continue
        for sibling in float_siblings(Path(row["path"])):
            other = by_path.get(str(sibling))
            if other is not None:
                float_ms, float_bytes = other["p50_ms"], other["size_bytes"]
            else:
                log(f"measuring {sibling.name} beside {row['name']} (int8 or float here)")
                result = measure_latency(sibling, threads, latency_options(options))
                float_ms, float_bytes = result.stats.p50_ms, result.size_bytes
            pairs.append({
                "int8": row["name"], "float": sibling.name,
                "int8_p50_ms": row["p50_ms"], "float_p50_ms": float_ms,
                "int8_bytes": row["size_bytes"], "float_bytes": float_bytes,
                "advice": int8_advice(cpu, row["name"], row["p50_ms"], row["size_bytes"], sibling.name, float_ms, float_bytes),
            })  # fmt: skip
    return pairs


def cpu_facts(cpu) -> dict:
    """The CPU's model and features, as the plan records them."""
    return {"arch": cpu.arch, "model": cpu.model, "features": list(cpu.features)}
