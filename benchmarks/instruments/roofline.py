"""A compute-bound probe model: the GMAC/s this machine and runtime reach at best, for int8 and float32."""

from __future__ import annotations

PROBE_SIZE = 56
PROBE_CHANNELS = 64
PROBE_KERNEL = 3
PROBE_LAYERS = 4
# What defines the probe, for the converted-model cache.
PROBE_ARCHITECTURE = {
    "size": PROBE_SIZE,
    "channels": PROBE_CHANNELS,
    "kernel": PROBE_KERNEL,
    "layers": PROBE_LAYERS,
}
PROBE_DESCRIPTION = (
    f"a 3x3 stem, then {PROBE_LAYERS} layers of {PROBE_KERNEL}x{PROBE_KERNEL} convolution with {PROBE_CHANNELS} "
    f"channels at {PROBE_SIZE}x{PROBE_SIZE}, 0.47 GMAC"
)


def build_probe_keras(seed: int = 0):
    """Raw 56x56 pixels -> a 3x3 stem -> four 3x3 convolutions of 64 channels -> softmax.

    Each 3x3 convolution (56*56*64*64*9 = 115.6M MACs) is a dense product with plenty of reuse
    and activations (200 KB int8, 800 KB float) that stay in a core's L2 cache: the best case for
    a CPU kernel, so the probe's GMAC/s is a practical ceiling to compare real models with (a
    measured one, not a datasheet peak). Of the shapes tried on an AVX-512 VNNI AMD EPYC (1x1
    convolutions at 56x56x256, 28x28x256, 28x28x512, 14x14x512, 7x7x1024; 3x3 at 28x28x128) this
    one was as fast per core as any and the only one whose float32 version XNNPACK spread over two
    threads (the others stayed on one core at two threads).
    """
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((PROBE_SIZE, PROBE_SIZE, 3), name="image")
    x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0)(inputs)
    x = keras.layers.Conv2D(PROBE_CHANNELS, 3, padding="same", activation="relu")(x)
    for _ in range(PROBE_LAYERS):
        x = keras.layers.Conv2D(PROBE_CHANNELS, PROBE_KERNEL, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(2, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="peak_probe")


def gmacs_per_second(macs: int | None, latency_ms: float | None) -> float | None:
    """Achieved GMAC/s: MACs / latency; None when either is missing or the latency is not positive."""
    if macs is None or latency_ms is None or not latency_ms > 0:
        return None
    return macs / (latency_ms * 1e-3) / 1e9


def ceiling(probe_by_threads: dict[str, float], threads: int) -> float | None:
    """The probe's best GMAC/s with at most `threads` threads (more threads may use fewer).

    Args:
      probe_by_threads: GMAC/s by thread count as a string key ('1', '2', ...).
      threads: The thread budget.
    """
    values = [v for t, v in probe_by_threads.items() if int(t) <= threads and v is not None]
    return max(values) if values else None
