"""Edge TPU: libedgetpu found, its version and package, the Coral devices present, and the pairing with the backend."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from edge_runtime.doctor.check import FAIL, INFO, OK, WARN, Check
from edge_runtime.doctor.coral_pairings import CRASHES, REPORTED, known_for, lookup
from edge_runtime.doctor.probe import ProbeResult
from edge_runtime.edgetpu import LIBRARIES

LIBRARY = LIBRARIES["Linux"]  # the doctor looks on Linux, where the devices are
# Where Coral's packages and the community rebuilds put the library.
COMMON_PATHS = tuple(
    Path(p) / LIBRARY
    for p in (
        "/usr/lib/aarch64-linux-gnu",
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/arm-linux-gnueabihf",
        "/usr/local/lib",
        "/usr/lib",
    )
)
# The USB Accelerator enumerates as Global Unichip 1a6e:089a until libedgetpu loads its firmware, then
# as Google 18d1:9302.
USB_IDS = {
    ("1a6e", "089a"): "waiting for its firmware (loads on first use)",
    ("18d1", "9302"): "firmware loaded",
}
CORAL_APT_TF = "2.5.0"  # google-coral/libedgetpu, Grouper release (16.0): TF 2.5.0 in workspace.bzl
COMMUNITY_BUILDS = "https://github.com/feranick/libedgetpu/releases"


@dataclass(frozen=True)
class UsbCoral:
    """A Coral USB Accelerator in sysfs: its device folder, USB ids, state and /dev/bus/usb node."""

    sysfs: str
    usb_id: str
    state: str
    node: str | None


@dataclass(frozen=True)
class LibraryBuild:
    """Which libedgetpu is installed: the package that owns it and the TensorFlow it was built against."""

    package: str | None
    package_version: str | None
    tf_version: str | None
    origin: str  # 'coral-apt', 'community' or 'unknown'


def find_libedgetpu(
    find_library: Callable[[str], str | None],
    ldconfig_text: str | None,
    candidates: Sequence[Path] = COMMON_PATHS,
) -> str | None:
    """The path of libedgetpu.so.1 (or its name when only the loader knows where it is), or None.

    Args:
      find_library: ctypes.util.find_library (tests pass a fake).
      ldconfig_text: The output of `ldconfig -p`, or None when it could not run.
      candidates: Paths to try when neither finds it.
    """
    for line in (ldconfig_text or "").splitlines():
        name, _, path = line.strip().partition(" => ")
        if name.split(" ")[0] == LIBRARY and path:
            return path.strip()
    for path in candidates:
        if path.exists():
            return str(path)
    return find_library("edgetpu")


def run_ldconfig() -> str | None:
    """`ldconfig -p` (the loader's cache), or None when there is no ldconfig."""
    ldconfig = shutil.which("ldconfig") or next(
        (p for p in ("/sbin/ldconfig", "/usr/sbin/ldconfig") if Path(p).exists()), None
    )
    if ldconfig is None:
        return None
    try:
        return subprocess.run([ldconfig, "-p"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None


def dpkg_owner(path: str) -> tuple[str, str] | None:
    """The Debian package that installed PATH and its version (`dpkg -S`, `dpkg-query`), or None."""
    if shutil.which("dpkg") is None or not Path(path).is_absolute():
        return None
    try:
        real = str(Path(path).resolve())
        owner = subprocess.run(["dpkg", "-S", real], capture_output=True, text=True, timeout=10)
        if owner.returncode != 0:
            owner = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True, timeout=10)
        package = parse_dpkg_search(owner.stdout)
        if package is None:
            return None
        query = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return package, query.stdout.strip()


def parse_dpkg_search(text: str) -> str | None:
    """'libedgetpu1-std:arm64: /usr/lib/...' -> 'libedgetpu1-std:arm64' (the first owner)."""
    for line in text.splitlines():
        package, sep, path = line.partition(": ")
        if sep and package and path.startswith("/") and not package.startswith("diversion"):
            return package.split(",")[0].strip()
    return None


def library_build(package: str | None, package_version: str | None) -> LibraryBuild:
    """What a libedgetpu package is: Coral's apt build (TF 2.5.0) or a community rebuild whose version
    names its TensorFlow ('16.0tf2.17.1-1'), else unknown (built from source, copied by hand)."""
    if package and package_version:
        match = re.search(r"tf(\d+\.\d+(?:\.\d+)?)", package_version, re.IGNORECASE)
        if match:
            return LibraryBuild(package, package_version, match.group(1), "community")
        if re.fullmatch(r"16\.0(-\d+)?", package_version) and package.startswith("libedgetpu1"):
            return LibraryBuild(package, package_version, CORAL_APT_TF, "coral-apt")
    return LibraryBuild(package, package_version, None, "unknown")


def coral_devices(
    sys_root: Path = Path("/sys"), dev_root: Path = Path("/dev")
) -> tuple[list[UsbCoral], list[str]]:
    """Coral USB Accelerators (from SYS_ROOT/bus/usb/devices/*/idVendor) and PCIe/M.2 ones (DEV_ROOT/apex_*)."""
    usb = []
    for vendor_file in sorted((sys_root / "bus" / "usb" / "devices").glob("*/idVendor")):
        folder = vendor_file.parent
        try:
            ids = (vendor_file.read_text().strip(), (folder / "idProduct").read_text().strip())
        except OSError:
            continue
        if ids not in USB_IDS:
            continue
        node = None
        try:
            bus, dev = int((folder / "busnum").read_text()), int((folder / "devnum").read_text())
            node = str(dev_root / "bus" / "usb" / f"{bus:03d}" / f"{dev:03d}")
        except (OSError, ValueError):
            pass
        usb.append(UsbCoral(str(folder), ":".join(ids), USB_IDS[ids], node))
    pcie = sorted(str(p) for p in dev_root.glob("apex_*"))
    return usb, pcie


def check_devices(
    usb: Sequence[UsbCoral], pcie: Sequence[str], access: Callable[[str], bool], library_found: bool
) -> Check:
    """The Coral devices present and whether this user may open them.

    Args:
      usb: From `coral_devices`.
      pcie: The /dev/apex_* nodes.
      access: Says whether this user may read and write a device node (os.access with R_OK | W_OK).
      library_found: libedgetpu is installed (a device without it cannot run).
    """
    facts = {"usb": [u.__dict__ for u in usb], "pcie": list(pcie)}
    if not usb and not pcie:
        verdict = WARN if library_found else INFO
        fix = (
            "plug the USB Accelerator in (after installing libedgetpu, so its udev rule applies)"
            if library_found
            else ""
        )
        return Check(
            "coral device",
            verdict,
            "no Coral USB Accelerator (1a6e:089a / 18d1:9302) or /dev/apex_*",
            fix,
            facts,
        )
    found = [f"USB {u.usb_id} ({u.state})" for u in usb] + list(pcie)
    detail = ", ".join(found)
    if not library_found:
        return Check(
            "coral device",
            FAIL,
            f"{detail}, but libedgetpu is not installed",
            f"install a libedgetpu that matches your backend (see the pairing table, docs/devices.md; {COMMUNITY_BUILDS})",
            facts,
        )
    denied = [n for n in [u.node for u in usb] + list(pcie) if n and not access(n)]
    if denied:
        return Check(
            "coral device",
            FAIL,
            f"{detail}; no read/write access to {', '.join(denied)}",
            "add the user to plugdev (USB) or apex (PCIe): sudo usermod -aG plugdev,apex $USER, log in again, replug",
            facts,
        )
    return Check("coral device", OK, detail, facts=facts)


def parse_runtime_version(version: str | None) -> int | None:
    """'BuildLabel(...), RuntimeVersion(14)' -> 14."""
    match = re.search(r"RuntimeVersion\((\d+)\)", version or "")
    return int(match.group(1)) if match else None


def check_library(path: str | None, probe: ProbeResult | None, build: LibraryBuild) -> Check:
    """libedgetpu: where it is, its version (edgetpu_version()), which package installed it."""
    if path is None:
        return Check(
            "libedgetpu",
            INFO,
            "not installed (needed only for a Coral Edge TPU)",
            facts={"path": None},
        )
    facts = {"path": path, "package": build.package, "package_version": build.package_version,
             "built_against_tf": build.tf_version, "origin": build.origin}  # fmt: skip
    if probe is not None and probe.error:
        facts["error"] = probe.error
        return Check(
            "libedgetpu",
            FAIL,
            f"{path} {probe.error} when asked its version",
            f"reinstall it: a build that matches your backend, {COMMUNITY_BUILDS}",
            facts,
        )
    data = probe.data if probe is not None else {}
    if data and not data.get("loaded"):
        facts["error"] = data.get("error")
        return Check("libedgetpu", FAIL, f"{path} does not load ({data.get('error')})", "reinstall it", facts)
    version = data.get("version")
    facts |= {"version": version, "runtime_version": parse_runtime_version(version)}
    package = (
        f"{build.package} {build.package_version}"
        if build.package
        else "no package (copied or built by hand)"
    )
    tf = f", built against TF {build.tf_version}" if build.tf_version else ", TensorFlow version unknown"
    detail = f"{path}: {version or 'no edgetpu_version()'} ({package}{tf})"
    if data and not data.get("delegate"):
        return Check(
            "libedgetpu", FAIL, detail + ": no tflite_plugin_create_delegate", "reinstall libedgetpu", facts
        )
    return Check("libedgetpu", OK, detail, facts=facts)


def check_pairing(build: LibraryBuild, backend: str | None, backend_version: str | None) -> Check:
    """Whether libedgetpu and the installed backend are a known-good pairing (coral_pairings)."""
    facts = {"built_against_tf": build.tf_version, "backend": backend, "backend_version": backend_version}
    if backend is None or backend_version is None:
        return Check(
            "edgetpu pairing", WARN, "no TFLite backend to pair libedgetpu with", "install a backend", facts
        )
    if build.tf_version is None:
        return Check(
            "edgetpu pairing",
            WARN,
            f"unknown: the TensorFlow version libedgetpu was built against is unknown (no package names it); "
            f"backend {backend} {backend_version}",
            f"install a build whose version names its TensorFlow ({COMMUNITY_BUILDS}) and a backend from the "
            "table in docs/devices.md",
            facts,
        )
    pair = f"libedgetpu built against TF {build.tf_version} with {backend} {backend_version}"
    row = lookup(build.tf_version, backend, backend_version)
    if row is None:
        good = known_for(build.tf_version)
        hint = (
            "; known to work with it: " + ", ".join(f"{p.backend} {p.backend_versions}" for p in good)
            if good
            else ""
        )
        return Check(
            "edgetpu pairing",
            WARN,
            f"unknown: no report found for {pair}{hint}",
            "run a compiled model once before relying on it (python -m edge_runtime classify --model "
            "M_edgetpu.tflite --delegate libedgetpu.so.1 IMAGE); a segfault means the pair does not match",
            facts,
        )
    facts |= {"outcome": row.outcome, "confidence": row.confidence, "source": row.source}
    if row.outcome == CRASHES:
        return Check(
            "edgetpu pairing",
            FAIL,
            f"{pair}: {row.outcome} ({row.evidence}; {row.source})",
            f"install a community libedgetpu built for your backend's TensorFlow ({COMMUNITY_BUILDS}) with a "
            "backend it is known to work with (docs/devices.md, Coral: known-good runtime pairings)",
            facts,
        )
    seen = (
        " (reported by one project, not confirmed in the maintainers' trackers)"
        if row.confidence == REPORTED
        else ""
    )
    return Check("edgetpu pairing", OK, f"{pair}: {row.outcome}{seen}; {row.source}", facts=facts)


def check_pairings(build: LibraryBuild, backends: dict[str, str | None]) -> Check:
    """The pairing of libedgetpu with the default backend (the first installed); when that one is not
    known to work but another installed backend is, the fix names `--backend` for it."""
    if not backends:
        return check_pairing(build, None, None)
    checks = [check_pairing(build, name, version) for name, version in backends.items()]
    default = checks[0]
    better = next((c for c in checks[1:] if c.verdict == OK), None)
    if default.verdict == OK or better is None:
        return default
    name = better.facts["backend"]
    return replace(
        default,
        fix=f"run with --backend {name} ({name} {better.facts['backend_version']} is known to work with this "
        f"library), or: {default.fix}",
    )
