"""The Markdown sections of the benchmark report, one function each, from the results dict."""

from __future__ import annotations

from collections.abc import Mapping

from benchmarks.instruments.markdown import fmt, md_table
from benchmarks.instruments.roofline import PROBE_DESCRIPTION
from benchmarks.suite import mobilenet_table
from benchmarks.suite.table_models import PUBLISHED_SOURCE


def _image(charts: Mapping[str, str], key: str, alt: str) -> str:
    return f"\n\n![{alt}]({charts[key]})" if key in charts else ""


def latency(results: Mapping, charts: Mapping[str, str]) -> str:
    """Every model at every thread count, benchmark_model's figures."""
    settings = results["settings"]["latency"]
    rows = []
    for name, entry in results["models"].items():
        for r in entry.get("latency") or []:
            s = r["stats"]
            rows.append(
                [
                    name,
                    r["threads"],
                    fmt(r["size_bytes"] / 1e6),
                    fmt(r["init_ms"], 1),
                    fmt(r["first_ms"]),
                    fmt(r["warmup_avg_ms"]),
                    s["count"],
                    fmt(s["avg_ms"]),
                    fmt(s["std_ms"]),
                    fmt(s["min_ms"]),
                    fmt(s["max_ms"]),
                    fmt(s["p50_ms"]),
                    fmt(s["p95_ms"]),
                    fmt(s["p99_ms"]),
                    f"{fmt(r['rss_peak_mb'], 0)} (+{fmt(r['rss_delta_mb'], 0)})",
                    fmt(r.get("gmacs_per_s"), 1),
                ]
            )
    headers = [
        "model",
        "thr",
        "file MB",
        "init ms",
        "first ms",
        "warm-up ms",
        "runs",
        "mean",
        "std",
        "min",
        "max",
        "p50",
        "p95",
        "p99",
        "peak RSS MB (+model)",
        "GMAC/s",
    ]
    text = [
        "## Latency (like TFLite's benchmark_model)",
        "",
        f"Each model in a fresh process, per thread count, the best of {results['settings'].get('repeats', 1)} "
        "repeat(s) by mean (the models take turns, so a burst of load hits one repeat of each; every repeat's "
        "mean is in the JSON): init (interpreter + allocate), first inference, "
        f"warm-up (≥{settings['warmup_runs']} run, ≥{settings['warmup_seconds']} s), then ≥{settings['min_runs']} timed "
        f"runs and ≥{settings['min_seconds']} s on one seeded random input (seed {settings['seed']}). Times in ms. "
        "Peak RSS is the process's resident peak while the model was loaded and run, with the part the model "
        "added in brackets. GMAC/s = MACs (counted from the .tflite's conv/fully-connected ops) / p50 latency.",
        "",
        md_table(headers, rows) if rows else "_No model was measured._",
    ]
    return "\n".join(text) + _image(charts, "latency_threads", "latency vs threads")


def table(results: Mapping, charts: Mapping[str, str]) -> str:
    """The MobileNet table beside the published one, and the probe's ceiling."""
    rows = results.get("mobilenet_table") or []
    if not rows:
        return "## The MobileNet table\n\n_Skipped in this run._"
    calibration = next(
        (m.get("calibration") for m in results["models"].values() if m.get("calibration")), None
    )
    probe = results.get("probe_gmacs_per_s") or {}
    probe_rows = [[q, *[fmt(v, 1) for _, v in sorted(by.items())]] for q, by in probe.items()]
    threads = sorted({t for by in probe.values() for t in by}, key=int)
    text = [
        "## The MobileNet table, side by side",
        "",
        "Architectures of the TFLite hosted-models table, built with keras.applications (weights=None) behind a "
        "Rescaling layer so they take raw 0..255 pixels like our models, converted by our convert stage "
        "(int8 with uint8 I/O for the _quant rows, float32 otherwise), and measured here at the most threads "
        f"this machine has. Ratio = measured mean / published (below 1: faster here). Published: {PUBLISHED_SOURCE}. "
        "Sizes in MB of 10^6 bytes, the converted flatbuffer without metadata.",
        "",
        f"int8 calibration images: {calibration or 'none (no int8 model built)'}.",
        "",
        mobilenet_table.markdown(rows),
    ]
    if probe_rows:
        text += [
            "",
            f"GMAC/s ceiling, measured with a compute-bound probe ({PROBE_DESCRIPTION}, "
            "converted the same way), from its fastest run (the best case; on a quiet "
            "machine close to its median). 'of probe' above is "
            "each model's GMAC/s (MACs / p50) as a share of the probe's best with at most as many threads and "
            "the same quantization: how far the model is from what this machine and runtime can do.",
            "",
            md_table(["probe", *[f"{t} thr GMAC/s" for t in threads]], probe_rows),
        ]
    return "\n".join(text) + _image(charts, "table", "MobileNet table, published vs measured")


def peers(results: Mapping, charts: Mapping[str, str]) -> str:
    """Bare invoke, edge_runtime, Task Library and MediaPipe on the same frames."""
    runs = results.get("peers") or []
    if not runs:
        return "## Peer runtimes\n\n_Skipped in this run._"
    text = ["## Peer runtimes, same model and frames, interleaved", ""]
    for run in runs:
        o = run["options"]
        text += [
            f"### {run['name']}",
            "",
            f"{o['rounds']} rounds × {o['calls_per_round']} calls per peer, the peer order rotating each round; "
            f"{o['frames']} frames of 640x480 ({run['frames']}); {o['threads']} interpreter thread(s) for the floor, "
            "edge_runtime and the Task Library (MediaPipe's Python API sets none: see its CPU use). "
            "Ratio = p50 / the floor's p50. CPU cores busy = process CPU time / wall time during the calls.",
            "",
        ]
        rows = []
        for name, p in run["peers"].items():
            if "stats" not in p:
                rows.append([name, "–", "–", "–", "–", "–", "–", f"skipped: {p['skipped']}"])
                continue
            s = p["stats"]
            rows.append(
                [
                    name,
                    fmt(s["p50_ms"]),
                    fmt(s["p95_ms"]),
                    fmt(s["p99_ms"]),
                    fmt(s["avg_ms"]),
                    fmt(p["p50_vs_floor"], 2, "×"),
                    fmt(p["cpu_cores_busy"], 2),
                    p["description"],
                ]
            )
        text.append(
            md_table(
                [
                    "peer",
                    "p50 ms",
                    "p95 ms",
                    "p99 ms",
                    "mean ms",
                    "vs floor",
                    "CPU cores busy",
                    "what is timed",
                ],
                rows,
                align="lrrrrrrl",
            )
        )
        text += _overhead_verdict(run.get("edge_runtime_overhead"))
        text.append("")
    return "\n".join(text).rstrip() + _image(charts, "peers", "peers")


def _overhead_verdict(verdict: Mapping | None) -> list[str]:
    """edge_runtime's p50 over bare invoke() against its targets: at most 0.3 ms and a third of the best peer's."""
    if not verdict:
        return []
    line = f"edge_runtime over bare invoke(): {fmt(verdict['p50_ms'], 3)} ms p50"
    split = verdict.get("split")
    if split:
        own, slower = fmt(split["own_work_p50_ms"], 3), fmt(split["invoke_slowdown_p50_ms"], 3)
        line += f" (own work {own} ms, invoke() slower by {slower} ms)"
    line += f"; target {fmt(verdict.get('target_ms'), 1)} ms: " + _met(verdict.get("meets_absolute"))
    best = verdict.get("best_peer")
    if best:
        line += f"; best peer {best['name']} {fmt(best['p50_ms'], 3)} ms over it, a third of that: "
        line += _met(verdict.get("meets_third_of_best_peer"))
    return ["", line + "."]


def _met(met: bool | None) -> str:
    return "meets" if met else "**misses**"


def float_vs_int8(results: Mapping, charts: Mapping[str, str]) -> str:
    """Accuracy, size and speed of float32 vs int8: the default model, then the MobileNet pairs."""
    section = results.get("float_vs_int8")
    if not section:
        return "## Float vs int8\n\n_Skipped in this run._"
    text = ["## Float vs int8", ""]
    if section["models"]:
        rows = [
            [
                name,
                fmt(100 * m["accuracy"] if m["accuracy"] is not None else None, 2, "%"),
                fmt(m["size_bytes"] / 1e6 if m["size_bytes"] else None, 3),
                fmt(m["latency_avg_ms"]),
            ]
            for name, m in section["models"].items()
        ]
        text += [
            f"The default model (build/), {section.get('test_images', '?')} test images:",
            "",
            md_table(["model", "accuracy", "size MB", "mean ms"], rows),
            "",
            f"int8: size ×{fmt(section['int8_size_ratio'])}, speed-up ×{fmt(section['int8_speedup'])}, "
            f"accuracy drop {fmt(section.get('int8_accuracy_drop_points'))} points.",
        ]
    for missing in section["missing"]:
        text.append(f"- Missing: {missing}")
    pairs = section.get("table_pairs") or []
    if pairs:
        rows = [
            [
                p["architecture"],
                fmt(p["float32_size_bytes"] / 1e6),
                fmt(p["int8_size_bytes"] / 1e6),
                fmt(p["int8_size_ratio"], 2, "×"),
                fmt(p["float32_avg_ms"]),
                fmt(p["int8_avg_ms"]),
                fmt(p["int8_speedup"], 2, "×"),
            ]
            for p in pairs
        ]
        text += [
            "",
            "Same architecture, float32 vs int8, from the MobileNet table (size and speed only: random weights):",
            "",
            md_table(
                ["architecture", "float32 MB", "int8 MB", "size", "float32 ms", "int8 ms", "speed-up"], rows
            ),
        ]
    precision = section.get("precision") or {}
    if precision.get("advice"):
        cpu = precision["cpu"]
        text += [
            "",
            f"Which to deploy on this CPU ({cpu['model']}, {cpu['arch']}), from the mean times above, as "
            "`python -m benchmarks plan` and `python -m edge_runtime doctor --measure` advise:",
            "",
            *(f"- {entry['int8']} vs {entry['float']}: {entry['advice']}" for entry in precision["advice"]),
        ]
    return "\n".join(text) + _image(charts, "float_vs_int8", "float32 vs int8")
