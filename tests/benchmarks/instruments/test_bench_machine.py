"""The machine description: /proc/cpuinfo parsing on x86 and ARM text, and the fields every result records."""

from __future__ import annotations

import json

import pytest

from benchmarks.instruments.machine import (
    INTERESTING_FLAGS,
    describe_machine,
    machine_name,
    parse_cpuinfo,
    steal_percent,
)

X86_CPUINFO = """\
processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz
cpu MHz\t\t: 2899.970
flags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512bw avx512_vnni

processor\t: 1
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz
cpu MHz\t\t: 2899.970
flags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512bw avx512_vnni
"""

# A Raspberry Pi 5 (Cortex-A76): features per core, the board in 'Model', no 'model name'.
ARM_CPUINFO = """\
processor\t: 0
BogoMIPS\t: 108.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp
CPU implementer\t: 0x41
CPU part\t: 0xd0b

processor\t: 1
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp
CPU part\t: 0xd0b

Revision\t: d04170
Model\t\t: Raspberry Pi 5 Model B Rev 1.0
"""


def test_x86_cpuinfo_gives_model_flags_clock_and_count():
    cpu = parse_cpuinfo(X86_CPUINFO)
    assert cpu["model"] == "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz"
    assert cpu["processors"] == 2
    assert cpu["mhz"] == 2899.970
    assert {"avx2", "avx512_vnni", "fma"} <= set(cpu["flags"])
    assert "asimddp" not in cpu["flags"]


def test_arm_cpuinfo_gives_the_board_and_neon_dot_product():
    cpu = parse_cpuinfo(ARM_CPUINFO)
    assert cpu["model"] == "Raspberry Pi 5 Model B Rev 1.0"
    assert cpu["processors"] == 2
    assert cpu["mhz"] is None
    assert {"asimd", "asimddp", "asimdhp"} <= set(cpu["flags"])


def test_empty_cpuinfo_is_not_an_error():
    assert parse_cpuinfo("") == {"model": None, "flags": [], "mhz": None, "processors": 0}


def test_this_machine_is_described_with_every_field():
    machine = describe_machine()
    json.dumps(machine)  # JSON-ready
    assert machine["cpu_model"]
    assert machine["logical_cpus"] >= machine["usable_cores"] >= 1
    assert set(machine["simd_flags"]) <= set(INTERESTING_FLAGS)
    assert machine["os"] and machine["kernel"] and machine["python"].startswith(("CPython", "PyPy"))
    assert machine["libraries"]["numpy"] is not None
    assert machine["libraries"]["ai-edge-litert"] is not None
    assert set(machine["load"]) == {"loadavg_1m", "loadavg_5m", "loadavg_15m", "uptime"}
    assert machine["load"]["loadavg_1m"] >= 0


def test_steal_is_the_share_of_all_cpu_time():
    # user nice system idle iowait irq softirq steal: 300 of 1,000 ticks went to other guests.
    before = [100, 0, 50, 800, 0, 0, 0, 50]
    after = [300, 0, 100, 1250, 0, 0, 0, 350]
    assert steal_percent(before, after) == 30.0
    assert steal_percent([], after) is None and steal_percent(before, before) is None


@pytest.mark.parametrize(
    ("cpu", "name"),
    [
        ("AMD EPYC 7R13 Processor", "amd-epyc-7r13"),
        ("Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", "intel-xeon-platinum-8375c"),
        ("Raspberry Pi 5 Model B Rev 1.0", "raspberry-pi-5-model-b"),
    ],
)
def test_the_results_folder_is_named_after_the_cpu(cpu, name):
    assert machine_name(cpu) == name
