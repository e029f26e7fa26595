"""Memory and disk thresholds, and the platform line (Python version, Bookworm/Trixie, the board)."""

from __future__ import annotations

from edge_runtime.doctor.check import FAIL, OK, WARN, Check
from edge_runtime.doctor.platform_info import check_platform, parse_os_release
from edge_runtime.doctor.resources import MB, check_disk, check_memory, parse_meminfo

MEMINFO_PI4_1GB = (
    "MemTotal:         948500 kB\nMemFree:           52000 kB\nMemAvailable:     {} kB\nBuffers:  1 kB\n"
)


def test_meminfo_is_read_in_bytes():
    assert parse_meminfo(MEMINFO_PI4_1GB.format(600000))["MemAvailable"] == 600000 * 1024


def test_memory_thresholds_for_a_1_gb_pi():
    assert check_memory(parse_meminfo(MEMINFO_PI4_1GB.format(600_000))).verdict == OK
    assert check_memory(parse_meminfo(MEMINFO_PI4_1GB.format(300_000))).verdict == WARN
    tight = check_memory(parse_meminfo(MEMINFO_PI4_1GB.format(100_000)))
    assert tight.verdict == FAIL and "multi-user.target" in tight.fix
    # a model adds its size to what the runtime needs
    assert check_memory(parse_meminfo(MEMINFO_PI4_1GB.format(600_000)), model_bytes=200 * MB).verdict == WARN
    assert check_memory({}).verdict == WARN


def test_disk_thresholds(tmp_path):
    assert check_disk(tmp_path, 5000 * MB, 30000 * MB).verdict == OK
    assert check_disk(tmp_path, 500 * MB, 30000 * MB).verdict == WARN
    full = check_disk(tmp_path, 50 * MB, 30000 * MB)
    assert full.verdict == FAIL and "apt clean" in full.fix and str(tmp_path) in full.detail


BOOKWORM = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n'
TRIXIE = 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nVERSION_CODENAME=trixie\nID=debian\n'


def test_the_platform_line_names_the_release_and_the_board():
    pi5 = check_platform(
        (3, 11, 2), "Linux", "aarch64", parse_os_release(BOOKWORM), "Raspberry Pi 5 Model B Rev 1.0"
    )
    assert pi5.verdict == OK
    assert pi5.detail == (
        "Python 3.11.2 on Debian GNU/Linux 12 (bookworm), aarch64, Raspberry Pi 5 Model B Rev 1.0 "
        "(Bookworm: system Python 3.11, numpy 1.24)"
    )
    trixie = check_platform((3, 13, 5), "Linux", "aarch64", parse_os_release(TRIXIE), None)
    assert trixie.verdict == OK and "numpy 2.2" in trixie.detail and trixie.facts["codename"] == "trixie"


def test_python_versions_outside_the_supported_range():
    assert check_platform((3, 9, 2), "Linux", "aarch64", {}, None).verdict == FAIL
    assert check_platform((3, 14, 0), "Linux", "x86_64", {}, None).verdict == WARN


def test_a_check_refuses_an_unknown_verdict():
    import pytest

    with pytest.raises(ValueError, match="verdict 'great'"):
        Check("x", "great", "detail")
