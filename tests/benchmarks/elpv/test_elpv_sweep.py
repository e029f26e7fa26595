"""The recipe search: a run file per seed as each finishes, and the table of mean and spread over seeds."""

from __future__ import annotations

import hashlib
import json

import pytest

from benchmarks.elpv.sweep import report_markdown, summarize
from conftest import run_module


def _record(recipe: str, seed: int, val: float, train: float = 0.9) -> dict:
    return {
        "recipe": recipe, "seed": seed, "val_accuracy": val, "train_accuracy": train, "wall_seconds": 600.0,
        "cpu_model": "AMD EPYC", "command": f"python -m train --data d --out build/elpv_sweep/{recipe}-seed{seed} --epochs 2 --seed {seed}",
    }  # fmt: skip


def _simclr_settings(out: str, seconds: float) -> dict:
    """A record of python -m train.simclr with its settings and a one-line log."""
    return {"data": "build/data/elpv/train", "out": out, "model": "cnn_bn", "alpha": 1.0, "load_size": 160,
            "size": 128, "epochs": 60, "batch_size": 128, "learning_rate": 0.002, "classes": 2, "seed": 0,
            "log": [{"epoch": 60, "seconds": seconds}]}  # fmt: skip


def _tested(seed: int, command: str) -> tuple[dict, dict]:
    """A tested run file trained by COMMAND, and the model card of its int8 model."""
    record = {**_record("p", seed, 0.86), "command": command, "best_epoch": 48, "epochs_run": 60, "cores": 2}
    record["test"] = {
        "images": 656,
        "int8": 0.83,
        "keras_float": 0.83,
        "recall_int8": {},
        "command": "convert",
    }
    io = {"shape": [1, 2], "dtype": "uint8"}
    card = {"models": {"model_int8.tflite": {"size_bytes": 10, "sha256": "ab", "input": io, "output": io}}}
    return record, card


def test_recipes_are_ranked_by_mean_validation_accuracy_with_their_spread():
    rows = summarize([_record("a", 0, 0.80), _record("a", 1, 0.84), _record("b", 0, 0.83)])
    assert [row["recipe"] for row in rows] == ["b", "a"]  # 83% over a's mean of 82%
    b, a = rows
    assert a["val_mean"] == pytest.approx(82.0) and a["val_sd"] == pytest.approx(2.8284271)
    assert b["val_sd"] == 0.0 and a["command"].endswith("--out build/elpv_sweep/a-seedS --epochs 2")
    table = report_markdown(rows)
    assert "| a | 0, 1 | 82.00% ± 2.83 | 90.00% | 10.0 | AMD EPYC |" in table
    assert "| b | 0 | 83.00% (one seed) |" in table


def test_a_recipe_without_validation_is_listed_by_its_test_figures():
    runs = [_record("all", 0, 0.8), _record("a", 0, 0.81)]
    runs[0]["val_accuracy"], runs[0]["test"] = None, {"int8": 0.83, "keras_float": 0.83}
    rows = summarize(runs)
    assert [row["recipe"] for row in rows] == ["a", "all"] and rows[1]["val_mean"] is None
    assert "| all | 0 | none (all training cells) | 90.00% |" in report_markdown(rows)


def test_tested_seeds_show_their_mean_and_spread():
    runs = [_record("a", seed, 0.8) for seed in (0, 1, 2)]
    for run, (int8, float_) in zip(runs, [(0.82, 0.83), (0.84, 0.84), (0.83, 0.82)], strict=True):
        run["test"] = {"int8": int8, "keras_float": float_}
    table = report_markdown(summarize(runs))
    assert "| 83.00% ± 1.00 (3 seeds) | 83.00% ± 1.00 (3 seeds) |" in table


@pytest.mark.slow
def test_each_seed_is_trained_and_recorded_as_it_finishes(elpv_subset, tmp_path):
    runs = tmp_path / "runs"
    proc = run_module(
        "benchmarks.elpv.sweep", "run", "tiny", "--seeds", "0", "1", "--data", str(elpv_subset),
        "--work", str(tmp_path / "work"), "--runs", str(runs),
        "--train-args", "--model cnn --image-size 32 --epochs 1 --batch-size 16",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    records = [json.loads((runs / f"tiny-seed{seed}.json").read_text()) for seed in (0, 1)]
    for seed, record in enumerate(records):
        assert record["seed"] == seed and record["command"].endswith(f"--seed {seed}")
        assert 0.0 <= record["val_accuracy"] <= 1.0 and record["epochs_run"] == 1
        assert record["wall_seconds"] > 0 and record["cpu_seconds"] > 0
    assert "| tiny | 0, 1 |" in (runs / "runs.md").read_text()

    # Reported on the test split once: the int8 model's figures join the run file, a second time is refused.
    test = ("benchmarks.elpv.sweep", "test", "tiny", "--seeds", "0", "--data", str(elpv_subset),
            "--work", str(tmp_path / "work"), "--runs", str(runs))  # fmt: skip
    run_module(*test)
    tested = json.loads((runs / "tiny-seed0.json").read_text())["test"]
    assert tested["images"] == 40 and 0.0 <= tested["int8"] <= 1.0
    assert set(tested["recall_int8"]) == {"defective", "functional"}
    assert "test" not in json.loads((runs / "tiny-seed1.json").read_text())
    assert "% (one seed) |" in (runs / "runs.md").read_text().split("| tiny |")[1].splitlines()[0]
    again = run_module(*test, check=False)
    assert again.returncode == 2 and "already reported on the test split" in again.stderr

    # The tested run is published with its card, labels, sha256 and the commands behind it.
    published = tmp_path / "published"
    work = ("--work", str(tmp_path / "work"), "--out", str(published))
    run_module("benchmarks.elpv.publish", str(runs / "tiny-seed0.json"), *work)
    model = (published / "model_int8.tflite").read_bytes()
    digest = (published / "model_int8.tflite.sha256").read_text().split()[0]
    assert hashlib.sha256(model).hexdigest() == digest
    assert (
        json.loads((published / "model_card.json").read_text())["models"]["model_int8.tflite"]["sha256"]
        == digest
    )
    assert (published / "labels.txt").read_text().split() == ["defective", "functional"]
    cards = (published / "model_card.json").read_text() + (published / "MODEL_CARD.md").read_text()
    assert str(tmp_path) not in cards and "tiny-seed0/model.keras" in cards  # shown, not as absolute paths
    text = (published / "README.md").read_text()
    assert (
        records[0]["command"] in text and "python -m benchmarks.elpv.verify" in text and "/tmp/" not in text
    )
    untested = run_module("benchmarks.elpv.publish", str(runs / "tiny-seed1.json"), *work, check=False)
    assert untested.returncode == 2 and "not reported on the test split yet" in untested.stderr
    assert (published / "model_int8.tflite").read_bytes() == model  # the earlier copy stays whole


def test_a_seed_inside_the_recipe_is_refused(tmp_path):
    proc = run_module("benchmarks.elpv.sweep", "run", "x", "--train-args", "--epochs 2 --seed 3", check=False)
    assert proc.returncode == 2 and "leave out --seed" in proc.stderr


def test_the_published_readme_states_the_hold_out_and_the_speed_against_mobilenet():
    from benchmarks.elpv.publish import readme

    record = {**_record("all", 0, 0.0), "val_accuracy": None, "best_epoch": 48, "epochs_run": 48, "cores": 2}
    record["test"] = {"images": 656, "int8": 0.83, "keras_float": 0.829, "recall_int8": {"defective": 0.7},
                      "command": "python -m convert --model m"}  # fmt: skip
    io = {"shape": [1, 2], "dtype": "uint8"}
    card = {"models": {"model_int8.tflite": {"size_bytes": 10, "sha256": "ab", "input": io, "output": io}}}
    latency = {"reference": "M", "ms": {"1": {"published": 0.5, "M": 2.0}, "2": {"published": 0.4, "M": 1.0}}}
    text = readme(record, card, {"accuracy": 0.8277, "correct": 543, "images": 656}, latency)
    assert "no validation hold-out (48 epochs)" in text and "int8 83.00%" in text
    assert "1 thread: 0.50 vs 2.00 (4.0x faster); 2 threads: 0.40 vs 1.00 (2.5x faster)" in text
    assert "Task Library (tflite-support, 1 thread): 82.77% (543 of 656)" in text


def test_a_pretrained_run_is_published_with_the_pretraining_command_before_its_own(tmp_path):
    from benchmarks.elpv.publish import pretraining, readme
    from edge_runtime.errors import UserError

    weights = tmp_path / "ssl.weights.h5"
    command = f"python -m train --data d --out o --weights {weights} --seed 1"
    with pytest.raises(
        UserError,
        match=r"ssl.weights.h5.json: missing; it is the record python -m train.simclr writes beside",
    ):
        pretraining(command)
    (tmp_path / "ssl.weights.h5.json").write_text("{")
    with pytest.raises(UserError, match=r"ssl.weights.h5.json: not valid JSON"):
        pretraining(command)
    settings = _simclr_settings(str(weights), 1188.0)
    (tmp_path / "ssl.weights.h5.json").write_text(json.dumps(settings))
    pretrained = pretraining(command)
    assert pretrained["wall_seconds"] == 1188.0
    assert pretrained["command"].startswith("python -m train.simclr --data build/data/elpv/train --out ")
    assert pretraining("python -m train --data d --out o --seed 1") is None

    record, card = _tested(1, command)
    text = readme(record, card, None, None, pretrained, "benchmarks/results/elpv/pretrained")
    assert "after 19.8 min of self-supervised pre-training" in text
    assert text.index(pretrained["command"]) < text.index(command) < text.index("convert")
    assert "verify benchmarks/results/elpv/pretrained/model_int8.tflite" in text
    # A note the pre-training's record carries (how it was made) follows the commands.
    (tmp_path / "ssl.weights.h5.json").write_text(json.dumps({**settings, "note": "Made by hand."}))
    noted = readme(record, card, None, None, pretraining(command), "benchmarks/results/elpv/pretrained")
    assert noted.index("convert") < noted.index("Made by hand.") < noted.index("## Verify")


def test_a_run_from_a_committed_body_names_it_instead_of_re_making_it(tmp_path, monkeypatch):
    from benchmarks.elpv.publish import pretraining, readme

    monkeypatch.chdir(tmp_path)
    body = "benchmarks/results/elpv/pretraining/ssl.weights.h5"
    (tmp_path / body).parent.mkdir(parents=True)
    settings = _simclr_settings("build/ssl/ssl.weights.h5", 1050.0)
    (tmp_path / f"{body}.json").write_text(json.dumps(settings))
    command = f"python -m train --data d --out o --weights {body} --seed 0"
    pretrained = pretraining(command)
    assert pretrained["published"] == body
    record, card = _tested(0, command)
    text = readme(record, card, None, None, pretrained, "benchmarks/results/elpv/model")
    block = text[text.index("```sh") : text.index("```\n", text.index("```sh") + 5)]
    assert "train.simclr" not in block and command in block  # the committed body is used, not re-made
    after = " ".join(text[text.index("convert\n```") :].split())
    assert f"published pre-trained body `{body}` ([its card](../pretraining/README.md))" in after
    assert "made once in 17.5 min by `python -m train.simclr --data build/data/elpv/train" in after
    assert "No outside data or weights" in " ".join(text.split())
