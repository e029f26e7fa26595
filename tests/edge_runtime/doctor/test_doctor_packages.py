"""numpy shadowing in a venv with system site packages, the backend, OpenCV and Pillow verdicts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from edge_runtime.doctor.check import FAIL, OK, WARN
from edge_runtime.doctor.packages import (
    base_site_dirs,
    check_backend,
    check_numpy,
    check_opencv,
    check_pillow,
    is_numpy_abi_error,
    numpy_in,
    venv_sees_system_packages,
)
from edge_runtime.doctor.probe import ProbeResult, run_probe

# What simplejpeg's numpy-1 build says when numpy 2 is loaded (the reproduction).
DTYPE_SIZE = (
    "ValueError: numpy.dtype size changed, may indicate binary incompatibility. "
    "Expected 96 from C header, got 88 from PyObject"
)


def _venv(tmp_path: Path, *, system_site: bool, venv_numpy: str | None, system_numpy: str | None):
    """A venv layout: tmp/venv (pyvenv.cfg, lib/python3.11/site-packages) made from tmp/usr (Debian's dist-packages)."""
    base, venv = tmp_path / "usr", tmp_path / "venv"
    site = venv / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text(
        f"home = {base}/bin\ninclude-system-site-packages = {'true' if system_site else 'false'}\nversion = 3.11.2\n"
    )
    dist = base / "lib" / "python3" / "dist-packages"
    dist.mkdir(parents=True)
    if system_numpy:  # Debian's python3-numpy: an egg-info folder and numpy/version.py
        (dist / f"numpy-{system_numpy}.egg-info").mkdir()
        (dist / "numpy").mkdir()
        (dist / "numpy" / "version.py").write_text(f'version = "{system_numpy}"\n')
    loaded = site if venv_numpy else dist
    (loaded / "numpy").mkdir(exist_ok=True)
    (loaded / "numpy" / "__init__.py").write_text("")
    probe = ProbeResult(
        {
            "imported": True,
            "version": venv_numpy or system_numpy,
            "path": str(loaded / "numpy" / "__init__.py"),
        }
    )
    return probe, venv, base, base_site_dirs(base, (3, 11))


def test_a_venv_numpy_2_shadowing_bookworms_numpy_1_is_a_warning_that_names_picamera2(tmp_path):
    probe, venv, base, dirs = _venv(tmp_path, system_site=True, venv_numpy="2.4.6", system_numpy="1.24.2")
    check = check_numpy(probe, venv, base, dirs)
    assert check.verdict == WARN
    assert "2.4.6 in the venv shadows the system numpy 1.24.2" in check.detail
    assert "Picamera2" in check.detail and "numpy.dtype size changed" in check.detail
    assert f"{venv}/bin/pip uninstall numpy" in check.fix
    assert check.facts["system_numpy"] == "1.24.2" and check.facts["system_site_packages"] is True


def test_a_newer_numpy_2_over_trixies_numpy_2_is_compatible(tmp_path):
    probe, venv, base, dirs = _venv(tmp_path, system_site=True, venv_numpy="2.4.6", system_numpy="2.2.4")
    check = check_numpy(probe, venv, base, dirs)
    assert check.verdict == OK and "same major version, newer: compatible" in check.detail


def test_an_older_numpy_over_a_newer_system_numpy_is_a_warning(tmp_path):
    probe, venv, base, dirs = _venv(tmp_path, system_site=True, venv_numpy="2.1.0", system_numpy="2.2.4")
    assert check_numpy(probe, venv, base, dirs).verdict == WARN


def test_the_system_numpy_used_through_the_venv_is_fine(tmp_path):
    probe, venv, base, dirs = _venv(tmp_path, system_site=True, venv_numpy=None, system_numpy="1.24.2")
    check = check_numpy(probe, venv, base, dirs)
    assert check.verdict == OK and check.detail.startswith("1.24.2 (")


def test_a_venv_that_does_not_see_the_system_packages_shadows_nothing(tmp_path):
    probe, venv, base, dirs = _venv(tmp_path, system_site=False, venv_numpy="2.4.6", system_numpy="1.24.2")
    assert not venv_sees_system_packages(venv, base)
    assert check_numpy(probe, venv, base, dirs).verdict == OK


def test_numpy_versions_are_read_from_dist_info_egg_info_or_the_version_files(tmp_path):
    (tmp_path / "a" / "numpy-2.2.4.dist-info").mkdir(parents=True)
    assert numpy_in(tmp_path / "a")[0] == "2.2.4"
    (tmp_path / "b" / "numpy").mkdir(parents=True)
    (tmp_path / "b" / "numpy" / "version.py").write_text(
        '"""Generated."""\nversion: str = "2.2.4"\n__version__ = version\n'
    )
    assert numpy_in(tmp_path / "b")[0] == "2.2.4"
    (tmp_path / "c" / "numpy").mkdir(parents=True)  # numpy 1.x's versioneer file
    (tmp_path / "c" / "numpy" / "_version.py").write_text(
        "version_json = '''\n{\n \"version\": \"1.24.2\"\n}\n'''\n"
    )
    assert numpy_in(tmp_path / "c")[0] == "1.24.2"
    assert numpy_in(tmp_path / "nothing") is None


def test_numpy_that_does_not_import_fails():
    check = check_numpy(
        ProbeResult({"imported": False, "error": "ImportError: libopenblas.so.0"}), Path("/v"), Path("/u"), []
    )
    assert check.verdict == FAIL and "libopenblas" in check.detail and "--force-reinstall numpy" in check.fix


def test_the_real_numpy_of_this_environment():
    check = check_numpy(run_probe(["import", "numpy"]), Path(sys.prefix), Path(sys.base_prefix),
                        base_site_dirs(Path(sys.base_prefix), sys.version_info[:2]))  # fmt: skip
    import numpy

    assert check.verdict in (OK, WARN) and check.facts["version"] == numpy.__version__


@pytest.mark.parametrize(
    "text",
    [DTYPE_SIZE, "A module that was compiled using NumPy 1.x cannot be run in NumPy 2.4.6 as it may crash.",
     "ImportError: numpy.core.multiarray failed to import", "AttributeError: _ARRAY_API not found"],
)  # fmt: skip
def test_numpy_abi_messages_are_recognised(text):
    assert is_numpy_abi_error(None, text)


def test_no_backend_is_a_failure_with_the_install_command():
    check = check_backend({}, None)
    assert check.verdict == FAIL and "ai-edge-litert" in check.fix


def test_the_first_backend_importing_is_ok_and_the_others_are_named():
    probe = ProbeResult({"imported": True, "version": "2.3.0"})
    check = check_backend({"ai_edge_litert": "2.3.0", "tensorflow": "2.21.0"}, probe)
    assert check.verdict == OK and check.detail == "ai_edge_litert 2.3.0; also installed: tensorflow 2.21.0"


def test_a_backend_broken_by_numpy_says_so():
    probe = ProbeResult({"imported": False, "error": "ImportError: numpy.core.multiarray failed to import"})
    check = check_backend({"tflite_runtime": "2.14.0"}, probe)
    assert check.verdict == FAIL and "binary incompatibility" in check.fix
    assert "pip install --force-reinstall tflite-runtime==2.14.0" in check.fix


def test_tensorflow_alone_is_never_imported_and_is_a_warning():
    check = check_backend({"tensorflow": "2.21.0"}, None)
    assert check.verdict == WARN and "not imported" in check.detail and "ai-edge-litert" in check.fix


def test_opencv_verdicts():
    good = ProbeResult({"imported": True, "version": "5.0.0"})
    assert check_opencv({"opencv-python-headless": "5.0.0.93"}, good).detail.endswith(
        "headless: no --display)"
    )
    both = check_opencv({"opencv-python-headless": "5.0.0.93", "opencv-python": "5.0.0.93"}, good)
    assert both.verdict == WARN
    abi = check_opencv(
        {"opencv-python-headless": "4.6.0"},
        ProbeResult({"imported": False, "error": "ImportError: numpy.core.multiarray failed to import"}),
    )
    assert abi.verdict == FAIL and "numpy" in abi.detail
    missing = check_opencv(
        {}, ProbeResult({"imported": False, "error": "ModuleNotFoundError: No module named 'cv2'"})
    )
    assert missing.verdict == WARN


def test_pillow_verdicts():
    assert check_pillow(ProbeResult({"imported": True, "version": "13.0.0"})).verdict == OK
    assert check_pillow(ProbeResult(error="crashed with SIGSEGV")).verdict == FAIL
