"""/metrics: the Prometheus text exposition format 0.0.4, from a LiveView snapshot and the process's own counters."""

from __future__ import annotations

import math
import os

from edge_runtime.camera.serve.live import Buckets, ModelInfo, Snapshot

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PREFIX = "edge_runtime_camera_"


def _value(number: float) -> str:
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    return repr(int(number)) if float(number).is_integer() and abs(number) < 2**53 else repr(float(number))


def _escape(text: str) -> str:
    """A label value: backslash, double quote and line feed escaped."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(pairs: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs.items()) + "}" if pairs else ""


class _Exposition:
    """Collects metric families: a # HELP and a # TYPE line, then the samples."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(
        self, name: str, kind: str, help_text: str, samples: list[tuple[dict[str, str], float]]
    ) -> None:
        self.lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
        self.lines += [f"{name}{_labels(labels)} {_value(value)}" for labels, value in samples]

    def histogram(self, name: str, help_text: str, buckets: Buckets) -> None:
        self.lines += [f"# HELP {name} {help_text}", f"# TYPE {name} histogram"]
        for bound, count in buckets.cumulative():
            self.lines.append(f'{name}_bucket{{le="{_value(bound)}"}} {count}')
        self.lines += [f"{name}_sum {_value(buckets.sum)}", f"{name}_count {buckets.count}"]

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def resident_bytes() -> int | None:
    """This process's resident memory, from /proc/self/statm (Linux); None elsewhere."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def render(snapshot: Snapshot, model: ModelInfo, viewers: int, started_wall: float) -> str:
    """The exposition text of every metric."""
    out, s, c = _Exposition(), snapshot, snapshot.counts
    for name, value, what in (
        ("frames_captured_total", c.captured, "Frames read from the source."),
        ("frames_processed_total", c.processed, "Frames classified."),
        (
            "frames_dropped_total",
            c.dropped,
            "Frames skipped because a newer one arrived before a worker was free.",
        ),
        ("frames_missed_total", s.missed, "Results later than the budget after capture (deadline misses)."),
        ("frames_ambiguous_total", s.ambiguous, "Results too spread over the classes to trust."),
        ("results_unclassified_total", s.unclassified, "Results with no class above the threshold."),
    ):
        out.family(PREFIX + name, "counter", what, [({}, value)])
    causes = [({"cause": cause}, n) for cause, n in s.miss_causes.items()]
    out.family(
        PREFIX + "frames_missed_by_cause_total", "counter", "Deadline misses by what made them late.", causes
    )
    per_class = [
        ({"class_id": str(cid), "label": label}, n) for (cid, label), n in sorted(s.per_class.items())
    ]
    out.family(PREFIX + "results_total", "counter", "Results by their top class.", per_class)
    out.histogram(PREFIX + "latency_seconds", "Capture to result.", s.latency)
    out.histogram(PREFIX + "inference_seconds", "invoke() alone.", s.inference)
    width, height = model.input_size
    info = {
        "model": model.name,
        "input": f"{width}x{height}",
        "input_dtype": model.input_dtype,
        "classes": str(len(model.labels)),
        "backend": model.backend,
        "delegate": model.delegate,
        "workers": str(model.workers),
    }
    gauges = (
        ("fps", s.fps, f"Results a second over the last {2:g} s.", {}),
        ("budget_seconds", model.budget_ms / 1000.0, "The deadline after capture.", {}),
        ("model_info", 1, "The model and how it runs, as labels.", info),
        ("stream_clients", viewers, "Open /stream.mjpg connections.", {}),
    )
    for name, value, what, labels in gauges:
        out.family(PREFIX + name, "gauge", what, [(labels, value)])
    if s.last_result_wall is not None:
        out.family(
            PREFIX + "last_result_timestamp_seconds", "gauge", "Unix time of the newest result.",
            [({}, s.last_result_wall)],
        )  # fmt: skip
    times = os.times()
    out.family("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
               [({}, times.user + times.system)])  # fmt: skip
    rss = resident_bytes()
    if rss is not None:
        out.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", [({}, rss)])
    out.family(
        PREFIX + "start_time_seconds", "gauge", "Unix time the web view started.", [({}, started_wall)]
    )
    return out.text()
