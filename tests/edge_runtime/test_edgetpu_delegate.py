"""Coral without a Coral: the Edge TPU model check, delegate options and a delegate that fails to start.

The model is a real converted one rewritten as edgetpu_compiler writes it, the delegate a real shared
library (tests/edgetpu_helpers.py); the interpreter and the command lines are the real ones.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from camera_helpers import camera
from edgetpu_helpers import edgetpu_compiled, fake_delegate
from PIL import Image

from conftest import REPO
from edge_runtime.edgetpu import check_device, compiled_for_edgetpu, uncompiled_name
from edge_runtime.errors import DeviceNotReady, ParameterError, UserError
from edge_runtime.interpreter import make_interpreter

NO_DEVICE = "failed to start (no accelerator found); check that its device is there"


@pytest.fixture(scope="module")
def compiled(tiny_tflite, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("edgetpu") / "tiny_uint8_edgetpu.tflite"
    path.write_bytes(edgetpu_compiled(tiny_tflite["uint8"].read_bytes()))
    return path


@pytest.fixture(scope="module")
def delegate(tmp_path_factory) -> str:
    return str(fake_delegate(tmp_path_factory.mktemp("delegate")))


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("image") / "cell.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(path)
    return path


def classify(*args: str | Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run(
        [sys.executable, "-m", "edge_runtime", "classify", *map(str, args)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def only_error(proc: subprocess.CompletedProcess) -> str:
    """The run's one `error:` line (with no traceback and nothing else but warnings)."""
    lines = [line for line in proc.stderr.splitlines() if "XNNPACK" not in line]
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr, proc.stderr
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], proc.stderr
    return errors[0]


def test_the_compiled_op_is_found_in_the_flatbuffer(compiled, tiny_tflite):
    assert compiled_for_edgetpu(compiled.read_bytes())
    assert not any(compiled_for_edgetpu(path.read_bytes()) for path in tiny_tflite.values())
    assert uncompiled_name(str(compiled)) == "tiny_uint8.tflite"
    assert uncompiled_name("other.tflite") == "model_int8.tflite"


def test_a_compiled_model_without_the_delegate_is_one_line_before_the_interpreter(compiled, image):
    expected = (
        f"{compiled}: this model was compiled for the Edge TPU; pass --edgetpu (or --delegate "
        "libedgetpu.so.1) or use the uncompiled tiny_uint8.tflite"
    )
    with pytest.raises(UserError) as err:
        make_interpreter(compiled)
    assert str(err.value) == expected and not isinstance(err.value, DeviceNotReady)
    proc = classify("--model", compiled, image)
    assert proc.returncode == 2 and only_error(proc) == f"error: {expected}"


def test_a_delegate_that_does_not_start_is_device_not_ready_and_exit_1(tiny_tflite, delegate, image):
    with pytest.raises(DeviceNotReady) as err:
        make_interpreter(tiny_tflite["uint8"], delegate=delegate)
    assert str(err.value) == f"delegate {delegate!r} {NO_DEVICE}"
    proc = classify("--model", tiny_tflite["uint8"], "--delegate", delegate, image)
    assert proc.returncode == 1 and only_error(proc) == f"error: delegate {delegate!r} {NO_DEVICE}"


def test_a_delegate_that_starts_but_cannot_run_the_edgetpu_op_is_one_line(compiled, delegate, image):
    proc = classify("--model", compiled, "--delegate", delegate, "--delegate-option", "start=yes", image)
    assert proc.returncode == 2
    assert only_error(proc) == (
        f"error: {compiled}: delegate {delegate!r} started but cannot run the Edge TPU op (Encountered "
        "unresolved custom op: edgetpu-custom-op.); load the Edge TPU runtime (libedgetpu.so.1) built "
        "for this backend (see docs/devices.md, 'Coral: known-good runtime pairings')"
    )


def test_delegate_options_reach_the_library(tiny_tflite, delegate, image, tmp_path):
    report = tmp_path / "received.txt"
    proc = classify(
        "--model", tiny_tflite["uint8"], "--delegate", delegate, "--edgetpu-device", "usb:1",
        "--delegate-option", f"report={report}", "--delegate-option", "start=yes", "-v", image,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert report.read_text().splitlines() == [f"report={report}", "start=yes", "device=usb:1"]
    assert f"delegate: {delegate} (report={report}, start=yes, device=usb:1)" in proc.stderr
    assert proc.stdout.splitlines()[0] == str(image)  # the CPU ran it: the delegate claims no op
    # The same through the Python API; a value may hold '=' and be empty.
    make_interpreter(
        tiny_tflite["uint8"],
        delegate=delegate,
        delegate_options={"report": str(report), "start": "yes", "k": "a=b"},
    )
    assert report.read_text().splitlines() == [f"report={report}", "start=yes", "k=a=b"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--delegate-option", "device"),
            "error: --delegate-option 'device': must be KEY=VALUE, e.g. device=usb:0",
        ),
        (("--delegate-option", "=x"), "error: --delegate-option '=x': must be KEY=VALUE, e.g. device=usb:0"),
        (
            ("--delegate-option", "a=1"),
            "error: --delegate-option 'a=1': needs a delegate; add --edgetpu or --delegate LIB",
        ),
        (
            ("--edgetpu-device", "usb0"),
            "error: --edgetpu-device 'usb0': must be usb, usb:N, pci, pci:N or :N (N counts from 0)",
        ),
        (
            ("--edgetpu-device", "usb:0", "--delegate-option", "device=pci"),
            "error: --edgetpu-device 'usb:0': --delegate-option device=pci differs",
        ),
        (
            ("--edgetpu", "--delegate-option", "a=1", "--delegate-option", "a=2"),
            "error: --delegate-option 'a=2': a is already '1'; give it once",
        ),
    ],
)
def test_bad_delegate_options_are_one_line_naming_the_flag_in_both_commands(
    tiny_tflite, image, tmp_path, args, message
):
    for proc in (
        classify("--model", tiny_tflite["uint8"], *args, image),
        camera("--model", tiny_tflite["uint8"], "--source", tmp_path, *args),
    ):
        assert proc.returncode == 2 and only_error(proc) == message


@pytest.mark.parametrize("device", ["usb", "usb:0", "pci", "pci:12", ":0"])
def test_edgetpu_device_spellings_libedgetpu_reads(device):
    assert check_device(device) == device


@pytest.mark.parametrize("device", ["", "usb:", "USB:0", "usb:-1", "pcie", "0", "usb:0:1"])
def test_other_edgetpu_device_spellings_are_refused(device):
    with pytest.raises(ParameterError, match=r"must be usb, usb:N, pci, pci:N or :N"):
        check_device(device)


def test_edgetpu_device_alone_loads_the_edgetpu_runtime(tiny_tflite, image):
    """--edgetpu-device implies --edgetpu; this machine has no libedgetpu, so that is what it says."""
    proc = classify("--model", tiny_tflite["uint8"], "--edgetpu-device", "usb", image)
    if proc.returncode == 2:
        assert only_error(proc).startswith("error: delegate library 'libedgetpu.so.1' cannot be loaded (")
        assert "see docs/devices.md, 'Coral: known-good runtime pairings'" in proc.stderr
    else:  # a machine with the runtime but no accelerator
        assert proc.returncode == 1 and "with device=usb" in only_error(proc)
