"""The package this repository builds: the runtime alone (edge_runtime + labels), working outside the checkout."""

from __future__ import annotations

import email
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from packaging.requirements import Requirement
from PIL import Image

from conftest import REPO  # noqa: E402


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the files the package needs (the checkout stays clean)."""
    work = tmp_path_factory.mktemp("package")
    source = work / "src"
    source.mkdir()
    shutil.copy(REPO / "pyproject.toml", source)
    for package in ("edge_runtime", "labels"):
        shutil.copytree(REPO / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "-w", str(work / "dist"), str(source)],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    (path,) = (work / "dist").glob("*.whl")
    return path


def test_the_wheel_holds_the_runtime_and_its_pins_only(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = email.message_from_bytes(
            archive.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
        )
        entry_points = archive.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    tops = {name.split("/")[0] for name in names if "/" in name and ".dist-info" not in name}
    assert tops == {"edge_runtime", "labels"}  # no train/, convert/ or benchmarks/: no TensorFlow
    assert {"edge_runtime/camera/loop.py", "edge_runtime/camera/camera.service", "labels/elpv.txt"} <= set(
        names
    )
    pins = [
        Requirement(line)
        for line in (REPO / "edge_runtime" / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]  # compared parsed and sorted: the metadata normalises ranges and puts lines with markers last
    assert sorted(map(str, map(Requirement, metadata.get_all("Requires-Dist")))) == sorted(map(str, pins))
    assert not any(pin.name.lower().startswith(("tensorflow", "keras")) for pin in pins)
    assert "edge-runtime = edge_runtime.__main__:main" in entry_points


def test_the_installed_runtime_classifies_outside_the_checkout(wheel, tiny_tflite, tmp_path):
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    image = tmp_path / "cell.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (48, 48, 3), dtype=np.uint8)).save(image)
    model = tmp_path / "model.tflite"
    shutil.copy(tiny_tflite["uint8"], model)
    # The dependencies come from this environment; the runtime and the labels from the install.
    code = (
        "import sys, edge_runtime, labels\n"
        "from labels import builtin_labels_path, read_labels\n"
        f"assert edge_runtime.__file__.startswith({str(site)!r}), edge_runtime.__file__\n"
        "print(read_labels(builtin_labels_path('elpv')))\n"
        "from edge_runtime.__main__ import main\n"
        f"code = main(['classify', '--model', {str(model)!r}, '--top-k', '1', {str(image)!r}])\n"
        "assert 'tensorflow' not in sys.modules and 'train' not in sys.modules\n"
        "sys.exit(code)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "['defective', 'functional']"
    assert lines[1].startswith(str(image))
