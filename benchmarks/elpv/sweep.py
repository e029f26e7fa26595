"""ELPV recipe search on the validation split: each seed's run recorded as it finishes, a table of mean and spread.

`python -m benchmarks.elpv.sweep run NAME --seeds 0 1 --train-args "..."` trains NAME's recipe once
per seed with `python -m train` on the ELPV training cells (validation: a seeded, stratified 20% of
them, drawn with each run's seed unless the recipe fixes it with --split-seed, as teachers and
ensembles validated together must) and writes
benchmarks/results/elpv/runs/NAME-seedS.json right after each run: the command, the kept epoch's
validation accuracy (the only figure recipes are chosen by), training accuracy at that epoch, wall
and CPU seconds, the CPU model and the load. The test split is not touched here.

`python -m benchmarks.elpv.sweep test NAME` reports a finished recipe on the test split, once: each
seed's kept model is converted to int8 (`python -m convert`, whose model card scores the Keras
model and the int8 .tflite on the 656 test cells) and the figures are added to its run file. A run
already tested is refused, so a recipe cannot be re-picked on the test split.

`python -m benchmarks.elpv.sweep report` renders runs.md: one row per recipe, mean and spread over
its seeds. Runs may be spread over several sittings (a 2-core CPU trains one at a time).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import statistics
import sys
from pathlib import Path

from benchmarks.elpv.cli import run_logged
from benchmarks.instruments.paths import RESULTS, relative_paths
from edge_runtime.errors import UserError, check_at_least, cli_main
from edge_runtime.files import atomic_write_text

RUNS = RESULTS / "elpv" / "runs"


def _run_record(name: str, seed: int, command: list[str], model_dir: Path, wall: float, cpu: float) -> dict:
    """What one finished run says: the kept epoch's validation and training accuracy, its costs."""
    from benchmarks.elpv.metrics import kept_validation_accuracy
    from benchmarks.instruments.machine import load, parse_cpuinfo

    config = json.loads((model_dir / "train_config.json").read_text())
    history = json.loads((model_dir / "history.json").read_text())
    kept = config["best_epoch"] - 1
    return {
        "recipe": name,
        "seed": seed,
        "command": shlex.join(["python", *command[1:]]),
        "val_accuracy": kept_validation_accuracy(model_dir),
        "train_accuracy": history["accuracy"][kept],
        "best_epoch": config["best_epoch"],
        "epochs_run": config["epochs_run"],
        "validation_images": config["validation_images"],
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "cpu_model": parse_cpuinfo(Path("/proc/cpuinfo").read_text())["model"],
        "cores": os.cpu_count(),
        "load_after": load()["uptime"],
    }


def run_recipe(
    name: str, seeds: list[int], train_args: list[str], data: Path, work: Path, runs: Path
) -> list[Path]:
    """Trains the recipe once per seed and writes each run's JSON as soon as it finishes."""
    written = []
    for seed in seeds:
        model_dir = work / f"{name}-seed{seed}"
        command = [
            *(sys.executable, "-m", "train", "--data", str(data / "train"), "--out", str(model_dir)),
            *train_args,
            *("--seed", str(seed)),
        ]
        print("$ " + shlex.join(["python", *command[1:]]), flush=True)
        from benchmarks.instruments.machine import load

        load_before = load()["uptime"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        work.mkdir(parents=True, exist_ok=True)
        wall = run_logged(command, work / f"{name}-seed{seed}.log")
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        record = relative_paths(
            {**_run_record(name, seed, command, model_dir, wall, cpu), "load_before": load_before}
        )
        path = atomic_write_text(runs / f"{name}-seed{seed}.json", json.dumps(record, indent=2) + "\n")
        val = (
            "no validation" if record["val_accuracy"] is None else f"val {100 * record['val_accuracy']:.2f}%"
        )
        print(f"{name} seed {seed}: {val}, train {100 * record['train_accuracy']:.2f}%, "
              f"{wall / 60:.1f} min -> {path}", flush=True)  # fmt: skip
        written.append(path)
    return written


def test_recipe(name: str, seeds: list[int] | None, data: Path, work: Path, runs: Path) -> list[Path]:
    """Converts each seed's kept model to int8 and adds its test figures (from the model card) to its run file.

    Raises:
      UserError: No run of `name` (or of a seed asked for), or a run already tested.
    """
    files = sorted(runs.glob(f"{name}-seed*.json"), key=lambda p: int(p.stem.rsplit("seed", 1)[1]))
    records = {}
    for path in files:
        record = json.loads(path.read_text())
        if record["recipe"] == name:
            records[record["seed"]] = (path, record)
    chosen = sorted(records) if seeds is None else seeds
    missing = [seed for seed in chosen if seed not in records]
    if not records or missing:
        raise UserError(
            f"{runs}: no run of {name} for seed(s) {missing or 'any'}; run it first (sweep run {name})"
        )
    tested = [seed for seed in chosen if "test" in records[seed][1]]
    if tested:
        raise UserError(
            f"{records[tested[0]][0]}: {name} seed {tested[0]} was already reported on the test split; "
            "a recipe is tested once"
        )
    written = []
    for seed in chosen:
        path, record = records[seed]
        model_dir = work / f"{name}-seed{seed}"
        command = [
            *(sys.executable, "-m", "convert", "--model", str(model_dir / "model.keras")),
            *("--calibration-data", str(data / "train"), "--out", str(model_dir / "tflite"), "--force"),
        ]
        print("$ " + shlex.join(["python", *command[1:]]), flush=True)
        run_logged(command, work / f"{name}-seed{seed}.convert.log")
        card = json.loads((model_dir / "tflite" / "model_card.json").read_text())
        accuracy = card["models"]["model_int8.tflite"]["accuracy"]
        record["test"] = relative_paths({  # the record's own paths were made relative when it was written
            "images": accuracy["test_images"],
            "keras_float": accuracy["keras_float"],
            "int8": accuracy["converted"],
            "recall_int8": {c: v["converted"] for c, v in accuracy["per_class"].items()},
            "command": shlex.join(["python", *command[1:]]),
        })  # fmt: skip
        written.append(atomic_write_text(path, json.dumps(record, indent=2) + "\n"))
        print(f"{name} seed {seed}: test int8 {100 * accuracy['converted']:.2f}%, "
              f"Keras float {100 * accuracy['keras_float']:.2f}%", flush=True)  # fmt: skip
    return written


def summarize(records: list[dict]) -> list[dict]:
    """One row per recipe: seeds, mean and spread (sample standard deviation; 0 for one seed) of its figures."""
    rows = []
    for name in sorted({r["recipe"] for r in records}):
        runs = sorted((r for r in records if r["recipe"] == name), key=lambda r: r["seed"])
        val = [100 * r["val_accuracy"] for r in runs if r["val_accuracy"] is not None]
        train = [100 * r["train_accuracy"] for r in runs]
        rows.append({
            "recipe": name,
            "seeds": [r["seed"] for r in runs],
            "val_mean": statistics.fmean(val) if val else None,
            "val_sd": statistics.stdev(val) if len(val) > 1 else 0.0,
            "train_mean": statistics.fmean(train),
            "wall_minutes": statistics.fmean(r["wall_seconds"] for r in runs) / 60,
            "cpu_model": runs[0]["cpu_model"],
            "command": runs[0]["command"].rsplit(" --seed ", 1)[0].replace(f"-seed{runs[0]['seed']}", "-seedS"),
            "test_int8": [100 * r["test"]["int8"] for r in runs if "test" in r],
            "test_float": [100 * r["test"]["keras_float"] for r in runs if "test" in r],
        })  # fmt: skip
    return sorted(rows, key=lambda row: -(row["val_mean"] or 0.0))


def report_markdown(rows: list[dict]) -> str:
    """runs.md: the recipes by validation accuracy, with their seeds, costs and commands."""
    lines = [
        "# ELPV recipes on the validation split",
        "",
        "Chosen on a seeded, stratified 20% of the 1,968 training cells (393 images; one image is 0.25 points);",
        "the test split is reported once per finished recipe by `sweep test NAME`. Mean and sample",
        "standard deviation over the seeds; wall time per run on the CPU named, 2 cores. Written by",
        "`python -m benchmarks.elpv.sweep report` from the JSON files beside it.",
        "",
        "| recipe | seeds | val accuracy | train accuracy | minutes per run | CPU | test int8 | test Keras float |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        spread = f" ± {row['val_sd']:.2f}" if len(row["seeds"]) > 1 else " (one seed)"
        validation = (
            "none (all training cells)" if row["val_mean"] is None else f"{row['val_mean']:.2f}%{spread}"
        )
        lines.append(
            f"| {row['recipe']} | {', '.join(map(str, row['seeds']))} | {validation} | "
            f"{row['train_mean']:.2f}% | {row['wall_minutes']:.1f} | {row['cpu_model']} | "
            f"{_mean_spread(row['test_int8'])} | {_mean_spread(row['test_float'])} |"
        )
    lines += ["", "Commands (each run adds `--seed S`):", ""]
    lines += [f"- {row['recipe']}: `{row['command']}`" for row in rows]
    return "\n".join(lines) + "\n"


def _mean_spread(values: list[float]) -> str:
    """'82.10% ± 0.70 (3 seeds)', or '' when the recipe was not tested."""
    if not values:
        return ""
    if len(values) == 1:
        return f"{values[0]:.2f}% (one seed)"
    return f"{statistics.fmean(values):.2f}% ± {statistics.stdev(values):.2f} ({len(values)} seeds)"


def write_report(runs: Path) -> Path:
    records = [json.loads(p.read_text()) for p in sorted(runs.glob("*.json"))]
    if not records:
        raise UserError(
            f"{runs}: no run files yet; run a recipe first (python -m benchmarks.elpv.sweep run NAME ...)"
        )
    return atomic_write_text(runs / "runs.md", report_markdown(summarize(records)))


@cli_main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.elpv.sweep", description=__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="train a recipe once per seed, recording each run")
    run.add_argument("name", help="the recipe's name in the table, e.g. cnn_res-300")
    run.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="seeds (default: 0 1)")
    run.add_argument(
        "--train-args", required=True, help="python -m train options (one string), without --seed"
    )
    run.add_argument("--data", type=Path, default=Path("build/data/elpv"), help="ELPV export (train.elpv)")
    run.add_argument("--work", type=Path, default=Path("build/elpv_sweep"), help="models and logs")
    run.add_argument("--runs", type=Path, default=RUNS, help="folder of the run files (default %(default)s)")
    test = commands.add_parser("test", help="report a finished recipe on the test split, once")
    test.add_argument("name", help="the recipe's name in the table")
    test.add_argument("--seeds", type=int, nargs="+", help="seeds (default: every run of the recipe)")
    test.add_argument("--data", type=Path, default=Path("build/data/elpv"), help="ELPV export (train.elpv)")
    test.add_argument("--work", type=Path, default=Path("build/elpv_sweep"), help="models and logs")
    test.add_argument("--runs", type=Path, default=RUNS, help="folder of the run files (default %(default)s)")
    report = commands.add_parser("report", help="write runs.md from the run files")
    report.add_argument(
        "--runs", type=Path, default=RUNS, help="folder of the run files (default %(default)s)"
    )
    args = parser.parse_args(argv)
    if args.command == "report":
        print(f"wrote {write_report(args.runs)}")
        return 0
    if args.command == "test":
        test_recipe(args.name, args.seeds, args.data.resolve(), args.work.resolve(), args.runs)
        print(f"wrote {write_report(args.runs)}")
        return 0
    check_at_least(0, seeds=min(args.seeds))
    train_args = shlex.split(args.train_args)
    if "--seed" in train_args:
        raise UserError("--train-args: leave out --seed; --seeds gives one run per seed")
    if not (args.data / "train").is_dir():
        raise UserError(
            f"{args.data}: no ELPV export here; make one first: python -m train.elpv --out {args.data}"
        )
    run_recipe(args.name, args.seeds, train_args, args.data.resolve(), args.work.resolve(), args.runs)
    print(f"wrote {write_report(args.runs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
