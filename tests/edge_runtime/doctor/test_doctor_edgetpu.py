"""libedgetpu found, asked its version in a child (a fake library compiled here), its package, the Coral devices in a fake sysfs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from edge_runtime.doctor.check import FAIL, INFO, OK, WARN
from edge_runtime.doctor.edgetpu import (
    LibraryBuild,
    check_devices,
    check_library,
    check_pairing,
    coral_devices,
    dpkg_owner,
    find_libedgetpu,
    library_build,
    parse_dpkg_search,
    parse_runtime_version,
)
from edge_runtime.doctor.probe import run_probe

VERSION = "BuildLabel(COMPILER=6.3.0 20170516,DATE=redacted,TIME=redacted), RuntimeVersion(14)"
CC = shutil.which("cc") or shutil.which("gcc")
needs_cc = pytest.mark.skipif(CC is None, reason="no C compiler (cc/gcc) to build the fake libedgetpu")


def _compile(tmp_path: Path, name: str, source: str) -> Path:
    """A shared library built from C SOURCE (a stand-in for libedgetpu: we have no Coral here)."""
    c_file, library = tmp_path / f"{name}.c", tmp_path / f"{name}.so.1"
    c_file.write_text(source)
    subprocess.run([CC, "-shared", "-fPIC", "-o", str(library), str(c_file)], check=True, capture_output=True)
    return library


DELEGATE = "void* tflite_plugin_create_delegate(void) { return 0; }\nvoid tflite_plugin_destroy_delegate(void* d) {}\n"


@needs_cc
def test_the_version_of_a_fake_libedgetpu_is_read_in_a_child(tmp_path):
    library = _compile(
        tmp_path, "libedgetpu", f'const char* edgetpu_version(void) {{ return "{VERSION}"; }}\n' + DELEGATE
    )
    probe = run_probe(["edgetpu", str(library)])
    assert probe.data == {"loaded": True, "delegate": True, "version": VERSION}
    check = check_library(str(library), probe, library_build("libedgetpu1-std:arm64", "16.0tf2.17.1-1"))
    assert check.verdict == OK
    assert (
        VERSION in check.detail
        and "libedgetpu1-std:arm64 16.0tf2.17.1-1, built against TF 2.17.1" in check.detail
    )
    assert check.facts["runtime_version"] == 14


@needs_cc
def test_a_library_that_crashes_takes_down_the_child_only(tmp_path):
    library = _compile(
        tmp_path,
        "libedgetpu",
        "const char* edgetpu_version(void) { return *(const char* volatile*)0; }\n" + DELEGATE,
    )
    probe = run_probe(["edgetpu", str(library)])
    assert probe.error == "crashed with SIGSEGV"
    check = check_library(str(library), probe, library_build(None, None))
    assert check.verdict == FAIL and "crashed with SIGSEGV when asked its version" in check.detail


@needs_cc
def test_a_library_that_is_no_delegate_fails(tmp_path):
    library = _compile(
        tmp_path, "libedgetpu", f'const char* edgetpu_version(void) {{ return "{VERSION}"; }}\n'
    )
    check = check_library(str(library), run_probe(["edgetpu", str(library)]), library_build(None, None))
    assert check.verdict == FAIL and "no tflite_plugin_create_delegate" in check.detail


def test_a_library_that_does_not_load():
    probe = run_probe(["edgetpu", "/nonexistent/libedgetpu.so.1"])
    check = check_library("/nonexistent/libedgetpu.so.1", probe, library_build(None, None))
    assert check.verdict == FAIL and "does not load" in check.detail


def test_no_library_is_only_information():
    check = check_library(None, None, library_build(None, None))
    assert check.verdict == INFO and "needed only for a Coral" in check.detail


def test_the_library_is_found_by_ldconfig_then_the_common_paths_then_find_library(tmp_path):
    ldconfig = (
        "1234 libs found in cache `/etc/ld.so.cache'\n"
        "\tlibedgetpu.so.1 (libc6,AArch64) => /usr/lib/aarch64-linux-gnu/libedgetpu.so.1\n"
    )
    assert find_libedgetpu(lambda _: None, ldconfig) == "/usr/lib/aarch64-linux-gnu/libedgetpu.so.1"
    copied = tmp_path / "libedgetpu.so.1"
    copied.touch()
    assert find_libedgetpu(lambda _: None, None, [tmp_path / "no.so", copied]) == str(copied)
    assert find_libedgetpu(lambda name: f"lib{name}.so.1", "", []) == "libedgetpu.so.1"
    assert find_libedgetpu(lambda _: None, "", []) is None


@pytest.mark.parametrize(
    ("package", "version", "origin", "tf"),
    [
        ("libedgetpu1-std:arm64", "16.0", "coral-apt", "2.5.0"),
        ("libedgetpu1-max:amd64", "16.0", "coral-apt", "2.5.0"),
        ("libedgetpu1-std:arm64", "16.0tf2.17.1-1", "community", "2.17.1"),
        ("libedgetpu1-max:arm64", "16.0TF2.19.1-1", "community", "2.19.1"),
        (
            "libedgetpu1-std:arm64",
            "15.0",
            "unknown",
            None,
        ),  # older Coral releases: their TF is not recorded here
        (None, None, "unknown", None),
    ],
)
def test_the_build_is_told_by_its_package_version(package, version, origin, tf):
    build = library_build(package, version)
    assert (build.origin, build.tf_version) == (origin, tf)


def test_dpkg_search_output_is_parsed():
    assert (
        parse_dpkg_search("libedgetpu1-std:arm64: /usr/lib/aarch64-linux-gnu/libedgetpu.so.1.0\n")
        == "libedgetpu1-std:arm64"
    )
    assert parse_dpkg_search("dpkg-query: no path found matching pattern /x\n") is None


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="no dpkg on this system")
def test_dpkg_owner_names_a_real_file_s_package():
    package, version = dpkg_owner(shutil.which("dpkg"))
    assert package.startswith("dpkg") and version


def test_runtime_version_is_parsed():
    assert parse_runtime_version(VERSION) == 14 and parse_runtime_version("odd") is None


def _usb_device(sys_root: Path, name: str, vendor: str, product: str, bus: int, dev: int) -> None:
    folder = sys_root / "bus" / "usb" / "devices" / name
    folder.mkdir(parents=True)
    for file, value in (("idVendor", vendor), ("idProduct", product), ("busnum", bus), ("devnum", dev)):
        (folder / file).write_text(f"{value}\n")


def test_coral_usb_accelerators_are_found_before_and_after_their_firmware(tmp_path):
    sys_root, dev_root = tmp_path / "sys", tmp_path / "dev"
    _usb_device(sys_root, "2-1", "18d1", "9302", 2, 5)
    _usb_device(sys_root, "1-1.3", "1a6e", "089a", 1, 7)
    _usb_device(sys_root, "1-1.2", "046d", "c077", 1, 4)  # a mouse
    dev_root.mkdir()
    usb, pcie = coral_devices(sys_root, dev_root)
    assert [(u.usb_id, u.node) for u in usb] == [
        ("1a6e:089a", f"{dev_root}/bus/usb/001/007"),
        ("18d1:9302", f"{dev_root}/bus/usb/002/005"),
    ]
    assert pcie == []
    check = check_devices(usb, pcie, access=lambda node: True, library_found=True)
    assert check.verdict == OK
    assert (
        check.detail
        == "USB 1a6e:089a (waiting for its firmware (loads on first use)), USB 18d1:9302 (firmware loaded)"
    )
    denied = check_devices(usb, pcie, access=lambda node: not node.endswith("007"), library_found=True)
    assert denied.verdict == FAIL and "plugdev" in denied.fix and denied.detail.endswith("bus/usb/001/007")
    no_library = check_devices(usb, pcie, access=lambda node: True, library_found=False)
    assert no_library.verdict == FAIL and "feranick/libedgetpu" in no_library.fix


def test_a_pcie_coral_and_no_coral(tmp_path):
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "apex_0").touch()
    usb, pcie = coral_devices(tmp_path / "sys", tmp_path / "dev")
    assert pcie == [f"{tmp_path}/dev/apex_0"]
    assert check_devices([], [], lambda n: True, library_found=False).verdict == INFO
    assert check_devices([], [], lambda n: True, library_found=True).verdict == WARN


def test_coral_apt_with_any_recent_backend_is_a_known_crash():
    apt = library_build("libedgetpu1-std:arm64", "16.0")
    check = check_pairing(apt, "ai_edge_litert", "2.3.0")
    assert check.verdict == FAIL and "crashes" in check.detail and "feranick/libedgetpu" in check.fix
    assert check_pairing(apt, "tflite_runtime", "2.14.0").verdict == FAIL
    assert check_pairing(apt, "tflite_runtime", "2.5.0.post1").verdict == OK


def test_community_builds_pair_with_their_own_tensorflow_version():
    assert check_pairing(library_build("p", "16.0tf2.17.1-1"), "tflite_runtime", "2.17.1").verdict == OK
    reported = check_pairing(library_build("p", "16.0tf2.19.1-1"), "ai_edge_litert", "2.2.0")
    assert reported.verdict == OK and "reported by one project" in reported.detail
    unknown = check_pairing(library_build("p", "16.0tf2.19.1-1"), "ai_edge_litert", "2.3.0")
    assert unknown.verdict == WARN and unknown.detail.startswith("unknown: no report found")
    assert "known to work with it: ai_edge_litert 2.2.0" in unknown.detail


def test_a_library_of_unknown_origin_cannot_be_paired():
    check = check_pairing(LibraryBuild(None, None, None, "unknown"), "ai_edge_litert", "2.3.0")
    assert check.verdict == WARN and "unknown" in check.detail


def test_another_installed_backend_that_works_is_named_in_the_fix():
    from edge_runtime.doctor.edgetpu import check_pairings

    build = library_build("p", "16.0tf2.17.1-1")
    check = check_pairings(build, {"ai_edge_litert": "2.3.0", "tflite_runtime": "2.17.1"})
    assert check.verdict == WARN and check.fix.startswith(
        "run with --backend tflite_runtime (tflite_runtime 2.17.1"
    )
    assert check_pairings(build, {"tflite_runtime": "2.17.1"}).verdict == OK
    assert check_pairings(build, {}).verdict == WARN
