"""The camera benchmark's Markdown report: machine and load, then each measurement beside the issue's target."""

from __future__ import annotations

from benchmarks.camera.deadline import side_by_side

TARGETS = {
    "per_frame_ratio": 1.10,  # end to end within 10% of bare invoke
    "task_library_speedup": 1.5,
    "misses": 0,
    "rss_growth_mb": 5.0,
}


def _ms(stats: dict) -> str:
    """A LatencyStats dict as 'p50 / p95 / p99 (mean)'."""
    return (
        f"{stats['p50_ms']:.2f} / {stats['p95_ms']:.2f} / {stats['p99_ms']:.2f} (mean {stats['avg_ms']:.2f})"
    )


def _loadavg(load: dict) -> str:
    """The 1, 5 and 15-minute load averages of a benchmarks.instruments.machine.load()."""
    return ", ".join(f"{load[key]:.2f}" for key in ("loadavg_1m", "loadavg_5m", "loadavg_15m"))


def _verdict(ok: bool) -> str:
    return "meets" if ok else "**misses**"


def _per_frame(pf: dict) -> list[str]:
    """One per-frame section: a thread count's table and verdicts."""
    lines = [
        f"### {pf['threads']} interpreter thread(s)",
        "",
        f"{pf['frames']} frames x {pf['rounds']} interleaved rounds (load after: `{pf['load']['uptime']}`).",
        "",
        "| path | ms p50 / p95 / p99 |",
        "| --- | --- |",
        f"| bare `invoke()` | {_ms(pf['invoke'])} |",
        f"| edge_runtime end to end (640x480 BGR frame -> top-3) | {_ms(pf['end_to_end'])} |",
        f"| of which preprocessing (resize, BGR->RGB, input copy) | {_ms(pf['preprocess'])} |",
        f"| of which `invoke()` (right after preprocessing) | {_ms(pf['invoke_in_end_to_end'])} |",
        f"| of which top-k (dequantize, sort, labels) | {_ms(pf['top_k'])} |",
        f"| end to end with OpenCV's fractional area filter instead (reference only) | {_ms(pf['area_filter'])} |",
    ]
    if "task_library_classify" in pf:
        lines += [
            f"| Task Library `classify()` (RGB frame) | {_ms(pf['task_library_classify'])} |",
            f"| Task Library with `TensorImage.create_from_array` | {_ms(pf['task_library_with_tensor_image'])} |",
        ]
    lines += [
        "",
        f"- End to end / bare invoke: {pf['ratio_median']:.3f} (medians), {pf['ratio_mean']:.3f} (means); "
        f"target <= {TARGETS['per_frame_ratio']:.2f}: {_verdict(pf['ratio_median'] <= TARGETS['per_frame_ratio'])}. "
        f"With OpenCV's fractional area filter: {pf['area_filter_ratio_median']:.3f}.",
    ]
    if "task_library_speedup_median" in pf:
        speedup = pf["task_library_speedup_median"]
        lines.append(
            f"- Task Library classify() / edge_runtime end to end: {speedup:.2f}x (medians), "
            f"{pf['task_library_speedup_mean']:.2f}x (means); target >= {TARGETS['task_library_speedup']}x: "
            f"{_verdict(speedup >= TARGETS['task_library_speedup'])}."
        )
    else:
        lines.append(f"- Task Library not measured: {pf['task_library_missing']}.")
    return lines + [""]


def _paced(runs: list[dict]) -> list[str]:
    """The floor for misses: bare invoke() alone at 30 per second, how often it alone overran the budget."""
    if not runs:
        return []
    lines = [
        "",
        "The floor: bare `invoke()` alone, 30 times a second (no capture, preprocessing or loop; a frame "
        "whose `invoke()` alone overruns the budget misses whatever the loop does):",
        "",
        "| threads | invokes | ms p50 / p95 / p99 / max | over 33 ms | steal |",
        "| --- | --- | --- | --- | --- |",
    ]
    for run in runs:
        ms, steal = run["invoke_ms"], run["steal_percent"]
        lines.append(
            f"| {run['threads']} | {run['frames']} | {ms['p50_ms']:.2f} / {ms['p95_ms']:.2f} / {ms['p99_ms']:.2f} / "
            f"{ms['max_ms']:.2f} | {run['over_budget']} | {'?' if steal is None else f'{steal:.1f}%'} |"
        )
    return lines


def _side_by_side(r: dict) -> list[str]:
    pair = side_by_side(r)
    if pair is None:
        return []
    causes = ", ".join(f"{c} {n}" for c, n in pair["loop_miss_causes"].items() if n) or "none"
    if pair["bare_over_budget"]:
        verdict = "bare invoke() itself overran, so the target does not bind in this run"
    else:
        verdict = _verdict(pair["loop_missed"] == 0)
    return [
        "",
        f"Side by side, same run, {pair['threads']} thread(s): the loop missed {pair['loop_missed']} of "
        f"{pair['frames']} frames (by cause: {causes}; dropped {pair['loop_dropped']}); bare `invoke()` "
        f"paced alone overran {pair['bare_over_budget']} of {pair['bare_invokes']}. Target (0 misses "
        f"whenever bare invoke() has 0): {verdict}.",
    ]


def _serve(cost: dict | None) -> list[str]:
    """The web view's cost (benchmarks.camera.serve_cost), when measured."""
    if not cost:
        return []
    from benchmarks.camera.serve_cost import summary_lines

    return ["", "## With the web view (`--serve`) and one viewer", "", *summary_lines(cost)]


def markdown(r: dict) -> str:
    """The report: machine, load, then each measurement beside the issue's target."""
    m = r["machine"]
    libs = ", ".join(f"{k} {v}" for k, v in m["libraries"].items() if v)
    lines = [
        "# Camera loop benchmark",
        "",
        f"Command: `{r['command']}` (from the repository root).",
        "",
        f"Machine: {m['cpu_model']} ({' '.join(m['simd_flags'])}), {m['logical_cpus']} cores "
        f"({m['usable_cores']} usable), {m['machine']}, {m['os']}, {m['python']}; {libs}. TensorFlow built the model in a child process; the measuring process "
        f"loaded it: {r['tensorflow_loaded_while_measuring']}.",
        "",
        f"Load: start `{r['load_start']['uptime']}`, end `{r['load_end']['uptime']}`.",
        "",
        f"Model: MobileNetV2-1.0-224 (train's registry mobilenet_v2, weights=None, 2 classes) taking raw pixels, "
        f"full int8 with uint8 I/O by convert.converter.convert ({r['model']['calibration_images']} ELPV calibration "
        f"images), {r['model']['size_bytes'] / 1e6:.2f} MB with metadata. Frames: a 640x480 30 fps MPEG-4 "
        "video of real ELPV cells. Milliseconds as p50 / p95 / p99.",
        "",
        "## Per frame: end to end vs bare invoke() vs the Task Library",
        "",
    ]
    for pf in r["per_frame"]:
        lines += _per_frame(pf)
    lines += [
        "## 30 fps input, 33 ms budget",
        "",
        "| workers x threads | priority | captured | processed | dropped | missed | fps "
        "| latency p50 / p95 / p99 / max | steal | load |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    done = [run for run in r["deadline_runs"] if "skipped" not in run]
    notes = []
    for run in r["deadline_runs"]:
        if "skipped" in run:
            notes.append(f"- {run['workers']} x {run['threads']} realtime not run: {run['skipped']}")
            continue
        s, lat = run["summary"], run["summary"]["latency_ms"]
        steal = run.get("steal_percent")
        lines.append(
            f"| {run['workers']} x {run['threads']} | {run.get('priority', 'normal')} | {s['captured']} | "
            f"{s['processed']} | {s['dropped']} | {s['missed']} | {s['fps']:.1f} | {lat['p50']:.1f} / "
            f"{lat['p95']:.1f} / {lat['p99']:.1f} / {lat['max']:.1f} | "
            f"{'?' if steal is None else f'{steal:.1f}%'} | {_loadavg(run['load'])} |"
        )
        causes = {c: n for c, n in s.get("miss_causes", {}).items() if n}
        if causes:
            notes.append(
                f"- {run['workers']} x {run['threads']} {run.get('priority', 'normal')}: misses by cause: "
                + ", ".join(f"{c} {n}" for c, n in causes.items())
            )
        if s.get("gc_collections"):
            total, longest = s["gc_pause_ms"]
            notes.append(
                f"- {run['workers']} x {run['threads']} {run.get('priority', 'normal')}: {s['gc_collections']} "
                f"garbage collections, {total:.1f} ms in all, longest {longest:.1f} ms"
            )
        if run.get("misses"):
            missed = ", ".join(f"{m['latency_ms']:.1f} ({m['invoke_ms']:.1f})" for m in run["misses"][:10])
            notes.append(
                f"- {run['workers']} x {run['threads']} {run.get('priority', 'normal')}: missed frames' latency "
                f"(of which invoke), ms: {missed}{' ...' if len(run['misses']) > 10 else ''}"
            )
    best = min(run["summary"]["missed"] for run in done)
    mem = r["memory"]
    samples = mem["rss_mb"]["samples"]
    baseline = samples[0][1] if samples else mem["rss_mb"]["before"]
    growth = mem["rss_mb"]["after"] - baseline
    lines += [
        "",
        "Steal: the share of CPU time the hypervisor gave to other guests during the run (from "
        "/proc/stat; 0 on bare metal such as a Raspberry Pi). Priority: `--priority` of the camera CLI "
        "(realtime = SCHED_FIFO 10, set before the interpreters so their threads inherit it).",
        "",
        *notes,
        *([""] if notes else []),
        f"Target: zero deadline misses: {_verdict(best == TARGETS['misses'])} "
        f"(fewest misses of the configurations: {best}).",
        *_paced(r.get("paced_invoke", [])),
        *_side_by_side(r),
        *_serve(r.get("serve")),
        "",
        "## Resident memory",
        "",
        f"{mem['summary']['captured']} frames at 30 fps (the video looped), {mem['workers']} worker x "
        f"{mem['threads']} threads: RSS {mem['rss_mb']['before']:.1f} MB before the loop, {baseline:.1f} MB "
        f"after the first 500 results, {mem['rss_mb']['after']:.1f} MB at the end: growth {growth:+.2f} MB; "
        f"target < {TARGETS['rss_growth_mb']:g} MB: {_verdict(growth < TARGETS['rss_growth_mb'])}. "
        f"Samples (frame, MB) every 500 results: {', '.join(f'({f}, {v:.1f})' for f, v in samples)}.",
        "",
    ]
    return "\n".join(lines)
