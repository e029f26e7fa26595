"""The top of the benchmark report: title, command, machine, load warning and the headline figures."""

from __future__ import annotations

from collections.abc import Mapping

from benchmarks.instruments.markdown import fmt


def header(results: Mapping) -> str:
    """Title, command, dates, machine and the load warning."""
    machine = results["machine"]
    start, end = machine["load"], results.get("load_at_end") or {}
    cores = machine["usable_cores"]
    libraries = ", ".join(f"{k} {v}" for k, v in machine["libraries"].items() if v)
    busy = max(x for x in (start.get("loadavg_1m"), end.get("loadavg_1m"), 0.0) if x is not None)
    warning = (
        f"**The machine was loaded**: 1-minute load average {fmt(start.get('loadavg_1m'))} at the start and "
        f"{fmt(end.get('loadavg_1m'))} at the end on {cores} cores (other jobs were running), so latencies are "
        "pessimistic and noisier than on a quiet machine; re-run the command above on an idle machine for "
        "reference figures."
        if busy >= 0.5 * cores
        else f"The machine was quiet: 1-minute load average {fmt(start.get('loadavg_1m'))} at the start and "
        f"{fmt(end.get('loadavg_1m'))} at the end on {cores} cores."
    )
    lines = [
        f"# Benchmark report: {results['name']}",
        "",
        f"Made by `{results['command']}` from {results['started']} to {results.get('finished', '?')} "
        f"({fmt(results.get('duration_s'), 0)} s){' — quick run: fewer models, runs and rounds' if results.get('quick') else ''}.",
        "",
        f"- CPU: {machine['cpu_model']} ({machine['machine']}), {machine['logical_cpus']} logical CPUs, "
        f"{cores} usable; SIMD: {', '.join(machine['simd_flags']) or 'none of interest'}",
        f"- OS: {machine['os']}, kernel {machine['kernel']}; {machine['python']}; memory {fmt(machine['memory_mb'], 0)} MB",
        f"- Libraries: {libraries}",
        f"- Load: start `{start.get('uptime')}`; end `{end.get('uptime')}`",
        "",
        warning,
    ]
    return "\n".join(lines)


def glance(results: Mapping) -> str:
    """A few sentences with the headline figures of each section that ran."""
    lines = []
    for row in results.get("mobilenet_table") or []:
        if row["avg_ms"] is not None:
            pixel4 = (
                f", Pixel 4 {fmt(row['published_pixel4_ms'], 1)} ms" if row["published_pixel4_ms"] else ""
            )
            lines.append(
                f"- {row['name']}: {fmt(row['avg_ms'])} ms mean at {row['threads']} threads here vs "
                f"Pixel 3 {fmt(row['published_pixel3_ms'], 1)} ms{pixel4} (×{fmt(row['ratio_vs_pixel3'])}); "
                f"{fmt(row['size_mb'])} MB vs {fmt(row['published_size_mb'], 1)} MB; "
                f"{fmt(row['gmacs_per_s'], 0)} GMAC/s."
            )
    for run in results.get("peers") or []:
        ratios = [
            f"{name} ×{fmt(peer['p50_vs_floor'])}"
            for name, peer in run["peers"].items()
            if "p50_vs_floor" in peer
        ]
        lines.append(f"- Per 640x480 frame on {run['name']}, p50 against bare invoke(): {', '.join(ratios)}.")
    camera = results.get("camera_loop") or {}
    if camera.get("runs"):
        clean = sorted({r["model"] for r in camera["runs"] if r.get("summary", {}).get("missed") == 0})
        lines.append(
            f"- Camera loop at 30 fps: {len(clean)} of {len({r['model'] for r in camera['runs']})} models had a "
            f"setting with no frame over the 33 ms budget ({', '.join(clean) or 'none'})."
        )
    for pair in (results.get("float_vs_int8") or {}).get("table_pairs", []):
        lines.append(
            f"- int8 vs float32, {pair['architecture']}: speed-up ×{fmt(pair['int8_speedup'])}, "
            f"size ×{fmt(pair['int8_size_ratio'])}."
        )
    return "## At a glance\n\n" + ("\n".join(lines) if lines else "_Nothing was measured._")
