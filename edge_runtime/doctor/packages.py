"""The Python packages the runtime stands on: the TFLite backend, numpy (and a system numpy it shadows), OpenCV, Pillow."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from edge_runtime.doctor.check import FAIL, OK, WARN, Check
from edge_runtime.doctor.probe import ProbeResult

# What a numpy-1 extension says under numpy 2 (and the reverse); see numpy's "NumPy 2.0 migration guide".
NUMPY_ABI_MARKERS = (
    "numpy.dtype size changed",
    "binary incompatibility",
    "compiled using NumPy 1.x cannot be run",
    "numpy.core.multiarray failed to import",
    "numpy.core._multiarray_umath failed to import",
    "_ARRAY_API not found",
)

OPENCV_DISTRIBUTIONS = (
    "opencv-python-headless",
    "opencv-python",
    "opencv-contrib-python-headless",
    "opencv-contrib-python",
)

_VERSION_PATTERNS = (
    # numpy 2 (meson): version: str = "2.2.4"; older builds: version = '1.24.2' or short_version
    re.compile(
        r"""^\s*(?:__version__|version|short_version)\s*(?::\s*str)?\s*=\s*['"]([0-9][^'"]*)['"]""", re.M
    ),
    # numpy 1.x versioneer: _version.py holds a JSON blob with "version": "1.24.2"
    re.compile(r'"version":\s*"([0-9][^"]*)"'),
)


def is_numpy_abi_error(*texts: str | None) -> bool:
    """True when any of TEXTS (an import error, a child's stderr) is a numpy binary-incompatibility message."""
    return any(marker in text for text in texts if text for marker in NUMPY_ABI_MARKERS)


def major(version: str) -> int | None:
    match = re.match(r"(\d+)", version)
    return int(match.group(1)) if match else None


def version_tuple(version: str) -> tuple[int, ...]:
    """'2.4.6' -> (2, 4, 6); '2.5.0.post1' -> (2, 5, 0); stops at the first part that is not a number."""
    parts = []
    for part in version.split("."):
        match = re.match(r"\d+", part)
        if not match:
            break
        parts.append(int(match.group()))
        if match.group() != part:
            break
    return tuple(parts)


def base_site_dirs(base_prefix: Path, python: tuple[int, int]) -> list[Path]:
    """The site folders of the base interpreter a venv was made from (Debian's dist-packages included).

    Debian's python3 keeps apt's packages (python3-numpy, python3-picamera2) in
    /usr/lib/python3/dist-packages; a venv made with --system-site-packages sees them after its own.
    """
    x_y = f"python{python[0]}.{python[1]}"
    dirs = [
        base_prefix / "lib" / x_y / "site-packages",
        base_prefix / "lib" / "python3" / "dist-packages",
        base_prefix / "lib" / x_y / "dist-packages",
    ]
    if base_prefix == Path("/usr"):
        dirs.append(Path("/usr/local/lib") / x_y / "dist-packages")
    return dirs


def numpy_in(site_dir: Path) -> tuple[str, Path] | None:
    """The numpy installed in SITE_DIR (its version and folder), from its dist-info, egg-info or version file."""
    folder = site_dir / "numpy"
    for pattern in ("numpy-*.dist-info", "numpy-*.egg-info"):
        for meta in sorted(site_dir.glob(pattern)):
            version = meta.name[len("numpy-") :].rsplit(".", 1)[0].split("-py")[0]
            if version_tuple(version):
                return version, folder
    for name in ("version.py", "_version.py"):
        try:
            text = (folder / name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for pattern in _VERSION_PATTERNS:
            match = pattern.search(text)
            if match:
                return match.group(1), folder
    return None


def venv_sees_system_packages(prefix: Path, base_prefix: Path) -> bool:
    """True in a venv made with --system-site-packages (its pyvenv.cfg says include-system-site-packages = true)."""
    if prefix == base_prefix:
        return False
    try:
        text = (prefix / "pyvenv.cfg").read_text(encoding="utf-8")
    except OSError:
        return False
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "include-system-site-packages":
            return value.strip().lower() == "true"
    return False


def check_numpy(
    probe: ProbeResult,
    prefix: Path,
    base_prefix: Path,
    system_dirs: Sequence[Path],
) -> Check:
    """numpy's version, and whether it shadows a different system numpy that apt's packages were built against.

    Args:
      probe: The child import of numpy (its version and file).
      prefix: sys.prefix (the venv).
      base_prefix: sys.base_prefix (the interpreter the venv was made from).
      system_dirs: The base interpreter's site folders (`base_site_dirs`).
    """
    if probe.error or not probe.data.get("imported"):
        error = probe.error or probe.data.get("error")
        return Check(
            "numpy",
            FAIL,
            f"fails to import ({error})",
            "reinstall it: pip install --force-reinstall numpy (the version edge_runtime/requirements.txt names)",
            {"error": error},
        )
    version, path = str(probe.data.get("version")), Path(str(probe.data.get("path")))
    system = next((found for d in system_dirs if (found := numpy_in(d))), None)
    in_venv = prefix != base_prefix and path.resolve().is_relative_to(prefix.resolve())
    facts = {
        "version": version,
        "path": str(path),
        "venv": str(prefix) if prefix != base_prefix else None,
        "system_site_packages": venv_sees_system_packages(prefix, base_prefix),
        "system_numpy": system[0] if system else None,
        "system_numpy_path": str(system[1]) if system else None,
    }
    detail = f"{version} ({path.parent.parent})"
    if not (system and in_venv and facts["system_site_packages"]) or system[0] == version:
        return Check("numpy", OK, detail, facts=facts)
    system_version = system[0]
    detail = f"{version} in the venv shadows the system numpy {system_version} ({system[1].parent})"
    if major(version) == major(system_version) and version_tuple(version) >= version_tuple(system_version):
        # numpy keeps its ABI within a major version: extensions built against an older numpy import
        # under a newer one.
        return Check("numpy", OK, detail + "; same major version, newer: compatible", facts=facts)
    return Check(
        "numpy",
        WARN,
        detail
        + (
            f": apt's numpy-{major(system_version)} extensions (Picamera2's simplejpeg among them) fail under "
            f"numpy {version} with 'numpy.dtype size changed'"
        ),
        f"let the system numpy {system_version} win: {prefix}/bin/pip uninstall numpy (the device "
        "requirements accept Bookworm's numpy 1.24, docs/devices.md#raspberry-pi); or, without Picamera2, "
        "a venv without --system-site-packages",
        facts,
    )


def check_backend(installed: Mapping[str, str | None], probe: ProbeResult | None) -> Check:
    """The backend `load_backend` picks (the first installed in BACKENDS order) and whether it imports.

    Args:
      installed: The installed backends in BACKENDS order, name -> version (from the package metadata).
      probe: The child import of the first one's `interpreter` module; None for tensorflow, which the
        doctor never imports.
    """
    facts = {"installed": dict(installed)}
    if not installed:
        return Check(
            "backend",
            FAIL,
            "no TFLite interpreter is installed (ai_edge_litert, tflite_runtime or tensorflow)",
            "pip install -r edge_runtime/requirements.txt (ai-edge-litert)",
            facts,
        )
    name, version = next(iter(installed.items()))
    others = [f"{n} {v}" for n, v in list(installed.items())[1:]]
    also = f"; also installed: {', '.join(others)}" if others else ""
    facts |= {"name": name, "version": version}
    if name == "tensorflow":
        return Check(
            "backend",
            WARN,
            f"tensorflow {version} (full TensorFlow, not imported here; its import alone takes hundreds of MB)",
            "pip install ai-edge-litert: the runtime prefers it, and it is a fraction of the size",
            facts,
        )
    if probe is not None and (probe.error or not probe.data.get("imported")):
        error = probe.error or probe.data.get("error")
        facts["error"] = error
        fix = f"pip install --force-reinstall {name.replace('_', '-')}=={version}"
        if is_numpy_abi_error(error, probe.stderr):
            fix = f"{name} and numpy do not match (binary incompatibility); " + fix + " against this numpy"
        return Check(
            "backend", FAIL, f"{name} {version} is installed but fails to import ({error})", fix, facts
        )
    return Check("backend", OK, f"{name} {version}{also}", facts=facts)


def check_opencv(distributions: Mapping[str, str], probe: ProbeResult) -> Check:
    """OpenCV: its version and wheel (headless or not), or why cv2 does not import.

    Args:
      distributions: The OpenCV wheels installed (name -> version); apt's python3-opencv has none.
      probe: The child import of cv2.
    """
    facts = {"distributions": dict(distributions)}
    if probe.error or not probe.data.get("imported"):
        error = probe.error or probe.data.get("error") or ""
        facts["error"] = error
        if "No module named" in error:
            return Check(
                "opencv",
                WARN,
                "not installed: the camera command and video files need it",
                "pip install -r edge_runtime/requirements.txt (opencv-python-headless)",
                facts,
            )
        if is_numpy_abi_error(error, probe.stderr):
            return Check(
                "opencv",
                FAIL,
                f"cv2 was built for another numpy major version than the one installed ({error})",
                "install an OpenCV wheel built for this numpy: pip install --force-reinstall "
                "-r edge_runtime/requirements.txt",
                facts,
            )
        return Check(
            "opencv", FAIL, f"cv2 fails to import ({error})", "reinstall opencv-python-headless", facts
        )
    version = probe.data.get("version")
    wheels = ", ".join(distributions) or "no pip wheel: a system OpenCV"
    headless = bool(distributions) and all("headless" in name for name in distributions)
    detail = f"{version} ({wheels}" + ("; headless: no --display" if headless else "") + ")"
    if len(distributions) > 1:
        return Check(
            "opencv",
            WARN,
            detail + ": more than one OpenCV wheel, they overwrite each other's cv2",
            f"keep one: pip uninstall {' '.join(distributions)}, then install one",
            facts,
        )
    return Check("opencv", OK, detail, facts=facts)


def check_pillow(probe: ProbeResult) -> Check:
    """Pillow (image files for classify): its version, or why PIL does not import."""
    if probe.error or not probe.data.get("imported"):
        error = probe.error or probe.data.get("error")
        return Check(
            "pillow", FAIL, f"PIL fails to import ({error})", "pip install -r edge_runtime/requirements.txt",
            {"error": error},
        )  # fmt: skip
    return Check("pillow", OK, str(probe.data.get("version")), facts={"version": probe.data.get("version")})


def installed_versions(names: Iterable[str]) -> dict[str, str]:
    """The installed version of each distribution in NAMES, leaving out those not installed."""
    from importlib import metadata

    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found
