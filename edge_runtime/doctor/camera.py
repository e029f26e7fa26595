"""Cameras: Picamera2 importable or why not, the cameras libcamera sees through it, and the V4L2 devices OpenCV opens."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from edge_runtime.doctor.check import FAIL, INFO, OK, WARN, Check
from edge_runtime.doctor.packages import is_numpy_abi_error
from edge_runtime.doctor.probe import ProbeResult

# V4L2 nodes of a Raspberry Pi's own camera receiver, ISP and codecs (Pi 4: unicam, bcm2835-isp and
# -codec; Pi 5: rp1-cfe, pispbe, rpi-hevc-dec): libcamera drives them, OpenCV gets no picture from them.
PI_NODE_PREFIXES = ("unicam", "bcm2835-", "rp1-cfe", "pispbe", "rpi-hevc", "rpivid")

_INSTALL_PICAMERA2 = (
    "sudo apt install python3-picamera2, and make the venv with python3 -m venv --system-site-packages"
)


@dataclass(frozen=True)
class VideoNode:
    """One /dev/videoN with its driver-given name and its index within its device (0 = the main one)."""

    path: str
    name: str
    index: int | None


def _number(path: Path) -> int:
    match = re.search(r"(\d+)$", path.name)
    return int(match.group(1)) if match else -1


def v4l2_nodes(dev_root: Path = Path("/dev"), sys_root: Path = Path("/sys")) -> list[VideoNode]:
    """Every /dev/video* under DEV_ROOT, named from SYS_ROOT/class/video4linux/videoN/{name,index}."""
    nodes = []
    for dev in sorted(dev_root.glob("video[0-9]*"), key=_number):
        info = sys_root / "class" / "video4linux" / dev.name
        try:
            name = (info / "name").read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            name = ""
        try:
            index = int((info / "index").read_text().strip())
        except (OSError, ValueError):
            index = None
        nodes.append(VideoNode(str(dev), name, index))
    return nodes


def is_pi_internal(node: VideoNode) -> bool:
    return node.name.startswith(PI_NODE_PREFIXES)


def check_v4l2(nodes: Sequence[VideoNode]) -> Check:
    """The V4L2 cameras OpenCV can open (`--source /dev/videoN`), apart from a Pi's own unicam/ISP/codec nodes."""
    internal = [n for n in nodes if is_pi_internal(n)]
    # A USB webcam has a second node for metadata (index 1): only index 0 delivers pictures.
    cameras = [n for n in nodes if not is_pi_internal(n) and n.index in (0, None)]
    facts = {"nodes": [{"path": n.path, "name": n.name, "index": n.index} for n in nodes]}
    kinds = sorted({p.rstrip("-") for n in internal for p in PI_NODE_PREFIXES if n.name.startswith(p)})
    pi_note = (
        f"; {len(internal)} Raspberry Pi camera-receiver/ISP/codec node(s) ({', '.join(kinds)}), "
        "not cameras for OpenCV: the camera module goes through Picamera2"
        if internal
        else ""
    )
    if cameras:
        found = ", ".join(f"{n.path} {n.name!r}" for n in cameras)
        return Check("v4l2 cameras", OK, f"{found} (--source /dev/videoN){pi_note}", facts=facts)
    if not nodes:
        return Check("v4l2 cameras", INFO, "no /dev/video* device (no USB webcam plugged in)", facts=facts)
    return Check("v4l2 cameras", INFO, f"no USB camera{pi_note}", facts=facts)


def check_picamera2(
    probe: ProbeResult,
    version: str | None,
    on_pi: bool,
    system_copy: Path | None,
) -> list[Check]:
    """Picamera2 importable (and the cameras libcamera sees), or why not, classified.

    Args:
      probe: The child import of picamera2 (with `cameras` from Picamera2.global_camera_info()).
      version: picamera2's installed version (package metadata), or None.
      on_pi: The board is a Raspberry Pi (Picamera2 matters there only).
      system_copy: Where the base interpreter's site folders hold a picamera2 (apt's
        python3-picamera2), or None.
    """
    error = probe.error or probe.data.get("error") or ""
    facts = {
        "version": version,
        "error": error or None,
        "system_copy": str(system_copy) if system_copy else None,
    }
    if probe.data.get("imported"):
        return [
            Check("picamera2", OK, f"{version or probe.data.get('version') or 'imports'}", facts=facts),
            _check_libcamera(probe),
        ]
    if "No module named 'picamera2'" in error:
        if system_copy is not None:
            return [
                Check(
                    "picamera2",
                    WARN if on_pi else INFO,
                    f"installed for the system Python ({system_copy}) but this environment does not see it",
                    "make the venv with python3 -m venv --system-site-packages (then pip install the "
                    "requirements again)",
                    facts,
                )
            ]
        if on_pi:
            return [
                Check(
                    "picamera2", INFO, "not installed: the camera module needs it", _INSTALL_PICAMERA2, facts
                )
            ]
        return [
            Check(
                "picamera2", INFO, "not installed (needed only for a Raspberry Pi camera module)", facts=facts
            )
        ]
    if is_numpy_abi_error(error, probe.stderr):
        return [
            Check(
                "picamera2",
                FAIL,
                f"installed but fails to import: its apt extensions (simplejpeg, built against numpy 1) meet "
                f"another numpy ({error})",
                "let the system numpy win: remove the venv's numpy (.venv/bin/pip uninstall numpy; the device "
                "requirements accept Bookworm's numpy 1.24), see the numpy line",
                facts,
            )
        ]
    return [
        Check(
            "picamera2",
            FAIL,
            f"installed but fails to import ({error})",
            f"reinstall it: sudo apt install --reinstall python3-picamera2 python3-libcamera; {_INSTALL_PICAMERA2}",
            facts,
        )
    ]


def _check_libcamera(probe: ProbeResult) -> Check:
    """The cameras libcamera sees through Picamera2.global_camera_info()."""
    cameras = probe.data.get("cameras")
    if cameras is None:
        return Check(
            "libcamera cameras",
            WARN,
            f"Picamera2 cannot list the cameras ({probe.data.get('cameras_error')})",
            "check that no other program holds the camera, then run rpicam-hello --list-cameras",
        )
    facts = {"cameras": cameras}
    if not cameras:
        return Check(
            "libcamera cameras",
            WARN,
            "none: libcamera sees no camera",
            "check the ribbon cable (power off first) and camera_auto_detect=1 in /boot/firmware/config.txt, "
            "then rpicam-hello --list-cameras",
            facts,
        )
    found = ", ".join(f"{c.get('Model', '?')} (picamera2:{c.get('Num', i)})" for i, c in enumerate(cameras))
    return Check("libcamera cameras", OK, found, facts=facts)


def find_system_picamera2(site_dirs: Sequence[Path]) -> Path | None:
    """The picamera2 package folder in the base interpreter's site folders (apt's python3-picamera2), if any."""
    return next((d / "picamera2" for d in site_dirs if (d / "picamera2" / "__init__.py").is_file()), None)
