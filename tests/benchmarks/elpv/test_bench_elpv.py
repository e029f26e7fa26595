"""The ELPV benchmark's pipeline: the commands it runs (and prints for anyone to rerun), without running them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks.elpv.cli import TRAIN_ARGS, add_arguments, pipeline_commands


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_one_member_trains_the_recipe_into_the_model_folder():
    out, data = Path("/w/out"), Path("/w/data")
    export, train, convert, evaluate = pipeline_commands(_args(), out, data)
    assert export == [sys.executable, "-m", "train.elpv", "--out", "/w/data"]
    assert train == [
        [sys.executable, "-m", "train", "--data", "/w/data/train", "--out", "/w/out/model", *TRAIN_ARGS]
    ]
    assert convert[convert.index("--model") + 1] == "/w/out/model/model.keras"
    assert evaluate[-2:] == ["--out", "/w/out/evaluation.json"]


def test_members_train_with_their_own_seeds_then_are_averaged_into_the_model():
    out, data = Path("/w/out"), Path("/w/data")
    _, train, _, _ = pipeline_commands(
        _args("--members", "2", "--soft-labels", "--train-args", "--epochs 1"), out, data
    )
    first, second, ensemble = train
    assert first[first.index("--out") + 1] == "/w/out/member0" and first[-4:] == [
        "--seed",
        "0",
        "--split-seed",
        "0",
    ]
    assert second[-4:] == ["--seed", "1", "--split-seed", "0"] and "--epochs" in second
    assert "--soft-labels" in first and TRAIN_ARGS[0] not in first
    assert (
        ensemble[1:3] == ["-m", "train.ensemble"] and ensemble[ensemble.index("--out") + 1] == "/w/out/model"
    )
