"""`python -m benchmarks.elpv.publish RUN.json`: commit-ready copy of a tested sweep run's int8 model, with its card.

RUN.json is a run file of `python -m benchmarks.elpv.sweep` already reported on the test split
(`sweep test`), whose converted model is still in the work folder. Writes into --out (default
benchmarks/results/elpv/model): model_int8.tflite (metadata and labels inside), its sha256 in
`sha256sum` format, labels.txt, the converter's model_card.json and MODEL_CARD.md, and README.md
with the commands that reproduce it and verify it through the Task Library. The folder is written
beside the target and renamed into place, so a failure leaves the previous copy whole.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sys
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path

from benchmarks.instruments.paths import RESULTS, relative_paths, shown_path
from edge_runtime.errors import UserError, cli_main
from edge_runtime.files import sha256_file

OUT = RESULTS / "elpv" / "model"
FILES = ("model_int8.tflite", "labels.txt", "model_card.json", "MODEL_CARD.md")


def replace_folder(out: Path, fill: Callable[[Path], None]) -> None:
    """Has `fill` write a new folder beside OUT, then renames it into place: a failure leaves OUT as it was."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        fill(staging)
        os.chmod(staging, 0o755)
        old = out.with_name(f".{out.name}.old")
        if out.exists():
            os.replace(out, old)
        os.replace(staging, out)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def latency_against_reference(model: Path) -> dict:
    """Median ms per invoke of MODEL and MobileNetV2-1.0-224 int8, interleaved, on 1 and 2 threads."""
    from benchmarks.elpv.report import REFERENCE
    from benchmarks.instruments.latency import interleaved_latency
    from benchmarks.instruments.machine import load
    from benchmarks.instruments.reference import reference_model

    reference = reference_model(REFERENCE, "mobilenet_v2", 224, classes=1000)  # the table's cached copy
    paths = {"published": model, REFERENCE: reference.path}
    before = load()["uptime"]
    timings = {str(threads): interleaved_latency(paths, threads) for threads in (1, 2)}
    return {"reference": REFERENCE, "ms": timings, "uptime": [before, load()["uptime"]]}


def simclr_record(weights: str) -> dict:
    """The record python -m train.simclr wrote beside WEIGHTS (WEIGHTS.json), checked to be one."""
    sidecar = Path(f"{weights}.json")
    if not sidecar.is_file():
        raise UserError(
            f"{sidecar}: missing; it is the record python -m train.simclr writes beside {weights}, and "
            "without it the published commands could not reproduce those weights"
        )
    try:
        record = json.loads(sidecar.read_text())
    except json.JSONDecodeError as error:
        raise UserError(f"{sidecar}: not valid JSON ({error}); re-run the pre-training") from None
    if not isinstance(record, dict) or "data" not in record or not record.get("log"):
        raise UserError(
            f"{sidecar}: not a record of python -m train.simclr (no data folder or log); re-run the pre-training"
        )
    return record


def pretraining(command: str) -> dict | None:
    """How the weights a training command starts from (`--weights FILE`) were made: FILE.json of train.simclr."""
    words = shlex.split(command)
    if "--weights" not in words[:-1]:
        return None
    weights = words[words.index("--weights") + 1]
    record = simclr_record(weights)
    from train.simclr import command as simclr_command

    return {
        "command": simclr_command(record),
        "wall_seconds": record["log"][-1]["seconds"],
        "note": record.get("note"),
        # A body committed under benchmarks/results is used as it is, not re-made.
        "published": weights if Path(weights).as_posix().startswith("benchmarks/results/") else None,
    }


def published_body(pretrained: dict, folder: str) -> list[str]:
    """README lines for a run that starts from a committed pre-trained body: where it is, how it was made."""
    body = Path(pretrained["published"])
    card = os.path.relpath(body.parent / "README.md", folder)
    return [
        *textwrap.wrap(
            f"The training starts from the published pre-trained body `{body.as_posix()}` ([its card]({card})), "
            f"made once in {pretrained['wall_seconds'] / 60:.1f} min by `{pretrained['command']}`. "
            "`make PRETRAIN=1` re-runs that pre-training and trains from its result, another body of the "
            "same recipe.",
            100,
            break_long_words=False,
            break_on_hyphens=False,
        ),
        "",
    ]


def readme(
    record: dict,
    card: dict,
    verified: dict | None,
    latency: dict | None = None,
    pretrained: dict | None = None,
    folder: str = "benchmarks/results/elpv/model",
) -> str:
    """README.md of the published model: what it is, its figures, and the commands behind them."""
    int8 = card["models"]["model_int8.tflite"]
    test = record["test"]
    lines = [
        f"# Published ELPV model: {record['recipe']}, seed {record['seed']}",
        "",
        *textwrap.wrap(
            "A from-scratch int8 classifier of electroluminescence solar-cell images (ELPV: defective vs "
            "functional, defective = expert probability >= 0.5), with TFLite Metadata and its labels inside."
            + (
                " No outside data or weights: its body was pre-trained on the training cells' own images, "
                "labels unused, then the whole network trained on them with their labels."
                if pretrained
                else ""
            ),
            100,
        ),
        "",
        f"- `model_int8.tflite`: {int8['size_bytes']:,} bytes, sha256 `{int8['sha256']}` "
        "(`sha256sum -c model_int8.tflite.sha256`)",
        f"- input `{int8['input']['shape']}` {int8['input']['dtype']} RGB, raw 0..255; output "
        f"`{int8['output']['shape']}` {int8['output']['dtype']} probabilities",
        f"- test split ({test['images']} cells): int8 {100 * test['int8']:.2f}% (this runtime), Keras float "
        f"{100 * test['keras_float']:.2f}%; int8 recall "
        + ", ".join(f"{c} {100 * v:.2f}%" for c, v in test["recall_int8"].items()),
        (
            f"- validation (kept epoch {record['best_epoch']} of {record['epochs_run']}): "
            f"{100 * record['val_accuracy']:.2f}%"
            if record["val_accuracy"] is not None
            else f"- trained on all training cells, no validation hold-out ({record['epochs_run']} epochs)"
        )
        + f"; training {record['wall_seconds'] / 60:.1f} min wall on {record['cores']} cores of an {record['cpu_model']}"
        + (
            f", after {pretrained['wall_seconds'] / 60:.1f} min of self-supervised pre-training on the training "
            "cells' images (python -m train.simclr, labels unused)"
            if pretrained
            else ""
        ),
    ]
    if verified is not None:
        lines.append(
            f"- through the TFLite Task Library (tflite-support, 1 thread): {100 * verified['accuracy']:.2f}% "
            f"({verified['correct']} of {verified['images']})"
        )
    if latency is not None:
        reference = latency["reference"]
        lines.append(
            "- median ms per invoke on this machine, interleaved with "
            f"{reference} (int8): "
            + "; ".join(
                f"{threads} thread{'s' if threads != '1' else ''}: {v['published']:.2f} vs {v[reference]:.2f} "
                f"({v[reference] / v['published']:.1f}x faster)"
                for threads, v in latency["ms"].items()
            )
        )
    lines += [
        "",
        "The recipe's other seeds and every other recipe tried are in `../runs/runs.md`.",
        "",
        "## Reproduce",
        "",
        "```sh",
        "python -m train.elpv --out build/data/elpv",
        *([pretrained["command"]] if pretrained and not pretrained.get("published") else []),
        record["command"],
        test["command"],
        "```",
        "",
        *(published_body(pretrained, folder) if pretrained and pretrained.get("published") else []),
        *([pretrained["note"], ""] if pretrained and pretrained.get("note") else []),
        "## Verify",
        "",
        "```sh",
        "make clients   # the Task Library's own environment",
        f"python -m benchmarks.elpv.verify {folder}/model_int8.tflite --data build/data/elpv/test",
        "```",
        "",
    ]
    return "\n".join(lines)


@cli_main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.elpv.publish", description=__doc__.splitlines()[0]
    )
    parser.add_argument("run", type=Path, help="a run file of the sweep, already tested (sweep test)")
    parser.add_argument("--work", type=Path, default=Path("build/elpv_sweep"), help="the sweep's models")
    parser.add_argument("--verified", type=Path, help="benchmarks.elpv.verify --out JSON of the same file")
    parser.add_argument("--out", type=Path, default=OUT, help="folder to write (default %(default)s)")
    parser.add_argument(
        "--latency", action="store_true", help="time it against MobileNetV2-1.0-224 int8 on this machine"
    )
    args = parser.parse_args(argv)
    if not args.run.is_file():
        raise UserError(f"{args.run}: no such run file")
    record = json.loads(args.run.read_text())
    if "test" not in record:
        raise UserError(
            f"{args.run}: not reported on the test split yet; run sweep test {record['recipe']} first"
        )
    source = args.work / f"{record['recipe']}-seed{record['seed']}" / "tflite"
    missing = [name for name in FILES if not (source / name).is_file()]
    if missing:
        raise UserError(
            f"{source}: missing {', '.join(missing)}; the run's converted model is gone (sweep test made it)"
        )
    card = json.loads((source / "model_card.json").read_text())
    if sha256_file(source / "model_int8.tflite") != card["models"]["model_int8.tflite"]["sha256"]:
        raise UserError(f"{source / 'model_int8.tflite'}: differs from its model card's sha256")
    verified = json.loads(args.verified.read_text()) if args.verified else None
    if verified is not None and verified["sha256"] != card["models"]["model_int8.tflite"]["sha256"]:
        raise UserError(f"{args.verified}: verifies another file (sha256 {verified['sha256']})")
    pretrained = pretraining(record["command"])
    latency = latency_against_reference(source / "model_int8.tflite") if args.latency else None

    def fill(staging: Path) -> None:
        for name in ("model_int8.tflite", "labels.txt"):
            shutil.copyfile(source / name, staging / name)
        # The card names the files it was made from; shown relative to the repository here.
        (staging / "model_card.json").write_text(json.dumps(relative_paths(card), indent=2) + "\n")
        (staging / "MODEL_CARD.md").write_text(relative_paths((source / "MODEL_CARD.md").read_text()))
        digest = card["models"]["model_int8.tflite"]["sha256"]
        (staging / "model_int8.tflite.sha256").write_text(f"{digest}  model_int8.tflite\n")
        if verified is not None:
            (staging / "task_library.json").write_text(json.dumps(relative_paths(verified), indent=2) + "\n")
        if latency is not None:
            (staging / "latency.json").write_text(json.dumps(latency, indent=2) + "\n")
        folder = shown_path(args.out)
        (staging / "README.md").write_text(readme(record, card, verified, latency, pretrained, folder))

    replace_folder(args.out, fill)
    print(
        f"published {args.out}: {record['recipe']} seed {record['seed']}, test int8 {100 * record['test']['int8']:.2f}%"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
