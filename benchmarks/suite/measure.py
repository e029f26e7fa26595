"""Measures a run's models: MACs, latency in child processes with the models taking turns, the probes' ceiling."""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.instruments.isolated import measure_in_child
from benchmarks.instruments.latency import LatencyOptions
from benchmarks.instruments.macs import count_macs
from benchmarks.instruments.roofline import gmacs_per_second

Progress = Callable[[str], None]


def best_of(repeats: list[list[dict]]) -> list[dict]:
    """Per thread count, the repeat with the lowest mean (as timeit keeps the best of its repeats).

    Each result gets 'repeat_means_ms', every repeat's mean, so the spread stays visible.

    Args:
      repeats: One list of LatencyResult dicts (one per thread count) per repeat.
    """
    by_threads: dict[int, list[dict]] = {}
    for results in repeats:
        for result in results:
            by_threads.setdefault(result["threads"], []).append(result)
    best = []
    for threads in sorted(by_threads):
        candidates = by_threads[threads]
        chosen = min(candidates, key=lambda r: r["stats"]["avg_ms"])
        best.append({**chosen, "repeat_means_ms": [r["stats"]["avg_ms"] for r in candidates]})
    return best


def measure_models(
    models: dict[str, dict], threads: list[int], latency: LatencyOptions, repeats: int, progress: Progress
) -> None:
    """Counts MACs and measures every model (each in a child process), in place.

    The models take turns, repeat after repeat, so a burst of load from other processes hits
    one repeat of each rather than every run of one model; the best repeat is kept.
    """
    runs: dict[str, list[list[dict]]] = {name: [] for name in models}
    for entry in models.values():
        macs = count_macs(entry["path"])
        entry.update(macs=macs.total, macs_by_op=macs.by_op)
    for repeat in range(1, repeats + 1):
        for index, (name, entry) in enumerate(models.items(), start=1):
            progress(f"latency repeat {repeat}/{repeats} ({index}/{len(models)}) {name}, threads {threads}")
            runs[name].append(measure_in_child(entry["path"], threads, latency))
    for name, entry in models.items():
        entry["latency"] = best_of(runs[name])
        for result in entry["latency"]:
            # The median run: on a shared machine preempted runs would drag a mean-based rate down.
            result["gmacs_per_s"] = gmacs_per_second(entry["macs"], result["stats"]["p50_ms"])


def probe_ceiling(models: dict[str, dict]) -> dict[str, dict[str, float]]:
    """The probes' GMAC/s by quantization and threads, from their fastest run: {'int8': {'1': 95.0}, ...}.

    The fastest run, not the median: a ceiling is the best the machine and runtime reach, and on
    a shared machine the fastest runs are the ones other jobs left alone (on a quiet machine the
    two are close).
    """
    by_quantization: dict[str, dict[str, float]] = {}
    for entry in models.values():
        if entry.get("kind") == "probe" and entry.get("latency"):
            by_quantization[entry["quantize"]] = {
                str(r["threads"]): gmacs_per_second(entry["macs"], r["stats"]["min_ms"])
                for r in entry["latency"]
            }
    return by_quantization
