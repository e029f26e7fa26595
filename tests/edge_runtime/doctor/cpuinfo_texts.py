"""/proc/cpuinfo texts of the CPUs the doctor must tell apart (first processor block and the count), for the tests."""

from __future__ import annotations


def _x86(model: str, flags: str, cores: int = 2) -> str:
    block = (
        "processor\t: {n}\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel name\t: " + model + "\n"
        "cpu MHz\t\t: 2445.406\nflags\t\t: " + flags + "\nbogomips\t: 4890.81\n\n"
    )
    return "".join(block.replace("{n}", str(n)) for n in range(cores))


_BASE = "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl nonstop_tsc cpuid extd_apicid tsc_known_freq pni pclmulqdq ssse3"

# AMD EPYC 7763 (Zen 3) in a VM: AVX2 and FMA, no AVX-512, no VNNI.
ZEN3 = _x86(
    "AMD EPYC 7763 64-Core Processor",
    _BASE + " fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm "
    "cmp_legacy cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw topoext invpcid_single fsgsbase bmi1 avx2 "
    "smep bmi2 erms invpcid rdseed adx smap clflushopt clwb sha_ni xsaveopt xsavec xgetbv1 xsaves clzero xsaveerptr "
    "rdpru arat npt nrip_save umip vaes vpclmulqdq rdpid fsrm",
)
# AMD EPYC 9005 (Zen 5): AVX-512 with VNNI and AVX-VNNI.
ZEN5 = _x86(
    "AMD EPYC 9B45 128-Core Processor",
    _BASE
    + " fma cx16 sse4_1 sse4_2 movbe popcnt aes xsave avx f16c rdrand avx2 bmi1 bmi2 avx_vnni avx512_bf16 "
    "avx512f avx512dq avx512ifma avx512cd avx512bw avx512vl avx512vbmi avx512_vbmi2 gfni vaes vpclmulqdq "
    "avx512_vnni avx512_bitalg avx512_vpopcntdq",
)
# Intel Xeon (Sapphire Rapids): AVX-512 VNNI, AVX-VNNI and AMX.
XEON_SPR = _x86(
    "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz",
    _BASE
    + " fma cx16 sse4_1 sse4_2 movbe popcnt aes xsave avx f16c rdrand avx2 avx_vnni avx512_bf16 avx512f "
    "avx512dq avx512cd avx512bw avx512vl avx512_vnni amx_bf16 amx_tile amx_int8",
    cores=4,
)


def _arm(part: str, features: str, model: str, cores: int = 4) -> str:
    block = (
        "processor\t: {n}\nBogoMIPS\t: 108.00\nFeatures\t: " + features + "\nCPU implementer\t: 0x41\n"
        "CPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: " + part + "\nCPU revision\t: 3\n\n"
    )
    return "".join(block.replace("{n}", str(n)) for n in range(cores)) + (
        f"Hardware\t: BCM2835\nRevision\t: c03111\nSerial\t\t: 10000000deadbeef\nModel\t\t: {model}\n"
    )


# Raspberry Pi 4: Cortex-A72, NEON (asimd) without the dot product.
PI4_A72 = _arm("0xd08", "fp asimd evtstrm crc32 cpuid", "Raspberry Pi 4 Model B Rev 1.1")
# Raspberry Pi 5: Cortex-A76, NEON with the dot product (asimddp).
PI5_A76 = _arm(
    "0xd0b",
    "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp",
    "Raspberry Pi 5 Model B Rev 1.0",
)
