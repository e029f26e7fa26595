"""Renders the model card (model_card.json's dict) as MODEL_CARD.md."""

from __future__ import annotations


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}%"


def _size(size: int) -> str:
    return f"{size / 1024:.1f} KiB ({size:,} bytes)"


def _tensor(spec: dict) -> str:
    text = f"`{spec['shape']}` {spec['dtype']}"
    if "scale" in spec:
        text += f", scale {spec['scale']:.6g}, zero point {spec['zero_point']}"
    return text


def _latency(runs: list[dict]) -> str:
    if not runs:
        return "not measured"
    parts = [f"{r['threads']} thread{'s' if r['threads'] > 1 else ''}: {r['median_ms']:.3f} ms" for r in runs]
    first = runs[0]
    return f"{', '.join(parts)} (median of {first['runs']} invokes after {first['warmup']} warm-up)"


def _top_k_and_confidence_rows(acc: dict) -> list[str]:
    """Rows for top-5 accuracy (5+ classes) and the accuracy on confident results, when the card has them."""
    rows = []
    if "top5" in acc:
        top5 = acc["top5"]
        rows.append(
            f"| top-5 accuracy | {_pct(top5['converted'])} vs Keras float {_pct(top5['keras_float'])} |"
        )
    if "confident" in acc:
        c = acc["confident"]
        rows.append(
            f"| accuracy on confident results | {_pct(c['converted']['accuracy'])} with "
            f"{_pct(c['converted']['share_set_aside'])} set aside as ambiguous (Keras float: "
            f"{_pct(c['keras_float']['accuracy'])}, {_pct(c['keras_float']['share_set_aside'])} set aside); "
            f"ambiguous: top score below {c['ambiguous_below']:.2f} or margin below {c['min_margin']:.2f} |"
        )
    return rows


def _model_section(entry: dict, classes: list[str]) -> list[str]:
    acc = entry["accuracy"]
    inp, out = entry["input"], entry["output"]
    lines = [
        f"## {entry['file']}",
        "",
        "| | |",
        "| --- | --- |",
        f"| quantization | {entry['quantization']['mode']}: {entry['quantization']['description']}; "
        f"{entry['quantization']['io']} input and output |",
        f"| file size | {_size(entry['size_bytes'])} |",
        f"| sha256 | `{entry['sha256']}` |",
        f"| input | {_tensor(inp)}; {inp['color_space']}, {inp['pixels']} |",
        f"| output | {_tensor(out)}; {out['content']} |",
        f"| accuracy | {_pct(acc['converted'])} vs Keras float {_pct(acc['keras_float'])} on "
        f"{acc['test_images']} test images: drop {acc['drop_points']:.2f} points "
        f"(max {acc['max_drop_points']:.2f}), gate {acc['gate']} |",
        f"| top-1 agreement with Keras | {_pct(acc['top1_agreement_with_keras'])} |",
        *_top_k_and_confidence_rows(acc),
        f"| latency on this machine | {_latency(entry['latency_ms'])} |",
        f"| clients | {'; '.join(entry['clients'])} |",
        f"| Edge TPU | {entry['edge_tpu']['summary']} |",
    ]
    if "calibration_images" in entry:
        lines.append(f"| calibration | {entry['calibration_images']} training images, seeded |")
    lines += ["", "| class | Keras float | converted |", "| --- | ---: | ---: |"]
    for name in classes:
        per = acc["per_class"].get(name, {})
        lines.append(f"| {name} | {_pct(per.get('keras_float'))} | {_pct(per.get('converted'))} |")
    ops = ", ".join(f"{op} ×{count}" for op, count in entry["ops"].items())
    lines += ["", f"Ops ({entry['num_ops']}): {ops}", ""]
    return lines


def render_markdown(card: dict) -> str:
    """The card as Markdown: the source and data once, then one section per model."""
    source, test = card["source_model"], card["dataset"]["test"]
    calibration = card["dataset"]["calibration"]
    machine, tools = card["machine"], card["tools"]
    lines = [
        f"# Model card: {source['name']}",
        "",
        f"- Source model: `{source['file']}`, sha256 `{source['sha256']}`",
        f"- Input of the Keras model: `{source['input_shape']}`, raw pixels 0..255 (preprocessing inside)",
        f"- Classes ({len(card['classes'])}): {', '.join(card['classes'])}",
        f"- Test images: {test['description']}; per class: "
        f"{', '.join(f'{k}: {v}' for k, v in test['class_counts'].items())}",
    ]
    if calibration:
        lines.append(
            f"- Calibration (int8): {calibration['images']} images from `{calibration['folder']}`, "
            f"seed {calibration['seed']}"
        )
    lines += [
        f"- Machine: {machine['platform']}, {machine['cpu_threads']} CPU threads, Python {machine['python']}",
        f"- Tools: {', '.join(f'{k} {v}' for k, v in tools.items() if v)}",
        f"- Created: {card['created_utc']}",
        "",
    ]
    for entry in card["models"].values():
        lines += _model_section(entry, card["classes"])
    return "\n".join(lines).rstrip() + "\n"
