"""`python -m benchmarks elpv`: train the ELPV recipe from scratch, convert to int8, evaluate it and time it.

Runs the pipeline's own commands (printed, so anyone can rerun them): `python -m train` with the
benchmark recipe, `python -m convert` (full int8, uint8 I/O), `python -m convert.evaluate` (Keras
float vs .tflite float32 vs .tflite int8 on the 656 test cells); then balanced accuracy and
per-class figures from the int8 model's own predictions (edge_runtime), and its latency against
MobileNetV2-1.0-224 int8 (benchmarks.instruments.reference, the MobileNet table's cached copy) on
this machine, interleaved so both see the same load. The machine's load (uptime) before and after
training is recorded. Writes elpv_accuracy.json and .md into benchmarks/results/<machine>/
(--machine, default named after this CPU) or --results; the "What was tried" section comes from
--notes (default benchmarks/results/zen5/elpv_accuracy.notes.md, where those runs were made).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.elpv.report import PUBLISHED, REFERENCE, TRAIN_BUDGET_SECONDS
from benchmarks.instruments.paths import REPO, RESULTS
from edge_runtime.errors import ParameterError, UserError
from edge_runtime.files import atomic_write_text

NOTES = RESULTS / "zen5" / "elpv_accuracy.notes.md"
# The recipe (see benchmarks/results/zen5/elpv_accuracy.md for what else was tried).
TRAIN_ARGS = [
    *("--model", "cnn_bn", "--image-size", "160", "--alpha", "1.0", "--dropout", "0.3"),
    *("--epochs", "60", "--batch-size", "32", "--learning-rate", "0.002", "--lr-schedule", "cosine"),
    *("--warmup-epochs", "2", "--weight-decay", "0.0001", "--flip", "horizontal_and_vertical"),
    *("--quarter-turns", "--validation-split", "0.2", "--monitor", "val_accuracy", "--seed", "0"),
    *("--label-smoothing", "0"),  # measured before smoothing became the default
]
MEMBERS = 1  # models averaged into the benchmark model (1: a single model)


def run_logged(command: list[str], log: Path) -> float:
    """Runs `command` from the repo root with its output in `log`; returns the wall seconds."""
    print("$ " + " ".join(command), flush=True)
    start = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.run(
            command,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=os.environ | {"PYTHONPATH": str(REPO)},
        )
    if proc.returncode != 0:
        raise UserError(f"{' '.join(command[:4])} failed (exit {proc.returncode}); see {log}")
    return time.monotonic() - start


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ELPV benchmark's options."""
    from benchmarks.suite.cli import add_machine_argument

    parser.add_argument("--out", type=Path, default=Path("build/elpv_benchmark"), help="work folder")
    parser.add_argument("--data", type=Path, default=Path("build/data/elpv"), help="ELPV export")
    parser.add_argument("--skip-train", action="store_true", help="reuse OUT/model from an earlier run")
    add_machine_argument(parser)
    parser.add_argument("--results", type=Path, help="folder for elpv_accuracy.json and .md instead")
    parser.add_argument(
        "--members",
        type=int,
        default=MEMBERS,
        help="models trained (seeds 0..N-1) and averaged into one (train.ensemble); default %(default)s",
    )
    parser.add_argument(
        "--soft-labels",
        action="store_true",
        help="train on the experts' defect probabilities (soft_labels.json) instead of the 0/1 labels",
    )
    parser.add_argument(
        "--train-args",
        help="training options replacing the recipe's (one string, e.g. to try a candidate recipe)",
    )
    parser.add_argument(
        "--notes",
        type=Path,
        default=NOTES,
        help="Markdown lines on what else was tried, appended to the report (default %(default)s)",
    )


def pipeline_commands(args: argparse.Namespace, out: Path, data: Path) -> tuple[list, list[list], list, list]:
    """The pipeline's own commands: export ELPV, train (each member, then the ensemble), convert, evaluate."""
    py = sys.executable
    recipe = shlex.split(args.train_args) if args.train_args else TRAIN_ARGS
    members = args.members
    model_dir = out / "model"
    export = [py, "-m", "train.elpv", "--out", str(data)]
    # One training run per member, seeds 0..members-1, all holding out the same validation split.
    train_commands = [
        [
            *(py, "-m", "train", "--data", str(data / "train")),
            *("--out", str(model_dir if members == 1 else out / f"member{seed}")),
            *(("--soft-labels", str(data / "train" / "soft_labels.json")) if args.soft_labels else ()),
            *recipe,
            *(("--seed", str(seed), "--split-seed", "0") if members > 1 else ()),
        ]
        for seed in range(members)
    ]
    if members > 1:
        train_commands.append(
            [
                *(py, "-m", "train.ensemble", "--members"),
                *(str(out / f"member{seed}" / "model.keras") for seed in range(members)),
                *("--out", str(model_dir), "--data", str(data / "train"), "--split-seed", "0"),
            ]
        )
    convert_command = [
        *(py, "-m", "convert", "--model", str(model_dir / "model.keras")),
        *("--calibration-data", str(data / "train"), "--out", str(out / "tflite"), "--force"),
    ]
    evaluate_command = [
        *(py, "-m", "convert.evaluate", "--keras", str(model_dir / "model.keras")),
        *(
            "--tflite",
            str(out / "tflite" / "model_float32.tflite"),
            str(out / "tflite" / "model_int8.tflite"),
        ),
        *("--data", str(data / "test"), "--out", str(out / "evaluation.json")),
    ]
    return export, train_commands, convert_command, evaluate_command


def run(args: argparse.Namespace, command: str) -> int:
    """Runs the benchmark and writes the results."""
    from benchmarks.elpv.metrics import int8_metrics, kept_validation_accuracy
    from benchmarks.elpv.report import markdown
    from benchmarks.instruments.latency import interleaved_latency
    from benchmarks.instruments.machine import load
    from benchmarks.instruments.paths import relative_paths
    from benchmarks.instruments.reference import reference_model
    from benchmarks.suite.cli import results_dir

    if args.members < 1:
        raise ParameterError("members", args.members, "must be 1 or more")
    out, data = args.out.resolve(), args.data.resolve()
    out.mkdir(parents=True, exist_ok=True)
    export, train_commands, convert_command, evaluate_command = pipeline_commands(args, out, data)
    members, model_dir = args.members, out / "model"
    commands = [export, *train_commands, convert_command, evaluate_command]
    run_logged(export, out / "data.log")
    results = results_dir(args, args.results)
    results.mkdir(parents=True, exist_ok=True)
    earlier = json.loads((results / "elpv_accuracy.json").read_text()) if args.skip_train else {}
    if args.skip_train:
        train_seconds = earlier.get("train_seconds")
        uptime = earlier.get("uptime", {"before_training": "not recorded", "after_training": "not recorded"})
    else:
        uptime = {"before_training": load()["uptime"]}
        train_seconds = sum(
            run_logged(command, out / f"train{index}.log") for index, command in enumerate(train_commands)
        )
        uptime["after_training"] = load()["uptime"]
    run_logged(convert_command, out / "convert.log")
    run_logged(evaluate_command, out / "evaluate.log")
    member_dirs = [model_dir] if members == 1 else [out / f"member{seed}" for seed in range(members)]
    configs = [json.loads((d / "train_config.json").read_text()) for d in member_dirs]
    config = configs[0] if members == 1 else {"members": configs}
    fit_seconds = sum(c["elapsed_seconds"] for c in configs)
    ensemble = json.loads((model_dir / "ensemble.json").read_text()) if members > 1 else None
    validation = {"members": [kept_validation_accuracy(d) for d in member_dirs]}
    if ensemble is not None:
        validation["ensemble"] = ensemble["accuracy"]["ensemble"]
    evaluation = json.loads((out / "evaluation.json").read_text())
    int8 = int8_metrics(out / "tflite" / "model_int8.tflite", out / "model" / "model.keras", data / "test")
    reference = reference_model(REFERENCE, "mobilenet_v2", 224, classes=1000)  # the table's cached copy
    paths = {"model_int8": out / "tflite" / "model_int8.tflite", REFERENCE: reference.path}
    latency = {threads: interleaved_latency(paths, threads) for threads in (1, 2)}
    models = evaluation["models"]
    result = {
        "dataset": "ELPV default split (elpv-dataset 1.0.0.post1, seed 0): 1968 train / 656 test",
        "target_accuracy": 0.884,
        "published": PUBLISHED,
        "int8": int8,
        "evaluation": evaluation,
        "int8_minus_float_points": 100
        * (models["model_int8"]["accuracy"] - models["keras_float32"]["accuracy"]),
        "target_reached": models["model_int8"]["accuracy"] >= 0.884,
        "train_seconds": train_seconds if train_seconds is not None else fit_seconds,
        "fit_seconds": fit_seconds,
        "train_budget_seconds": TRAIN_BUDGET_SECONDS,
        "within_train_budget": (train_seconds or fit_seconds) <= TRAIN_BUDGET_SECONDS,
        "ensemble": ensemble,
        "validation_accuracy": validation,
        "uptime": uptime,
        "train_config": config,
        "latency_ms": latency,
        "faster_than_reference": all(v["model_int8"] <= v[REFERENCE] for v in latency.values()),
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()},
        "commands": [shlex.join(["python", *c[1:]]) for c in commands],
        "notes": args.notes.read_text().splitlines() if args.notes and args.notes.is_file() else [],
    }
    # Paths relative to the repository, so the file reads the same on any machine.
    result = relative_paths(result)
    atomic_write_text(results / "elpv_accuracy.json", json.dumps(result, indent=2) + "\n")
    atomic_write_text(results / "elpv_accuracy.md", markdown(result))
    print(markdown(result))
    return 0


SUBCOMMANDS = {"elpv": (add_arguments, run, "train, convert, evaluate and time the ELPV recipe")}
