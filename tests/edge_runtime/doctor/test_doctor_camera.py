"""Picamera2 probed in a child process (fake packages stand in for apt's), and the V4L2 nodes of a fake /dev and /sys."""

from __future__ import annotations

from pathlib import Path

from edge_runtime.doctor.camera import check_picamera2, check_v4l2, find_system_picamera2, v4l2_nodes
from edge_runtime.doctor.check import FAIL, INFO, OK, WARN
from edge_runtime.doctor.probe import ProbeResult, run_probe

DTYPE_SIZE = "numpy.dtype size changed, may indicate binary incompatibility. Expected 96 from C header, got 88 from PyObject"


def _fake_picamera2(root: Path, body: str) -> Path:
    package = root / "picamera2"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(body)
    return root


def test_a_picamera2_broken_by_numpy_is_one_fail_naming_picamera2_and_the_fix(tmp_path):
    # As apt's simplejpeg (built against numpy 1) fails when the venv's numpy 2 is loaded.
    site = _fake_picamera2(tmp_path, f"import numpy\nraise ValueError({DTYPE_SIZE!r})\n")
    probe = run_probe(["import", "picamera2"], extra_path=[site])
    (check,) = check_picamera2(probe, "0.3.25", on_pi=True, system_copy=None)
    assert check.name == "picamera2" and check.verdict == FAIL
    assert "installed but fails to import" in check.detail and "numpy.dtype size changed" in check.detail
    assert "pip uninstall numpy" in check.fix


def test_a_picamera2_missing_its_libcamera_is_a_broken_install(tmp_path):
    site = _fake_picamera2(tmp_path, "import libcamera_that_is_not_here\n")
    (check,) = check_picamera2(run_probe(["import", "picamera2"], extra_path=[site]), None, True, None)
    assert check.verdict == FAIL and "No module named 'libcamera_that_is_not_here'" in check.detail
    assert "sudo apt install --reinstall python3-picamera2" in check.fix


def test_a_working_picamera2_lists_libcamera_cameras(tmp_path):
    site = _fake_picamera2(
        tmp_path,
        "class Picamera2:\n"
        "    @staticmethod\n"
        "    def global_camera_info():\n"
        "        return [{'Model': 'imx708', 'Location': 2, 'Rotation': 180, 'Id': '/base/soc/i2c0mux/i2c@1/imx708@1a', 'Num': 0}]\n",
    )
    picamera, cameras = check_picamera2(
        run_probe(["import", "picamera2"], extra_path=[site]), "0.3.25", True, None
    )
    assert (picamera.verdict, picamera.detail) == (OK, "0.3.25")
    assert cameras.verdict == OK and cameras.detail == "imx708 (picamera2:0)"


def test_picamera2_with_no_camera_connected_warns(tmp_path):
    site = _fake_picamera2(tmp_path, "class Picamera2:\n    global_camera_info = staticmethod(lambda: [])\n")
    _, cameras = check_picamera2(run_probe(["import", "picamera2"], extra_path=[site]), "0.3.25", True, None)
    assert cameras.verdict == WARN and "rpicam-hello --list-cameras" in cameras.fix


def test_picamera2_not_installed():
    missing = ProbeResult({"imported": False, "error": "ModuleNotFoundError: No module named 'picamera2'"})
    (off_pi,) = check_picamera2(missing, None, on_pi=False, system_copy=None)
    assert off_pi.verdict == INFO and not off_pi.fix
    (on_pi,) = check_picamera2(missing, None, on_pi=True, system_copy=None)
    assert on_pi.verdict == INFO and "sudo apt install python3-picamera2" in on_pi.fix
    (hidden,) = check_picamera2(
        missing, None, on_pi=True, system_copy=Path("/usr/lib/python3/dist-packages/picamera2")
    )
    assert hidden.verdict == WARN and "--system-site-packages" in hidden.fix


def test_picamera2_in_this_environment_is_probed_for_real():
    (check, *_) = check_picamera2(run_probe(["import", "picamera2"]), None, on_pi=False, system_copy=None)
    assert check.verdict in (OK, INFO)


def test_a_system_copy_of_picamera2_is_found(tmp_path):
    dist = _fake_picamera2(tmp_path / "dist-packages", "")
    assert find_system_picamera2([tmp_path / "nothing", dist]) == dist / "picamera2"


def _video_tree(tmp_path: Path, nodes: dict[str, tuple[str, int]]) -> tuple[Path, Path]:
    dev, sys = tmp_path / "dev", tmp_path / "sys"
    dev.mkdir()
    for node, (name, index) in nodes.items():
        (dev / node).touch()
        info = sys / "class" / "video4linux" / node
        info.mkdir(parents=True)
        (info / "name").write_text(name + "\n")
        (info / "index").write_text(f"{index}\n")
    return dev, sys


PI4_NODES = {
    "video0": ("unicam-image", 0),
    "video1": ("unicam-embedded", 1),
    "video10": ("bcm2835-codec-decode", 0),
    "video13": ("bcm2835-isp-output0", 0),
}


def test_a_pis_unicam_and_isp_nodes_are_not_cameras(tmp_path):
    check = check_v4l2(v4l2_nodes(*_video_tree(tmp_path, PI4_NODES)))
    assert check.verdict == INFO and check.detail.startswith("no USB camera; 4 Raspberry Pi")
    assert "(bcm2835, unicam)" in check.detail and "Picamera2" in check.detail


def test_a_usb_webcam_is_found_by_its_capture_node(tmp_path):
    nodes = {**PI4_NODES, "video2": ("HD Pro Webcam C920", 0), "video3": ("HD Pro Webcam C920", 1)}
    listed = v4l2_nodes(*_video_tree(tmp_path, nodes))
    assert [n.path.rsplit("/", 1)[1] for n in listed] == [
        "video0",
        "video1",
        "video2",
        "video3",
        "video10",
        "video13",
    ]
    check = check_v4l2(listed)
    assert check.verdict == OK and check.detail.startswith(f"{tmp_path}/dev/video2 'HD Pro Webcam C920'")
    assert "video3" not in check.detail  # the webcam's metadata node


def test_no_video_device(tmp_path):
    (tmp_path / "dev").mkdir()
    assert check_v4l2(v4l2_nodes(tmp_path / "dev", tmp_path / "sys")).verdict == INFO
