"""Raspberry Pi OS Bookworm's apt stack, stood in for on this machine: the device requirements keep its numpy 1.24.2.

A "system site" folder holds numpy 1.24.2 and simplejpeg 1.7.3 (whose cp311 wheel is built against numpy 1,
as Bookworm's python3-simplejpeg is) beside the stand-in picamera2 (fake_picamera2/, which imports
simplejpeg like the real one). A venv sees that folder through a .pth file, as `--system-site-packages`
shows /usr/lib/python3/dist-packages, and gets `pip install -r edge_runtime/requirements.txt`. Built once
under build/test-cache/ and reused (pip downloads: `slow`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from camera_helpers import summary_counts
from PIL import Image

from conftest import REPO

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        sys.version_info[:2] != (3, 11), reason="the stand-in uses cp311 wheels (Bookworm's Python)"
    ),
]

FAKE = Path(__file__).resolve().parent / "fake_picamera2"
CACHE = REPO / "build" / "test-cache" / "picamera-bookworm"
SYSTEM = ("numpy==1.24.2", "simplejpeg==1.7.3")  # Bookworm: python3-numpy 1.24.2, simplejpeg built for it
VENV_NUMPY = "numpy==2.4.6"  # what the old pins put into the venv
OLD_PINS = ("numpy==2.4.6", "opencv-python-headless==5.0.0.93")
DTYPE_ERROR = (
    "ValueError: numpy.dtype size changed, may indicate binary incompatibility. "
    "Expected 96 from C header, got 88 from PyObject"
)


@dataclass(frozen=True)
class Stack:
    python: Path  # the venv's
    system: Path  # the stand-in for /usr/lib/python3/dist-packages
    numpy2: Path  # numpy 2.4.6 alone, to put in front of the system's as a venv install of it would
    install_log: str  # pip's output when it installed the device requirements


def _pip(*args: str, python: str | Path = sys.executable) -> str:
    proc = subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, f"pip {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _cached(name: str, build) -> Path:
    """CACHE/NAME, made by BUILD(folder) in a scratch folder first, so an interrupted build is never reused."""
    done = CACHE / name
    if not done.exists():
        partial = CACHE / f"{name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        build(partial)
        partial.rename(done)
    return done


def _target(*requirements: str):
    return lambda folder: _pip(
        "install", "--quiet", "--no-deps", "--only-binary=:all:", "--target", str(folder), *requirements
    )


def _venv_python(folder: Path) -> Path:
    return folder / "bin" / "python"


def _site_packages(python: Path) -> Path:
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    return Path(
        subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    )


@pytest.fixture(scope="session")
def bookworm() -> Stack:
    system = _cached("system-" + "-".join(SYSTEM).replace("==", ""), _target(*SYSTEM))
    numpy2 = _cached(VENV_NUMPY.replace("==", ""), _target(VENV_NUMPY))
    requirements = REPO / "edge_runtime" / "requirements.txt"
    key = hashlib.sha256(f"{sys.version}\n{system}\n{requirements.read_text()}".encode()).hexdigest()[:12]

    def make_venv(folder: Path) -> None:
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=300)
        python = _venv_python(folder)
        (_site_packages(python) / "system_site.pth").write_text(f"{system}\n")  # --system-site-packages
        log = _pip("install", "-r", str(requirements), python=python)
        (folder / "install.log").write_text(log)

    for stale in CACHE.glob("venv-*"):  # venvs of earlier requirements
        if stale.name != f"venv-{key}":
            shutil.rmtree(stale)
    venv = _cached(f"venv-{key}", make_venv)
    python = _venv_python(venv)
    # The stand-in picamera2 sits in the system site too (as python3-picamera2 does); this checkout's copy.
    (_site_packages(python) / "system_site.pth").write_text(f"{system}\n{FAKE}\n")
    return Stack(python, system, numpy2, (venv / "install.log").read_text())


def _run(
    stack: Stack, *args: str, first: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """ARGS run by the venv's Python from the checkout; FIRST goes in front of everything else on sys.path."""
    paths = [str(first)] if first else []
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("FAKE_PICAMERA2_", "PYTHON"))},
        "PYTHONPATH": os.pathsep.join([*paths, str(REPO)]),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    return subprocess.run(
        [str(stack.python), *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_the_device_install_keeps_the_system_numpy(bookworm):
    code = (
        "import json, cv2, ml_dtypes, numpy, picamera2\n"
        "print(json.dumps({'numpy': numpy.__version__, 'numpy_at': numpy.__file__, 'cv2': cv2.__version__,\n"
        "    'ml_dtypes': ml_dtypes.__version__, 'simplejpeg': picamera2.simplejpeg is not None}))\n"
    )
    proc = _run(bookworm, "-c", code)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert found["numpy"] == "1.24.2" and found["numpy_at"].startswith(str(bookworm.system)), found
    assert found["cv2"].startswith("4.11.") and found["ml_dtypes"].startswith("0.5."), found
    assert found["simplejpeg"]  # the stand-in picamera2 imported the numpy-1 extension
    installed = next(
        line for line in bookworm.install_log.splitlines() if line.startswith("Successfully installed")
    )
    assert " numpy-" not in installed and "opencv-python-headless-4.11.0.86" in installed


def _would_install(stack: Stack, *requirements: str) -> dict[str, str]:
    report = json.loads(
        _pip("install", "--dry-run", "--quiet", "--report", "-", *requirements, python=stack.python)
    )
    return {item["metadata"]["name"]: item["metadata"]["version"] for item in report["install"]}


def test_installing_again_changes_nothing_and_the_old_pins_would_hide_the_system_numpy(bookworm):
    requirements = str(REPO / "edge_runtime" / "requirements.txt")
    assert _would_install(bookworm, "-r", requirements) == {}
    assert _would_install(bookworm, *OLD_PINS)["numpy"] == "2.4.6"


def test_a_venv_numpy_2_breaks_the_system_picamera2_as_on_bookworm(bookworm):
    proc = _run(bookworm, "-c", "import picamera2", first=bookworm.numpy2)
    assert proc.returncode == 1 and proc.stderr.strip().splitlines()[-1] == DTYPE_ERROR, proc.stderr


def test_the_camera_runs_on_numpy_1_with_the_stand_in_camera(bookworm, tiny_tflite, tmp_path):
    jsonl = tmp_path / "results.jsonl"
    proc = _run(
        bookworm, "-m", "edge_runtime", "camera", "--model", str(tiny_tflite["uint8"]),
        "--source", "picamera2", "--frames", "8", "--jsonl", str(jsonl),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    counts = summary_counts(proc.stderr)
    assert counts["captured"] == 8 and counts["reason"] == "frame limit"
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert len(records) == counts["processed"] > 0 and all(len(r["classes"]) == 3 for r in records)
    image = tmp_path / "cell.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (48, 48), dtype=np.uint8)).save(image)
    for mode in ("float32", "uint8", "int8"):  # each input type's conversion, on numpy 1.24
        proc = _run(bookworm, "-m", "edge_runtime", "classify", "--model", str(tiny_tflite[mode]), str(image))
        assert proc.returncode == 0 and str(image) in proc.stdout, proc.stderr


def test_picamera2_broken_by_a_venv_numpy_2_is_one_line_naming_the_fix(bookworm, tiny_tflite):
    proc = _run(
        bookworm, "-m", "edge_runtime", "camera", "--model", str(tiny_tflite["uint8"]), "--source", "picamera2",
        first=bookworm.numpy2,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1] == (
        f"error: Picamera2 is installed but does not import ({DTYPE_ERROR}); numpy 2.4.6 (in {bookworm.numpy2}) "
        f"hides the system's numpy 1.24.2 (in {bookworm.system}), which Picamera2 was built for: run "
        f"{bookworm.python} -m pip uninstall numpy, then install requirements-edge.txt again (it keeps the "
        "system numpy)"
    )
    assert not [line for line in lines[:-1] if "numpy" in line.lower()], proc.stderr  # no numpy page above it
