"""Tests for train.trainer: kept weights, early stopping, seeded reproduction, resume, augmentation kept out
of the saved model (and its .tflite), and MirroredStrategy on two logical CPUs."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

from conftest import REPO
from edge_runtime.errors import UserError
from train.artifacts import training_label
from train.augmentation import AugmentOptions
from train.dataset import Dataset
from train.fitting import balanced_class_weights
from train.hyperparameters import Hyperparameters
from train.model_options import ModelOptions
from train.model_spec import get_spec
from train.plots import plot_history
from train.trainer import train
from train.weight_average import precise_batch_norm

SIZE = 32
ALL_AUGMENTATIONS = AugmentOptions(
    quarter_turns=True, rotation=0.1, translation=0.1, zoom=0.1, gain=0.2, blur=0.5, gamma=0.25, noise=3.0
)


def _noise_dataset(n: int, seed: int = 0) -> Dataset:
    """Random images with random labels (2:1 imbalance): a model can only memorize them, so it overfits."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, SIZE, SIZE, 3), dtype=np.uint8)
    labels = (rng.random(n) < 1 / 3).astype(np.int32)
    return Dataset(Path("noise"), ("a", "b"), images, labels)


def _learnable_dataset(n: int = 64, seed: int = 0) -> Dataset:
    """Class b has a bright square somewhere; class a has none."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 128, (n, SIZE, SIZE, 3), dtype=np.uint8)
    labels = (np.arange(n) % 2).astype(np.int32)
    for i in np.flatnonzero(labels):
        row, col = rng.integers(0, SIZE - 8, 2)
        images[i, row : row + 8, col : col + 8] = 250
    return Dataset(Path("squares"), ("a", "b"), images, labels)


def _weights(model: keras.Model) -> list[np.ndarray]:
    return [np.asarray(w) for w in model.get_weights()]


class _StopAfter(keras.callbacks.Callback):
    """Stops training after `epochs` epochs, as an interruption would."""

    def __init__(self, epochs: int) -> None:
        super().__init__()
        self.epochs = epochs

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 >= self.epochs:
            self.model.stop_training = True


def test_balanced_class_weights():
    weights = balanced_class_weights(np.array([0, 0, 0, 1]), 2)
    assert weights == {0: pytest.approx(4 / 6), 1: pytest.approx(2.0)}
    assert balanced_class_weights(np.array([0, 0]), 2)[1] == 0.0


def test_oversampled_epochs_are_longer_and_the_run_records_it(tmp_path):
    class Steps(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.batches = 0

        def on_train_batch_end(self, batch, logs=None):
            self.batches += 1

    hparams = Hyperparameters(
        epochs=2, batch_size=8, validation_split=0.0, class_weights=False, oversample=True,
        augmentation=AugmentOptions.none(),
    )  # fmt: skip
    data = _noise_dataset(40)  # 2:1 imbalance
    counted = Steps()
    train(data, get_spec("cnn"), ModelOptions(image_size=SIZE), hparams, tmp_path, callbacks=[counted])
    largest = int(np.bincount(data.labels).max())
    assert counted.batches == 2 * -(-2 * largest // 8) > 2 * 5  # more than the 5 batches of a plain epoch
    config = json.loads((tmp_path / "train_config.json").read_text())
    assert config["hyperparameters"]["oversample"] is True and config["class_weights"] is None


@pytest.mark.slow
def test_the_lowest_validation_loss_epoch_is_kept_and_checkpointed(tmp_path):
    data = _noise_dataset(96)
    # Without label smoothing, so the recorded val_loss is the plain cross-entropy evaluate() gives.
    hparams = Hyperparameters(
        epochs=6, batch_size=16, learning_rate=3e-3, seed=1, validation_split=0.25, label_smoothing=0.0
    )
    result = train(data, get_spec("cnn"), ModelOptions(image_size=SIZE), hparams, tmp_path)
    val_loss = result.history["val_loss"]
    assert result.best_epoch == int(np.argmin(val_loss)) + 1
    assert result.best_epoch < hparams.epochs, val_loss  # memorizing noise: validation loss rises
    # The returned (and saved) model has the kept epoch's weights, not the last epoch's.
    train_part, val = data.split(0.25, seed=1)
    loss, _ = result.model.evaluate(val.gen_tf_dataset(16), verbose=0)
    assert loss == pytest.approx(val_loss[result.best_epoch - 1], rel=1e-4)
    assert loss != pytest.approx(val_loss[-1], rel=1e-3)
    best = keras.saving.load_model(tmp_path / "checkpoints" / "best.keras")
    for a, b in zip(_weights(best), _weights(result.model), strict=True):
        np.testing.assert_array_equal(a, b)
    config = json.loads((tmp_path / "train_config.json").read_text())
    assert config["best_epoch"] == result.best_epoch and config["epochs_run"] == 6 and config["completed"]
    expected = balanced_class_weights(train_part.labels, 2)
    assert config["class_weights"] == {"a": expected[0], "b": expected[1]}
    assert expected[1] > 1.5 > expected[0]  # the minority class weighs more
    assert config["class_counts"]["validation"] == val.class_counts()
    assert config["distribute"] == {
        "strategy": "none",
        "replicas": 1,
        "workers": 1,
        "task": "",
        "chief": True,
    }


@pytest.mark.slow
def test_early_stopping_ends_the_run_and_keeps_the_best_epoch(tmp_path):
    hparams = Hyperparameters(
        epochs=12, batch_size=16, learning_rate=3e-3, seed=1, validation_split=0.25, early_stopping_patience=2
    )
    result = train(_noise_dataset(96), get_spec("cnn"), ModelOptions(image_size=SIZE), hparams, tmp_path)
    run = len(result.history["loss"])
    assert run == result.best_epoch + 2 < 12  # two epochs without a lower validation loss, then stop
    assert result.completed


@pytest.mark.slow
def test_without_validation_or_class_weights(tmp_path):
    hparams = Hyperparameters(
        epochs=2, batch_size=16, validation_split=0.0, class_weights=False, augmentation=AugmentOptions.none()
    )
    result = train(_noise_dataset(40), get_spec("cnn"), ModelOptions(image_size=SIZE), hparams, tmp_path)
    assert result.best_epoch == 2
    assert set(result.history) == {"accuracy", "loss", "epoch_seconds"}
    assert result.best("val_accuracy") is None
    config = json.loads((tmp_path / "train_config.json").read_text())
    assert config["class_weights"] is None and config["class_counts"]["validation"] is None
    assert (tmp_path / "training_curves.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_seeded_runs_reproduce_and_a_resumed_run_matches_an_uninterrupted_one(tmp_path):
    data = _learnable_dataset()
    spec, options = get_spec("cnn"), ModelOptions(model="cnn", image_size=SIZE)
    hparams = Hyperparameters(
        epochs=4, batch_size=16, seed=3, augmentation=ALL_AUGMENTATIONS, lr_schedule="cosine", warmup_epochs=1
    )
    first = train(data, spec, options, hparams, tmp_path / "first")
    stopped = train(data, spec, options, hparams, tmp_path / "resumed", callbacks=[_StopAfter(2)])
    assert not stopped.completed and len(stopped.history["loss"]) == 2
    assert stopped.history["loss"] == first.history["loss"][:2]  # the same seed, the same run
    assert json.loads((tmp_path / "resumed" / "train_config.json").read_text())["completed"] is False
    resumed = train(data, spec, options, hparams, tmp_path / "resumed", resume=True)
    assert resumed.completed and len(resumed.history["loss"]) == 4
    np.testing.assert_allclose(resumed.history["loss"], first.history["loss"], rtol=1e-5)
    assert resumed.best_epoch == first.best_epoch
    for a, b in zip(_weights(first.model), _weights(resumed.model), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    config = json.loads((tmp_path / "resumed" / "train_config.json").read_text())
    assert config["resumed_at_epoch"] == 2 and config["epochs_run"] == 4

    with pytest.raises(
        UserError, match=r"checkpoint was trained with other settings \(hyperparameters.seed: 3 -> 4"
    ):
        train(
            data,
            spec,
            options,
            Hyperparameters(**{**vars(hparams), "seed": 4}),
            tmp_path / "resumed",
            resume=True,
        )
    with pytest.raises(
        FileNotFoundError, match=r"state.json: no checkpoint to resume; train into .* without --resume"
    ):
        train(data, spec, options, hparams, tmp_path / "never", resume=True)


@pytest.mark.slow
def test_augmentation_stays_out_of_the_saved_model_and_its_int8_tflite(tmp_path):
    from convert.converter import ConvertOptions, convert
    from convert.tflite_graph import read_graph

    hparams = Hyperparameters(epochs=1, batch_size=16, augmentation=ALL_AUGMENTATIONS)
    options = ModelOptions(model="cnn_bn", image_size=SIZE, alpha=0.5, grayscale=True)
    train(_learnable_dataset(), get_spec("cnn_bn"), options, hparams, tmp_path)
    model = keras.saving.load_model(tmp_path / "model.keras")
    kinds = {type(layer).__name__ for layer in model.layers}
    assert not {k for k in kinds if k.startswith("Random")}, kinds
    tflite = convert(model, ConvertOptions(), calibration=_learnable_dataset(32, seed=5).images)
    ops = read_graph(tflite).op_counts()
    assert set(ops) <= {
        "CONV_2D",
        "MAX_POOL_2D",
        "MEAN",
        "FULLY_CONNECTED",
        "SOFTMAX",
        "QUANTIZE",
        "DEQUANTIZE",
    }, ops
    assert ops["CONV_2D"] == 1 + 1 + 8  # the gray 1x1, the stem and 4 stages of 2: batch norm is folded in


def test_images_at_the_wrong_size_are_refused(tmp_path):
    with pytest.raises(
        UserError, match=r"noise: images were loaded at \(32, 32\), the model needs \(64, 64\)"
    ):
        train(_noise_dataset(40), get_spec("cnn"), ModelOptions(image_size=64), Hyperparameters(), tmp_path)
    assert not any(tmp_path.iterdir())


@pytest.mark.slow
def test_mirrored_strategy_splits_batches_over_two_logical_cpus(tmp_path):
    # Logical devices must be configured before TensorFlow starts, hence a fresh process.
    script = textwrap.dedent(
        f"""
        import json, numpy as np, tensorflow as tf
        from pathlib import Path
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from train.dataset import Dataset
        from train.hyperparameters import Hyperparameters
        from train.model_options import ModelOptions
        from train.model_spec import get_spec
        from train.trainer import train
        rng = np.random.default_rng(0)
        data = Dataset(Path("m"), ("a", "b"), rng.integers(0, 256, (48, 32, 32, 3), dtype=np.uint8),
                       (np.arange(48) % 2).astype(np.int32))
        result = train(data, get_spec("cnn"), ModelOptions(image_size=32),
                       Hyperparameters(epochs=2, batch_size=16), {str(tmp_path)!r}, distribute="mirrored")
        print(json.dumps({{"cluster": vars(result.cluster), "epochs": len(result.history["loss"])}}))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary == {
        "cluster": {"strategy": "mirrored", "replicas": 2, "workers": 1, "task": "", "chief": True},
        "epochs": 2,
    }
    config = json.loads((tmp_path / "train_config.json").read_text())
    assert config["distribute"]["replicas"] == 2
    assert (tmp_path / "model.keras").is_file()


def test_plot_history_draws_a_png():
    history = {
        "accuracy": [0.5, 0.7],
        "loss": [0.9, 0.6],
        "val_accuracy": [0.6, 0.65],
        "val_loss": [0.8, 0.7],
    }
    png = plot_history(history, best_epoch=2)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert plot_history({"accuracy": [0.5], "loss": [0.9]})[:4] == b"\x89PNG"


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_multi_worker_training_across_two_local_processes(elpv_subset, tmp_path):
    ports = _free_ports(2)
    cluster = {"worker": [f"localhost:{port}" for port in ports]}
    procs = []
    for index in range(2):
        config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        env = {"PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2", "TF_CONFIG": config}
        args = ["--data", str(elpv_subset / "train"), "--out", str(tmp_path / "out"), "--image-size", "32"]
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "train", *args, "--epochs", "2", "--distribute", "multi-worker"],
                cwd=REPO,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outputs = [proc.communicate(timeout=300) for proc in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err[-3000:]
    assert "worker worker:1 done; the chief writes the artifacts" in outputs[1][0]
    # Both workers saw the same all-reduced epochs.
    epochs = [[line for line in out.splitlines() if line.startswith("Epoch 2/2")] for out, _ in outputs]
    assert epochs[0] and epochs[0][0].split(" - ", 2)[2] == epochs[1][0].split(" - ", 2)[2]
    config = json.loads((tmp_path / "out" / "train_config.json").read_text())
    assert config["distribute"] == {
        "strategy": "multi-worker",
        "replicas": 2,
        "workers": 2,
        "task": "worker:0",
        "chief": True,
    }
    assert config["epochs_run"] == 2 and (tmp_path / "out" / "model.keras").is_file()


def test_a_checkpoint_from_before_an_option_existed_resumes_while_the_option_is_off(tmp_path):
    from dataclasses import asdict

    from train.resume import checkpoint_folder, read_state

    current = {"hyperparameters": asdict(Hyperparameters()), "seed": 0}
    older = json.loads(json.dumps(current))
    del older["hyperparameters"]["oversample"], older["hyperparameters"]["augmentation"]["gamma"]
    folder = checkpoint_folder(tmp_path)
    folder.mkdir()
    (folder / "last.keras").write_bytes(b"")
    (folder / "state.json").write_text(json.dumps({"settings": older, "epochs_done": 2}))
    assert read_state(tmp_path, current)["epochs_done"] == 2  # the new options are off: same run
    turned_on = json.loads(json.dumps(current))
    turned_on["hyperparameters"]["augmentation"]["gamma"] = 0.25
    with pytest.raises(
        UserError, match=r"other settings \(hyperparameters.augmentation.gamma: None -> 0.25\)"
    ):
        read_state(tmp_path, turned_on)


def test_training_curves_say_when_the_training_loss_is_class_weighted():
    assert (
        training_label({"class_weights": {"defective": 1.6, "functional": 0.73}})
        == "training (class-weighted loss)"
    )
    assert training_label({"class_weights": None, "hyperparameters": {"oversample": True}}) == (
        "training (class-balanced draws)"
    )
    assert training_label({"class_weights": None}) == training_label({}) == "training"
    history = {
        "accuracy": [0.5, 0.6],
        "loss": [0.9, 0.8],
        "val_accuracy": [0.5, 0.55],
        "val_loss": [0.7, 0.7],
    }
    assert plot_history(history, 1, "training (class-weighted loss)")[:4] == b"\x89PNG"


class _RecordWeights(keras.callbacks.Callback):
    """The model's weights before training and after every step."""

    def __init__(self) -> None:
        super().__init__()
        self.initial, self.steps = None, []

    def on_train_begin(self, logs=None):
        self.initial = _weights(self.model)

    def on_train_batch_end(self, batch, logs=None):
        self.steps.append(_weights(self.model))


@pytest.mark.slow
def test_ema_keeps_the_step_by_step_average_and_validates_it(tmp_path):
    data = _learnable_dataset()
    spec, options = get_spec("cnn"), ModelOptions(model="cnn", image_size=SIZE)
    # No validation: the saved model is the average after the last step, computed here independently.
    hparams = Hyperparameters(
        epochs=3, batch_size=16, seed=2, validation_split=0.0, ema=0.9, augmentation=AugmentOptions.none()
    )
    recorder = _RecordWeights()  # no augmentation: fit() runs the deployable model itself
    result = train(data, spec, options, hparams, tmp_path / "plain", callbacks=[recorder])
    expected = [np.asarray(w, dtype=np.float64) for w in recorder.initial]
    for t, weights in enumerate(recorder.steps, start=1):
        decay = min(0.9, (1 + t) / (10 + t))
        expected = [decay * e + (1 - decay) * w for e, w in zip(expected, weights, strict=True)]
    assert len(recorder.steps) == 3 * data.steps(16)
    for got, want in zip(_weights(result.model), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    assert any(not np.allclose(a, b) for a, b in zip(_weights(result.model), recorder.steps[-1], strict=True))

    # With validation, the average is what is scored, kept and saved; the raw weights' scores stay on record.
    hparams = Hyperparameters(
        epochs=4, batch_size=16, seed=2, ema=0.9, lr_schedule="cosine", warmup_epochs=1, label_smoothing=0.0
    )
    first = train(data, spec, options, hparams, tmp_path / "first")
    assert {"val_raw_accuracy", "val_raw_loss"} <= set(first.history)
    _, val = data.split(hparams.validation_split, seed=2)
    loss, _ = first.model.evaluate(val.gen_tf_dataset(16), verbose=0)
    assert loss == pytest.approx(first.history["val_loss"][first.best_epoch - 1], rel=1e-4)
    assert first.history["val_loss"] != first.history["val_raw_loss"]
    best = keras.saving.load_model(tmp_path / "first" / "checkpoints" / "best.keras")
    for a, b in zip(_weights(best), _weights(first.model), strict=True):
        np.testing.assert_array_equal(a, b)

    # An interrupted run resumes its average too.
    train(data, spec, options, hparams, tmp_path / "resumed", callbacks=[_StopAfter(2)])
    assert (tmp_path / "resumed" / "checkpoints" / "ema.npz").is_file()
    resumed = train(data, spec, options, hparams, tmp_path / "resumed", resume=True)
    np.testing.assert_allclose(resumed.history["val_loss"], first.history["val_loss"], rtol=1e-4)
    for a, b in zip(_weights(first.model), _weights(resumed.model), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_ema_momentum_is_checked():
    with pytest.raises(ValueError, match="ema"):
        Hyperparameters(ema=1.0)


def test_precise_batch_norm_sets_the_mean_of_the_batches_statistics():
    inputs = keras.Input((8, 8, 3))
    conv = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    model = keras.Model(inputs, keras.layers.BatchNormalization(momentum=0.99, name="bn")(conv))
    images = np.random.default_rng(0).integers(0, 256, (36, 8, 8, 3)).astype(np.uint8)
    assert precise_batch_norm(model, images, 8) == 4  # full batches only: the last 4 images are left out
    features = keras.Model(inputs, conv).predict(images[:32].astype(np.float32), verbose=0)
    batches = features.reshape(4, 8, -1, 4)
    bn = model.get_layer("bn")
    np.testing.assert_allclose(bn.moving_mean.numpy(), batches.mean(axis=(1, 2)).mean(axis=0), rtol=1e-4)
    np.testing.assert_allclose(bn.moving_variance.numpy(), batches.var(axis=(1, 2)).mean(axis=0), rtol=1e-3)
    assert bn.momentum == 0.99
    assert precise_batch_norm(model, images[:7], 8) == 0


@pytest.mark.slow
def test_precise_bn_statistics_are_what_validation_scores_and_what_is_kept(tmp_path):
    data = _learnable_dataset()
    hparams = Hyperparameters(epochs=3, batch_size=16, seed=1, precise_bn=32, label_smoothing=0.0)
    result = train(data, get_spec("cnn_bn"), ModelOptions(model="cnn_bn", image_size=SIZE), hparams, tmp_path)
    _, val = data.split(hparams.validation_split, seed=1)
    loss, _ = result.model.evaluate(val.gen_tf_dataset(16), verbose=0)
    assert loss == pytest.approx(result.history["val_loss"][result.best_epoch - 1], rel=1e-4)
    assert result.history["val_loss"] != result.history["val_raw_loss"]


@pytest.mark.slow
def test_without_validation_the_final_weights_get_precise_statistics(tmp_path):
    data = _learnable_dataset()
    hparams = Hyperparameters(epochs=2, batch_size=16, seed=1, precise_bn=32, validation_split=0.0)
    result = train(data, get_spec("cnn_bn"), ModelOptions(model="cnn_bn", image_size=SIZE), hparams, tmp_path)
    kept = _weights(result.model)
    pick = np.sort(np.random.default_rng(1).permutation(len(data))[:32])
    precise_batch_norm(result.model, data.images[pick], 16)  # the same cells again: nothing moves
    for a, b in zip(kept, _weights(result.model), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert not (tmp_path / "checkpoints" / "ema.npz").exists()  # no average to keep
