"""The report's camera-loop section: the camera benchmark's deadline runs on the run's models, as a table."""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.instruments.markdown import fmt, md_table


def run_camera_loop(models: dict[str, dict], options, progress: Callable[[str], None]) -> dict:
    """Runs the camera benchmark's deadline runs (benchmarks.camera) on the run's image models.

    Args:
      models: The models measured in this run (name -> entry with 'path' and 'kind').
      options: The RunOptions (quick, seed).
      progress: Progress printer.
    """
    from benchmarks.camera.deadline import run_for_report

    # The probes are not image models anyone would put behind a camera.
    chosen = {name: entry for name, entry in models.items() if entry.get("kind") != "probe"}
    return run_for_report(chosen, quick=options.quick, seed=options.seed, progress=progress)


def _label(run: dict) -> str:
    return f"{run.get('workers', '?')} worker(s) x {run.get('threads', '?')} thread(s)"


def camera_series(section: dict) -> dict[str, dict[str, list[float]]]:
    """Per-frame latencies (capture to result, ms) by model, then by workers/threads; {} when absent."""
    panels: dict[str, dict[str, list[float]]] = {}
    for run in section.get("runs", []) if isinstance(section, dict) else []:
        if run.get("latencies_ms"):
            panels.setdefault(str(run.get("model", "?")), {})[_label(run)] = list(run["latencies_ms"])
    return panels


def camera_markdown(section: dict | None, chart_files: dict[str, str]) -> str:
    """The camera-loop section of the report: one row per model and worker setting."""
    title = "## Camera loop (640x480, 30 fps, 33 ms budget)"
    if not section:
        return f"{title}\n\n_Skipped in this run._"
    rows = []
    for run in section.get("runs", []):
        s = run.get("summary", {})
        latency, inference = s.get("latency_ms", {}), s.get("inference_ms", {})
        rows.append(
            [
                run.get("model", "?"),
                _label(run),
                s.get("captured"),
                s.get("processed"),
                s.get("dropped"),
                s.get("missed"),
                fmt(s.get("fps"), 1),
                fmt(latency.get("p50"), 1),
                fmt(latency.get("p95"), 1),
                fmt(latency.get("p99"), 1),
                fmt(inference.get("p50"), 1),
                fmt(run.get("steal_percent"), 1, "%"),
                ", ".join(f"{c} {n}" for c, n in s.get("miss_causes", {}).items() if n) or "-",
            ]
        )
    headers = ["model", "workers", "captured", "processed", "dropped", "missed 33 ms", "fps"]
    headers += ["latency p50", "p95", "p99", "invoke p50", "steal", "misses by cause"]
    text = [
        title,
        "",
        f"edge_runtime's threaded loop (benchmarks/camera/deadline.py) on {section.get('video', 'a video')}, "
        f"paced at its frame rate; budget {section.get('budget_ms', 33.0)} ms from capture to result. "
        "Latencies in ms. 'dropped': frames the loop skipped because the workers were busy; "
        "'missed': processed frames whose result came after the budget; 'misses by cause': what made each late "
        "(edge_runtime.camera.stats.MISS_CAUSES). 'steal': CPU time the hypervisor "
        "gave to other guests during the run (a virtual machine's misses often come from it).",
        "",
        md_table(headers, rows, align="ll" + "r" * 10 + "l") if rows else "_No run._",
    ]
    text += _side_by_side_table(section)
    if "camera_loop" in chart_files:
        text.append(f"\n![camera loop latency histogram]({chart_files['camera_loop']})")
    return "\n".join(text)


def _side_by_side_table(section: dict) -> list[str]:
    """Each model's 1-worker loop beside bare invoke() paced alone on as many threads, same run."""
    pairs = section.get("side_by_side") or []
    if not pairs:
        return []
    rows = [
        [
            p["model"],
            p["threads"],
            p["frames"],
            p["loop_missed"],
            ", ".join(f"{c} {n}" for c, n in p.get("loop_miss_causes", {}).items() if n) or "-",
            f"{p['bare_over_budget']} of {p['bare_invokes']}",
            "meets" if p["meets"] else "**misses**",
        ]
        for p in pairs
    ]
    headers = ["model", "threads", "frames", "loop missed", "by cause", "bare invoke() over budget"]
    return [
        "",
        "The floor beside each model's 1-worker loop: bare `invoke()` alone, paced at 30 per second on as many "
        "threads, in the same run (a frame whose `invoke()` alone overruns misses whatever the loop does). "
        "Target: the loop misses nothing whenever bare `invoke()` overran nothing.",
        "",
        md_table([*headers, "target"], rows, align="lrrrlrl"),
    ]
