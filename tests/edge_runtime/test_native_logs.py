"""The native start-up noise is filtered from stderr; every other line, native or Python, still shows."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO, run_module
from edge_runtime.native_logs import is_noise

NOISE_LINES = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796336693.797520    3432 port.cc:153] oneDNN custom operations are on.",
    "E0000 00:00:1796336697.476261    3432 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error",
]


@pytest.mark.parametrize("line", NOISE_LINES)
def test_start_up_noise_is_recognised(line):
    assert is_noise(line)


def test_real_errors_are_not_noise():
    assert not is_noise(
        "E0000 00:00:1796336697.476261    3432 model_builder.cc:12] Op builtin_code out of range"
    )
    assert not is_noise("error: model.keras: cannot load as a Keras model")


def test_a_child_writing_to_fd_2_keeps_its_real_lines_and_loses_the_noise():
    """Native code writes to file descriptor 2 directly, not through sys.stderr: that is what is filtered."""
    noise = ("\n".join(NOISE_LINES) + "\n").encode()
    script = (
        "import os\n"
        "from edge_runtime.native_logs import filtered_stderr\n"
        "with filtered_stderr():\n"
        f"    os.write(2, {noise!r})\n"
        "    os.write(2, b'a real native warning\\n')\n"
        "print('after', flush=True)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO)},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "a real native warning\n"
    assert proc.stdout == "after\n"


@pytest.mark.slow
def test_convert_prints_no_tensorflow_start_up_noise(tmp_path, tiny_keras):
    """A bad --calibration-data is found after the model loads (TensorFlow imported): one line, no absl lines."""
    empty = tmp_path / "empty"
    empty.mkdir()
    (tmp_path / "labels.txt").write_text("a\nb\nc\n")
    model = tmp_path / "model.keras"
    model.write_bytes(tiny_keras.read_bytes())
    proc = run_module(
        "convert", "--model", str(model), "--out", str(tmp_path / "o"), "--calibration-data", str(empty),
        check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert [line for line in proc.stderr.splitlines() if line.strip()] == [
        f"error: {empty}: no image files for calibration (put training images there, any sub-folders)"
    ]
