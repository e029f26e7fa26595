"""Self-supervised pre-training (SimCLR) of a scratch model on a training folder's images, labels unused.

CLI: python -m train.simclr --data DIR --out FILE.weights.h5 [--model cnn_bn --epochs 60 ...]

Two random views of every image (a crop of 35-100% of its area by default, flips and transposes,
contrast, brightness and noise) go through the model's body up to its global pooling and a two-layer
projection; the NT-Xent loss (temperature 0.2) pulls each image's two views together and pushes
the rest of the batch away. The whole classifier's weights (body trained, head as initialized) are
saved for `python -m train --weights FILE` with the same model, width and number of classes. The
body is pre-trained on RGB; for a gray folder (which `python -m train` trains with an in-model
gray conversion) the stem's kernel is summed over its three inputs, the same filter on r = g = b.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from edge_runtime.errors import UserError, cli_main
from edge_runtime.files import atomic_write_text

# The views' default strength; records made before these were options used them.
MIN_CROP = 0.35
NOISE = 8.0


def _augment(x, size: int, min_crop: float = MIN_CROP, noise: float = NOISE):
    """A random view of each image of a float32 0..255 batch, (size, size): a square crop of
    min_crop..1 of the area, and Gaussian noise of a standard deviation up to `noise` levels."""
    import tensorflow as tf

    n = tf.shape(x)[0]
    side = tf.sqrt(tf.random.uniform([n], min_crop, 1.0))
    top, left = tf.random.uniform([n]) * (1 - side), tf.random.uniform([n]) * (1 - side)
    boxes = tf.stack([top, left, top + side, left + side], 1)
    x = tf.image.crop_and_resize(x, boxes, tf.range(n), [size, size])

    def coin():
        return tf.random.uniform([n, 1, 1, 1]) < 0.5

    x = tf.where(coin(), x[:, :, ::-1], x)
    x = tf.where(coin(), x[:, ::-1], x)
    x = tf.where(coin(), tf.transpose(x, [0, 2, 1, 3]), x)
    mean = tf.reduce_mean(x, [1, 2, 3], keepdims=True)
    x = (x - mean) * tf.random.uniform([n, 1, 1, 1], 0.7, 1.3) + mean
    x = x + tf.random.uniform([n, 1, 1, 1], -25.0, 25.0)
    x = x + tf.random.normal(tf.shape(x)) * tf.random.uniform([n, 1, 1, 1], 0.0, noise)
    return tf.clip_by_value(x, 0.0, 255.0)


def _cpu_model() -> str:
    """The CPU's model name as /proc/cpuinfo gives it (or the platform's word for it)."""
    import platform

    from edge_runtime.doctor.cpu import parse_cpuinfo

    cpuinfo = Path("/proc/cpuinfo")
    model = parse_cpuinfo(cpuinfo.read_text()).model if cpuinfo.is_file() else ""
    return model if model not in ("", "unknown", "x86") else platform.processor() or platform.machine()


def nt_xent(z, temperature: float):
    """SimCLR's loss for 2n embeddings, where rows i and i + n are two views of one image; also
    the share of rows whose most similar other row is their pair."""
    import tensorflow as tf

    n = tf.shape(z)[0] // 2
    z = tf.math.l2_normalize(z, 1)
    similarity = tf.matmul(z, z, transpose_b=True) / temperature - 1e9 * tf.eye(2 * n)
    pairs = tf.concat([tf.range(n, 2 * n), tf.range(0, n)], 0)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(pairs, similarity))
    found = tf.reduce_mean(
        tf.cast(tf.equal(tf.argmax(similarity, 1, output_type=tf.int32), pairs), tf.float32)
    )
    return loss, found


def to_gray_model(rgb_model, spec, options, num_classes: int):
    """The same classifier with the in-model gray conversion: the stem kernel summed over r, g, b."""
    import dataclasses

    gray = spec.build(dataclasses.replace(options, grayscale=True, weights=None), num_classes)
    for layer in gray.layers:
        if not layer.weights or layer.name == "grayscale":
            continue
        weights = rgb_model.get_layer(layer.name).get_weights()
        if layer.name == "stem":
            weights = [weights[0].sum(axis=2, keepdims=True), *weights[1:]]
        layer.set_weights(weights)
    return gray


def command(record: dict) -> str:
    """The command line that made a pre-training, from the settings its record holds."""
    flags = (
        "data",
        "out",
        "model",
        "alpha",
        "load_size",
        "size",
        "min_crop",
        "noise",
        "epochs",
        "batch_size",
        "learning_rate",
        "classes",
        "seed",
    )
    # Records made before --min-crop and --noise existed lack them: those runs used the defaults.
    return " ".join(
        ["python -m train.simclr"] + [f"--{k.replace('_', '-')} {record[k]}" for k in flags if k in record]
    )


@cli_main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.simclr", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", type=Path, required=True, help="training folder (ROOT/<class>/*); labels unused"
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="FILE.weights.h5 for python -m train --weights"
    )
    parser.add_argument(
        "--model", default="cnn_bn", help="a scratch model of train's registry (default %(default)s)"
    )
    parser.add_argument("--alpha", type=float, default=1.0, help="its width (default %(default)s)")
    parser.add_argument(
        "--load-size", type=int, default=160, help="images are loaded at this side (default %(default)s)"
    )
    parser.add_argument("--size", type=int, default=128, help="side of the views (default %(default)s)")
    parser.add_argument(
        "--min-crop",
        type=float,
        default=MIN_CROP,
        help="smallest share of an image's area a view crops, 0 < x <= 1 (default %(default)s)",
    )
    parser.add_argument(
        "--noise",
        type=float,
        default=NOISE,
        help="largest standard deviation of a view's Gaussian noise, in 0..255 levels (default %(default)s)",
    )
    parser.add_argument("--epochs", type=int, default=60, help="default %(default)s")
    parser.add_argument(
        "--batch-size", type=int, default=128, help="images per step, two views each (default %(default)s)"
    )
    parser.add_argument(
        "--learning-rate", type=float, default=2e-3, help="peak, after 2 warm-up epochs (default %(default)s)"
    )
    parser.add_argument(
        "--classes", type=int, default=2, help="classes of the classifier to save (default %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=0, help="default %(default)s")
    args = parser.parse_args(argv)
    if not args.out.name.endswith(".weights.h5"):
        raise UserError(f"--out {args.out}: name it FILE.weights.h5 (what python -m train --weights loads)")
    if not 0 < args.min_crop <= 1:
        raise UserError(f"--min-crop {args.min_crop}: give a share of the area, 0 < x <= 1 (e.g. 0.35)")
    if args.noise < 0:
        raise UserError(f"--noise {args.noise}: give a standard deviation >= 0 (e.g. 8; 0 for none)")
    from edge_runtime.native_logs import quiet_tensorflow

    quiet_tensorflow()
    import keras
    import numpy as np
    import tensorflow as tf

    from train.callbacks import save_weights_atomically
    from train.dataset import Dataset
    from train.model_options import ModelOptions
    from train.model_spec import get_spec

    spec = get_spec(args.model)
    if spec.has_base:
        raise UserError(f"--model {args.model}: has a keras.applications base; pre-train a scratch model")
    keras.utils.set_random_seed(args.seed)
    data = Dataset.from_folder(args.data, image_size=(args.load_size, args.load_size))
    if len(data) < 2 * args.batch_size:
        raise UserError(f"{args.data}: {len(data)} images; need at least two batches of {args.batch_size}")
    options = spec.resolve(ModelOptions(model=args.model, image_size=args.size, alpha=args.alpha))
    model = spec.build(options, args.classes)
    body = keras.Model(model.input, model.get_layer("pool").output)
    projection = keras.Sequential([keras.layers.Dense(256, activation="relu"), keras.layers.Dense(64)])
    projection.build((None, body.output_shape[-1]))
    steps = len(data) // args.batch_size
    schedule = keras.optimizers.schedules.CosineDecay(
        args.learning_rate * 0.1,
        args.epochs * steps,
        warmup_target=args.learning_rate,
        warmup_steps=2 * steps,
    )
    optimizer = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=1e-4)
    variables = body.trainable_variables + projection.trainable_variables
    optimizer.build(variables)

    def augment(x):
        return _augment(x, args.size, args.min_crop, args.noise)

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            views = tf.concat([augment(x), augment(x)], 0)
            loss, found = nt_xent(projection(body(views, training=True), training=True), 0.2)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss, found

    images = tf.data.Dataset.from_tensor_slices(data.images).shuffle(len(data), seed=args.seed)
    images = (
        images.batch(args.batch_size, drop_remainder=True).map(lambda b: tf.cast(b, tf.float32)).prefetch(2)
    )
    start, log = time.time(), []
    for epoch in range(args.epochs):
        results = [step(batch) for batch in images]
        loss, found = (float(np.mean([r[i] for r in results])) for i in (0, 1))
        log.append({"epoch": epoch + 1, "loss": loss, "pairs_found": found, "seconds": time.time() - start})
        print(f"epoch {epoch + 1}/{args.epochs}: loss {loss:.3f}, pairs found {found:.3f}", flush=True)
    if data.grayscale:
        model = to_gray_model(model, spec, options, args.classes)
    save_weights_atomically(model, args.out)
    record = {
        **{k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "gray": data.grayscale,
        "wall_seconds": round(time.time() - start, 1),
        "cpu": _cpu_model(),
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "log": log,
    }
    record["command"] = command(record)
    atomic_write_text(f"{args.out}.json", json.dumps(record, indent=1) + "\n")
    print(f"wrote {args.out} ({time.time() - start:.0f} s); train with: python -m train --weights {args.out} "
          f"--model {args.model} --alpha {args.alpha} ...", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
