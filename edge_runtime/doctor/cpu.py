"""The CPU's SIMD and int8 features (/proc/cpuinfo) and what they mean: int8 faster than float, or only smaller.

XNNPACK (the CPU path of every backend) runs int8 models faster than float ones where the CPU has int8
dot-product instructions: VNNI on x86 (AVX-512 VNNI, AVX-VNNI; AMX on newer Xeons), the dot-product
extension on Arm (asimddp; i8mm adds int8 matrix multiply). Without them int8 mostly saves size:
measured in docs/benchmarks.md (int8 vs float depends on the CPU); `doctor --measure` measures here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from edge_runtime.doctor.check import INFO, OK, Check

X86_FEATURES = (
    "sse4_1",
    "avx",
    "avx2",
    "fma",
    "avx512f",
    "avx512_vnni",
    "avx_vnni",
    "avx512_bf16",
    "amx_int8",
)
X86_INT8_DOT = ("avx512_vnni", "avx_vnni", "amx_int8")
ARM_FEATURES = ("asimd", "asimddp", "i8mm", "sve", "sve2", "bf16")
ARM_INT8_DOT = ("asimddp", "i8mm")

# Arm Ltd. cores (CPU implementer 0x41) by CPU part; A72 is the Raspberry Pi 4's, A76 the Pi 5's.
ARM_CORES = {
    "0xd03": "Cortex-A53",
    "0xd04": "Cortex-A35",
    "0xd05": "Cortex-A55",
    "0xd07": "Cortex-A57",
    "0xd08": "Cortex-A72",
    "0xd09": "Cortex-A73",
    "0xd0a": "Cortex-A75",
    "0xd0b": "Cortex-A76",
    "0xd0d": "Cortex-A77",
    "0xd41": "Cortex-A78",
    "0xd44": "Cortex-X1",
    "0xd46": "Cortex-A510",
    "0xd47": "Cortex-A710",
    "0xd48": "Cortex-X2",
    "0xd4d": "Cortex-A715",
    "0xd4e": "Cortex-X3",
}


@dataclass(frozen=True)
class CpuInfo:
    """What /proc/cpuinfo says about the first CPU.

    Attributes:
      arch: 'x86' or 'arm' (or 'unknown').
      model: The model name ('AMD EPYC 7763 64-Core Processor', 'Cortex-A76').
      features: The relevant flags present, in the order of X86_FEATURES / ARM_FEATURES.
      cores: The processor entries counted.
    """

    arch: str
    model: str
    features: tuple[str, ...]
    cores: int


def _first_block(text: str) -> Mapping[str, str]:
    block: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            if "flags" in block or "Features" in block:
                break  # a blank line ends the first CPU's block
            continue
        block.setdefault(key.strip(), value.strip())
    return block


def parse_cpuinfo(text: str) -> CpuInfo:
    """Reads a /proc/cpuinfo text (x86 `flags`, Arm `Features` and `CPU part`)."""
    fields = _first_block(text)
    cores = sum(1 for line in text.splitlines() if line.split(":")[0].strip() == "processor")
    if "flags" in fields:
        flags = set(fields["flags"].split())
        return CpuInfo(
            "x86", fields.get("model name", "x86"), tuple(f for f in X86_FEATURES if f in flags), cores
        )
    if "Features" in fields:
        flags = set(fields["Features"].split())
        part = fields.get("CPU part", "").lower()
        model = ARM_CORES.get(part, f"Arm CPU part {part}") if fields.get("CPU implementer") == "0x41" else (
            fields.get("model name") or f"Arm CPU part {part or '?'}"
        )  # fmt: skip
        return CpuInfo("arm", model, tuple(f for f in ARM_FEATURES if f in flags), cores)
    return CpuInfo("unknown", fields.get("model name", "unknown"), (), cores)


def check_cpu(info: CpuInfo) -> Check:
    """The CPU's int8 features and what they mean for choosing the int8 or the float model."""
    facts = {"arch": info.arch, "model": info.model, "features": list(info.features), "cores": info.cores}
    shown = " ".join(info.features) or "none of the listed SIMD features"
    head = f"{info.model}, {info.cores} cores: {shown}"
    measure = "measure both models here: doctor --measure build/tflite/model_int8.tflite"
    dot = [f for f in (X86_INT8_DOT if info.arch == "x86" else ARM_INT8_DOT) if f in info.features]
    if dot:
        kind = "VNNI" if info.arch == "x86" else "dot product"
        return Check(
            "cpu int8",
            OK,
            f"{head}: int8 {kind} ({', '.join(dot)}), int8 runs faster than float",
            facts=facts,
        )
    if info.arch == "x86":
        what = "AVX2 without VNNI" if "avx2" in info.features else "no AVX2"
        return Check("cpu int8", INFO, f"{head}: {what}, int8 is mostly smaller, not faster", measure, facts)
    if info.arch == "arm":
        return Check(
            "cpu int8",
            INFO,
            f"{head}: no int8 dot product (asimddp), int8 is mostly smaller, not faster (a Pi 4's A72; a Pi 5's A76 has it)",
            measure,
            facts,
        )
    return Check("cpu int8", INFO, f"{head}: unknown CPU", measure, facts)
