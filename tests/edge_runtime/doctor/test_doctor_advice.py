"""int8 or float: the advice reads the measured times against the CPU's int8 features (fake CPUs of both kinds)."""

from __future__ import annotations

import pytest
from cpuinfo_texts import PI4_A72, PI5_A76, ZEN3, ZEN5

from edge_runtime.doctor.cpu import parse_cpuinfo
from edge_runtime.doctor.measure import int8_advice

MB = 1_000_000


def _advice(cpu_text: str, int8_ms: float, float_ms: float) -> str:
    return int8_advice(
        parse_cpuinfo(cpu_text),
        "model_int8.tflite",
        int8_ms,
        2 * MB,
        "model_float32.tflite",
        float_ms,
        8 * MB,
    )


@pytest.mark.parametrize("cpu_text", [ZEN5, PI5_A76], ids=["zen5-vnni", "pi5-dotprod"])
def test_a_cpu_with_int8_dot_products_and_a_faster_int8_model_deploys_int8(cpu_text):
    advice = _advice(cpu_text, 0.6, 1.5)
    assert "has int8 dot-product instructions" in advice
    assert advice.endswith("deploy model_int8.tflite: 2.5x faster and 4x smaller")


@pytest.mark.parametrize("cpu_text", [ZEN3, PI4_A72], ids=["zen3-avx2", "pi4-a72"])
def test_a_cpu_without_them_is_told_int8_saves_size_and_float_wins_when_faster(cpu_text):
    advice = _advice(cpu_text, 3.0, 1.7)  # the default model on Zen 3 measured 0.58x
    assert "has no VNNI" in advice or "has no dot-product extension (asimddp)" in advice
    assert "int8 is expected to save size more than time" in advice
    assert "model_float32.tflite is 1.8x faster here: deploy it if its 8.0 MB fit" in advice
    assert "not what the features predict" not in advice


def test_about_the_same_speed_still_deploys_int8_for_its_size():
    assert "deploy model_int8.tflite: as fast (within 10%) and 4x smaller" in _advice(ZEN3, 1.0, 1.03)


def test_a_measurement_against_the_features_is_flagged():
    advice = _advice(ZEN5, 2.0, 1.0)
    assert "model_float32.tflite is 2x faster here" in advice and "not what the features predict" in advice
