"""Publishing a pre-trained body: the weights, their record and sha256, and a card with the command."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from PIL import Image

from conftest import run_module


@pytest.mark.slow
def test_a_simclr_pre_training_is_published_with_its_record_digest_and_command(tmp_path):
    rng = np.random.default_rng(5)
    for name in ("functional", "defective"):
        (tmp_path / "data" / name).mkdir(parents=True)
        for index in range(8):
            Image.fromarray(rng.integers(0, 256, (40, 40), dtype=np.uint8), "L").save(
                tmp_path / "data" / name / f"{index}.png"
            )
    weights = tmp_path / "ssl" / "body.weights.h5"
    run_module(
        "train.simclr", "--data", str(tmp_path / "data"), "--out", str(weights), "--epochs", "1",
        "--batch-size", "8", "--size", "32", "--load-size", "40", "--alpha", "0.5", "--noise", "4",
    )  # fmt: skip
    out = tmp_path / "published"
    proc = run_module("benchmarks.elpv.publish_body", str(weights), "--out", str(out))
    assert proc.stdout.startswith(f"published {out}: body.weights.h5, sha256 ")

    names = sorted(p.name for p in out.iterdir())
    assert names == ["README.md", "body.weights.h5", "body.weights.h5.json", "body.weights.h5.sha256"]
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    assert (out / "body.weights.h5").read_bytes() == weights.read_bytes()
    assert (out / "body.weights.h5.sha256").read_text() == f"{digest}  body.weights.h5\n"
    record = json.loads((out / "body.weights.h5.json").read_text())
    assert record["noise"] == 4.0 and record["epochs"] == 1 and record["cores"] >= 1 and record["cpu"]
    assert str(tmp_path) not in (out / "body.weights.h5.json").read_text()  # no machine paths

    text = (out / "README.md").read_text()
    assert f"sha256 `{digest}`" in text
    assert "--size 32 --min-crop 0.35 --noise 4.0 --epochs 1 --batch-size 8" in text
    assert "crops of 35-100% of the area of images loaded at 40 px" in text and "noise up to 4 levels" in text
    assert f"1 epochs in batches of 8: final loss {record['log'][-1]['loss']:.3f}" in text
    assert str(tmp_path) not in text


def test_weights_without_their_record_are_one_line_and_nothing_is_written(tmp_path):
    weights = tmp_path / "w.weights.h5"
    weights.write_bytes(b"not really weights")
    out = tmp_path / "published"
    proc = run_module("benchmarks.elpv.publish_body", str(weights), "--out", str(out), check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: {weights}.json: missing; it is the record python -m train.simclr writes beside {weights}, "
        "and without it the published commands could not reproduce those weights"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.weights.h5"]
