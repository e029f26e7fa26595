"""The budget planner: two real models of very different cost, a budget between them, and the registry mode."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from benchmarks.plan.cli import given_rows
from benchmarks.plan.measure import UNTRAINED_NOTE, PlanOptions, card_accuracy
from benchmarks.plan.table import make_plan, markdown, recommend
from conftest import run_module

QUICK = PlanOptions(threads=1, quick=True)


def _with_card(model: Path, folder: Path, name: str, accuracy: float, top5: float | None = None) -> Path:
    """Copies a model into `folder` as `name` with a model_card.json entry giving its accuracy."""
    folder.mkdir(parents=True)
    path = folder / name
    shutil.copy(model, path)
    entry = {"converted": accuracy, "test_images": 40, **({"top5": {"converted": top5}} if top5 else {})}
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    card = {"models": {name: {"file": name, "sha256": sha, "accuracy": entry}}}
    (folder / "model_card.json").write_text(json.dumps(card))
    return path


@pytest.fixture(scope="module")
def candidates(tiny_tflite, tmp_path_factory) -> tuple[Path, Path]:
    """(fast, slow): the tiny 32x32 int8 model (card: 70%), and a float 224x224 model thousands of times its MACs (90%)."""
    import keras
    import tensorflow as tf

    root = tmp_path_factory.mktemp("plan")
    fast = _with_card(tiny_tflite["uint8"], root / "fast", "fast.tflite", 0.70)
    keras.utils.set_random_seed(0)
    image = keras.Input((224, 224, 3), batch_size=1)
    x = keras.layers.Rescaling(1 / 255)(image)
    x = keras.layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = keras.layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(image, keras.layers.Dense(3, activation="softmax")(x))
    heavy = root / "heavy.tflite"
    heavy.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    slow = _with_card(heavy, root / "slow", "slow.tflite", 0.90, top5=1.0)
    return fast, slow


@pytest.fixture(scope="module")
def measured(candidates) -> list[dict]:
    return given_rows(list(candidates), QUICK, 1, lambda message: None)


def _budget_between(measured: list[dict]) -> float:
    """A budget the fast model meets with its headroom and the slow one misses: a third of the slow one's p50.

    The gap is wide (the slow model has thousands of times the fast one's MACs), so other processes' load on the
    machine can move the timings without changing which fits.
    """
    fast, slow = measured
    budget = slow["p50_ms"] / 3
    assert fast["p99_ms"] + fast["loop_ms"] + max(1.0, 0.1 * budget) < budget, measured
    return budget


@pytest.mark.slow
def test_rows_carry_measurements_and_card_accuracy(measured):
    fast, slow = measured
    assert fast["p50_ms"] * 20 < slow["p50_ms"]  # the ordering, by far
    assert fast["p50_ms"] <= fast["p99_ms"] and slow["p50_ms"] <= slow["p99_ms"]
    assert fast["input"] == "32x32 uint8" and slow["input"] == "224x224 float32"
    assert fast["size_bytes"] < slow["size_bytes"] and fast["loop_ms"] > 0
    assert (fast["accuracy"], fast["top5"], slow["accuracy"], slow["top5"]) == (0.70, None, 0.90, 1.0)
    assert fast["accuracy_source"] == "model_card.json: 40 test images"


@pytest.mark.slow
def test_budget_between_them_fits_only_the_fast_one(measured):
    budget = _budget_between(measured)
    plan = make_plan(measured, PlanOptions(budget_ms=budget, threads=1, quick=True), 1)
    rows = {row["name"]: row for row in plan["candidates"]}
    assert [row["name"] for row in plan["candidates"]] == ["fast.tflite", "slow.tflite"]
    assert rows["fast.tflite"]["fits"] and not rows["slow.tflite"]["fits_budget"]
    assert rows["fast.tflite"]["needed_ms"] == pytest.approx(
        rows["fast.tflite"]["p99_ms"] + rows["fast.tflite"]["loop_ms"] + max(1.0, 0.1 * budget)
    )
    assert plan["recommended"] == "fast.tflite"  # the slow one is more accurate but misses the budget

    roomy = make_plan(measured, PlanOptions(budget_ms=4 * measured[1]["p99_ms"] + 50, threads=1), 1)
    assert roomy["recommended"] == "slow.tflite"  # both fit: the more accurate one
    size_limit = measured[1]["size_bytes"] / 1e6 / 2
    small = make_plan(
        measured, PlanOptions(budget_ms=roomy["budget_ms"], threads=1, max_size_mb=size_limit), 1
    )
    verdicts = {row["name"]: (row["fits_budget"], row["fits_size"]) for row in small["candidates"]}
    assert verdicts == {"fast.tflite": (True, True), "slow.tflite": (True, False)}
    assert small["recommended"] == "fast.tflite"
    nothing = make_plan(
        measured, PlanOptions(budget_ms=measured[0]["p50_ms"] / 10, threads=1, margin_ms=0), 1
    )
    assert nothing["recommended"] is None and nothing["advice"].startswith("The fastest, fast.tflite, needs ")


def test_recommend_prefers_accuracy_then_speed():
    def row(name, p50, accuracy, fits=True):
        return {"name": name, "p50_ms": p50, "accuracy": accuracy, "fits": fits}

    assert recommend([row("a", 5, 0.8), row("b", 3, 0.8), row("c", 1, 0.7)]) == "b"  # tie: the fastest
    assert recommend([row("a", 5, None), row("b", 9, 0.5)]) == "b"  # a known accuracy beats an unknown one
    assert recommend([row("a", 5, None), row("b", 2, None)]) == "b"
    assert recommend([row("a", 1, 0.99, fits=False), row("b", 9, 0.1)]) == "b"
    assert recommend([row("a", 1, 0.9, fits=False)]) is None


@pytest.mark.slow
def test_a_candidate_that_could_not_be_built_is_listed_with_its_error(measured):
    broken = {"name": "broken_224_int8", "p50_ms": None, "p99_ms": None, "loop_ms": None, "size_bytes": None}
    plan = make_plan([*measured, {**broken, "error": "cannot be built: no such op"}], QUICK, 1)
    assert [r["name"] for r in plan["candidates"]][-1] == "broken_224_int8"
    assert "broken_224_int8: cannot be built: no such op" in plan["notes"]
    assert "| broken_224_int8 | – | – | – | – | – | – | error | – | – |" in markdown(plan)


@pytest.mark.slow
def test_card_accuracy_is_unknown_without_a_matching_card(candidates, tmp_path):
    fast, _ = candidates
    alone = tmp_path / "alone.tflite"
    shutil.copy(fast, alone)
    assert card_accuracy(alone) == (None, None, "unknown: no model_card.json beside the model")
    (tmp_path / "model_card.json").write_text(json.dumps({"models": {"alone.tflite": {"sha256": "0" * 64}}}))
    assert card_accuracy(alone)[2] == "unknown: model_card.json describes another version of alone.tflite"


@pytest.mark.slow
def test_cli_writes_markdown_and_json(candidates, measured, tmp_path):
    fast, slow = candidates
    budget = _budget_between(measured)
    out = tmp_path / "out"
    proc = run_module(
        "benchmarks.plan", "--budget-ms", f"{budget:.3f}", "--threads", "1", "--quick", "--out", str(out),
        str(slow), str(fast),
    )  # fmt: skip
    plan = json.loads((out / "plan.json").read_text())
    assert plan["recommended"] == "fast.tflite" and plan["threads"] == 1
    assert [(r["name"], r["fits"]) for r in plan["candidates"]] == [
        ("fast.tflite", True),
        ("slow.tflite", False),
    ]
    markdown = (out / "plan.md").read_text()
    assert "**Recommended: fast.tflite**" in markdown and "| **fast.tflite** ← | 32x32 uint8 |" in markdown
    assert "| slow.tflite | 224x224 float32 |" in markdown and "too slow" in markdown
    assert markdown in proc.stdout


def test_cli_bad_candidates_and_options_exit_2_with_one_line_under_the_flag(tmp_path):
    proc = run_module("benchmarks.plan", str(tmp_path / "missing.tflite"), check=False)
    assert proc.returncode == 2 and proc.stderr.strip() == (
        f"error: {tmp_path / 'missing.tflite'}: model file not found; check the path"
    )
    proc = run_module("benchmarks", "plan", "--budget-ms", "0", str(tmp_path / "missing.tflite"), check=False)
    assert (
        proc.returncode == 2
        and proc.stderr.strip() == "error: --budget-ms 0.0: must be more than 0, e.g. 33 for 30 fps"
    )
    proc = run_module("benchmarks.plan", "--registry-models", "nope", check=False)
    assert proc.returncode == 2 and proc.stderr.strip().startswith(
        "error: --registry-models 'nope': no such model"
    )


@pytest.mark.slow
def test_registry_models_are_built_untrained_and_cached(tmp_path):
    work, out = tmp_path / "models", tmp_path / "out"
    args = ("benchmarks.plan", "--quick", "--budget-ms", "1000", "--registry-models", "ann,cnn",
            "--work-dir", str(work), "--out", str(out), "--threads", "1")  # fmt: skip
    run_module(*args)
    plan = json.loads((out / "plan.json").read_text())
    rows = {row["name"]: row for row in plan["candidates"]}
    assert set(rows) == {"ann_128_int8", "cnn_128_int8"}  # --quick: the table's smallest size
    assert all(r["input"] == "128x128 uint8" and r["accuracy"] is None for r in rows.values())
    assert all(r["accuracy_source"] == UNTRAINED_NOTE and r["fits"] for r in rows.values())
    assert plan["recommended"] == min(rows.values(), key=lambda r: r["p50_ms"])["name"]
    assert any("accuracy is unknown for these untrained architectures" in note for note in plan["notes"])
    stamps = {p.name: p.stat().st_mtime_ns for p in work.glob("*.tflite")}
    assert set(stamps) == {"ann_128_int8.tflite", "cnn_128_int8.tflite"}
    run_module(*args)  # the second run reuses the cached models
    assert {p.name: p.stat().st_mtime_ns for p in work.glob("*.tflite")} == stamps


@pytest.mark.slow
def test_a_model_whose_output_has_no_data_before_the_first_invoke_is_measured(tmp_path):
    """Keras' MobileNet V1 converted by plain TFLiteConverter: its output tensor is empty until invoke()."""
    import numpy as np
    import tensorflow as tf

    from benchmarks.plan.measure import loop_work_ms

    model = tf.keras.applications.MobileNet(input_shape=(96, 96, 3), alpha=0.25, weights=None, classes=4)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    rng = np.random.default_rng(0)
    converter.representative_dataset = lambda: (
        [rng.random((1, 96, 96, 3), dtype=np.float32)] for _ in range(4)
    )
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.uint8
    path = tmp_path / "mobilenet_v1_plain.tflite"
    path.write_bytes(converter.convert())

    samples = loop_work_ms(path, threads=1, runs=3)
    assert len(samples) == 3 and all(ms > 0 for ms in samples)


@pytest.mark.parametrize(
    ("cpu", "expected"),
    [
        (
            ("x86", "AMD EPYC 7763", ("avx2", "fma")),
            "has no VNNI, so int8 is expected to save size more than time",
        ),
        (("arm", "Cortex-A76", ("asimd", "asimddp")), "has int8 dot-product instructions (asimddp)"),
    ],
    ids=["avx2-only", "arm-dotprod"],
)
def test_the_plan_times_an_int8_model_against_its_float_sibling_and_explains_by_the_cpu(
    tiny_tflite, tmp_path, cpu, expected
):
    from benchmarks.plan.precision import compare_precisions
    from edge_runtime.doctor.cpu import CpuInfo

    shutil.copy(tiny_tflite["uint8"], tmp_path / "model_int8.tflite")
    shutil.copy(tiny_tflite["float32"], tmp_path / "model_float32.tflite")
    options = PlanOptions(quick=True)
    rows = given_rows([tmp_path / "model_int8.tflite"], options, 1, lambda message: None)
    (pair,) = compare_precisions(rows, options, 1, lambda message: None, CpuInfo(*cpu, cores=2))
    assert pair["int8"] == "model_int8.tflite" and pair["float"] == "model_float32.tflite"
    assert pair["int8_p50_ms"] > 0 and pair["float_p50_ms"] > 0
    assert expected in pair["advice"] and ("deploy" in pair["advice"] or "faster here" in pair["advice"])
