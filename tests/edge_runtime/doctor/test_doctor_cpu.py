"""The CPU check tells the int8 dot-product CPUs (VNNI, AMX, asimddp) from those where int8 is only smaller."""

from __future__ import annotations

from pathlib import Path

import pytest
from cpuinfo_texts import PI4_A72, PI5_A76, XEON_SPR, ZEN3, ZEN5

from edge_runtime.doctor.check import INFO, OK
from edge_runtime.doctor.cpu import check_cpu, parse_cpuinfo


@pytest.mark.parametrize(
    ("text", "arch", "model", "cores", "verdict", "says"),
    [
        (
            ZEN3,
            "x86",
            "AMD EPYC 7763 64-Core Processor",
            2,
            INFO,
            "AVX2 without VNNI, int8 is mostly smaller",
        ),
        (ZEN5, "x86", "AMD EPYC 9B45 128-Core Processor", 2, OK, "int8 VNNI (avx512_vnni, avx_vnni)"),
        (
            XEON_SPR,
            "x86",
            "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz",
            4,
            OK,
            "(avx512_vnni, avx_vnni, amx_int8)",
        ),
        (PI4_A72, "arm", "Cortex-A72", 4, INFO, "no int8 dot product (asimddp)"),
        (PI5_A76, "arm", "Cortex-A76", 4, OK, "int8 dot product (asimddp), int8 runs faster than float"),
    ],
    ids=["zen3", "zen5", "xeon-spr", "pi4-a72", "pi5-a76"],
)
def test_each_cpu_gets_its_int8_verdict(text, arch, model, cores, verdict, says):
    info = parse_cpuinfo(text)
    assert (info.arch, info.model, info.cores) == (arch, model, cores)
    check = check_cpu(info)
    assert check.verdict == verdict
    assert says in check.detail
    assert check.facts["features"] == list(info.features)
    if verdict == INFO:  # where int8 is not clearly faster, the fix is to measure
        assert "--measure" in check.fix


def test_features_are_read_from_the_right_line():
    assert parse_cpuinfo(ZEN3).features == ("sse4_1", "avx", "avx2", "fma")
    assert "avx512_vnni" not in parse_cpuinfo(ZEN3).features
    assert parse_cpuinfo(PI4_A72).features == ("asimd",)
    assert parse_cpuinfo(PI5_A76).features == ("asimd", "asimddp")


def test_this_machines_cpuinfo_parses():
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    if not text:
        pytest.skip("no /proc/cpuinfo on this system")
    info = parse_cpuinfo(text)
    assert info.arch in ("x86", "arm") and info.cores >= 1
    assert check_cpu(info).verdict in (OK, INFO)


def test_an_unknown_cpuinfo_is_reported_not_guessed():
    check = check_cpu(parse_cpuinfo("processor : 0\nisa : rv64imafdc\n"))
    assert check.verdict == INFO and "unknown CPU" in check.detail
