"""`python -m edge_runtime doctor` on this machine (no TensorFlow imported), on a fake Raspberry Pi tree, and --measure."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cpuinfo_texts import PI5_A76

from conftest import run_edge_runtime_without_heavy_imports, run_module
from edge_runtime.doctor.check import FAIL, INFO, OK, WARN, Check
from edge_runtime.doctor.cli import DeviceRoots, DoctorOptions, run_checks
from edge_runtime.doctor.report import exit_code, json_report, text_report

CC = shutil.which("cc") or shutil.which("gcc")


def test_doctor_runs_here_without_importing_tensorflow():
    proc = run_edge_runtime_without_heavy_imports("doctor")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[-1] == "ok" and lines[-2].endswith("exit 0")
    names = [line[7:].split("  ")[0].strip() for line in lines[:-2] if line.startswith("[")]
    for name in (
        "python",
        "backend",
        "numpy",
        "opencv",
        "pillow",
        "picamera2",
        "libedgetpu",
        "cpu int8",
        "memory",
        "disk",
    ):
        assert name in names, proc.stdout


def test_doctor_json_reports_each_area_with_a_verdict():
    proc = run_module("edge_runtime", "doctor", "--json", check=False)
    assert proc.returncode in (0, 1), proc.stderr
    record = json.loads(proc.stdout)
    checks = {c["name"]: c for c in record["checks"]}
    for name in ("backend", "numpy", "picamera2", "libedgetpu", "coral device", "cpu int8"):
        assert checks[name]["verdict"] in ("ok", "info", "warn", "fail")
        assert set(checks[name]) == {"name", "verdict", "detail", "fix", "facts"}
    assert checks["cpu int8"]["facts"]["features"] is not None
    assert record["exit_code"] == proc.returncode == (1 if record["summary"]["fail"] else 0)


def _fake_pi(tmp_path: Path) -> DeviceRoots:
    """A Raspberry Pi 5 on Bookworm with a Coral USB Accelerator (firmware loaded) and its camera receiver nodes."""
    proc, sys, dev, etc = (tmp_path / name for name in ("proc", "sys", "dev", "etc"))
    for folder in (proc / "device-tree", dev, etc):
        folder.mkdir(parents=True)
    (proc / "cpuinfo").write_text(PI5_A76)
    (proc / "meminfo").write_text("MemTotal: 4045000 kB\nMemAvailable: 3000000 kB\n")
    (proc / "device-tree" / "model").write_bytes(b"Raspberry Pi 5 Model B Rev 1.0\0")
    (etc / "os-release").write_text(
        'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_CODENAME=bookworm\n'
    )
    (dev / "video0").touch()
    (sys / "class" / "video4linux" / "video0").mkdir(parents=True)
    (sys / "class" / "video4linux" / "video0" / "name").write_text("rp1-cfe-csi2_ch0\n")
    usb = sys / "bus" / "usb" / "devices" / "3-1"
    usb.mkdir(parents=True)
    for file, value in (("idVendor", "18d1"), ("idProduct", "9302"), ("busnum", "3"), ("devnum", "2")):
        (usb / file).write_text(value + "\n")
    (dev / "bus" / "usb" / "003").mkdir(parents=True)
    (dev / "bus" / "usb" / "003" / "002").touch()  # the accelerator's node, which this user may open
    return DeviceRoots(proc=proc, sys=sys, dev=dev, etc=etc)


@pytest.mark.skipif(CC is None, reason="no C compiler (cc/gcc) to build the fake libedgetpu")
def test_a_fake_pi_with_a_coral_and_a_picamera2_broken_by_numpy(tmp_path):
    roots = _fake_pi(tmp_path)
    source = tmp_path / "libedgetpu.c"
    source.write_text(
        'const char* edgetpu_version(void) { return "BuildLabel(COMPILER=12.2.0,DATE=x,TIME=y), RuntimeVersion(14)"; }\n'
        "void* tflite_plugin_create_delegate(void) { return 0; }\n"
    )
    library = tmp_path / "libedgetpu.so.1"
    subprocess.run([CC, "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
    site = tmp_path / "site"
    (site / "picamera2").mkdir(parents=True)
    (site / "picamera2" / "__init__.py").write_text(
        "raise ValueError('numpy.dtype size changed, may indicate binary incompatibility. "
        "Expected 96 from C header, got 88 from PyObject')\n"
    )
    checks = run_checks(
        DoctorOptions(),
        roots,
        find_library=lambda name: None,
        ldconfig_text=lambda: f"\tlibedgetpu.so.1 (libc6,AArch64) => {library}\n",
        library_paths=(),
        extra_path=(str(site),),
    )
    by_name = {c.name: c for c in checks}
    assert (
        "Raspberry Pi 5 Model B Rev 1.0" in by_name["python"].detail
        and "Bookworm" in by_name["python"].detail
    )
    assert by_name["picamera2"].verdict == FAIL and "numpy.dtype size changed" in by_name["picamera2"].detail
    assert by_name["v4l2 cameras"].verdict == INFO and "(rp1-cfe)" in by_name["v4l2 cameras"].detail
    assert by_name["libedgetpu"].verdict == OK and "RuntimeVersion(14)" in by_name["libedgetpu"].detail
    assert by_name["coral device"].detail.startswith("USB 18d1:9302 (firmware loaded)")
    # no dpkg package owns the fake library, so the TensorFlow it was built against is unknown
    assert by_name["edgetpu pairing"].verdict == WARN and by_name["edgetpu pairing"].detail.startswith(
        "unknown"
    )
    assert by_name["cpu int8"].verdict == OK and "Cortex-A76" in by_name["cpu int8"].detail
    assert by_name["memory"].verdict == OK
    assert exit_code(checks) == 1
    text = text_report(checks)
    assert "[fail] picamera2" in text and "fix: let the system numpy win" in text
    assert text.splitlines()[-1].endswith("1 fail; exit 1")
    assert json.loads(json_report(checks))["exit_code"] == 1


def test_the_report_aligns_names_and_shows_fixes_only_where_not_ok():
    checks = [
        Check("numpy", OK, "2.4.6", "never shown"),
        Check("edgetpu pairing", WARN, "unknown", "run a compiled model once"),
    ]
    assert text_report(checks).splitlines() == [
        "[ok]   numpy            2.4.6",
        "[warn] edgetpu pairing  unknown",
        "                        fix: run a compiled model once",
        "1 ok, 0 info, 1 warn, 0 fail; exit 0",
    ]


def test_measure_times_the_int8_model_beside_its_float_sibling(tiny_tflite, tmp_path):
    shutil.copy(tiny_tflite["int8"], tmp_path / "model_int8.tflite")
    shutil.copy(tiny_tflite["float32"], tmp_path / "model_float32.tflite")
    proc = run_edge_runtime_without_heavy_imports(
        "doctor", "--json", "--measure", str(tmp_path / "model_int8.tflite")
    )
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout.splitlines()[-2])
    measure = next(c for c in record["checks"] if c["name"] == "measure")
    assert measure["verdict"] == OK
    assert [Path(m["path"]).name for m in measure["facts"]["models"]] == [
        "model_int8.tflite",
        "model_float32.tflite",
    ]
    assert all(1 <= m["runs"] <= 200 and m["p50_ms"] > 0 for m in measure["facts"]["models"])
    assert "deploy" in measure["facts"]["decision"] or "faster here" in measure["facts"]["decision"]
    disk = next(c for c in record["checks"] if c["name"] == "disk")
    assert disk["facts"]["path"] == str(tmp_path)


def test_measure_without_a_float_model_says_how_to_give_one(tiny_tflite, tmp_path):
    model = tmp_path / "tiny.tflite"
    shutil.copy(tiny_tflite["uint8"], model)
    checks = run_checks(DoctorOptions(measure=model))
    measure = checks[-1]
    assert measure.name == "measure" and measure.verdict == INFO and "--measure-float" in measure.fix


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--measure", "missing_int8.tflite"],
            "error: missing_int8.tflite: model file not found; check the path",
        ),
        (["--measure-float", "m.tflite"], "error: --measure-float needs --measure MODEL"),
    ],
)
def test_bad_options_are_one_error_line_and_exit_2(argv, message, capsys):
    from edge_runtime.__main__ import main

    assert main(["doctor", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(message) and captured.out == ""


def test_measure_checks_the_model_against_its_card(tiny_tflite, tmp_path):
    from edge_runtime.doctor.measure import check_integrity
    from edge_runtime.files import sha256_file

    model = tmp_path / "model_int8.tflite"
    shutil.copy(tiny_tflite["uint8"], model)
    assert check_integrity(model).verdict == INFO  # no card: nothing to compare with
    card = tmp_path / "model_card.json"
    card.write_text(json.dumps({"models": {model.name: {"sha256": sha256_file(model)}}}))
    assert check_integrity(model).verdict == OK
    model.write_bytes(model.read_bytes()[:-8])
    damaged = check_integrity(model)
    assert damaged.verdict == FAIL and "differs from" in damaged.detail and damaged.fix
